/**
 * Training and evaluation. `train` runs seeded mini-batch optimisation of the SPEC objective
 * L(θ) = mean loss + (wd/2)‖θ‖²: the same seed gives bit-identical parameters on the CPU backend
 * (one shuffling Rng, a fixed order of floating-point operations, no threads).
 */
import { NonFiniteError, Rng, ShapeError, ValueError, fmtShape, toVector, valueAndGrad, type DType, type Tensor } from '../engine/index.js';
import { batches, gatherRows, size, withDType, type Dataset } from './data.js';
import { crossEntropy, objective, type LabelLoss } from './losses.js';
import { Adam, Sgd, constantLr, cosineLr, type LrSchedule, type Optimizer } from './optim.js';
import type { Params, Sequential } from './sequential.js';

/**
 * Callbacks through which `train` reports progress (all optional). The library draws nothing
 * itself; the command line turns these into a terminal bar.
 */
export interface TrainProgress {
  /** An epoch of `steps` mini-batches starts. */
  epochStart?(epoch: number, epochs: number, steps: number): void;
  /** A mini-batch is done: the epoch's mean loss so far and its speed. */
  step?(step: number, meanLoss: number, samplesPerSecond: number): void;
  /** An epoch is done. */
  epochEnd?(record: EpochRecord, epochs: number): void;
  /** Training stopped with an error before the epoch ended. */
  abort?(): void;
}

/** Options of `train`. Defaults are given per option. */
export interface TrainOptions {
  /** Passes over the training data, default 5. */
  readonly epochs?: number;
  /** Samples per mini-batch, default 64. */
  readonly batchSize?: number;
  /** Seed of the shuffling Rng, default 0. */
  readonly seed?: number;
  /** 'sgd' (default), 'adam', or an Optimizer instance (then `lr`/`momentum` are its own). */
  readonly optimizer?: 'sgd' | 'adam' | Optimizer;
  /** Base learning rate, default 0.1 for SGD, 1e-3 for Adam. */
  readonly lr?: number;
  /** SGD momentum, default 0.9. */
  readonly momentum?: number;
  /** 'constant' (default), 'cosine' (to 0 over `epochs`), or a function of the epoch. */
  readonly schedule?: 'constant' | 'cosine' | LrSchedule;
  /** Weight decay wd of the objective's (wd/2)‖θ‖² term, default 0. */
  readonly weightDecay?: number;
  /** Per-sample loss, default cross-entropy. */
  readonly loss?: LabelLoss;
  /** Evaluated after every epoch (loss and accuracy) when given. */
  readonly validation?: Dataset;
  /** Stop when the validation loss has not improved by `minDelta` for `patience` epochs; keeps the best parameters unless `restoreBest` is false. */
  readonly earlyStopping?: { readonly patience: number; readonly minDelta?: number; readonly restoreBest?: boolean };
  /** Progress callbacks (none by default: training is silent). */
  readonly progress?: TrainProgress;
  /** Called after each epoch with its record. */
  readonly onEpoch?: (record: EpochRecord) => void;
}

/** What one epoch did. */
export interface EpochRecord {
  readonly epoch: number;
  readonly lr: number;
  /** Mean over the epoch's mini-batches of the objective (data loss + penalty), weighted by batch size. */
  readonly trainLoss: number;
  readonly validationLoss?: number;
  readonly validationAccuracy?: number;
  readonly seconds: number;
}

/** The result of `train`. */
export interface TrainResult {
  /** The final parameters (the best ones when early stopping restored them). */
  readonly params: Params;
  readonly history: EpochRecord[];
  readonly stoppedEarly: boolean;
  /** The epoch whose parameters were returned. */
  readonly bestEpoch: number;
}

function makeOptimizer(options: TrainOptions): Optimizer {
  const opt = options.optimizer ?? 'sgd';
  if (typeof opt !== 'string') return opt;
  if (opt === 'sgd') return new Sgd({ lr: options.lr ?? 0.1, momentum: options.momentum ?? 0.9 });
  if (opt === 'adam') return new Adam({ lr: options.lr ?? 1e-3 });
  throw new ValueError(`train: unknown optimizer ${JSON.stringify(opt)} (use 'sgd', 'adam' or an Optimizer)`);
}

function makeSchedule(options: TrainOptions, base: number, epochs: number): LrSchedule {
  const s = options.schedule ?? 'constant';
  if (typeof s === 'function') return s;
  if (s === 'constant') return constantLr(base);
  if (s === 'cosine') return cosineLr(base, epochs);
  throw new ValueError(`train: unknown schedule ${JSON.stringify(s)}`);
}

/**
 * Trains `net` from `params` on `data` with seeded mini-batch SGD (or Adam), minimising
 * mean loss + (wd/2)‖θ‖². Data in another dtype than the parameters is converted first.
 * Throws a NonFiniteError if the loss or a parameter becomes NaN/Inf (lower the rate).
 * @example
 * const net = mlp([2, 8, 3]);
 * const data = gaussianBlobs({ n: 300, classes: 3, features: 2, seed: 0 });
 * const { params } = train(net, net.init(new Rng(0), 'float64'), data, { epochs: 20, lr: 0.1 });
 * evaluate(net, params, data).accuracy; // ≈ 1
 */
export function train(net: Sequential, params: Params, data: Dataset, options: TrainOptions = {}): TrainResult {
  const epochs = options.epochs ?? 5;
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(epochs) || epochs < 0) throw new ValueError(`train: epochs must be a non-negative integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`train: batch size must be a positive integer, got ${batchSize}`);
  if (size(data) === 0) throw new ValueError('train: the training set is empty');
  net.checkParams(params);
  const dtype = paramsDType(params);
  data = withDType(data, dtype);
  const validation = options.validation ? withDType(options.validation, dtype) : undefined;
  const optimizer = makeOptimizer(options);
  const schedule = makeSchedule(options, optimizer.lr, epochs);
  const L = objective(net, { weightDecay: options.weightDecay ?? 0, loss: options.loss ?? crossEntropy });
  const step = valueAndGrad(L);
  const rng = new Rng(options.seed ?? 0);
  const progress = options.progress ?? {};
  const steps = Math.ceil(size(data) / batchSize);
  const stop = options.earlyStopping;
  if (stop && !validation) throw new ValueError('train: early stopping needs a validation set');
  if (stop && (!Number.isInteger(stop.patience) || stop.patience < 1)) throw new ValueError(`train: early stopping patience must be a positive integer, got ${stop.patience}`);

  const history: EpochRecord[] = [];
  let best = { loss: Infinity, epoch: -1, params };
  let stoppedEarly = false;
  let current = params;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const lr = schedule(epoch);
    const started = performance.now();
    progress.epochStart?.(epoch, epochs, steps);
    let total = 0, seen = 0, stepIndex = 0;
    for (const batch of batches(data, batchSize, rng)) {
      const [loss, g] = step(current, batch.x, batch.y);
      const value = loss.item();
      if (!Number.isFinite(value)) {
        progress.abort?.();
        throw new NonFiniteError(`train: the loss became ${value} at epoch ${epoch + 1}, batch ${stepIndex + 1} (lr ${lr}); lower the learning rate`);
      }
      current = optimizer.step(current, g, lr);
      total += value * batch.y.length;
      seen += batch.y.length;
      stepIndex++;
      progress.step?.(stepIndex, total / seen, seen / ((performance.now() - started) / 1000));
    }
    const theta = toVector(current);
    for (let i = 0; i < theta.length; i++) {
      if (!Number.isFinite(theta[i]!)) {
        progress.abort?.();
        throw new NonFiniteError(`train: parameter ${i} of θ became ${theta[i]} in epoch ${epoch + 1} (lr ${lr}); lower the learning rate`);
      }
    }
    let record: EpochRecord = { epoch, lr, trainLoss: total / seen, seconds: 0 };
    if (validation) {
      const v = evaluate(net, current, validation, { loss: options.loss });
      record = { ...record, validationLoss: v.loss, validationAccuracy: v.accuracy };
    }
    record = { ...record, seconds: (performance.now() - started) / 1000 };
    history.push(record);
    progress.epochEnd?.(record, epochs);
    options.onEpoch?.(record);
    if (stop) {
      if (record.validationLoss! < best.loss - (stop.minDelta ?? 0)) best = { loss: record.validationLoss!, epoch, params: current };
      else if (epoch - best.epoch >= stop.patience) {
        stoppedEarly = true;
        break;
      }
    }
  }
  const restore = stop && (stop.restoreBest ?? true) && best.epoch >= 0;
  return { params: restore ? best.params : current, history, stoppedEarly, bestEpoch: restore ? best.epoch : history.length - 1 };
}

/** The dtype of a network's parameters (float64 for a network without any). */
function paramsDType(params: Params): DType {
  for (const p of params) if ('weight' in p) return p.weight.dtype;
  return 'float64';
}

/** The index of each row's largest entry, for outputs [N, C] (first one on ties). @example argmaxRows(logits) */
export function argmaxRows(outputs: Tensor): Int32Array {
  if (outputs.rank !== 2) throw new ShapeError(`argmaxRows: expects [N, C] outputs, got ${fmtShape(outputs.shape)}`);
  const [n, c] = outputs.shape as [number, number];
  const v = outputs.toArray();
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 0; j < c; j++) {
      const x = v[i * c + j]!;
      if (Number.isNaN(x)) throw new NonFiniteError(`argmaxRows: output row ${i} has NaN at column ${j}; the parameters or inputs are not finite`);
      if (x > v[i * c + best]!) best = j;
    }
    out[i] = best;
  }
  return out;
}

/** Network outputs for every sample, computed `batchSize` samples at a time. */
function forEachBatch(net: Sequential, params: Params, x: Tensor, batchSize: number, f: (out: Tensor, start: number) => void): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`batch size must be a positive integer, got ${batchSize}`);
  const n = x.shape[0]!;
  const dtype = paramsDType(params);
  const values = x.toArray();
  for (let start = 0; start < n; start += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, n - start) }, (_, k) => start + k);
    // rows are copied in the parameters' dtype, so float64 data runs through a float32 net
    f(net.apply(params, n <= batchSize && x.dtype === dtype ? x : gatherRows(values, x.shape.slice(1), idx, dtype)), start);
  }
}

/**
 * Predicted classes (argmax of the outputs) for samples `x`.
 * @example const labels = predict(net, params, test.x);
 */
export function predict(net: Sequential, params: Params, x: Tensor, batchSize = 1000): Int32Array {
  const out = new Int32Array(x.shape[0]!);
  forEachBatch(net, params, x, batchSize, (logits, start) => out.set(argmaxRows(logits), start));
  return out;
}

/**
 * The fraction of samples whose predicted class is their label.
 * @example accuracy(net, params, test) // 0.95
 */
export function accuracy(net: Sequential, params: Params, data: Dataset, batchSize = 1000): number {
  const pred = predict(net, params, data.x, batchSize);
  let right = 0;
  pred.forEach((p, i) => (right += p === data.y[i] ? 1 : 0));
  return right / Math.max(1, pred.length);
}

/**
 * Mean loss (cross-entropy by default, no weight decay) and accuracy on a dataset.
 * @example const { loss, accuracy } = evaluate(net, params, test);
 */
export function evaluate(net: Sequential, params: Params, data: Dataset, options: { batchSize?: number; loss?: LabelLoss | undefined } = {}): { loss: number; accuracy: number } {
  const loss = options.loss ?? crossEntropy;
  let total = 0, right = 0;
  const n = size(data);
  if (n === 0) throw new ValueError('evaluate: the dataset is empty');
  forEachBatch(net, params, data.x, options.batchSize ?? 1000, (out, start) => {
    const labels = data.y.subarray(start, start + out.shape[0]!);
    total += loss(out, labels, 'sum').item();
    argmaxRows(out).forEach((p, k) => (right += p === labels[k] ? 1 : 0));
  });
  if (Number.isNaN(total)) throw new NonFiniteError('evaluate: the loss is NaN; the parameters or inputs are not finite');
  return { loss: total / n, accuracy: right / n };
}
