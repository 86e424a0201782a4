/** `gift remove-group`: predicted vs retrained change of the test loss for removed groups of training digits. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { subset } from '../../nn/index.js';
import {
  DEFAULT_RECIPE, consoleProgress, defaultModelPath, mnistSplits, networkOf, testAccuracy, trainOrLoad,
} from '../../experiments/index.js';
import { removeGroups, type GroupRemovalResult, type GroupSettings } from '../../experiments/index.js';
import type { Recipe } from '../../experiments/index.js';
import { UsageError, type Command } from '../command.js';
import { numberFlag, positiveInt, parseFlags } from '../flags.js';

const usage = `usage: gift remove-group [options]

Group removal (SPEC §5) on the embedded MNIST with the default MLP: removes random groups and
coherent groups (all one digit) of several sizes, one at a time, and compares the change of the
test loss each edit predicts (IF, GIF at --ratio, SIF) with the change after retraining
(warm-started from θ* by default; the same retraining on all the data is the reference).
Prints each group and the Pearson / Spearman correlations; writes reports/remove-group.{json,md}.

options:
  --sizes LIST             group sizes (default 50,400)
  --groups N               groups per size and kind (default 2)
  --kinds LIST             random,coherent (default both)
  --methods LIST           subset of IF,GIF-CGLS,SIF (default IF,GIF-CGLS)
  --ratio X                GIF's selection ratio (default 0.05)
  --hessian-samples N      samples in the Hessian batch (default 200)
  --iterations N           CGLS iterations per solve (default 15)
  --test-samples N         test digits in the test loss (default 500)
  --retrain MODE           how the ground truth is retrained: warm (default: ${DEFAULT_RECIPE.warmEpochs} SGD epochs from θ*),
                           scratch (the full recipe), full-batch (deterministic gradient descent from θ*)
  --steps N                steps of --retrain full-batch (default 30)
  --seed N                 seed of the groups and the Hessian batch (default 0)
  --model-file PATH        cached θ* (default: the one gift remove-class uses)
  --reports DIR            where the report goes (default reports)
  --no-save                neither cache the model nor write a report`;

function list(name: string, text: string | undefined, fallback: string): string[] {
  const items = (text ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new UsageError(`--${name} must not be empty`);
  return items;
}

const int = (name: string, text: string | undefined, fallback: number): number => numberFlag(name, text, fallback, positiveInt, 'a positive integer');

export const removeGroupCommand: Command = {
  name: 'remove-group',
  summary: 'remove groups of training digits: predicted vs retrained test-loss change, correlations',
  usage,
  async run(args) {
    const parsed = parseFlags({
      args: [...args], strict: true, allowPositionals: false,
      options: {
        sizes: { type: 'string' }, groups: { type: 'string' }, kinds: { type: 'string' }, methods: { type: 'string' },
        ratio: { type: 'string' }, 'hessian-samples': { type: 'string' }, iterations: { type: 'string' },
        'test-samples': { type: 'string' }, retrain: { type: 'string' }, steps: { type: 'string' }, seed: { type: 'string' },
        'model-file': { type: 'string' }, reports: { type: 'string' }, 'no-save': { type: 'boolean' },
      },
    });
    const o = parsed.values;
    const sizes = list('sizes', o.sizes, '50,400').map((s) => int('sizes', s, 0));
    const kinds = list('kinds', o.kinds, 'random,coherent');
    for (const k of kinds) if (k !== 'random' && k !== 'coherent') throw new UsageError(`--kinds: unknown kind '${k}' (use random, coherent)`);
    const methods = list('methods', o.methods, 'IF,GIF-CGLS');
    for (const m of methods) if (!['IF', 'GIF-CGLS', 'SIF'].includes(m)) throw new UsageError(`--methods: unknown method '${m}' (use IF, GIF-CGLS, SIF)`);
    const ratio = numberFlag('ratio', o.ratio, 0.05, (v) => v > 0 && v <= 1, 'in (0, 1]');
    const retrain = o.retrain ?? 'warm';
    if (retrain !== 'warm' && retrain !== 'scratch' && retrain !== 'full-batch') throw new UsageError(`--retrain must be warm, scratch or full-batch, got '${retrain}'`);
    const seed = numberFlag('seed', o.seed, 0, Number.isInteger, 'an integer');
    const settings: GroupSettings = {
      sizes, groupsPerSize: int('groups', o.groups, 2), kinds: kinds as ('random' | 'coherent')[],
      methods: methods as ('IF' | 'GIF-CGLS' | 'SIF')[], ratio, hessianSamples: int('hessian-samples', o['hessian-samples'], 200),
      krylovIterations: int('iterations', o.iterations, 15), retrain, seed, fullBatchSteps: int('steps', o.steps, 30),
    };
    const testSamples = int('test-samples', o['test-samples'], 500);
    const save = o['no-save'] !== true;

    const progress = consoleProgress();
    const net = networkOf('mlp');
    const splits = mnistSplits('mlp');
    const recipe: Recipe = { ...DEFAULT_RECIPE };
    const path = o['model-file'] ?? defaultModelPath('mlp', 'mnist', recipe);
    console.log(`gift remove-group: MLP 784-128-10 tanh on the embedded MNIST; groups of ${sizes.join(', ')} digits, ${kinds.join(' and ')}`);
    const { params, cached } = trainOrLoad(net, splits.train, recipe, path, progress, save);
    console.log(cached ? `  loaded θ* from ${path}` : `  trained θ*${save ? `, saved ${path}` : ''}`);
    console.log(`  test accuracy of θ*: ${(100 * testAccuracy(net, params, splits.test)).toFixed(2)}%`);
    const test = subset(splits.test, Int32Array.from({ length: Math.min(testSamples, splits.test.y.length) }, (_, i) => i));
    let result: GroupRemovalResult;
    try {
      result = removeGroups({ net, params, train: splits.train, test, recipe }, settings, progress);
    } finally {
      progress.done();
    }
    const text = formatGroups(result, methods);
    console.log('');
    console.log(text);
    if (save) {
      const dir = o.reports ?? 'reports';
      mkdirSync(dir, { recursive: true });
      const write = (file: string, body: string) => {
        const tmp = `${file}.tmp-${process.pid}`;
        writeFileSync(tmp, body);
        renameSync(tmp, file);
      };
      const json = JSON.stringify({ settings, testSamples, modelFile: path, ...result }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
      write(join(dir, 'remove-group.json'), json);
      write(join(dir, 'remove-group.md'), `# gift: group removal\n\nMLP 784-128-10 tanh, embedded MNIST, test loss over ${test.y.length} test digits, retraining ${retrain}.\n\n\`\`\`\n${text}\n\`\`\`\n`);
      console.log(`report: ${join(dir, 'remove-group.json')}, ${join(dir, 'remove-group.md')}`);
    }
    return 0;
  },
};

/** Groups and correlations as aligned text. */
function formatGroups(result: GroupRemovalResult, methods: readonly string[]): string {
  const lines = [`kind      size  class  actual ΔL    ${methods.map((m) => `${m} (lin / eval)`.padEnd(26)).join('')}`];
  for (const o of result.outcomes) {
    lines.push(`${o.kind.padEnd(9)} ${String(o.size).padStart(4)}  ${(o.label === undefined ? '—' : String(o.label)).padStart(5)}  ${o.actual.toExponential(2).padStart(10)}    ` +
      methods.map((m) => `${o.linear[m]!.toExponential(2)} / ${o.evaluated[m]!.toExponential(2)}`.padEnd(26)).join(''));
  }
  lines.push('', 'correlation with the actual change   method     prediction  groups  Pearson  Spearman');
  for (const c of result.correlations) {
    lines.push(`${c.kind.padEnd(37)}${c.method.padEnd(11)}${c.prediction.padEnd(12)}${String(c.groups).padStart(6)}  ${(c.pearson?.toFixed(3) ?? 'n/a').padStart(7)}  ${(c.spearman?.toFixed(3) ?? 'n/a').padStart(8)}`);
  }
  lines.push('', `(${result.seconds.toFixed(1)} s; lin = ∇L_testᵀΔθ, eval = L_test(θ* + Δθ) − L_test(θ*))`);
  return lines.join('\n');
}
