/**
 * The models the influence CLI and benchmark study on the embedded MNIST: multinomial logistic
 * regression fitted to a tight tolerance by full-batch L-BFGS (so θ* is the optimum influence
 * functions assume), or the default MLP (784-128-10 tanh) trained with nn's SGD and then polished
 * by full-batch L-BFGS so its gradient is small.
 */
import { Rng, ValueError, cast, mapTree, treeSize } from '../engine/index.js';
import { logisticRegression, mlp, subset, train as trainNet, type Dataset as NnDataset, type Params, type Sequential } from '../nn/index.js';
import type { Dataset, Objective } from '../influence/hessian.js';
import { classifierObjective, indexable, type LabelledBatch } from '../influence/models.js';
import { minimize } from '../influence/retrain.js';
import { objectiveGradient } from '../influence/hessian.js';
import { loadMnist } from './mnist.js';

export type MnistModelKind = 'logreg' | 'mlp';

/** What {@link mnistSetup} builds. */
export interface MnistSetup {
  kind: MnistModelKind;
  net: Sequential;
  objective: Objective<Params, LabelledBatch>;
  params: Params;
  /** The first `trainSize` embedded training digits. */
  trainSet: NnDataset;
  train: Dataset<LabelledBatch>;
  testSet: NnDataset;
  /** ‖∇L(θ*)‖∞ on the training subset: how stationary θ* is. */
  gradNorm: number;
  fitSeconds: number;
}

/** Options of {@link mnistSetup}. */
export interface MnistSetupOptions {
  kind: MnistModelKind;
  trainSize: number;
  weightDecay: number;
  seed?: number;
  /** SGD epochs for the MLP before the L-BFGS polish (default 10). */
  epochs?: number;
  /** Parameters to start from instead of training (e.g. a loaded model). */
  params?: Params;
  /** L-BFGS iterations (default 500 for logreg, 200 for the MLP polish). */
  lbfgsIterations?: number;
  log?: (line: string) => void;
}

/** Loads the embedded MNIST, builds and fits the model. @example mnistSetup({ kind: 'logreg', trainSize: 1000, weightDecay: 1e-3 }) */
export function mnistSetup(options: MnistSetupOptions): MnistSetup {
  const start = performance.now();
  const { train: fullTrain, test } = loadMnist({ dtype: 'float64' });
  const trainSet = subset(fullTrain, Array.from({ length: options.trainSize }, (_, i) => i));
  const net = options.kind === 'logreg' ? logisticRegression(784, 10) : mlp([784, 128, 10], 'tanh');
  const objective = classifierObjective(net, options.weightDecay);
  const data = indexable(trainSet);
  const all = data.batch(Array.from({ length: options.trainSize }, (_, i) => i));
  const fresh = net.init(new Rng(options.seed ?? 0), 'float64');
  if (options.params !== undefined && treeSize(options.params) !== treeSize(fresh)) {
    throw new ValueError(`mnistSetup: the given parameters have ${treeSize(options.params)} values, a ${options.kind} model ${treeSize(fresh)}`);
  }
  // influence works in float64: a float32 model file is widened
  let params = options.params === undefined ? fresh : mapTree(options.params, (leaf) => (leaf.dtype === 'float64' ? leaf : cast(leaf, 'float64')));
  if (options.params === undefined && options.kind === 'mlp') {
    options.log?.(`training the MLP with SGD for ${options.epochs ?? 10} epochs on ${options.trainSize} digits`);
    params = trainNet(net, params, trainSet, { epochs: options.epochs ?? 10, lr: 0.05, weightDecay: options.weightDecay, seed: options.seed ?? 0 }).params;
  }
  options.log?.('polishing θ* with full-batch L-BFGS');
  const fit = minimize(objective, params, all, { gradTol: 1e-7, maxIterations: options.lbfgsIterations ?? (options.kind === 'logreg' ? 500 : 200) });
  params = fit.params;
  const g = objectiveGradient(objective, params, all);
  const gradNorm = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  return { kind: options.kind, net, objective, params, trainSet, train: data, testSet: test, gradNorm, fitSeconds: (performance.now() - start) / 1000 };
}
