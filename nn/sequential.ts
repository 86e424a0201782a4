/**
 * Sequential networks and the layout of their flat parameter vector.
 *
 * A network's parameters are an array with one entry per layer — `{ weight, bias }` for Linear and
 * Conv2d, `{}` for the rest — so the engine's `flattenTree` / `toVector` visit them in PyTorch's
 * `state_dict` order (module order, weight before bias), and the names are PyTorch's: `0.weight`,
 * `0.bias`, `2.weight`, ... `parameterLayout()` says where each layer's block sits in θ.
 */
import { DTypeError, ShapeError, ValueError, fmtShape, type DType, type Rng, type Tensor } from '../engine/index.js';
import {
  Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sigmoid, Softplus, Tanh, layerFromSpec,
  type ActivationName, type Layer, type LayerParams, type LayerSpec, type WeightBias,
} from './layers.js';

/** Parameters of a Sequential network: one entry per layer (an engine tree). */
export type Params = LayerParams[];

/** Where one parameterised layer lives in the flat parameter vector θ. */
export interface LayerSlot {
  /** Index of the layer in the network (also the prefix of its PyTorch names). */
  readonly layer: number;
  readonly kind: 'linear' | 'conv2d';
  /** PyTorch state_dict names, e.g. `'0.weight'` and `'0.bias'`. */
  readonly weightName: string;
  readonly biasName: string;
  /** `[out, in]` for Linear, `[out, in, kh, kw]` for Conv2d. */
  readonly weightShape: readonly number[];
  readonly biasShape: readonly number[];
  /** First index of the weight block in θ; unit u's weights are θ[weightOffset + u·fanIn, +fanIn). */
  readonly weightOffset: number;
  /** First index of the bias block in θ (= weightOffset + units·fanIn); unit u's bias is θ[biasOffset + u]. */
  readonly biasOffset: number;
  /** The layer's whole block is θ[offset, offset + size): weights then biases. */
  readonly offset: number;
  readonly size: number;
  /** Output neurons (Linear) or output channels (Conv2d). */
  readonly units: number;
  /** Weights per unit: `in` for Linear, `in·kh·kw` for Conv2d. */
  readonly fanIn: number;
}

/** The JSON architecture description stored in model files. */
export interface ModelSpec {
  readonly format: 'gift.sequential';
  readonly version: 1;
  /** Shape of one input sample (no batch axis), e.g. `[784]` or `[1, 28, 28]`, when known. */
  readonly inputShape?: readonly number[];
  readonly layers: readonly LayerSpec[];
}

/** Output of `applyWithOutputs`. */
export interface ForwardOutputs {
  readonly output: Tensor;
  /** Each layer's output, in order; for Linear/Conv2d that is the pre-activation output. */
  readonly layerOutputs: Tensor[];
}

/**
 * Layers applied one after the other.
 * @example
 * const net = new Sequential([new Linear(784, 128), new Tanh(), new Linear(128, 10)], { inputShape: [784] });
 * const params = net.init(new Rng(0), 'float32');
 * const logits = net.apply(params, x); // [N, 10]
 */
export class Sequential {
  readonly layers: readonly Layer[];
  readonly inputShape: readonly number[] | undefined;

  constructor(layers: readonly Layer[], options: { inputShape?: readonly number[] } = {}) {
    if (layers.length === 0) throw new ValueError('Sequential: needs at least one layer');
    this.layers = [...layers];
    this.inputShape = options.inputShape ? [...options.inputShape] : undefined;
    if (this.inputShape) {
      if (!this.inputShape.every((d) => Number.isInteger(d) && d > 0)) throw new ValueError(`Sequential: bad inputShape ${fmtShape(this.inputShape)}`);
      this.outputShape([1, ...this.inputShape]);
    }
  }

  /** Fresh parameters, PyTorch's default initialisation, drawn layer by layer from `rng`. */
  init(rng: Rng, dtype: DType = 'float64'): Params {
    return this.layers.map((l) => l.init(rng, dtype));
  }

  /** The network's output for a batch `x` (first axis = samples). */
  apply(params: Params, x: Tensor): Tensor {
    this.checkStructure(params);
    this.checkDType(params, x);
    let h = x;
    this.layers.forEach((layer, i) => (h = layer.apply(params[i]!, h)));
    return h;
  }

  /** The output and every layer's output (GIF scores parameters by the Linear/Conv2d outputs). */
  applyWithOutputs(params: Params, x: Tensor): ForwardOutputs {
    this.checkStructure(params);
    this.checkDType(params, x);
    const layerOutputs: Tensor[] = [];
    let h = x;
    this.layers.forEach((layer, i) => {
      h = layer.apply(params[i]!, h);
      layerOutputs.push(h);
    });
    return { output: h, layerOutputs };
  }

  /** The output shape for an input shape (batch axis included); ShapeError names the layer that does not fit. */
  outputShape(input: readonly number[]): number[] {
    let s = [...input];
    this.layers.forEach((layer, i) => {
      try {
        s = layer.outputShape(s);
      } catch (e) {
        if (e instanceof ShapeError) throw new ShapeError(`Sequential layer ${i}: ${e.message}`);
        throw e;
      }
    });
    return s;
  }

  /** Each Linear/Conv2d layer's place in θ, in order. */
  parameterLayout(): LayerSlot[] {
    const slots: LayerSlot[] = [];
    let offset = 0;
    this.layers.forEach((layer, i) => {
      if (!(layer instanceof Linear || layer instanceof Conv2d)) return;
      const weightShape = layer.weightShape;
      const units = weightShape[0]!;
      const fanIn = weightShape.slice(1).reduce((a, b) => a * b, 1);
      const size = units * fanIn + units;
      slots.push({
        layer: i, kind: layer instanceof Linear ? 'linear' : 'conv2d',
        weightName: `${i}.weight`, biasName: `${i}.bias`, weightShape, biasShape: [units],
        weightOffset: offset, biasOffset: offset + units * fanIn, offset, size, units, fanIn,
      });
      offset += size;
    });
    return slots;
  }

  /** The number of scalars in θ. */
  get parameterCount(): number {
    return this.parameterLayout().reduce((n, s) => n + s.size, 0);
  }

  /** PyTorch state_dict names in θ order: `['0.weight', '0.bias', ...]`. */
  parameterNames(): string[] {
    return this.parameterLayout().flatMap((s) => [s.weightName, s.biasName]);
  }

  /** Throws a ShapeError unless `params` has this network's structure and shapes. */
  checkParams(params: Params): void {
    this.checkStructure(params);
    for (const slot of this.parameterLayout()) {
      const p = params[slot.layer] as WeightBias;
      for (const [name, t, shape] of [[slot.weightName, p.weight, slot.weightShape], [slot.biasName, p.bias, slot.biasShape]] as const) {
        if (t.rank !== shape.length || !t.shape.every((d, k) => d === shape[k])) {
          throw new ShapeError(`parameter ${name} has shape ${fmtShape(t.shape)}, the architecture needs ${fmtShape(shape)}`);
        }
      }
    }
  }

  private checkDType(params: Params, x: Tensor): void {
    for (const [i, p] of params.entries()) {
      if ('weight' in p && p.weight.dtype !== x.dtype) {
        throw new DTypeError(`Sequential: input is ${x.dtype} but layer ${i}'s parameters are ${p.weight.dtype}; convert the data (withDType) or the parameters`);
      }
    }
  }

  private checkStructure(params: Params): void {
    if (!Array.isArray(params) || params.length !== this.layers.length) {
      throw new ValueError(`Sequential: expected parameters for ${this.layers.length} layers, got ${Array.isArray(params) ? params.length : typeof params}`);
    }
    this.layers.forEach((layer, i) => {
      const hasWeights = layer instanceof Linear || layer instanceof Conv2d;
      const p = params[i] as Record<string, unknown> | undefined;
      if (p === null || typeof p !== 'object') throw new ValueError(`Sequential: parameters of layer ${i} must be an object`);
      const keys = Object.keys(p);
      if (hasWeights ? !(keys.length === 2 && 'weight' in p && 'bias' in p) : keys.length !== 0) {
        throw new ValueError(`Sequential: layer ${i} (${layer.spec.type}) expects ${hasWeights ? '{ weight, bias }' : '{}'}, got keys [${keys.join(', ')}]`);
      }
    });
  }

  /** The JSON architecture description (what model files store). */
  toSpec(): ModelSpec {
    return { format: 'gift.sequential', version: 1, ...(this.inputShape ? { inputShape: [...this.inputShape] } : {}), layers: this.layers.map((l) => l.spec) };
  }

  /**
   * Rebuilds a network from `toSpec()` output, validating it (a ValueError says what is wrong).
   * @example Sequential.fromSpec(JSON.parse(JSON.stringify(mlp().toSpec())))
   */
  static fromSpec(spec: unknown): Sequential {
    if (spec === null || typeof spec !== 'object') throw new ValueError('model spec: not an object');
    const s = spec as Record<string, unknown>;
    if (s.format !== 'gift.sequential') throw new ValueError(`model spec: format is ${JSON.stringify(s.format)}, expected "gift.sequential"`);
    if (s.version !== 1) throw new ValueError(`model spec: unsupported version ${JSON.stringify(s.version)}`);
    if (!Array.isArray(s.layers)) throw new ValueError('model spec: "layers" must be an array');
    let inputShape: number[] | undefined;
    if (s.inputShape !== undefined) {
      if (!Array.isArray(s.inputShape) || !s.inputShape.every((d) => Number.isInteger(d) && d > 0)) {
        throw new ValueError(`model spec: bad inputShape ${JSON.stringify(s.inputShape)}`);
      }
      inputShape = s.inputShape as number[];
    }
    const layers = s.layers.map((l, i) => layerFromSpec(l, `model spec layer ${i}`));
    return new Sequential(layers, inputShape ? { inputShape } : {});
  }
}

function activation(name: ActivationName): Layer {
  switch (name) {
    case 'tanh': return new Tanh();
    case 'relu': return new ReLU();
    case 'sigmoid': return new Sigmoid();
    case 'softplus': return new Softplus();
    default: throw new ValueError(`mlp: unknown activation ${JSON.stringify(name)}`);
  }
}

/**
 * A multi-layer perceptron: Linear layers of the given sizes with an activation between them
 * (none after the last). The default, `mlp()`, is the project's default MLP 784-128-10 tanh.
 * @example
 * const net = mlp([784, 128, 10], 'tanh'); // layers 0: Linear, 1: Tanh, 2: Linear
 */
export function mlp(sizes: readonly number[] = [784, 128, 10], act: ActivationName = 'tanh'): Sequential {
  if (sizes.length < 2) throw new ValueError(`mlp: needs at least an input and an output size, got [${sizes.join(', ')}]`);
  const layers: Layer[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    if (i > 0) layers.push(activation(act));
    layers.push(new Linear(sizes[i]!, sizes[i + 1]!));
  }
  return new Sequential(layers, { inputShape: [sizes[0]!] });
}

/**
 * The small CNN of the engine benchmark, on [N, 1, 28, 28]: conv 1→8 5×5, ReLU, maxpool 2,
 * conv 8→16 5×5, ReLU, maxpool 2, flatten, Linear 256→10 (layers 0, 3 and 7 have parameters).
 * @example const net = smallCnn(); net.outputShape([2, 1, 28, 28]) // [2, 10]
 */
export function smallCnn(classes = 10): Sequential {
  return new Sequential([
    new Conv2d(1, 8, 5), new ReLU(), new MaxPool2d(2),
    new Conv2d(8, 16, 5), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(256, classes),
  ], { inputShape: [1, 28, 28] });
}

/**
 * Multinomial logistic regression: one Linear layer (train it with cross-entropy).
 * @example const net = logisticRegression(784, 10);
 */
export function logisticRegression(inFeatures: number, classes: number): Sequential {
  return new Sequential([new Linear(inFeatures, classes)], { inputShape: [inFeatures] });
}
