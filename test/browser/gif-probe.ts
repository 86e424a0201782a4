/**
 * A class removal end to end on a small problem, through the public gift/nn entry point and the
 * experiments layer: train an MLP, edit it with GIF (CGLS), IF and GA, retrain as ground truth, and
 * round-trip the model through safetensors bytes. The browser test runs it in Chromium and in
 * Node and compares the numbers; no Node built-in may be needed on the way.
 */
import { Rng, setBackend, toVector } from '../../engine/index.js';
import { decodeModel, encodeModel, gaussianBlobs, mlp, stratifiedSplit, train } from '../../nn/index.js';
import { pngDataUri, removeClass } from '../../experiments/index.js';

export interface GifProbe {
  readonly theta: number[];
  readonly methods: { method: string; f1: number; delta: number[] }[];
  readonly roundTrip: boolean;
  readonly png: string;
}

export function gifProbe(): GifProbe {
  setBackend('cpu');
  const recipe = { epochs: 8, lr: 0.05, momentum: 0.9, batchSize: 32, weightDecay: 1e-2, seed: 0, warmEpochs: 2 };
  const data = gaussianBlobs({ n: 240, classes: 3, features: 6, separation: 2, seed: 1 });
  const { first: pool, second: test } = stratifiedSplit(data, 0.3, 1);
  const { first: trainSet, second: validation } = stratifiedSplit(pool, 0.2, 1);
  const net = mlp([6, 12, 3], 'tanh');
  const { params } = train(net, net.init(new Rng(0), 'float64'), trainSet, { ...recipe });
  const result = removeClass({ net, params, train: trainSet, validation, test, removedClass: 1, recipe }, {
    ratio: 0.2, selector: 'gradient', hessianSamples: 200, krylovIterations: 300, tolerance: 1e-10, methods: ['GIF-CGLS', 'IF', 'GA'],
    damping: 0.1, // well-posed, converged solves: last-bit differences between JavaScript engines stay small
  });
  const loaded = decodeModel(encodeModel(net, params));
  const theta = toVector(params);
  return {
    theta: Array.from(theta),
    methods: result.rows.map((r) => ({ method: r.method, f1: r.test.f1 ?? NaN, delta: Array.from(result.deltas[r.method] ?? []) })),
    roundTrip: toVector(loaded.params).every((v, i) => v === theta[i]),
    png: pngDataUri([0, 0.5, 1, 0.25], 2, 2),
  };
}
