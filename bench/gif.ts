/**
 * GIF benchmark on the embedded MNIST (SPEC §4–5):
 *  1. class removal with the default MLP at 5%: GIF (convergent solver and CGLS) against
 *     retraining — F1 gap and time ratio — beside IF, FIF, PIF and SIF, and GIF on the smallest
 *     budget (Hessian batch 100, 4 CGLS iterations);
 *  2. the sweep over ratios 1–20% with the gradient- and output-based selectors;
 *  3. HVPs the convergent (Richardson) solver and CGLS spend to reach the same residual;
 *  4. with --cnn, the small CNN at 5% as well.
 * `--quick` shrinks every size so the whole run takes about a minute. Writes bench/results/gif.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../engine/index.js';
import { crossEntropy, subset } from '../nn/index.js';
import { flatGradient, hessianOperator } from '../influence/hessian.js';
import { DEFAULT_RECIPE, mnistSplits, networkOf, trainOrLoad, type ModelKind } from '../influence/gif/experiment.js';
import { formatTable } from '../influence/gif/report.js';
import { selectFromScores, removeClass, type Recipe, type TaskResult } from '../influence/gif/tasks.js';
import { unitScores } from '../influence/gif/scores.js';
import { solveGifKrylov, solveGifRichardson } from '../influence/gif/solvers.js';

/** θ* is cached outside the repository (the OS temp folder), so benchmark runs share it. */
function cachePath(model: ModelKind, recipe: Recipe): string {
  return join(tmpdir(), 'gift-bench', `gif-${model}-e${recipe.epochs}-wd${recipe.weightDecay}.safetensors`);
}

interface SolverRace {
  readonly target: number;
  readonly richardson: { hvps: number; iterations: number; reached: boolean; restarts: number };
  readonly cgls: { hvps: number; iterations: number; reached: boolean };
}

function classRemoval(model: ModelKind, quick: boolean, sweep: boolean, cheap = false): { result: TaskResult; trainSeconds: number } {
  const net = networkOf(model);
  const splits = mnistSplits(model);
  const recipe: Recipe = { ...DEFAULT_RECIPE, epochs: quick ? 3 : DEFAULT_RECIPE.epochs };
  const path = cachePath(model, recipe);
  const { params, seconds } = trainOrLoad(net, splits.train, recipe, path);
  if (cheap) {
    // the smallest budget that still edits: a 100-sample Hessian batch and 4 CGLS iterations
    const result = removeClass({ net, params, train: splits.train, validation: splits.validation, test: splits.test, removedClass: 3, recipe },
      { ratio: 0.05, selector: 'gradient', hessianSamples: 100, krylovIterations: 4, methods: ['GIF-CGLS'] }, { stage: (s) => console.log(`  · ${s}`) });
    return { result, trainSeconds: seconds };
  }
  const result = removeClass({ net, params, train: splits.train, validation: splits.validation, test: splits.test, removedClass: 3, recipe }, {
    ratio: 0.05, selector: 'gradient', hessianSamples: quick ? 100 : 300,
    richardsonIterations: quick ? 20 : 60, krylovIterations: quick ? 7 : 20, tolerance: 1e-4,
    sweepRatios: sweep ? (quick ? [0.01, 0.05, 0.2] : [0.01, 0.02, 0.05, 0.1, 0.2]) : [],
    sweepSelectors: sweep ? ['gradient', 'output'] : [],
    methods: model === 'cnn' ? ['GIF', 'GIF-CGLS', 'FIF', 'PIF', 'IF'] : undefined,
  }, { stage: (s) => console.log(`  · ${s}`) });
  return { result, trainSeconds: seconds };
}

/** HVPs each GIF solver needs to bring the relative normal-equation residual down to each target. */
function solverRace(quick: boolean): SolverRace[] {
  const net = networkOf('mlp');
  const splits = mnistSplits('mlp');
  const recipe: Recipe = { ...DEFAULT_RECIPE, epochs: quick ? 3 : DEFAULT_RECIPE.epochs };
  const { params } = trainOrLoad(net, splits.train, recipe, cachePath('mlp', recipe));
  const target = subset(splits.train, Int32Array.from(Array.from(splits.train.y.keys()).filter((i) => splits.train.y[i] === 3)));
  const retainedIdx = Int32Array.from(Array.from(splits.train.y.keys()).filter((i) => splits.train.y[i] !== 3));
  const perm = new Rng(0).permutation(retainedIdx.length).subarray(0, quick ? 100 : 300);
  const hb = subset(splits.train, Int32Array.from(perm, (p) => retainedIdx[p]!));
  const H = hessianOperator({ loss: (p: typeof params, b: { x: typeof hb.x; y: Int32Array }) => crossEntropy(net.apply(p, b.x), b.y), weightDecay: recipe.weightDecay }, params, [{ x: hb.x, y: hb.y }]);
  const m = target.y.length, n = splits.train.y.length;
  const g = flatGradient((p: typeof params) => crossEntropy(net.apply(p, target.x), target.y), params).map((v) => (v * m) / (n - m));
  const scores = unitScores(net, params, target.x, (o) => crossEntropy(o, target.y));
  const J = selectFromScores(net, scores, { ratio: 0.05, selector: 'gradient' }).indices;
  const targets = quick ? [1e-1, 3e-2] : [1e-1, 3e-2, 1e-2, 3e-3];
  const maxRich = quick ? 60 : 300;
  return targets.map((t) => {
    const rich = solveGifRichardson(H, J, g, { tolerance: t, maxIterations: maxRich, powerIterations: 10 }).diagnostics;
    const cgls = solveGifKrylov(H, J, g, { tolerance: t, maxIterations: 200 }).diagnostics;
    return {
      target: t,
      richardson: { hvps: rich.hvps, iterations: rich.iterations, reached: rich.converged, restarts: rich.restarts },
      cgls: { hvps: cgls.hvps, iterations: cgls.iterations, reached: cgls.converged },
    };
  });
}

function headline(result: TaskResult): Record<string, number> {
  const get = (m: string) => result.rows.find((r) => r.method === m);
  const re = get('retrain')!;
  const out: Record<string, number> = { retrainF1: re.test.f1!, retrainSeconds: re.seconds };
  for (const m of ['GIF', 'GIF-CGLS', 'FIF', 'PIF', 'IF', 'SIF']) {
    const r = get(m);
    if (!r) continue;
    out[`${m} F1`] = r.test.f1!;
    out[`${m} F1 gap`] = re.test.f1! - r.test.f1!;
    out[`${m} plain F1`] = r.plain!.f1!;
    out[`${m} time/retrain`] = r.seconds / re.seconds;
  }
  return out;
}

export async function run(args: string[]): Promise<unknown> {
  const quick = args.includes('--quick');
  const cnn = args.includes('--cnn');
  mkdirSync('bench/results', { recursive: true });
  console.log(`GIF benchmark${quick ? ' (--quick)' : ''}: class 3 removal on the embedded MNIST; timings on a shared machine are noisy`);

  console.log('\n1–2. MLP 784-128-10 tanh, GIF at 5% against every baseline and retraining, then the ratio sweep');
  const mlpRun = classRemoval('mlp', quick, true);
  console.log(formatTable(mlpRun.result));
  const h = headline(mlpRun.result);
  console.log(`\nGIF (CGLS) F1 gap to retraining ${h['GIF-CGLS F1 gap']!.toFixed(3)}, time ${h['GIF-CGLS time/retrain']!.toFixed(2)}× retraining; ` +
    `GIF (Richardson) gap ${h['GIF F1 gap']!.toFixed(3)}, time ${h['GIF time/retrain']!.toFixed(2)}×`);
  console.log('\n1b. GIF (CGLS) on the smallest budget: Hessian batch 100, 4 CGLS iterations');
  const cheapRun = classRemoval('mlp', quick, false, true);
  const hc = headline(cheapRun.result);
  console.log(`GIF (CGLS, cheap) F1 ${hc['GIF-CGLS F1']!.toFixed(3)} (plain ${hc['GIF-CGLS plain F1']!.toFixed(3)}), gap to retraining ${hc['GIF-CGLS F1 gap']!.toFixed(3)}, ` +
    `time ${hc['GIF-CGLS time/retrain']!.toFixed(3)}× retraining (${(hc['GIF-CGLS time/retrain']! * hc.retrainSeconds!).toFixed(2)} s vs ${hc.retrainSeconds!.toFixed(1)} s)`);
  console.log('\nsweep (test F1 at the step chosen on validation / plain step):');
  console.log('selector  ratio   method      |J|     F1     plain F1');
  for (const p of mlpRun.result.sweep) {
    console.log(`${p.selector.padEnd(9)} ${(100 * p.ratio).toFixed(0).padStart(3)}%   ${p.method.padEnd(9)} ${String(p.parameters).padStart(6)}  ${p.test.f1!.toFixed(3)}  ${p.plain.f1!.toFixed(3)}`);
  }
  for (const m of ['IF', 'SIF']) {
    const r = mlpRun.result.rows.find((x) => x.method === m);
    if (r) console.log(`${m} (all parameters): F1 ${r.test.f1!.toFixed(3)}, plain ${r.plain!.f1!.toFixed(3)}`);
  }

  console.log('\n3. HVPs to reach the same relative residual ‖b − Ax‖/‖b‖ (GIF at 5%, gradient selection)');
  const race = solverRace(quick);
  console.log('target    Richardson HVPs (iters, reached)   CGLS HVPs (iters, reached)   ratio');
  for (const r of race) {
    console.log(`${r.target.toExponential(0).padEnd(9)} ${String(r.richardson.hvps).padStart(6)} (${r.richardson.iterations}, ${r.richardson.reached})`.padEnd(45) +
      `${String(r.cgls.hvps).padStart(6)} (${r.cgls.iterations}, ${r.cgls.reached})`.padEnd(29) + (r.richardson.hvps / r.cgls.hvps).toFixed(1));
  }

  let cnnRun: { result: TaskResult; trainSeconds: number } | null = null;
  if (cnn) {
    console.log('\n4. small CNN, GIF at 5%');
    cnnRun = classRemoval('cnn', quick, false);
    console.log(formatTable(cnnRun.result));
  }

  const strip = (r: TaskResult) => ({ ...r, deltas: undefined, groundTruth: undefined, selection: { rule: r.selection.rule, size: r.selection.indices.length, fraction: r.selection.fraction, layers: r.selection.layers } });
  const out = {
    quick, mlp: { headline: h, trainSeconds: mlpRun.trainSeconds, result: strip(mlpRun.result) }, mlpCheap: { headline: hc }, solverRace: race,
    ...(cnnRun ? { cnn: { headline: headline(cnnRun.result), result: strip(cnnRun.result) } } : {}),
  };
  writeFileSync('bench/results/gif.json', JSON.stringify(out, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
  console.log('\nwrote bench/results/gif.json');
  return out;
}
