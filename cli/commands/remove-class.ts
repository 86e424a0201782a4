/** `gift remove-class <c>`: remove a digit class from a trained model with GIF and every baseline, against retraining. */
import { EDIT_METHODS, type EditMethod } from '../../influence/gif/edits.js';
import {
  DEFAULT_DAMPING, DEFAULT_RECIPE, consoleProgress, defaultModelPath, mnistSplits, networkOf, testAccuracy, trainOrLoad, type ModelKind,
} from '../../experiments/index.js';
import { formatTable, writeReport } from '../../experiments/index.js';
import { AUTO_DAMPING, removeClass, type EditSettings, type Recipe, type Selector, type TaskResult } from '../../experiments/index.js';
import { UsageError, type Command } from '../command.js';
import { numberFlag, positiveInt, parseFlags } from '../flags.js';

/**
 * The backdoored CNN's default learning rate. At the usual 0.05 the small CNN on the poisoned
 * digits stops learning in its first epoch (every ReLU dies; `trainOrLoad` refuses the model);
 * at 0.02 it reaches 95.1% clean test accuracy in 5 epochs.
 */
export const BACKDOOR_CNN_LR = 0.02;

/** Options shared by the GIF task commands, with their help text. */
export const taskOptionsHelp = `  --model mlp|cnn          network (default mlp: 784-128-10 tanh; cnn is much slower)
  --ratio X                fraction of each layer's parameters GIF/FIF/PIF change (default 0.05)
  --selector NAME          gradient|output|gradient-lowest|output-lowest|random|threshold (default gradient)
  --threshold X            |mean output| threshold for --selector threshold (default 0.5)
  --hessian-samples N      retained samples in the Hessian batch (default 300)
  --damping X|LIST|auto    λ of H + λI (default 0 for mlp, 0.1 for cnn: undamped GIF on the CNN missed
                           retraining's F1 by up to 0.45 on some classes; see docs/gif.md). A list such as
                           0,0.1,1 runs every Hessian-based edit at each λ and keeps, per method, the λ
                           that scores best on validation (costs one solve and search per λ);
                           auto = ${AUTO_DAMPING.join(',')}
  --iterations N           Richardson iterations of GIF (default 60)
  --krylov-iterations N    CGLS iterations of GIF-CGLS, FIF, IF/PIF and SIF (default --iterations/3 = 20);
                           --hessian-samples 100 --krylov-iterations 4 is the fast preset of bench/gif.ts
  --tolerance X            relative residual at which solvers stop (default 1e-4)
  --methods LIST           comma-separated subset of ${EDIT_METHODS.join(',')} (default all;
                           GA = gradient ascent on the target loss on J, a zero-HVP control)
  --sweep LIST             ratios of the chart sweep, e.g. 0.01,0.02,0.05,0.1,0.2 (default); 'none' to skip
  --epochs N               training epochs of θ* and of retraining (default ${DEFAULT_RECIPE.epochs})
  --weight-decay X         wd of mean loss + (wd/2)‖θ‖² (default ${DEFAULT_RECIPE.weightDecay})
  --lr X                   SGD learning rate of θ* and of retraining (default ${DEFAULT_RECIPE.lr}, but
                           ${BACKDOOR_CNN_LR} for the backdoored CNN, which stops learning at ${DEFAULT_RECIPE.lr})
  --seed N                 seed of training, the Hessian batch and random selections (default 0)
  --model-file PATH        cached θ* (default models/<model>-<data>-<recipe>.safetensors; trained if absent)
  --reports DIR            where the report goes (default reports)
  --no-save                neither cache the model nor write a report`;

/** The option table of parseArgs for the task commands. */
export const taskOptions = {
  model: { type: 'string' }, ratio: { type: 'string' }, selector: { type: 'string' }, threshold: { type: 'string' },
  'hessian-samples': { type: 'string' }, damping: { type: 'string' }, iterations: { type: 'string' }, 'krylov-iterations': { type: 'string' },
  tolerance: { type: 'string' }, methods: { type: 'string' }, sweep: { type: 'string' }, epochs: { type: 'string' }, 'weight-decay': { type: 'string' }, lr: { type: 'string' },
  seed: { type: 'string' }, 'model-file': { type: 'string' }, reports: { type: 'string' }, 'no-save': { type: 'boolean' },
} as const;

const SELECTORS: readonly Selector[] = ['gradient', 'output', 'gradient-lowest', 'output-lowest', 'random', 'threshold'];

/** The parsed common options of a GIF task command. */
export interface TaskCli {
  readonly model: ModelKind;
  readonly settings: EditSettings;
  readonly recipe: Recipe;
  readonly modelFile: string | undefined;
  readonly reports: string;
  readonly save: boolean;
}

/** `--damping`: one λ, a comma-separated list of distinct λ, or `auto` ({@link AUTO_DAMPING}). */
function parseDamping(text: string | undefined, fallback: number): number | readonly number[] {
  if (text === undefined) return fallback;
  if (text.trim() === 'auto') return AUTO_DAMPING;
  const what = "a number ≥ 0, a comma-separated list of them, or 'auto'";
  const list = text.split(',').map((v) => numberFlag('damping', v, 0, (x) => x >= 0, what));
  if (new Set(list).size !== list.length) throw new UsageError(`--damping lists a value twice: '${text}'`);
  return list.length === 1 ? list[0]! : list;
}

/** Validates the common options of `task`'s command (UsageError on anything wrong). */
export function parseTaskOptions(values: Record<string, string | boolean | undefined>, task: 'remove-class' | 'backdoor' = 'remove-class'): TaskCli {
  const str = (k: string) => values[k] as string | undefined;
  const model = (str('model') ?? 'mlp') as ModelKind;
  if (model !== 'mlp' && model !== 'cnn') throw new UsageError(`--model must be mlp or cnn, got '${model}'`);
  const selector = (str('selector') ?? 'gradient') as Selector;
  if (!SELECTORS.includes(selector)) throw new UsageError(`--selector must be one of ${SELECTORS.join(', ')}, got '${selector}'`);
  const methods = str('methods')?.split(',').map((m) => m.trim()).filter(Boolean) ?? [...EDIT_METHODS];
  for (const m of methods) if (!EDIT_METHODS.includes(m as EditMethod)) throw new UsageError(`--methods: unknown method '${m}' (use ${EDIT_METHODS.join(', ')})`);
  const sweepText = str('sweep') ?? '0.01,0.02,0.05,0.1,0.2';
  const sweepRatios = sweepText === 'none' ? [] : sweepText.split(',').map((r) => numberFlag('sweep', r, 0, (v) => v > 0 && v <= 1, 'ratios in (0, 1]'));
  const iterations = numberFlag('iterations', str('iterations'), 60, positiveInt, 'a positive integer');
  const krylovIterations = numberFlag('krylov-iterations', str('krylov-iterations'), Math.max(1, Math.round(iterations / 3)), positiveInt, 'a positive integer');
  const settings: EditSettings = {
    ratio: numberFlag('ratio', str('ratio'), 0.05, (v) => v > 0 && v <= 1, 'in (0, 1]'),
    selector, threshold: numberFlag('threshold', str('threshold'), 0.5, (v) => v >= 0, 'a number ≥ 0'),
    hessianSamples: numberFlag('hessian-samples', str('hessian-samples'), 300, positiveInt, 'a positive integer'),
    damping: parseDamping(str('damping'), DEFAULT_DAMPING[model]),
    richardsonIterations: iterations, krylovIterations,
    tolerance: numberFlag('tolerance', str('tolerance'), 1e-4, (v) => v > 0 && v < 1, 'in (0, 1)'),
    methods: methods as EditMethod[], sweepRatios, seed: numberFlag('seed', str('seed'), 0, Number.isInteger, 'an integer'),
  };
  const recipe: Recipe = {
    ...DEFAULT_RECIPE,
    epochs: numberFlag('epochs', str('epochs'), DEFAULT_RECIPE.epochs!, positiveInt, 'a positive integer'),
    weightDecay: numberFlag('weight-decay', str('weight-decay'), DEFAULT_RECIPE.weightDecay, (v) => v >= 0, 'a number ≥ 0'),
    lr: numberFlag('lr', str('lr'), task === 'backdoor' && model === 'cnn' ? BACKDOOR_CNN_LR : DEFAULT_RECIPE.lr!, (v) => v > 0, 'a positive number'),
    seed: settings.seed ?? 0,
  };
  return { model, settings, recipe, modelFile: str('model-file'), reports: str('reports') ?? 'reports', save: values['no-save'] !== true };
}

/** Prints the table and the headline, writes the report; shared by the task commands. */
export function finishTask(result: TaskResult, cli: TaskCli, name: string, extra: Record<string, string>): void {
  console.log('');
  console.log(formatTable(result));
  const gif = result.rows.find((r) => r.method === 'GIF-CGLS') ?? result.rows.find((r) => r.method === 'GIF');
  if (gif) {
    console.log('');
    const damping = gif.dampingTrials ? ` at each of ${gif.dampingTrials.length} dampings; λ = ${gif.damping} chosen on validation` : '';
    console.log(`GIF edited ${gif.parameters} of ${result.parameterCount} parameters in ${gif.seconds.toFixed(1)} s (scoring, solve and step search${damping}); ` +
      `retraining from scratch took ${result.retrainSeconds.toFixed(1)} s.`);
  }
  if (cli.save) {
    const files = writeReport(cli.reports, name, result, extra);
    console.log(`report: ${files.join(', ')}`);
  }
}

const usage = `usage: gift remove-class [class] [options]

Removes every training sample of digit [class] (0-9, default 3) from a model trained on the embedded
MNIST, by editing its parameters: GIF (the paper's convergent solver, and CGLS) on a selection
of --ratio of each layer's parameters, against FIF, PIF, IF and SIF, the Hessian-free control GA
(gradient ascent on the removed class's loss, on the same selection), and against retraining
from scratch and warm-started. Each edit's step is chosen on a validation split (the search
counts in the edit's time); the plain influence step is shown beside it. Prints the table;
writes reports/remove-class-<c>.{json,md,svg}. The model θ* is trained once and cached under
models/.

options:
${taskOptionsHelp}`;

export const removeClassCommand: Command = {
  name: 'remove-class',
  summary: 'remove a digit class with GIF and every baseline, compared with retraining',
  usage,
  async run(args) {
    const parsed = parseFlags({ args: [...args], strict: true, allowPositionals: true, options: taskOptions });
    if (parsed.positionals.length > 1) throw new UsageError(`expected one class (0-9), got ${parsed.positionals.join(' ')}`);
    const c = Number(parsed.positionals[0] ?? 3);
    if (!Number.isInteger(c) || c < 0 || c > 9) throw new UsageError(`the class must be an integer 0-9, got '${parsed.positionals[0]}'`);
    const cli = parseTaskOptions(parsed.values);
    return runRemoveClass(c, cli);
  },
};

/** The body of `gift remove-class`, callable from other commands. */
export async function runRemoveClass(c: number, cli: TaskCli): Promise<number> {
  const progress = consoleProgress();
  const net = networkOf(cli.model);
  console.log(`gift remove-class ${c}: ${cli.model === 'mlp' ? 'MLP 784-128-10 tanh' : 'small CNN'} (${net.parameterCount} parameters, float64) on the embedded MNIST`);
  const splits = mnistSplits(cli.model);
  const path = cli.modelFile ?? defaultModelPath(cli.model, 'mnist', cli.recipe);
  const { params, cached, seconds } = trainOrLoad(net, splits.train, cli.recipe, path, progress, cli.save);
  console.log(cached ? `  loaded θ* from ${path}` : `  trained θ* in ${seconds.toFixed(1)} s${cli.save ? `, saved ${path}` : ''}`);
  console.log(`  test accuracy of θ*: ${(100 * testAccuracy(net, params, splits.test)).toFixed(2)}%`);
  try {
    const result = removeClass({ net, params, train: splits.train, validation: splits.validation, test: splits.test, removedClass: c, recipe: cli.recipe }, cli.settings, progress);
    progress.done();
    finishTask(result, cli, `remove-class-${c}`, { model: cli.model, 'model file': path });
  } finally {
    progress.done();
  }
  return 0;
}
