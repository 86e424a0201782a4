/** `gift backdoor`: plant a trigger backdoor in 10% of the training digits, then undo it with GIF and every baseline. */
import {
  consoleProgress, defaultModelPath, mnistSplits, networkOf, poisonedSplits, testAccuracy, trainOrLoad,
} from '../../experiments/index.js';
import { correctBackdoor } from '../../experiments/index.js';
import type { Command } from '../command.js';
import { numberFlag, parseFlags } from '../flags.js';
import { finishTask, parseTaskOptions, taskOptions, taskOptionsHelp, type TaskCli } from './remove-class.js';

const usage = `usage: gift backdoor [options]

Label change / backdoor correction (SPEC §5): 10% of the embedded MNIST training digits get a
checkerboard trigger (+16/255 where row+col is odd) and label 4; a model trained on that data
is corrected by editing its parameters with the target loss CE(triggered, 4) − CE(triggered,
true label), Hessian on the clean samples: GIF (convergent solver and CGLS) on a selection of
--ratio of each layer, against FIF, PIF, IF and SIF, the Hessian-free control GA (gradient
ascent on the target loss, on the same selection), and against retraining on the corrected
labels. Test metrics: clean accuracy, relabel accuracy (triggered digits vs their true labels,
higher is better), corrupt accuracy (triggered digits classified as 4, lower is better).
Writes reports/backdoor.{json,md,svg}; the poisoned model is cached under models/.

options:
  --fraction X             fraction of training digits poisoned (default 0.1)
${taskOptionsHelp}`;

export const backdoorCommand: Command = {
  name: 'backdoor',
  summary: 'plant a trigger backdoor, then remove it with GIF and every baseline, compared with retraining',
  usage,
  async run(args) {
    const { cli, fraction } = parseBackdoorArgs(args);
    return runBackdoor(cli, fraction);
  },
};

/** The arguments of `gift backdoor`: the task options (with the backdoor's defaults) and --fraction. */
export function parseBackdoorArgs(args: readonly string[]): { cli: TaskCli; fraction: number } {
  const parsed = parseFlags({ args: [...args], strict: true, allowPositionals: false, options: { ...taskOptions, fraction: { type: 'string' } } });
  const fraction = numberFlag('fraction', parsed.values.fraction, 0.1, (v) => v > 0 && v < 1, 'in (0, 1)');
  return { cli: parseTaskOptions(parsed.values, 'backdoor'), fraction };
}

/** The body of `gift backdoor`. */
export async function runBackdoor(cli: TaskCli, fraction: number): Promise<number> {
  const progress = consoleProgress();
  const net = networkOf(cli.model);
  console.log(`gift backdoor: ${cli.model === 'mlp' ? 'MLP 784-128-10 tanh' : 'small CNN'} (${net.parameterCount} parameters, float64) on the embedded MNIST, ${(100 * fraction).toFixed(0)}% of training digits triggered → label 4`);
  const splits = mnistSplits(cli.model);
  const { data, poisoned, trueLabels } = poisonedSplits(splits, fraction, cli.recipe.seed ?? 0);
  const path = cli.modelFile ?? defaultModelPath(cli.model, `mnist-backdoor${fraction}`, cli.recipe);
  const { params, cached, seconds } = trainOrLoad(net, data, cli.recipe, path, progress, cli.save);
  console.log(cached ? `  loaded the backdoored θ* from ${path}` : `  trained the backdoored θ* in ${seconds.toFixed(1)} s${cli.save ? `, saved ${path}` : ''}`);
  console.log(`  clean test accuracy of θ*: ${(100 * testAccuracy(net, params, splits.test)).toFixed(2)}%`);
  try {
    const result = correctBackdoor({ net, params, train: data, poisoned, trueLabels, validation: splits.validation, test: splits.test, recipe: cli.recipe }, cli.settings, progress);
    progress.done();
    finishTask(result, cli, 'backdoor', { model: cli.model, 'model file': path, 'poisoned fraction': String(fraction) });
  } finally {
    progress.done();
  }
  return 0;
}
