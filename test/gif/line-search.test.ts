/**
 * The step search's line evaluation against a fresh forward pass at each point of the line, and
 * the branch-and-bound search over it against scoring every length in full.
 */
import { describe, expect, it } from 'vitest';
import { Rng, fromVector, toVector } from '../../engine/index.js';
import { Conv2d, Flatten, Linear, ReLU, Sequential, Tanh, mlp, predict, smallCnn, type Params } from '../../nn/index.js';
import fc from 'fast-check';
import { bestStep, lineSearch, type Line, type LineChunk } from '../../influence/gif/line-search.js';
import { relativeMaxError } from './dense.js';

function pointOnLine(params: Params, d: Float64Array, length: number): Params {
  const theta = toVector(params);
  const nd = Math.hypot(...d);
  return fromVector(theta.map((v, i) => v + (length * d[i]!) / nd), params);
}

describe('lineSearch', () => {
  const cases: [string, () => Sequential, number[]][] = [
    ['MLP', () => mlp([12, 7, 4], 'tanh'), [11, 12]],
    ['ReLU MLP with three layers', () => mlp([12, 9, 6, 4], 'relu'), [5, 12]],
    ['CNN (conv first, then pooling)', () => smallCnn(3), [5, 1, 28, 28]],
    ['parameter-free layer first (Flatten, then Linear)', () => new Sequential([new Flatten(), new Linear(12, 5), new Tanh(), new Linear(5, 3)]), [6, 3, 4]],
    ['a changed channel through Flatten into a Linear', () => new Sequential([new Conv2d(2, 6, 3), new ReLU(), new Flatten(), new Linear(6 * 16, 3)]), [4, 2, 6, 6]],
  ];
  // in one chunk per input, and in chunks of 2 (inputs of 5–11 samples and of 3: uneven last chunks)
  const chunked = cases.flatMap(([name, make, shape]) => [[name, make, shape, undefined], [`${name}, chunks of 2`, make, shape, 2]] as const);
  it.each(chunked)('%s: outputs and predictions at every step equal a fresh forward pass, for dense and selection-like edits', (_name, make, shape, batchSize) => {
    const rng = new Rng(4);
    const net = make();
    const params = net.init(rng, 'float64');
    const inputs = [rng.normalTensor(shape), rng.normalTensor([3, ...shape.slice(1)])];
    const P = toVector(params).length;
    const [slot] = net.parameterLayout();
    // dense: every unit moves; selection-like: two units of the first layer (a weight and a bias)
    // and entries of later layers; later-only: the first layer stays put
    const dense = Float64Array.from({ length: P }, () => rng.normal());
    const selection = new Float64Array(P);
    selection[slot!.weightOffset + 1 * slot!.fanIn + 2] = rng.normal();
    selection[slot!.biasOffset + 3] = rng.normal();
    for (let k = 0; k < 6; k++) selection[slot!.offset + slot!.size + ((k * 7919) % (P - slot!.size))] = rng.normal();
    const laterOnly = Float64Array.from(selection, (v, i) => (i < slot!.offset + slot!.size ? 0 : v));
    const search = lineSearch(net, params, inputs, { batchSize });
    for (const [d, moved] of [[dense, slot!.units], [selection, 2], [laterOnly, 0]] as const) {
      const line = search.along(d);
      expect(line.movedUnits).toBe(moved);
      for (const length of [0, 0.3, 2.5]) {
        const at = pointOnLine(params, d, length);
        line.outputs(length).forEach((out, k) => {
          expect(relativeMaxError(out.toArray(), net.apply(at, inputs[k]!).toArray())).toBeLessThan(1e-12);
        });
        const predictions = line.predictions(length);
        expect(predictions.map((p) => Array.from(p))).toEqual(inputs.map((x) => Array.from(predict(net, at, x))));
        // chunk by chunk: the same labels, and the chunks tile every input in order
        line.chunks.forEach((c, k) => expect(Array.from(line.chunkPredictions(length, k))).toEqual(Array.from(predictions[c.input]!.subarray(c.start, c.end))));
        inputs.forEach((x, j) => {
          const mine = line.chunks.filter((c) => c.input === j);
          expect(mine.map((c) => [c.start, c.end])).toEqual(mine.map((_, i) => [i * (batchSize ?? x.shape[0]!), Math.min(x.shape[0]!, (i + 1) * (batchSize ?? x.shape[0]!))]));
        });
      }
    }
  });

  it('rejects a direction of the wrong length and a non-finite step, naming them', () => {
    const net = mlp([4, 3, 2], 'tanh');
    const params = net.init(new Rng(0), 'float64');
    const search = lineSearch(net, params, [new Rng(1).normalTensor([2, 4])]);
    expect(() => search.along(new Float64Array(5))).toThrow(/direction has 5 entries, θ\* 23/);
    expect(() => search.along(new Float64Array(23)).outputs(Number.NaN)).toThrow(/step length must be finite/);
    expect(() => search.along(new Float64Array(23)).chunkPredictions(1, 1)).toThrow(/there is no chunk 1 \(the line has 1\)/);
    expect(() => lineSearch(net, params, [new Rng(1).normalTensor([2, 4])], { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => lineSearch(net, params, [new Rng(1).normalTensor([2, 4]), new Rng(1).normalTensor([0, 4])])).toThrow(/input 1 has no samples/);
  });
});

/** F1 of a class removal (SPEC §5), as the tasks score it. */
function removalF1(pred: Int32Array, y: Int32Array, removed: number): number {
  let rightT = 0, nT = 0, rightS = 0, nS = 0;
  y.forEach((label, i) => {
    if (label === removed) { nS++; rightS += +(pred[i] === label); } else { nT++; rightT += +(pred[i] === label); }
  });
  const t = rightT / Math.max(1, nT), s = 1 - rightS / Math.max(1, nS);
  return s + t === 0 ? 0 : (2 * s * t) / (s + t);
}

/** A line whose predictions are given per length: `table[length index][input]`. */
function tableLine(table: Int32Array[][], chunks: LineChunk[], lengths: number[], followed: number[]): Line {
  return {
    chunks, movedUnits: 0,
    outputs: () => { throw new Error('not used'); },
    predictions: (length) => table[lengths.indexOf(length)]!,
    chunkPredictions: (length, k) => {
      followed.push(k);
      const c = chunks[k]!;
      return table[lengths.indexOf(length)]![c.input]!.subarray(c.start, c.end);
    },
  };
}

/** The search that scores every length in full, in order, keeping the first best. */
function exhaustive(line: Line, lengths: number[], score: (p: readonly Int32Array[]) => number): { index: number; score: number } {
  let best = { index: 0, score: -Infinity };
  lengths.forEach((length, index) => {
    const s = score(line.predictions(length));
    if (s > best.score) best = { index, score: s };
  });
  return best;
}

describe('bestStep', () => {
  it('chooses the length a full search chooses, ties and all, for class-removal F1 and for accuracies', () => {
    let followed = 0, full = 0;
    fc.assert(fc.property(fc.integer(), fc.boolean(), (seed, twoInputs) => {
      const rng = new Rng(seed);
      const classes = 2 + rng.int(4), removed = rng.int(classes), lengthCount = 1 + rng.int(20), batch = 1 + rng.int(6);
      const sizes = twoInputs ? [1 + rng.int(25), 1 + rng.int(10)] : [1 + rng.int(40)];
      const labels = sizes.map((n) => Int32Array.from({ length: n }, () => rng.int(classes)));
      // predictions that drift from "the class stays" to "everything breaks" along the lengths, with
      // few distinct outcomes, so many lengths tie
      const table = Array.from({ length: lengthCount }, (_, i) => labels.map((y) => y.map((label) => {
        const r = rng.uniform();
        if (label === removed && r < 1 - i / lengthCount) return label;
        return r < 0.2 + (0.6 * i) / lengthCount ? rng.int(classes) : label;
      })));
      const chunks: LineChunk[] = sizes.flatMap((n, input) => Array.from({ length: Math.ceil(n / batch) }, (_, i) => ({ input, start: i * batch, end: Math.min(n, (i + 1) * batch) })));
      const lengths = Array.from({ length: lengthCount }, (_, i) => 0.1 * 1.5 ** i);
      const objectives = [
        { score: (p: readonly Int32Array[]) => removalF1(p[0]!, labels[0]!, removed), ideal: [labels[0]!.map((y) => (y === removed ? (removed + 1) % classes : y)), ...labels.slice(1)] },
        { score: (p: readonly Int32Array[]) => p.reduce((sum, pred, j) => sum + pred.filter((v, i) => v === labels[j]![i]).length, 0), ideal: labels },
      ];
      for (const objective of objectives) {
        const log: number[] = [];
        const line = tableLine(table, chunks, lengths, log);
        const got = bestStep(line, lengths, objective);
        expect({ index: got.index, score: got.score }).toEqual(exhaustive(line, lengths, objective.score));
        expect(got.chunksFollowed).toBe(log.length);
        expect(got.chunksFollowed).toBeLessThanOrEqual(lengths.length * chunks.length);
        followed += got.chunksFollowed; full += lengths.length * chunks.length;
      }
    }), { numRuns: 300 });
    // the bound does drop work on these lines (it is no use if it never fires)
    expect(followed).toBeLessThan(0.9 * full);
  });

  it('keeps the first length when every score is −∞ or NaN, as a full search does', () => {
    const y = Int32Array.from([0, 1, 1]);
    const line = tableLine([[y], [y]], [{ input: 0, start: 0, end: 2 }, { input: 0, start: 2, end: 3 }], [1, 2], []);
    expect(bestStep(line, [1, 2], { score: () => Number.NaN, ideal: [y] })).toMatchObject({ index: 0, score: -Infinity });
  });

  it('rejects ideal labels that do not cover the line', () => {
    const y = Int32Array.from([0, 1, 1]);
    const line = tableLine([[y]], [{ input: 0, start: 0, end: 3 }], [1], []);
    expect(() => bestStep(line, [1], { score: () => 0, ideal: [y.subarray(0, 2)] })).toThrow(/input 0 has 2 ideal labels, but the line covers 3 samples/);
    expect(() => bestStep(line, [1], { score: () => 0, ideal: [] })).toThrow(/input 0 has 0 ideal labels/);
  });
});
