/**
 * gift/nn: layers, Sequential networks whose parameters are engine trees, losses, optimizers,
 * training, datasets (embedded MNIST, IDX files, synthetic data) and model files (safetensors).
 *
 * Parameter order, everywhere: module order, weight before bias — PyTorch's state_dict order;
 * `Sequential.parameterLayout()` gives each Linear/Conv2d block's offsets in the flat vector θ.
 * @module
 */
export * from './layers.js';
export * from './sequential.js';
export * from './losses.js';
export * from './data.js';
export * from './idx.js';
export * from './optim.js';
export * from './train.js';
export * from './errors.js';
export * from './safetensors.js';
export * from './files.js';
