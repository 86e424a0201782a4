/**
 * The MNIST experiments behind `gift remove-class` and `gift backdoor` (and bench/gif.ts): data
 * splits, the training recipe and a model cache (safetensors files a user can keep).
 */
import { Rng, ValueError } from '../engine/index.js';
import {
  loadModel, mlp, saveModel, smallCnn, stratifiedSplit, train, evaluate,
  type Dataset, type EpochRecord, type Params, type Sequential,
} from '../nn/index.js';
import type { Recipe, TaskProgress } from './tasks.js';
import { nodeModule } from '../nn/node.js';
import { backdoor } from './backdoor.js';
import { loadMnist } from './mnist.js';

/** Which network: the default MLP 784-128-10 tanh, or the small CNN. */
export type ModelKind = 'mlp' | 'cnn';

/** The default recipe of θ* (and of retraining): SGD with momentum, weight decay in the objective. */
export const DEFAULT_RECIPE: Recipe = { epochs: 5, batchSize: 64, lr: 0.05, momentum: 0.9, weightDecay: 1e-3, seed: 0, initSeed: 0, warmEpochs: 2 };

/**
 * The damping λ of `H + λI` that `gift remove-class` and `gift backdoor` use unless told
 * otherwise. The CNN's was measured at the default budget (Hessian batch 300, 20 CGLS
 * iterations), GIF-CGLS at 5%: undamped, the F1 gap to retraining reached 0.45 (class 2), 0.18
 * (class 7) and 0.07 (class 0); at λ = 0.1 the worst gap was 0.03 and CGLS converged. The MLP's
 * Hessian needs none.
 * @example DEFAULT_DAMPING.cnn // 0.1
 */
export const DEFAULT_DAMPING: Readonly<Record<ModelKind, number>> = { mlp: 0, cnn: 0.1 };

/** The embedded MNIST split into fit / validation (10% of the training digits, stratified) / test, in float64. */
export interface MnistSplits {
  readonly train: Dataset;
  readonly validation: Dataset;
  readonly test: Dataset;
}

/**
 * The embedded MNIST (8,000 train / 2,000 test) with a stratified 10% validation split carved
 * from the training digits (seed 0): the model never trains on it; edits choose their step on it.
 * @example const { train, validation, test } = mnistSplits('mlp');
 */
export function mnistSplits(model: ModelKind): MnistSplits {
  const { train: all, test } = loadMnist({ dtype: 'float64', flatten: model === 'mlp' });
  const { first, second } = stratifiedSplit(all, 0.1, 0);
  return { train: first, validation: second, test };
}

/** A network of the given kind. @example networkOf('mlp') */
export function networkOf(model: ModelKind): Sequential {
  return model === 'mlp' ? mlp([784, 128, 10], 'tanh') : smallCnn();
}

/** The cache file name of a model trained with `recipe` on `dataName`. @example modelFileName('mlp', 'mnist', DEFAULT_RECIPE) // 'mlp-mnist-e5-wd1e-3-lr0.05-s0.safetensors' */
export function modelFileName(model: ModelKind, dataName: string, recipe: Recipe): string {
  const wd = recipe.weightDecay.toExponential(0).replace('+', '');
  return `${model}-${dataName}-e${recipe.epochs}-wd${wd}-lr${recipe.lr}-s${recipe.seed ?? 0}.safetensors`;
}

/**
 * Throws when training left the model at chance: its last epoch's mean training loss is still
 * about ln(classes), the loss of a constant uniform prediction. Too large a step does this to a
 * ReLU network (e.g. the small CNN on the backdoored digits at lr 0.05: every unit dies in the
 * first epoch). Every edit and every comparison with retraining of such a model means nothing.
 */
function checkLearned(history: readonly EpochRecord[], classes: number, recipe: Recipe): void {
  const last = history.at(-1);
  const chance = Math.log(classes);
  if (last === undefined || classes < 2 || last.trainLoss < 0.9 * chance) return;
  throw new ValueError(
    `training θ* did not learn: the mean training loss of epoch ${last.epoch + 1} is ${last.trainLoss.toFixed(3)}, ` +
    `at chance (ln ${classes} = ${chance.toFixed(3)}). The recipe (lr ${recipe.lr}, momentum ${recipe.momentum ?? 0.9}) likely diverged ` +
    `on this data; try a smaller --lr (the backdoored CNN trains at 0.02). Nothing was saved.`,
  );
}

/**
 * Loads the model from `path` when it exists and was trained with the same recipe (metadata),
 * otherwise trains it and saves it there. Returns the parameters and whether they were cached.
 * @example const { params } = trainOrLoad(net, splits.train, recipe, 'models/mlp.safetensors', progress);
 */
export function trainOrLoad(net: Sequential, data: Dataset, recipe: Recipe, path: string, progress: TaskProgress = {}, save = true): { params: Params; cached: boolean; seconds: number } {
  const key = JSON.stringify(recipe);
  const fs = nodeModule('node:fs', 'trainOrLoad');
  if (fs.existsSync(path)) {
    const loaded = loadModel(path, { net });
    if (loaded.metadata['gift.gif.recipe'] === key && loaded.dtype === 'float64') return { params: loaded.params, cached: true, seconds: 0 };
    progress.stage?.(`${path} was trained with another recipe; retraining`);
  }
  progress.stage?.(`train θ* (${recipe.epochs} epochs on ${data.y.length} samples)`);
  const started = performance.now();
  const { params, history } = train(net, net.init(new Rng(recipe.initSeed ?? 0), 'float64'), data, {
    epochs: recipe.epochs, batchSize: recipe.batchSize, lr: recipe.lr, momentum: recipe.momentum, optimizer: recipe.optimizer,
    schedule: recipe.schedule, seed: recipe.seed, weightDecay: recipe.weightDecay,
  });
  checkLearned(history, data.classes, recipe);
  const seconds = (performance.now() - started) / 1000;
  if (save) {
    fs.mkdirSync(nodeModule('node:path', 'trainOrLoad').dirname(path), { recursive: true });
    saveModel(path, net, params, { 'gift.gif.recipe': key });
  }
  return { params, cached: false, seconds };
}

/** The backdoor variant of the training data (SPEC §5: 10% triggered, label 4; seed 0). @example const { data, poisoned, trueLabels } = poisonedSplits(mnistSplits('mlp')); */
export function poisonedSplits(splits: MnistSplits, fraction = 0.1, seed = 0): ReturnType<typeof backdoor> {
  return backdoor(splits.train, { fraction, seed, ...(splits.train.x.rank === 4 ? {} : { imageShape: [28, 28] as const }) });
}

/** Test accuracy of a model, for the log. @example testAccuracy(net, params, splits.test) // 0.93 */
export function testAccuracy(net: Sequential, params: Params, test: Dataset): number {
  return evaluate(net, params, test).accuracy;
}

/** Where models are cached by default: `models/` under the working directory. @example defaultModelPath('mlp', 'mnist', DEFAULT_RECIPE) */
export function defaultModelPath(model: ModelKind, dataName: string, recipe: Recipe): string {
  return `models/${modelFileName(model, dataName, recipe)}`; // a forward slash works on every OS Node runs on
}
