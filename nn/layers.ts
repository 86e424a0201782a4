/**
 * Layers: small objects that know their configuration, how to initialise their parameters and
 * how to apply them. They hold no parameters themselves — parameters are an engine tree that the
 * transforms (grad, hvp, ...) take as an argument, as in JAX/Flax.
 *
 * A parameterised layer's parameters are `{ weight, bias }` with PyTorch's layouts: Linear weight
 * `[out, in]` (y = x·Wᵀ + b), Conv2d weight `[out, in, kh, kw]`. Parameter-free layers have `{}`.
 */
import {
  ShapeError, ValueError, add, avgPool2d, conv2d, fmtShape, maxPool2d, relu, reshape, sigmoid, softplus, tanh,
  type DType, type Rng, type Tensor,
} from '../engine/index.js';
import { matmulT } from '../engine/primitives/matmul.js';

/** Parameters of a Linear or Conv2d layer, with PyTorch's names and layouts. */
export type WeightBias = { readonly weight: Tensor; readonly bias: Tensor };

/** Parameters of one layer: `{ weight, bias }` for Linear/Conv2d, `{}` for parameter-free layers. */
export type LayerParams = WeightBias | Record<string, never>;

/** The JSON description of one layer, as stored in model files (`Sequential.toSpec`). */
export type LayerSpec =
  | { readonly type: 'linear'; readonly inFeatures: number; readonly outFeatures: number }
  | {
      readonly type: 'conv2d'; readonly inChannels: number; readonly outChannels: number;
      readonly kernelSize: number; readonly stride: number; readonly padding: number;
    }
  | { readonly type: 'maxpool2d' | 'avgpool2d'; readonly kernelSize: number; readonly stride: number }
  | { readonly type: 'flatten' | 'relu' | 'tanh' | 'sigmoid' | 'softplus' };

/** What every layer provides. */
export interface Layer {
  /** The layer's JSON description (enough to rebuild it with `layerFromSpec`). */
  readonly spec: LayerSpec;
  /** Fresh parameters drawn from `rng` (PyTorch's default initialisation); `{}` if it has none. */
  init(rng: Rng, dtype: DType): LayerParams;
  /** The layer applied to a batch `x` (first axis = samples). */
  apply(params: LayerParams, x: Tensor): Tensor;
  /** The output shape (batch axis included) for an input shape, or a ShapeError naming the layer. */
  outputShape(input: readonly number[]): number[];
}

function checkPositiveInt(layer: string, name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new ValueError(`${layer}: ${name} must be an integer ≥ ${min}, got ${v}`);
}

function weightBias(layer: string, params: LayerParams): WeightBias {
  if (!('weight' in params) || !('bias' in params)) throw new ValueError(`${layer}: parameters need 'weight' and 'bias'`);
  return params as WeightBias;
}

/** PyTorch's default: kaiming_uniform(a=√5) for weights and U(±1/√fan_in) for biases — both bound 1/√fan_in. */
function uniformInit(rng: Rng, weightShape: number[], fanIn: number, dtype: DType): WeightBias {
  const bound = 1 / Math.sqrt(fanIn);
  const weight = rng.uniformTensor(weightShape, -bound, bound, dtype);
  const bias = rng.uniformTensor([weightShape[0]!], -bound, bound, dtype);
  return { weight, bias };
}

function checkWeightShapes(layer: string, p: WeightBias, weightShape: readonly number[]): void {
  const ok = p.weight.rank === weightShape.length && p.weight.shape.every((d, i) => d === weightShape[i]);
  if (!ok) throw new ShapeError(`${layer}: weight has shape ${fmtShape(p.weight.shape)}, expected ${fmtShape(weightShape)}`);
  if (p.bias.rank !== 1 || p.bias.shape[0] !== weightShape[0]) {
    throw new ShapeError(`${layer}: bias has shape ${fmtShape(p.bias.shape)}, expected [${weightShape[0]}]`);
  }
}

/**
 * A fully connected layer, y = x·Wᵀ + b, on x of shape [N, in]; weight [out, in], bias [out].
 * @example
 * const fc = new Linear(784, 10);
 * const y = fc.apply(fc.init(new Rng(0), 'float32'), x); // [N, 10]
 */
export class Linear implements Layer {
  readonly spec: LayerSpec;
  constructor(readonly inFeatures: number, readonly outFeatures: number) {
    checkPositiveInt('Linear', 'inFeatures', inFeatures);
    checkPositiveInt('Linear', 'outFeatures', outFeatures);
    this.spec = { type: 'linear', inFeatures, outFeatures };
  }
  get weightShape(): number[] {
    return [this.outFeatures, this.inFeatures];
  }
  init(rng: Rng, dtype: DType): WeightBias {
    return uniformInit(rng, this.weightShape, this.inFeatures, dtype);
  }
  apply(params: LayerParams, x: Tensor): Tensor {
    const p = weightBias('Linear', params);
    checkWeightShapes('Linear', p, this.weightShape);
    this.outputShape(x.shape);
    return add(this.weightTimes(p.weight, x), p.bias);
  }
  /**
   * The weight applied to x without the bias, x·Wᵀ, for any numbers of units (shapes unchecked):
   * the GIF step search applies a few of a layer's columns to the change of its input.
   * @example new Linear(784, 10).weightTimes(weight, x) // x [N, k], weight [m, k] → [N, m]
   */
  weightTimes(weight: Tensor, x: Tensor): Tensor {
    return matmulT(x, weight, false, true);
  }
  outputShape(input: readonly number[]): number[] {
    if (input.length !== 2 || input[1] !== this.inFeatures) {
      throw new ShapeError(`Linear(${this.inFeatures}, ${this.outFeatures}): expects input [N, ${this.inFeatures}], got ${fmtShape(input)}`);
    }
    return [input[0]!, this.outFeatures];
  }
}

/**
 * A 2-D convolution (PyTorch's Conv2d with square kernels): x [N, in, H, W] → [N, out, OH, OW];
 * weight [out, in, k, k], bias [out].
 * @example
 * const conv = new Conv2d(1, 8, 5);
 * conv.outputShape([2, 1, 28, 28]); // [2, 8, 24, 24]
 */
export class Conv2d implements Layer {
  readonly spec: LayerSpec;
  constructor(
    readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number,
    readonly stride = 1, readonly padding = 0,
  ) {
    checkPositiveInt('Conv2d', 'inChannels', inChannels);
    checkPositiveInt('Conv2d', 'outChannels', outChannels);
    checkPositiveInt('Conv2d', 'kernelSize', kernelSize);
    checkPositiveInt('Conv2d', 'stride', stride);
    checkPositiveInt('Conv2d', 'padding', padding, 0);
    this.spec = { type: 'conv2d', inChannels, outChannels, kernelSize, stride, padding };
  }
  get weightShape(): number[] {
    return [this.outChannels, this.inChannels, this.kernelSize, this.kernelSize];
  }
  init(rng: Rng, dtype: DType): WeightBias {
    return uniformInit(rng, this.weightShape, this.inChannels * this.kernelSize * this.kernelSize, dtype);
  }
  apply(params: LayerParams, x: Tensor): Tensor {
    const p = weightBias('Conv2d', params);
    checkWeightShapes('Conv2d', p, this.weightShape);
    this.outputShape(x.shape);
    return add(this.weightTimes(p.weight, x), reshape(p.bias, [this.outChannels, 1, 1]));
  }
  /**
   * The convolution by `weight` without the bias, for any numbers of channels (shapes unchecked).
   * @example new Conv2d(8, 16, 5).weightTimes(weight, x) // x [N, k, H, W], weight [m, k, 5, 5] → [N, m, H − 4, W − 4]
   */
  weightTimes(weight: Tensor, x: Tensor): Tensor {
    return conv2d(x, weight, { stride: this.stride, padding: this.padding });
  }
  outputShape(input: readonly number[]): number[] {
    if (input.length !== 4 || input[1] !== this.inChannels) {
      throw new ShapeError(`Conv2d(${this.inChannels}, ${this.outChannels}): expects input [N, ${this.inChannels}, H, W], got ${fmtShape(input)}`);
    }
    return [input[0]!, this.outChannels, ...windowOut('Conv2d', input, this.kernelSize, this.stride, this.padding)];
  }
}

function windowOut(layer: string, input: readonly number[], k: number, stride: number, padding: number): [number, number] {
  const oh = Math.floor((input[2]! + 2 * padding - k) / stride) + 1;
  const ow = Math.floor((input[3]! + 2 * padding - k) / stride) + 1;
  if (oh < 1 || ow < 1) throw new ShapeError(`${layer}: a ${k}×${k} window (padding ${padding}) does not fit input ${fmtShape(input)}`);
  return [oh, ow];
}

/** Max or average pooling over k×k windows of [N, C, H, W] (stride k by default, no padding). */
class Pool2d implements Layer {
  readonly spec: LayerSpec;
  constructor(readonly type: 'maxpool2d' | 'avgpool2d', readonly kernelSize: number, readonly stride = kernelSize) {
    const name = type === 'maxpool2d' ? 'MaxPool2d' : 'AvgPool2d';
    checkPositiveInt(name, 'kernelSize', kernelSize);
    checkPositiveInt(name, 'stride', stride);
    this.spec = { type, kernelSize, stride };
  }
  init(): LayerParams {
    return {};
  }
  apply(_params: LayerParams, x: Tensor): Tensor {
    this.outputShape(x.shape);
    return this.type === 'maxpool2d' ? maxPool2d(x, this.kernelSize, this.stride) : avgPool2d(x, this.kernelSize, this.stride);
  }
  outputShape(input: readonly number[]): number[] {
    const name = this.type === 'maxpool2d' ? 'MaxPool2d' : 'AvgPool2d';
    if (input.length !== 4) throw new ShapeError(`${name}: expects input [N, C, H, W], got ${fmtShape(input)}`);
    return [input[0]!, input[1]!, ...windowOut(name, input, this.kernelSize, this.stride, 0)];
  }
}

/** Max pooling (PyTorch's MaxPool2d(k, stride=k)). @example new MaxPool2d(2).outputShape([1, 8, 24, 24]) // [1, 8, 12, 12] */
export class MaxPool2d extends Pool2d {
  constructor(kernelSize: number, stride = kernelSize) {
    super('maxpool2d', kernelSize, stride);
  }
}

/** Average pooling (PyTorch's AvgPool2d(k, stride=k)). @example new AvgPool2d(2).outputShape([1, 8, 24, 24]) // [1, 8, 12, 12] */
export class AvgPool2d extends Pool2d {
  constructor(kernelSize: number, stride = kernelSize) {
    super('avgpool2d', kernelSize, stride);
  }
}

/** Flattens every axis after the first: [N, ...] → [N, prod(...)], in row-major (PyTorch) order. @example new Flatten() */
export class Flatten implements Layer {
  readonly spec: LayerSpec = { type: 'flatten' };
  init(): LayerParams {
    return {};
  }
  apply(_params: LayerParams, x: Tensor): Tensor {
    return reshape(x, this.outputShape(x.shape));
  }
  outputShape(input: readonly number[]): number[] {
    if (input.length < 1) throw new ShapeError(`Flatten: expects a batch axis, got a scalar`);
    return [input[0]!, input.slice(1).reduce((a, b) => a * b, 1)];
  }
}

/** The elementwise activations (layers without parameters). */
export type ActivationName = 'relu' | 'tanh' | 'sigmoid' | 'softplus';
const activationFns: Record<ActivationName, (x: Tensor) => Tensor> = { relu, tanh, sigmoid, softplus };

/** An elementwise activation without parameters. */
class Activation implements Layer {
  readonly spec: LayerSpec;
  constructor(readonly type: ActivationName) {
    this.spec = { type };
  }
  init(): LayerParams {
    return {};
  }
  apply(_params: LayerParams, x: Tensor): Tensor {
    return activationFns[this.type](x);
  }
  outputShape(input: readonly number[]): number[] {
    return [...input];
  }
}

/** max(x, 0). @example new ReLU().apply({}, x) */
export class ReLU extends Activation {
  constructor() {
    super('relu');
  }
}
/** tanh(x). @example new Tanh().apply({}, x) */
export class Tanh extends Activation {
  constructor() {
    super('tanh');
  }
}
/** 1 / (1 + e^−x). @example new Sigmoid().apply({}, x) */
export class Sigmoid extends Activation {
  constructor() {
    super('sigmoid');
  }
}
/** log(1 + eˣ), a smooth ReLU (its Hessian is nowhere zero). @example new Softplus().apply({}, x) */
export class Softplus extends Activation {
  constructor() {
    super('softplus');
  }
}

function field(spec: Record<string, unknown>, key: string, where: string): number {
  const v = spec[key];
  if (typeof v !== 'number') throw new ValueError(`${where}: '${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Rebuilds a layer from its JSON description (validated: unknown types and bad fields are ValueErrors).
 * @example layerFromSpec({ type: 'linear', inFeatures: 4, outFeatures: 2 })
 */
export function layerFromSpec(spec: unknown, where = 'layer'): Layer {
  if (spec === null || typeof spec !== 'object') throw new ValueError(`${where}: a layer spec must be an object, got ${JSON.stringify(spec)}`);
  const s = spec as Record<string, unknown>;
  switch (s.type) {
    case 'linear': return new Linear(field(s, 'inFeatures', where), field(s, 'outFeatures', where));
    case 'conv2d':
      return new Conv2d(field(s, 'inChannels', where), field(s, 'outChannels', where), field(s, 'kernelSize', where),
        field(s, 'stride', where), field(s, 'padding', where));
    case 'maxpool2d': return new MaxPool2d(field(s, 'kernelSize', where), field(s, 'stride', where));
    case 'avgpool2d': return new AvgPool2d(field(s, 'kernelSize', where), field(s, 'stride', where));
    case 'flatten': return new Flatten();
    case 'relu': return new ReLU();
    case 'tanh': return new Tanh();
    case 'sigmoid': return new Sigmoid();
    case 'softplus': return new Softplus();
    default: throw new ValueError(`${where}: unknown layer type ${JSON.stringify(s.type)}`);
  }
}
