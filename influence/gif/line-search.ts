/**
 * Predictions along an edit's line θ* + t·u (u = d/‖d‖) for many step lengths t, for the step
 * search of SPEC §5. A search evaluates the whole validation split once per step length. With a
 * fresh forward pass each time, the search cost more than a fast GIF solve.
 *
 * Along the line, each layer's output is θ*'s output (computed once per search) plus a change.
 * The change is followed from layer to layer in the cheapest form that is exact:
 *
 * - **none**: the output is θ*'s;
 * - **units**: it differs only on some units (axis 1: neurons or channels). An edit on a
 *   selection moves few units of each layer. Layers that act on each unit separately
 *   (activations, pooling) keep the change on those units, and Flatten turns a channel into a
 *   block of features;
 * - **dense**: it differs anywhere, and the layer runs in full.
 *
 * A Linear or Conv2d layer is affine in its parameters and linear in its input. With input
 * x* + Δ, where Δ is nonzero on input units S:
 *
 *     layer_{W + tD, b + t·d_b}(x* + Δ) = layer_{W,b}(x*) + t·layer_{D,d_b}(x*) + (W + tD)[:, S]·Δ_S
 *
 * - The first term is θ*'s output.
 * - The second is computed once per edit, and only on the output units D moves.
 * - The third costs |S|/in of the layer.
 *
 * On the MLP each step length costs a few small products. On the small CNN the second
 * convolution sees its input change on one or two of its eight channels.
 *
 * Inputs are followed in chunks of samples, so a step's temporaries stay small, and `bestStep`
 * can drop a step length that cannot win after a few chunks (branch and bound).
 *
 * The results equal a fresh forward pass up to rounding, which test/gif/line-search.test.ts checks.
 */
import { add, concat, fromVector, mul, reshape, sub, tensor, toVector, type Tensor, type TypedArray } from '../../engine/index.js';
import { ShapeError, ValueError } from '../../engine/errors.js';
import { Conv2d, Linear, argmaxRows, layerFromSpec, sampleChunks, type Layer, type LayerSlot, type Params, type Sequential, type WeightBias } from '../../nn/index.js';
import { norm } from './vectors.js';

/** The network's outputs and predictions at θ* + length·d/‖d‖, for every input, as functions of the length. */
export interface Line {
  outputs(length: number): Tensor[];
  predictions(length: number): Int32Array[];
  /**
   * The pieces the line is followed in: chunk k covers samples [start, end) of input `input`.
   * A search that can stop early on a step length asks for its chunks one by one.
   */
  readonly chunks: readonly LineChunk[];
  /** The labels predicted for chunk k's samples at the length: `predictions(length)[input].subarray(start, end)`. */
  chunkPredictions(length: number, k: number): Int32Array;
  /** Units of the first parametric layer the direction moves (all of them when it is dense). */
  readonly movedUnits: number;
}

/** Samples [start, end) of input `input`: one piece of a {@link Line}. */
export interface LineChunk { readonly input: number; readonly start: number; readonly end: number }

/** Step searches over fixed inputs at one θ*: `along(d)` gives the line of one edit. */
export interface LineSearch {
  along(direction: Float64Array): Line;
}

/** Layers whose output on unit (channel) u depends only on their input's unit u. */
const PER_UNIT = new Set(['tanh', 'relu', 'sigmoid', 'softplus', 'maxpool2d', 'avgpool2d']);

/** How a layer's activations along the line differ from θ*'s (see the file comment). */
type Change =
  | { readonly kind: 'none' }
  | { readonly kind: 'units'; readonly units: Int32Array; readonly values: Tensor }
  | { readonly kind: 'dense'; readonly values: Tensor };

/** A change's shape without its values: what `along` plans each layer's step from. */
type Support = { readonly kind: 'none' } | { readonly kind: 'units'; readonly units: Int32Array } | { readonly kind: 'dense' };

/** One layer's step along the line, for input k at length t. */
type Stage = (change: Change, t: number, k: number) => Change;

const NONE: Change = { kind: 'none' };

const dtypeOf = (data: TypedArray): 'float32' | 'float64' => (data instanceof Float32Array ? 'float32' : 'float64');

/** The entries of axis 1 listed in `units`: [A, U, ...] → [A, |units|, ...]. */
function takeUnits(data: TypedArray, shape: readonly number[], units: Int32Array): Tensor {
  const [n, u] = shape as [number, number];
  const inner = data.length / (n * u);
  const out = dtypeOf(data) === 'float32' ? new Float32Array(n * units.length * inner) : new Float64Array(n * units.length * inner);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < units.length; k++) {
      const from = (i * u + units[k]!) * inner, to = (i * units.length + k) * inner;
      if (inner === 1) out[to] = data[from]!; // a plain copy: subarray views cost more than one number
      else out.set(data.subarray(from, from + inner), to);
    }
  }
  return tensor(out, [n, units.length, ...shape.slice(2)], dtypeOf(data));
}

/**
 * A copy of `base` ([A, U, ...]) with axis-1 entries `units` replaced by `part` ([A, |units|, ...]),
 * or, given `scale`, with scale·part added to them.
 */
function putUnits(base: TypedArray, shape: readonly number[], units: Int32Array, part: TypedArray, scale?: number): Tensor {
  const [n, u] = shape as [number, number];
  const inner = base.length / (n * u);
  const out = base.slice();
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < units.length; k++) {
      const from = (i * units.length + k) * inner, to = (i * u + units[k]!) * inner;
      if (scale !== undefined) for (let j = 0; j < inner; j++) out[to + j] += scale * part[from + j]!;
      else if (inner === 1) out[to] = part[from]!;
      else out.set(part.subarray(from, from + inner), to);
    }
  }
  return tensor(out, shape, dtypeOf(base));
}

/** Rows `units` of a weight [out, ...] or bias [out]: the layer's parameters for those output units. */
function rowsOf(t: Tensor, units: Int32Array): Tensor {
  const taken = takeUnits(t.toArray(), [1, ...t.shape], units);
  return reshape(taken, [units.length, ...t.shape.slice(1)]);
}

/** Units of a Linear/Conv2d block whose weight row (filter) or bias entry is nonzero in `v`. */
function movedUnits(v: Float64Array, slot: LayerSlot): Int32Array {
  const out: number[] = [];
  for (let u = 0; u < slot.units; u++) {
    let moved = v[slot.biasOffset + u] !== 0;
    for (let j = slot.weightOffset + u * slot.fanIn, end = j + slot.fanIn; !moved && j < end; j++) moved = v[j] !== 0;
    if (moved) out.push(u);
  }
  return Int32Array.from(out);
}

/** The same Linear/Conv2d layer with other numbers of input or output units. */
function resized(layer: Layer, inputs: number, outputs: number): Layer {
  const spec = layer.spec;
  if (spec.type === 'linear') return layerFromSpec({ ...spec, inFeatures: inputs, outFeatures: outputs });
  if (spec.type === 'conv2d') return layerFromSpec({ ...spec, inChannels: inputs, outChannels: outputs });
  throw new ValueError(`lineSearch: layer '${spec.type}' has no units`);
}

/** The layer's weight applied to x, without the bias (the layer's own `weightTimes`). */
function weightTimes(layer: Layer, weight: Tensor, x: Tensor): Tensor {
  if (layer instanceof Linear || layer instanceof Conv2d) return layer.weightTimes(weight, x);
  throw new ValueError(`lineSearch: layer '${layer.spec.type}' has no weight`);
}

/** Options of {@link lineSearch}. */
export interface LineSearchOptions {
  /**
   * Samples per chunk (default {@link LINE_SEARCH_BATCH} = 100). Each input is cut into chunks that
   * the search follows separately and joins again: the temporaries of a step stay small (a CNN's
   * im2col buffers grow with the batch) and the results do not change.
   */
  readonly batchSize?: number;
}

/**
 * The default chunk of the step search. Measured with a GIF edit of class 3 on the 800
 * validation digits, one piece against chunks of 200 (θ*'s activations, an edit's setup, 20 step
 * lengths): small CNN 0.31 + 0.39 + 0.83 s against 0.21 + 0.15 + 0.81 s; MLP 25 ms against 27 ms.
 * Smaller chunks let {@link bestStep} drop a hopeless length sooner, and cost no more down to 50:
 * its 20 lengths took 300, 260 and 248 ms in chunks of 200, 100 and 50 (43 of 80, 74 of 160 and
 * 135 of 320 chunks followed), against 580 ms for every length in full at each size.
 */
export const LINE_SEARCH_BATCH = 100;

/**
 * Prepares step searches on `inputs` (e.g. the validation images, and their triggered copies)
 * at θ* = `params`: θ*'s activations at every layer are computed here, once.
 * @example
 * const search = lineSearch(net, params, [validation.x]);
 * const line = search.along(edit.delta);
 * const [pred] = line.predictions(0.05 * norm(toVector(params))); // labels predicted at that step
 */
export function lineSearch(net: Sequential, params: Params, inputs: readonly Tensor[], options: LineSearchOptions = {}): LineSearch {
  net.checkParams(params);
  const layers = net.layers;
  const slots = new Map(net.parameterLayout().map((s) => [s.layer, s]));
  if (slots.size === 0) throw new ValueError('lineSearch: the network has no Linear or Conv2d layer to edit');
  const theta = toVector(params);
  // the search runs on chunks: chunksOf[j] lists input j's chunks, in order, by their index k below
  const chunks: Tensor[] = [];
  const ranges: LineChunk[] = [];
  const chunksOf = inputs.map((x, j) => {
    const pieces = sampleChunks(x, options.batchSize ?? LINE_SEARCH_BATCH, 'lineSearch');
    if (pieces.length === 0) throw new ShapeError(`lineSearch: input ${j} has no samples (shape [${x.shape.join(', ')}])`);
    return pieces.map((piece) => {
      ranges.push({ input: j, start: piece.start, end: piece.end });
      return chunks.push(piece.x) - 1;
    });
  });
  // θ*'s activations: acts[k][i] is the input of layer i for chunk k (i = layers.length: the output)
  const acts = chunks.map((x) => {
    const out = [x];
    layers.forEach((layer, i) => out.push(layer.apply(params[i]!, out[i]!)));
    return out;
  });
  const arrays = new Map<Tensor, TypedArray>(); // acts read back to host arrays, on first use
  const valuesOf = (t: Tensor): TypedArray => {
    let a = arrays.get(t);
    if (a === undefined) arrays.set(t, (a = t.toArray()));
    return a;
  };
  const materialize = (c: Change, i: number, k: number): Tensor => {
    const base = acts[k]![i]!;
    if (c.kind === 'none') return base;
    if (c.kind === 'dense') return c.values;
    return putUnits(valuesOf(base), base.shape, c.units, c.values.toArray());
  };

  /** The stage of Linear/Conv2d layer i whose input change has support `input`; returns its output support. */
  const parametric = (i: number, slot: LayerSlot, input: Support, direction: WeightBias, moved: Int32Array): [Stage, Support] => {
    const layer = layers[i]!;
    const at = params[i] as WeightBias;
    if (input.kind === 'dense' || (input.kind === 'units' && 2 * input.units.length > (acts[0]![i]!.shape[1] ?? 0))) {
      // the input changed almost everywhere: run the layer in full at θ* + t·u
      const stage: Stage = (c, t, k) => ({
        kind: 'dense',
        values: layer.apply({ weight: add(at.weight, mul(direction.weight, t)), bias: add(at.bias, mul(direction.bias, t)) }, materialize(c, i, k)),
      });
      return [stage, { kind: 'dense' }];
    }
    // t·layer_{D,d_b}(x*), on the output units D moves
    const movedLayer = moved.length === 0 ? null : resized(layer, slot.weightShape[1]!, moved.length);
    const slope = movedLayer === null ? [] : acts.map((a) => movedLayer.apply({ weight: rowsOf(direction.weight, moved), bias: rowsOf(direction.bias, moved) }, a[i]!));
    // the same, zero on the units D leaves alone, shaped like the layer's output
    const slopeOnAllUnits = (): Tensor[] => acts.map((a, k) => putUnits(valuesOf(a[i + 1]!).slice().fill(0), a[i + 1]!.shape, moved, slope[k]!.toArray()));
    if (input.kind === 'none') {
      if (moved.length === 0) return [(c) => c, { kind: 'none' }];
      if (2 * moved.length > slot.units) {
        // most units move (a dense edit): θ*'s output + t·layer_{D,d_b}(x*) on all of them
        const full = slopeOnAllUnits();
        const stage: Stage = (_c, t, k) => ({ kind: 'dense', values: add(acts[k]![i + 1]!, mul(full[k]!, t)) });
        return [stage, { kind: 'dense' }];
      }
      const baseMoved = acts.map((a) => takeUnits(valuesOf(a[i + 1]!), a[i + 1]!.shape, moved));
      const stage: Stage = (_c, t, k) => ({ kind: 'units', units: moved, values: add(baseMoved[k]!, mul(slope[k]!, t)) });
      return [stage, { kind: 'units', units: moved }];
    }
    // the input changed on units S: add (W + tD)[:, S]·Δ_S, a layer with |S| inputs and no bias
    const S = input.units;
    const atS = takeUnits(at.weight.toArray(), at.weight.shape, S);
    const directionS = takeUnits(direction.weight.toArray(), direction.weight.shape, S);
    const baseS = acts.map((a) => takeUnits(valuesOf(a[i]!), a[i]!.shape, S));
    const stage: Stage = (c, t, k) => {
      if (c.kind !== 'units') throw new ValueError('lineSearch: internal error, the planned change was not on units');
      const inputChange = sub(c.values, baseS[k]!);
      const out = add(acts[k]![i + 1]!, weightTimes(layer, add(atS, mul(directionS, t)), inputChange));
      // t·layer_{D,d_b}(x*) lives on the moved output units only
      return { kind: 'dense', values: movedLayer === null ? out : putUnits(out.toArray(), out.shape, moved, slope[k]!.toArray(), t) };
    };
    return [stage, { kind: 'dense' }];
  };

  return {
    along(direction) {
      if (direction.length !== theta.length) throw new ShapeError(`lineSearch: the direction has ${direction.length} entries, θ* ${theta.length}`);
      const size = norm(direction);
      const unit = size === 0 ? new Float64Array(theta.length) : direction.map((v) => v / size);
      const unitTree = fromVector(unit, params);
      // plan: each layer's stage, from the support of the change entering it
      const stages: Stage[] = [];
      let support: Support = { kind: 'none' };
      let firstMoved: number | null = null; // units moved in the first parametric layer, for `Line.movedUnits`
      layers.forEach((layer, i) => {
        const slot = slots.get(i);
        const type = layer.spec.type;
        if (slot !== undefined) {
          const moved = movedUnits(unit, slot);
          firstMoved ??= moved.length;
          const [stage, out] = parametric(i, slot, support, unitTree[i] as WeightBias, moved);
          stages.push(stage);
          support = out;
        } else if (PER_UNIT.has(type) || support.kind === 'none') {
          stages.push((c) => (c.kind === 'none' ? c : { ...c, values: layer.apply({}, c.values) }));
        } else if (type === 'flatten' && support.kind === 'units') {
          // channel c of [N, C, ...] becomes features c·inner … c·inner + inner − 1
          const inner = acts[0]![i]!.shape.slice(2).reduce((a, b) => a * b, 1);
          const from = support.units;
          const units = Int32Array.from({ length: from.length * inner }, (_, j) => from[Math.floor(j / inner)]! * inner + (j % inner));
          stages.push((c, _t, k) => (c.kind === 'units' ? { kind: 'units', units, values: reshape(c.values, [acts[k]![i]!.shape[0]!, units.length]) } : c));
          support = { kind: 'units', units };
        } else {
          // any other layer mixes units: the change becomes dense
          stages.push((c, _t, k) => (c.kind === 'none' ? c : { kind: 'dense', values: layer.apply(params[i]!, materialize(c, i, k)) }));
          support = { kind: 'dense' };
        }
      });
      const chunkOutput = (length: number, k: number): Tensor => {
        if (!Number.isFinite(length)) throw new ValueError(`lineSearch: step length must be finite, got ${length}`);
        return materialize(stages.reduce((c, stage) => stage(c, length, k), NONE), layers.length, k);
      };
      const outputs = (length: number): Tensor[] => {
        const out = acts.map((_, k) => chunkOutput(length, k));
        return chunksOf.map((ks) => (ks.length === 1 ? out[ks[0]!]! : concat(ks.map((k) => out[k]!), 0)));
      };
      const chunkPredictions = (length: number, k: number): Int32Array => {
        if (!(Number.isInteger(k) && k >= 0 && k < ranges.length)) throw new ValueError(`lineSearch: there is no chunk ${k} (the line has ${ranges.length})`);
        return argmaxRows(chunkOutput(length, k));
      };
      return { outputs, predictions: (length) => outputs(length).map(argmaxRows), chunks: ranges, chunkPredictions, movedUnits: firstMoved ?? 0 };
    },
  };
}

/** What a step search maximises over the validation inputs, and the labels under which it is highest. */
export interface StepObjective {
  /** The score of predicted labels (one array per input of the line). */
  score(predictions: readonly Int32Array[]): number;
  /**
   * Per input, labels that score best: the true labels, or for a removed class any other. The
   * score must never fall when one prediction is replaced by its ideal label: true of accuracies,
   * F1 of a class removal, and harmonic means of accuracies.
   */
  readonly ideal: readonly Int32Array[];
}

/** The step {@link bestStep} chose, and how much of the line it had to follow. */
export interface StepSearch {
  /** Index into the lengths of the best score; the first of equal scores. −∞ scores leave it at 0. */
  readonly index: number;
  readonly score: number;
  /** Chunks followed, out of lengths × chunks. */
  readonly chunksFollowed: number;
}

/**
 * The length with the best score along a line, exactly as if every length were scored on every
 * input, but usually at about half the cost (branch and bound).
 *
 * A length's chunks are followed one at a time. After each, the score of the predictions so far
 * with ideal labels everywhere else bounds what the length can still reach; once that bound
 * cannot beat the best length found, the length is dropped. Lengths are visited every fourth
 * first, then nearest the best of those, so a good length is known early and most of the others
 * drop out after a chunk or two (a step that is too short leaves the class in place on the first
 * chunk already; one that is too long breaks the retained digits).
 * @example
 * const line = lineSearch(net, params, [validation.x]).along(edit.delta);
 * const y = validation.y; // score: correct predictions; ideal: the true labels
 * const score = ([p]: readonly Int32Array[]) => p!.filter((label, i) => label === y[i]).length;
 * const { index } = bestStep(line, [0.1, 0.3, 1], { score, ideal: [y] });
 */
export function bestStep(line: Line, lengths: readonly number[], objective: StepObjective): StepSearch {
  const { chunks } = line;
  chunks.forEach((c) => {
    const ideal = objective.ideal[c.input];
    if (ideal === undefined || ideal.length < c.end) throw new ShapeError(`bestStep: input ${c.input} has ${ideal?.length ?? 0} ideal labels, but the line covers ${c.end} samples`);
  });
  let best = { index: 0, score: -Infinity }, chunksFollowed = 0;
  // a NaN score neither wins nor rules a length out, as in a search that scores every length
  const beats = (score: number, index: number) => score > best.score || (score === best.score && index < best.index);
  const cannotBeat = (bound: number, index: number) => bound < best.score || (bound === best.score && index > best.index);
  const visit = (index: number): void => {
    const predictions = objective.ideal.map((labels) => labels.slice());
    for (let k = 0; k < chunks.length; k++) {
      const { input, start } = chunks[k]!;
      predictions[input]!.set(line.chunkPredictions(lengths[index]!, k), start);
      chunksFollowed++;
      if (k < chunks.length - 1 && cannotBeat(objective.score(predictions), index)) return;
    }
    const score = objective.score(predictions);
    if (beats(score, index)) best = { index, score };
  };
  const coarse = lengths.map((_, i) => i).filter((i) => i % 4 === 0);
  coarse.forEach(visit);
  const rest = lengths.map((_, i) => i).filter((i) => i % 4 !== 0);
  rest.sort((a, b) => Math.abs(a - best.index) - Math.abs(b - best.index) || a - b).forEach(visit);
  return { ...best, chunksFollowed };
}
