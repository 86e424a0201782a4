/**
 * `gift influence`: the training images that most helped and most hurt one test image of the
 * embedded MNIST, written to a self-contained HTML page and printed as indices and scores.
 */
import { writeFileSync, renameSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { loadModel, type Params } from '../../nn/index.js';
import { influencePage } from '../../experiments/index.js';
import { Influence, type Scored } from '../../influence/influence.js';
import { mnistSetup, type MnistModelKind } from '../../experiments/index.js';
import { indexable } from '../../influence/models.js';
import { saveResults } from '../../experiments/index.js';
import type { SolverSpec } from '../../influence/solvers.js';
import { UsageError, type Command } from '../command.js';
import { numberFlag, parseFlags } from '../flags.js';

const usage = `gift influence [options]

For one test image of the embedded MNIST, finds the training images whose removal would most
raise its loss (helpful) and most lower it (harmful), by influence functions, and writes them
to an HTML page. Scores are predicted changes of the test loss when the training image is
removed and the model retrained (SPEC §1): > 0 helpful, < 0 harmful.

options:
  --test N            index of the test image (0–1999), default 0
  --model KIND        logreg (default) or mlp (784-128-10 tanh)
  --train-size N      the first N embedded training digits (default 1000)
  --weight-decay WD   wd of (wd/2)‖θ‖² (default 1e-3)
  --solver NAME       cg (default), lissa or exact (exact: small models only)
  --damping L         λ of (H + λI) (default 0 for logreg, 0.01 for mlp)
  --gauss-newton      use the Gauss-Newton Hessian (PSD; default for mlp)
  --exact-hessian     use the true Hessian even for mlp
  --top K             how many helpful and harmful images (default 8)
  --load FILE         start from a model file (safetensors) instead of training from scratch
                      (θ* is still polished by L-BFGS on the training subset)
  --epochs N          SGD epochs for the mlp (default 10)
  --seed N            seed of the initialisation (default 0)
  --out FILE          HTML page to write (default influence-test<N>.html)
  --json FILE         also save the scores and settings as JSON
  --quiet             no progress output`;

const intFlag = (name: string, value: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number =>
  numberFlag(name, value, fallback, (v) => Number.isInteger(v) && v >= min && v <= max, `an integer in [${min}, ${max}]`);

const nonNegativeFlag = (name: string, value: string | undefined, fallback: number): number =>
  numberFlag(name, value, fallback, (v) => v >= 0, 'a finite number ≥ 0');

/** A progress reporter: a bar on a terminal, a few plain lines otherwise, nothing when quiet. */
function progressReporter(quiet: boolean): { update: (what: string, done: number, total: number) => void; stop: () => void } {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  const tty = process.stdout.isTTY === true;
  let bar: cliProgress.SingleBar | null = null;
  let current = '';
  let lastLine = 0;
  const stop = (): void => { bar?.stop(); bar = null; };
  return {
    update(what, done, total) {
      if (what !== current) {
        stop();
        current = what;
        lastLine = 0;
        if (tty) {
          bar = new cliProgress.SingleBar({ format: `${what} [{bar}] {value}/{total}`, hideCursor: true }, cliProgress.Presets.shades_classic);
          bar.start(total, 0);
        }
      }
      if (bar) bar.update(done);
      else if (done === total || done - lastLine >= Math.max(1, Math.ceil(total / 4))) {
        console.log(`  ${what}: ${done}/${total}`);
        lastLine = done;
      }
      if (done === total) stop();
    },
    stop,
  };
}

export const influenceCommand: Command = {
  name: 'influence',
  summary: 'show the training images that most helped and hurt one MNIST test prediction',
  usage,
  async run(args) {
    const parsed = parseFlags({
      args: [...args],
      options: {
        test: { type: 'string' }, model: { type: 'string' }, 'train-size': { type: 'string' },
        'weight-decay': { type: 'string' }, solver: { type: 'string' }, damping: { type: 'string' },
        'gauss-newton': { type: 'boolean' }, 'exact-hessian': { type: 'boolean' }, top: { type: 'string' },
        load: { type: 'string' }, epochs: { type: 'string' }, seed: { type: 'string' },
        out: { type: 'string' }, json: { type: 'string' }, quiet: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    const v = parsed.values;
    const testIndex = intFlag('test', v.test, 0, 0, 1999);
    const kind = (v.model ?? 'logreg') as MnistModelKind;
    if (kind !== 'logreg' && kind !== 'mlp') throw new UsageError(`--model must be logreg or mlp, got '${v.model}'`);
    const trainSize = intFlag('train-size', v['train-size'], 1000, 20, 8000);
    const weightDecay = nonNegativeFlag('weight-decay', v['weight-decay'], 1e-3);
    const method = v.solver ?? 'cg';
    if (method !== 'cg' && method !== 'lissa' && method !== 'exact') throw new UsageError(`--solver must be cg, lissa or exact, got '${method}'`);
    const damping = nonNegativeFlag('damping', v.damping, kind === 'mlp' ? 0.01 : 0);
    if (v['gauss-newton'] && v['exact-hessian']) throw new UsageError('--gauss-newton and --exact-hessian exclude each other');
    const gaussNewton = v['gauss-newton'] ?? (kind === 'mlp' && !v['exact-hessian']);
    const top = intFlag('top', v.top, 8, 1, 100);
    const epochs = intFlag('epochs', v.epochs, 10, 0, 1000);
    const seed = intFlag('seed', v.seed, 0, 0);
    const out = v.out ?? `influence-test${testIndex}.html`;
    const quiet = v.quiet ?? false;
    const log = (line: string): void => { if (!quiet) console.log(line); };

    let initial: Params | undefined;
    if (v.load !== undefined) {
      const loaded = loadModel(v.load);
      initial = loaded.params;
      log(`loaded ${v.load}`);
    }
    const setup = mnistSetup({ kind, trainSize, weightDecay, seed, epochs, ...(initial ? { params: initial } : {}), log });
    log(`θ*: ${kind} on ${trainSize} digits, wd ${weightDecay}, ‖∇L(θ*)‖∞ = ${setup.gradNorm.toExponential(2)} (${setup.fitSeconds.toFixed(1)} s)`);

    const solver: SolverSpec = method === 'cg' ? { method, damping, tol: 1e-6 }
      : method === 'lissa' ? { method, damping, depth: 2000, tol: 1e-4 }
      : { method, damping };
    const progress = progressReporter(quiet);
    const inf = new Influence({
      objective: setup.objective, params: setup.params, train: setup.train,
      hessianOptions: { gaussNewton }, solver, onProgress: progress.update,
    });
    const testData = indexable(setup.testSet);
    const test = testData.batch([testIndex]);
    const key = `test#${testIndex}`;
    const started = performance.now();
    inf.testDirection(test, key);
    const solve = inf.solves[0];
    if (solve) log(`H⁻¹∇ℓ_test by ${method}: ${solve.iterations} iterations, ${solve.hvps} HVPs, relative residual ${solve.relativeResidual.toExponential(2)}${solve.converged ? '' : ' (NOT converged)'}`);
    const { helpful, harmful } = inf.topK(test, top, key);
    progress.stop();
    const seconds = (performance.now() - started) / 1000;

    const logits = setup.net.apply(setup.params, test.x).toArray();
    let predicted = 0;
    for (let c = 1; c < 10; c++) if (logits[c]! > logits[predicted]!) predicted = c;
    const label = test.y[0]!;
    const testLoss = setup.objective.loss(setup.params, test).item();
    const pixels = (ds: typeof setup.trainSet, i: number): Float64Array => Float64Array.from(ds.x.toArray().subarray(i * 784, (i + 1) * 784));
    const trainLabel = (i: number): number => setup.trainSet.y[i]!;
    const tiles = (list: Scored[]) => list.map((s) => ({ pixels: pixels(setup.trainSet, s.index), caption: `#${s.index} label ${trainLabel(s.index)} · ${s.score.toExponential(2)}` }));

    const html = influencePage({
      title: `gift influence: MNIST test image #${testIndex}`,
      query: { pixels: pixels(setup.testSet, testIndex), caption: `test #${testIndex}: label ${label}, predicted ${predicted}, loss ${testLoss.toFixed(4)}` },
      notes: [
        `model: ${kind}, trained on the first ${trainSize} embedded MNIST training digits, weight decay ${weightDecay}, ‖∇L(θ*)‖∞ = ${setup.gradNorm.toExponential(2)}`,
        `Hessian: ${gaussNewton ? 'Gauss-Newton' : 'exact'}${damping > 0 ? `, damping λ = ${damping}` : ''}; solver ${method}${solve ? `, relative residual ${solve.relativeResidual.toExponential(2)}` : ''}`,
        'score = predicted change of this test image\'s loss if the training image were removed and the model retrained: > 0 helpful (removing it hurts), < 0 harmful',
      ],
      sections: [
        { title: `most helpful (${helpful.length})`, tiles: tiles(helpful) },
        { title: `most harmful (${harmful.length})`, tiles: tiles(harmful) },
      ],
    });
    const tmp = `${out}.tmp-${process.pid}`;
    writeFileSync(tmp, html);
    renameSync(tmp, out);

    console.log(`test #${testIndex}: label ${label}, predicted ${predicted}, loss ${testLoss.toFixed(4)} (${seconds.toFixed(1)} s of influence computation)`);
    console.log('most helpful (removing raises the test loss):');
    for (const s of helpful) console.log(`  #${String(s.index).padEnd(5)} label ${trainLabel(s.index)}  ${s.score.toExponential(3)}`);
    console.log('most harmful (removing lowers the test loss):');
    for (const s of harmful) console.log(`  #${String(s.index).padEnd(5)} label ${trainLabel(s.index)}  ${s.score.toExponential(3)}`);
    console.log(`wrote ${out}`);
    if (v.json !== undefined) {
      saveResults(v.json, 'influence-top-k', {
        test: testIndex, model: kind, trainSize, weightDecay, solver, gaussNewton, seed, epochs: kind === 'mlp' ? epochs : 0, load: v.load ?? null,
      }, { label, predicted, testLoss, gradNorm: setup.gradNorm, helpful, harmful, solve: solve ?? null });
      console.log(`wrote ${v.json}`);
    }
    return 0;
  },
};
