/**
 * Predictions along an edit's line θ* + t·d/‖d‖ for many step lengths t, for the step search of
 * SPEC §5. A search evaluates the whole validation split once per step length. With a fresh
 * forward pass each time, the search cost more than a fast GIF solve.
 *
 * Two exact shortcuts, both about the first parametric layer (Linear or Conv2d):
 *
 * 1. It is affine in its parameters, so along the line its output is
 *        layer_{W + tD, b + t·d_b}(x) = (W x + b) + t·(D x + d_b) = A + t·B.
 *    A is θ*'s output of that layer, the same for every edit and computed once. B is computed
 *    once per edit. Each step length then costs only the layers after it.
 * 2. An edit on a selection J moves few of its units: rows of W and entries of b. B is zero on
 *    every other unit. The layers right after it that act on each unit separately (activations,
 *    pooling) then change only on the moved units. So only those units are recomputed, and
 *    θ*'s values are kept for the rest, up to the next layer that mixes units.
 *
 * For the default MLP the first layer holds 99% of the forward pass's work. The results equal a
 * fresh forward pass up to rounding, which test/gif/line-search.test.ts checks.
 */
import { add, fromVector, mul, tensor, toVector, type Tensor, type TypedArray } from '../../engine/index.js';
import { ShapeError, ValueError } from '../../engine/errors.js';
import { argmaxRows, layerFromSpec, type Layer, type Params, type Sequential, type WeightBias } from '../../nn/index.js';
import { norm } from './vectors.js';

/** The network's outputs and predictions at θ* + length·d/‖d‖, for every input, as functions of the length. */
export interface Line {
  outputs(length: number): Tensor[];
  predictions(length: number): Int32Array[];
  /** Units of the first parametric layer the direction moves (all of them when it is dense). */
  readonly movedUnits: number;
}

/** Step searches over fixed inputs at one θ*: `along(d)` gives the line of one edit. */
export interface LineSearch {
  along(direction: Float64Array): Line;
}

/** Layers whose output on unit (channel) u depends only on their input's unit u. */
const PER_UNIT = new Set(['tanh', 'relu', 'sigmoid', 'softplus', 'maxpool2d', 'avgpool2d']);

/** A row-major array [N, U, ...] and its shape, read once. */
interface Values { readonly data: TypedArray; readonly shape: readonly number[] }

const dtypeOf = (data: TypedArray): 'float32' | 'float64' => (data instanceof Float32Array ? 'float32' : 'float64');

/** The entries of axis 1 listed in `units`: [N, U, ...] → [N, |units|, ...], as a tensor. */
function takeUnits(v: Values, units: Int32Array): Tensor {
  const [n, u] = v.shape as [number, number];
  const inner = v.data.length / (n * u);
  const out = dtypeOf(v.data) === 'float32' ? new Float32Array(n * units.length * inner) : new Float64Array(n * units.length * inner);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < units.length; k++) {
      const from = (i * u + units[k]!) * inner;
      out.set(v.data.subarray(from, from + inner), (i * units.length + k) * inner);
    }
  }
  return tensor(out, [n, units.length, ...v.shape.slice(2)], dtypeOf(v.data));
}

/** A copy of `base` with axis-1 entries `units` replaced by `part` ([N, |units|, ...]). */
function putUnits(base: Values, units: Int32Array, part: TypedArray): Tensor {
  const [n, u] = base.shape as [number, number];
  const inner = base.data.length / (n * u);
  const out = base.data.slice();
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < units.length; k++) {
      const from = (i * units.length + k) * inner;
      out.set(part.subarray(from, from + inner), (i * u + units[k]!) * inner);
    }
  }
  return tensor(out, base.shape, dtypeOf(base.data));
}

/** The same Linear/Conv2d layer cut down to the output units `units`, with its parameters. */
function unitSlice(layer: Layer, p: WeightBias, units: Int32Array): { layer: Layer; params: WeightBias } {
  const spec = layer.spec;
  if (spec.type !== 'linear' && spec.type !== 'conv2d') throw new ValueError(`lineSearch: layer '${spec.type}' has no units to slice`);
  const sliced = layerFromSpec(spec.type === 'linear' ? { ...spec, outFeatures: units.length } : { ...spec, outChannels: units.length });
  // a weight [out, ...] is a one-sample array [1, out, ...] whose units are its rows
  const rows = (t: Tensor): Tensor => {
    const taken = takeUnits({ data: t.toArray(), shape: [1, ...t.shape] }, units);
    return tensor(taken.toArray(), [units.length, ...t.shape.slice(1)], t.dtype);
  };
  return { layer: sliced, params: { weight: rows(p.weight), bias: rows(p.bias) } };
}

/**
 * Prepares step searches on `inputs` (e.g. the validation images, and their triggered copies)
 * at θ* = `params`. The layers before the first parametric one, that layer's output at θ*, and
 * the per-unit layers after it are computed here, once.
 * @example
 * const search = lineSearch(net, params, [validation.x]);
 * const line = search.along(edit.delta);
 * const [pred] = line.predictions(0.05 * norm(toVector(params))); // labels predicted at that step
 */
export function lineSearch(net: Sequential, params: Params, inputs: readonly Tensor[]): LineSearch {
  net.checkParams(params);
  const slot = net.parameterLayout()[0];
  if (slot === undefined) throw new ValueError('lineSearch: the network has no Linear or Conv2d layer to edit');
  const first = slot.layer;
  const layers = net.layers;
  let mixing = first + 1; // the first layer after `first` that mixes units
  while (mixing < layers.length && PER_UNIT.has(layers[mixing]!.spec.type)) mixing++;
  const theta = toVector(params);
  const run = (h: Tensor, from: number, to: number, p: Params): Tensor => {
    for (let i = from; i < to; i++) h = layers[i]!.apply(p[i]!, h);
    return h;
  };
  // parameter-free layers before `first` (e.g. Flatten) do not move along the line
  const before = inputs.map((x) => run(x, 0, first, params));
  const atTheta = before.map((h) => layers[first]!.apply(params[first]!, h));
  const perUnitAtTheta: Values[] = atTheta.map((a) => {
    const r = run(a, first + 1, mixing, params);
    return { data: r.toArray(), shape: r.shape };
  });
  let firstValues: Values[] | null = null; // A as arrays, read on the first sparse edit
  // θ's entries of layers after `first`: rebuilding only those trees per step is cheap
  const restOffset = slot.offset + slot.size;
  const restLike = params.slice(first + 1);

  return {
    along(direction) {
      if (direction.length !== theta.length) throw new ShapeError(`lineSearch: the direction has ${direction.length} entries, θ* ${theta.length}`);
      const size = norm(direction);
      const unit = size === 0 ? new Float64Array(theta.length) : direction.map((v) => v / size);
      const restAt = (length: number): Params => {
        const v = new Float64Array(theta.length - restOffset);
        for (let i = 0; i < v.length; i++) v[i] = theta[restOffset + i]! + length * unit[restOffset + i]!;
        return [...params.slice(0, first + 1), ...fromVector(v, restLike)];
      };
      const moved = movedUnits(unit, slot.weightOffset, slot.biasOffset, slot.units, slot.fanIn);
      const unitFirst = fromVector(unit, params)[first]! as WeightBias;
      const check = (length: number): void => {
        if (!Number.isFinite(length)) throw new ValueError(`lineSearch: step length must be finite, got ${length}`);
      };

      let outputs: (length: number) => Tensor[];
      if (mixing === first + 1 || 2 * moved.length > slot.units) {
        // dense: A + t·B through every later layer
        const slope = before.map((h) => layers[first]!.apply(unitFirst, h));
        outputs = (length) => {
          check(length);
          const p = restAt(length);
          return atTheta.map((a, k) => run(add(a, mul(slope[k]!, length)), first + 1, layers.length, p));
        };
      } else {
        // sparse: only the moved units pass through the per-unit layers; θ*'s values elsewhere
        firstValues ??= atTheta.map((a) => ({ data: a.toArray(), shape: a.shape }));
        const values = firstValues;
        const sliced = moved.length === 0 ? null : unitSlice(layers[first]!, unitFirst, moved);
        const slope = sliced === null ? [] : before.map((h) => sliced.layer.apply(sliced.params, h));
        const aMoved = sliced === null ? [] : values.map((v) => takeUnits(v, moved));
        outputs = (length) => {
          check(length);
          const p = restAt(length);
          return perUnitAtTheta.map((base, k) => {
            const h = sliced === null
              ? tensor(base.data, base.shape, dtypeOf(base.data))
              : putUnits(base, moved, run(add(aMoved[k]!, mul(slope[k]!, length)), first + 1, mixing, p).toArray());
            return run(h, mixing, layers.length, p);
          });
        };
      }
      return { outputs, predictions: (length) => outputs(length).map(argmaxRows), movedUnits: moved.length };
    },
  };
}

/** Units of a Linear/Conv2d block whose weight row (filter) or bias entry is nonzero in `v`. */
function movedUnits(v: Float64Array, weightOffset: number, biasOffset: number, units: number, fanIn: number): Int32Array {
  const out: number[] = [];
  for (let u = 0; u < units; u++) {
    let moved = v[biasOffset + u] !== 0;
    for (let j = weightOffset + u * fanIn, end = j + fanIn; !moved && j < end; j++) moved = v[j] !== 0;
    if (moved) out.push(u);
  }
  return Int32Array.from(out);
}

