/**
 * GIF benchmark on the embedded MNIST (SPEC §4–5):
 *  1. class removal with the default MLP at 5%: GIF (convergent solver and CGLS) against
 *     retraining — F1 gap and time ratio — beside IF, FIF, PIF, SIF and the Hessian-free control
 *     GA, and GIF on the smallest budget (Hessian batch 100, 4 CGLS iterations);
 *  2. the sweep over ratios 1–20% with the gradient- and output-based selectors;
 *  3. HVPs the convergent (Richardson) solver and CGLS spend to reach the same residual;
 *  4. with --cnn, the small CNN at 5% as well, and with the fast preset; then its budget sweep
 *     (Hessian batch 25/50/100 × 2/3/4 CGLS iterations, classes 0, 3, 7; --quick: class 3), with
 *     GA beside it: GA does no Hessian work, so its time is the floor of any edit that scores
 *     and searches like GIF; then (4c) `--damping auto`: λ ∈ {0, 0.01, 0.1, 1} chosen on the
 *     validation split per class (0–9; --quick: 3), against the test gap at each λ, and its time;
 *     then (4d) the per-class table of section 5 on the CNN, at the CLI's damping λ = 0.1; then
 *     (4e) the fast preset and GA on θ* trained on 25% and 50% of the training digits (--quick: 50%,
 *     class 3), to see how an edit's share of retraining's time moves with the data size;
 *  5. per class (0–9; --quick: 0, 3, 7): GIF (CGLS) and GA at 5% under the CLI's default preset
 *     and the fast one, against one retraining per class — F1 gap, time ratio, and whether the
 *     issue's target (within 0.02 F1 of retraining in at most 1/20 of its time) holds.
 * Edit times include the scoring pass, the solve and the validation step search.
 * `--quick` shrinks every size so the whole run takes a few minutes. Writes bench/results/gif.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../engine/index.js';
import { crossEntropy, stratifiedSplit, subset, type Dataset, type Params, type Sequential } from '../nn/index.js';
import { flatGradient, hessianOperator } from '../influence/hessian.js';
import { EDIT_METHODS } from '../influence/gif/edits.js';
import { DEFAULT_DAMPING, DEFAULT_RECIPE, mnistSplits, networkOf, trainOrLoad, type MnistSplits, type ModelKind } from '../experiments/index.js';
import { formatTable, resultJson } from '../experiments/index.js';
import {
  AUTO_DAMPING, selectFromScores, removeClass, type ClassRemovalSetup, type EditSettings, type GroundTruth, type MethodRow, type Recipe, type TaskResult,
} from '../experiments/index.js';
import { unitScores } from '../influence/gif/scores.js';
import { solveGifKrylov, solveGifRichardson } from '../influence/gif/solvers.js';

/** θ* is cached outside the repository (the OS temp folder), so benchmark runs share it; `part` names a θ* trained on part of the data. */
function cachePath(model: ModelKind, recipe: Recipe, part = ''): string {
  return join(tmpdir(), 'gift-bench', `gif-${model}${part}-e${recipe.epochs}-wd${recipe.weightDecay}.safetensors`);
}

interface SolverRace {
  readonly target: number;
  readonly richardson: { hvps: number; iterations: number; reached: boolean; restarts: number };
  readonly cgls: { hvps: number; iterations: number; reached: boolean };
}

/** θ* of a model kind (trained once, then cached), with its data and recipe. */
interface Trained {
  readonly net: Sequential;
  readonly splits: MnistSplits;
  readonly recipe: Recipe;
  readonly params: Params;
  /** Seconds training took (0 when loaded from the cache). */
  readonly trainSeconds: number;
}

function trained(model: ModelKind, quick: boolean): Trained {
  const net = networkOf(model);
  const splits = mnistSplits(model);
  const recipe: Recipe = { ...DEFAULT_RECIPE, epochs: quick ? 3 : DEFAULT_RECIPE.epochs };
  const { params, seconds } = trainOrLoad(net, splits.train, recipe, cachePath(model, recipe));
  return { net, splits, recipe, params, trainSeconds: seconds };
}

/**
 * θ* trained, with the same recipe, on a stratified `fraction` of t's training digits, its
 * validation split shrunk in the same proportion (the protocol carves it as 10% of the training
 * digits); the test set is t's.
 */
function trainedOnPart(t: Trained, model: ModelKind, fraction: number): Trained {
  const part = (d: Dataset) => stratifiedSplit(d, fraction, 1).second;
  const splits: MnistSplits = { train: part(t.splits.train), validation: part(t.splits.validation), test: t.splits.test };
  const net = networkOf(model);
  const { params, seconds } = trainOrLoad(net, splits.train, t.recipe, cachePath(model, t.recipe, `-part${fraction}`));
  return { net, splits, recipe: t.recipe, params, trainSeconds: seconds };
}

function removal(t: Trained, removedClass: number, groundTruth?: GroundTruth): ClassRemovalSetup {
  return { net: t.net, params: t.params, train: t.splits.train, validation: t.splits.validation, test: t.splits.test, removedClass, recipe: t.recipe, groundTruth };
}

const log = { stage: (s: string) => console.log(`  · ${s}`) };

/** One class removal, retraining only when `truths` has no ground truth for the class yet; the one it used is kept there. */
function removeReusing(t: Trained, removedClass: number, truths: Map<number, GroundTruth>, settings: EditSettings): TaskResult {
  const result = removeClass(removal(t, removedClass, truths.get(removedClass)), settings);
  truths.set(removedClass, result.groundTruth);
  return result;
}

/** The two budgets compared per class: the CLI's default, and the smallest that still edits. */
const PRESETS = {
  default: { hessianSamples: 300, krylovIterations: 20, tolerance: 1e-4 },
  fast: { hessianSamples: 100, krylovIterations: 4, tolerance: 1e-4 },
} as const satisfies Record<string, EditSettings>;
type PresetName = keyof typeof PRESETS;

/** The issue's target: GIF at 5% within 0.02 F1 of retraining in at most 1/20 of retraining's time. */
const TARGET = { f1Gap: 0.02, timeRatio: 1 / 20 };

/** Table formatting: a number to d decimals; an F1 gap with its sign; an edit's seconds (padded to `width`) with their parts. */
const f = (v: number, d = 3) => v.toFixed(d);
const signed = (v: number) => (v >= 0 ? '+' : '') + f(v);
const secondsWithParts = (o: EditOutcome, width = 0) => `${f(o.seconds, 2).padStart(width)} (${f(o.scoringSeconds, 2)}+${f(o.solveSeconds, 2)}+${f(o.searchSeconds, 2)})`;

/** GIF (CGLS) and GA at 5% with gradient selection under a preset (undamped unless told). */
function presetSettings(preset: PresetName, damping = 0): EditSettings {
  return { ratio: 0.05, selector: 'gradient', methods: ['GIF-CGLS', 'GA'], ...PRESETS[preset], damping };
}

function presetRun(t: Trained, removedClass: number, preset: PresetName, groundTruth?: GroundTruth, damping = 0): TaskResult {
  return removeClass(removal(t, removedClass, groundTruth), presetSettings(preset, damping));
}

function classRemoval(t: Trained, model: ModelKind, quick: boolean, sweep: boolean): TaskResult {
  return removeClass(removal(t, 3), {
    ratio: 0.05, selector: 'gradient', hessianSamples: quick ? 100 : 300,
    richardsonIterations: quick ? 20 : 60, krylovIterations: quick ? 7 : 20, tolerance: 1e-4,
    sweepRatios: sweep ? (quick ? [0.01, 0.05, 0.2] : [0.01, 0.02, 0.05, 0.1, 0.2]) : [],
    sweepSelectors: sweep ? ['gradient', 'output'] : [],
    methods: model === 'cnn' ? ['GIF', 'GIF-CGLS', 'FIF', 'PIF', 'IF', 'GA'] : undefined,
  }, log);
}

/** One edit of one preset against retraining. */
interface EditOutcome {
  readonly f1: number;
  readonly plainF1: number;
  /** Retraining's F1 minus this F1 (positive: worse than retraining). */
  readonly f1Gap: number;
  /** Scoring pass, solve and validation step search; their sum; and that over retraining's time. */
  readonly scoringSeconds: number;
  readonly solveSeconds: number;
  readonly searchSeconds: number;
  readonly seconds: number;
  readonly timeRatio: number;
  readonly hvps: number;
  readonly residual: number | null;
  /** Validation F1 at the chosen step: what the step search maximised. */
  readonly validationScore: number;
}

interface ClassOutcome {
  readonly removedClass: number;
  readonly retrainF1: number;
  readonly retrainSeconds: number;
  readonly presets: Record<PresetName, { gif: EditOutcome; ga: EditOutcome; meetsTarget: boolean }>;
}

function outcome(result: TaskResult, method: string): EditOutcome {
  const re = result.rows.find((r) => r.method === 'retrain')!;
  const row: MethodRow = result.rows.find((r) => r.method === method)!;
  const search = row.searchSeconds ?? 0;
  return {
    f1: row.test.f1!, plainF1: row.plain!.f1!, f1Gap: re.test.f1! - row.test.f1!,
    scoringSeconds: result.selectionSeconds, solveSeconds: row.seconds - result.selectionSeconds - search, searchSeconds: search,
    seconds: row.seconds, timeRatio: row.seconds / re.seconds, hvps: row.hvps ?? 0, residual: row.residual ?? null, validationScore: row.validationScore!,
  };
}

const meets = (o: EditOutcome): boolean => o.f1Gap <= TARGET.f1Gap && o.timeRatio <= TARGET.timeRatio;

/** Per class: one retraining (scratch and warm, or the one in `reuse`), then both presets against it at damping λ. */
function perClass(t: Trained, classes: readonly number[], reuse: Map<number, GroundTruth>, damping: number): ClassOutcome[] {
  return classes.map((c) => {
    console.log(`  · class ${c}${reuse.has(c) ? ' (retrained models reused)' : ': retrain, then edit'}`);
    const first = removeReusing(t, c, reuse, presetSettings('default', damping));
    const fast = presetRun(t, c, 'fast', first.groundTruth, damping);
    const re = first.rows.find((r) => r.method === 'retrain')!;
    const edits = (r: TaskResult) => {
      const gif = outcome(r, 'GIF-CGLS');
      return { gif, ga: outcome(r, 'GA'), meetsTarget: meets(gif) };
    };
    return { removedClass: c, retrainF1: re.test.f1!, retrainSeconds: re.seconds, presets: { default: edits(first), fast: edits(fast) } };
  });
}

function summarise(rows: readonly ClassOutcome[], preset: PresetName) {
  const gif = rows.map((r) => r.presets[preset].gif);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return {
    meanGap: mean(gif.map((g) => g.f1Gap)), worstGap: Math.max(...gif.map((g) => g.f1Gap)),
    meanTimeRatio: mean(gif.map((g) => g.timeRatio)), maxTimeRatio: Math.max(...gif.map((g) => g.timeRatio)),
    meanGaGap: mean(rows.map((r) => r.presets[preset].ga.f1Gap)),
    targetHoldsForEveryClass: rows.every((r) => r.presets[preset].meetsTarget),
  };
}

const perClassSummary = (rows: readonly ClassOutcome[]) => Object.fromEntries((Object.keys(PRESETS) as PresetName[]).map((name) => [name, summarise(rows, name)]));

function printPerClass(rows: readonly ClassOutcome[], damping: number): void {
  const cell = (o: EditOutcome) =>
    `${f(o.f1)}  ${f(o.plainF1)}  ${signed(o.f1Gap)}  ${secondsWithParts(o, 5)}  ${f(o.timeRatio)}×`;
  console.log(`GIF (CGLS) at 5%, gradient selection${damping > 0 ? `, damping λ = ${damping}` : ''}: F1 at the validation step, plain-step F1, gap to retraining, seconds (scoring + solve + step search), ×retraining`);
  const head = (name: PresetName) => `${name} (H ${PRESETS[name].hessianSamples}, ≤${PRESETS[name].krylovIterations} CGLS)`.padEnd(55);
  console.log(`class  retrain F1    s   | ${head('default')} | ${head('fast')} | GA F1  plain`);
  for (const r of rows) {
    const d = r.presets.default, q = r.presets.fast;
    console.log(`${String(r.removedClass).padStart(5)}  ${f(r.retrainF1).padStart(10)}  ${f(r.retrainSeconds, 1).padStart(4)}   | ${cell(d.gif).padEnd(55)} | ${cell(q.gif).padEnd(55)} | ${f(d.ga.f1)}  ${f(d.ga.plainF1)}`);
  }
  for (const name of Object.keys(PRESETS) as PresetName[]) {
    const s = summarise(rows, name);
    console.log(`${name.padEnd(7)}: F1 gap mean ${f(s.meanGap)}, worst ${f(s.worstGap)}; time/retrain mean ${f(s.meanTimeRatio)}×, max ${f(s.maxTimeRatio)}×; ` +
      `GA gap mean ${f(s.meanGaGap)}; target (gap ≤ ${TARGET.f1Gap}, time ≤ 1/20) ${s.targetHoldsForEveryClass ? 'holds for every class' : `fails for class(es) ${rows.filter((r) => !r.presets[name].meetsTarget).map((r) => r.removedClass).join(', ')}`}`);
  }
}

/** The CNN budget sweep: Hessian batch × CGLS iterations, each one GIF (CGLS) edit against the class's retraining. */
const CNN_BUDGETS = [25, 50, 100].flatMap((hessianSamples) => [2, 3, 4].map((krylovIterations) => ({ hessianSamples, krylovIterations, tolerance: 1e-4 })));

interface BudgetOutcome {
  readonly removedClass: number;
  /** null for GA, which needs no Hessian. */
  readonly hessianSamples: number | null;
  readonly krylovIterations: number | null;
  readonly method: 'GIF-CGLS' | 'GA';
  readonly outcome: EditOutcome;
  readonly meetsTarget: boolean;
}

/** Every budget of CNN_BUDGETS on each class, and GA once per class; retraining once per class (reused from, and added to, `reuse`). */
function budgetSweep(t: Trained, classes: readonly number[], reuse: Map<number, GroundTruth>): BudgetOutcome[] {
  const rows: BudgetOutcome[] = [];
  for (const c of classes) {
    console.log(`  · class ${c}${reuse.has(c) ? ' (retrained models reused)' : ': retrain, then edit'}`);
    let ga: EditOutcome | undefined;
    CNN_BUDGETS.forEach((budget, i) => {
      // GA needs no Hessian: one run of it per class, with the first budget
      const methods: EditSettings['methods'] = i === 0 ? ['GIF-CGLS', 'GA'] : ['GIF-CGLS'];
      const result = removeReusing(t, c, reuse, { ratio: 0.05, selector: 'gradient', methods, ...budget });
      const gif = outcome(result, 'GIF-CGLS');
      rows.push({ removedClass: c, hessianSamples: budget.hessianSamples, krylovIterations: budget.krylovIterations, method: 'GIF-CGLS', outcome: gif, meetsTarget: meets(gif) });
      if (i === 0) ga = outcome(result, 'GA');
    });
    rows.push({ removedClass: c, hessianSamples: null, krylovIterations: null, method: 'GA', outcome: ga!, meetsTarget: meets(ga!) });
  }
  return rows;
}

function printBudgetSweep(rows: readonly BudgetOutcome[]): void {
  console.log('class  edit              HVPs   F1     gap      seconds (scoring + solve + search)   ×retrain  target');
  for (const r of rows) {
    const o = r.outcome;
    const name = r.method === 'GA' ? 'GA (no Hessian)' : `H ${r.hessianSamples}, ≤${r.krylovIterations} CGLS`;
    console.log(`${String(r.removedClass).padStart(5)}  ${name.padEnd(16)} ${String(o.hvps).padStart(4)}  ${f(o.f1)}  ${signed(o.f1Gap)}  ` +
      `${f(o.seconds, 2).padStart(6)} (${f(o.scoringSeconds, 2)} + ${f(o.solveSeconds, 2)} + ${f(o.searchSeconds, 2)})`.padEnd(40) + `${f(o.timeRatio)}×    ${r.meetsTarget ? 'met' : '—'}`);
  }
  const ga = rows.filter((r) => r.method === 'GA').map((r) => r.outcome.timeRatio);
  const withinGap = rows.filter((r) => r.method === 'GIF-CGLS' && r.outcome.f1Gap <= TARGET.f1Gap).map((r) => r.outcome.timeRatio);
  console.log(`GA's time (scoring and search only) ${f(Math.min(...ga))}–${f(Math.max(...ga))}× retraining: the floor of an edit that scores and searches; ` +
    `fastest GIF (CGLS) within ${TARGET.f1Gap} F1: ${withinGap.length ? `${f(Math.min(...withinGap))}×` : 'none'}; target met by ${rows.filter((r) => r.meetsTarget).length} of ${rows.length} edits`);
}

interface DampingOutcome {
  readonly removedClass: number;
  readonly retrainF1: number;
  /** Per λ of AUTO_DAMPING: the GIF (CGLS) edit's validation F1 at its chosen step, and its test F1 and gap to retraining. */
  readonly byDamping: { damping: number; validationScore: number; f1: number; f1Gap: number; hvps: number }[];
  /** λ with the best validation F1 (ties: the smaller λ), chosen by the task without the test set. */
  readonly chosen: number;
  /** The edit at the chosen λ, its time counting every λ tried. */
  readonly auto: EditOutcome;
}

/**
 * GIF (CGLS) at the CLI's budget on each class with `--damping auto` (every λ of AUTO_DAMPING,
 * the λ chosen on validation). The CNN default λ = 0.1 was first picked from test F1; this checks
 * it on validation, and measures what the choice costs.
 */
function dampingOnValidation(t: Trained, classes: readonly number[], reuse: Map<number, GroundTruth>): DampingOutcome[] {
  return classes.map((c) => {
    console.log(`  · class ${c}${reuse.has(c) ? ' (retrained models reused)' : ': retrain, then edit'}`);
    const result = removeReusing(t, c, reuse, { ratio: 0.05, selector: 'gradient', methods: ['GIF-CGLS'], ...PRESETS.default, damping: AUTO_DAMPING });
    const retrainF1 = result.rows.find((r) => r.method === 'retrain')!.test.f1!;
    const row = result.rows.find((r) => r.method === 'GIF-CGLS')!;
    const byDamping = row.dampingTrials!.map((d) => ({ damping: d.damping, validationScore: d.validationScore, f1: d.test.f1!, f1Gap: retrainF1 - d.test.f1!, hvps: d.hvps }));
    return { removedClass: c, retrainF1, byDamping, chosen: row.damping!, auto: outcome(result, 'GIF-CGLS') };
  });
}

function printDamping(rows: readonly DampingOutcome[]): void {
  console.log(`GIF (CGLS) at 5%, H ${PRESETS.default.hessianSamples}, ≤${PRESETS.default.krylovIterations} CGLS, --damping auto: validation F1 / test gap to retraining, per λ; the λ validation picks; the time of all ${AUTO_DAMPING.length}`);
  console.log(`class  retrain F1  | ${AUTO_DAMPING.map((d) => `λ = ${d}`.padEnd(16)).join(' | ')} | picked  gap     ×retrain`);
  for (const r of rows) {
    console.log(`${String(r.removedClass).padStart(5)}  ${f(r.retrainF1).padStart(10)}  | ${r.byDamping.map((d) => `${f(d.validationScore)} / ${signed(d.f1Gap)}`.padEnd(16)).join(' | ')} | ${String(r.chosen).padEnd(6)}  ${signed(r.auto.f1Gap)}  ${f(r.auto.timeRatio)}×`);
  }
  const worst = (pick: (r: DampingOutcome) => number) => Math.max(...rows.map((r) => r.byDamping.find((d) => d.damping === pick(r))!.f1Gap));
  console.log(`worst test gap: λ chosen on validation ${f(worst((r) => r.chosen))}; ${AUTO_DAMPING.map((d) => `λ = ${d} everywhere ${f(worst(() => d))}`).join('; ')}`);
}

/** One class removal by the fast preset on a θ* trained on part of the digits (section 4e). */
interface SizeOutcome {
  readonly fraction: number;
  readonly trainDigits: number;
  readonly validationDigits: number;
  readonly removedClass: number;
  readonly retrainF1: number;
  readonly retrainSeconds: number;
  readonly gif: EditOutcome;
  readonly ga: EditOutcome;
}

/**
 * The fast preset (at damping λ) on θ* trained on fractions of the training digits, each with its
 * own retraining; the whole set comes from `full` (section 4d's rows), not rerun. Scoring is a
 * pass over the removed digits and the step search a pass over the validation split: both grow
 * with the data, as retraining does, so GA's ratio shows whether more data could bring an edit
 * under the target.
 */
function dataSizes(t: Trained, fractions: readonly number[], classes: readonly number[], full: readonly ClassOutcome[], damping: number): SizeOutcome[] {
  const rows: SizeOutcome[] = [];
  for (const fraction of fractions) {
    const part = trainedOnPart(t, 'cnn', fraction);
    for (const c of classes) {
      console.log(`  · ${part.splits.train.y.length} training digits, class ${c}: retrain, then edit`);
      const result = presetRun(part, c, 'fast', undefined, damping);
      const re = result.rows.find((r) => r.method === 'retrain')!;
      rows.push({
        fraction, trainDigits: part.splits.train.y.length, validationDigits: part.splits.validation.y.length, removedClass: c,
        retrainF1: re.test.f1!, retrainSeconds: re.seconds, gif: outcome(result, 'GIF-CGLS'), ga: outcome(result, 'GA'),
      });
    }
  }
  for (const r of full.filter((row) => classes.includes(row.removedClass))) {
    rows.push({
      fraction: 1, trainDigits: t.splits.train.y.length, validationDigits: t.splits.validation.y.length, removedClass: r.removedClass,
      retrainF1: r.retrainF1, retrainSeconds: r.retrainSeconds, gif: r.presets.fast.gif, ga: r.presets.fast.ga,
    });
  }
  return rows;
}

function printDataSizes(rows: readonly SizeOutcome[]): void {
  console.log('digits (train / val)  class  retrain s  | GIF fast: gap   seconds (scoring+solve+search)   ×retrain | GA: gap   ×retrain');
  for (const r of rows) {
    console.log(`${`${r.trainDigits} / ${r.validationDigits}`.padStart(20)}  ${String(r.removedClass).padStart(5)}  ${f(r.retrainSeconds, 1).padStart(9)}  | ` +
      `${signed(r.gif.f1Gap).padStart(12)}   ${secondsWithParts(r.gif).padEnd(32)} ${f(r.gif.timeRatio).padStart(6)}× | ${signed(r.ga.f1Gap).padStart(7)}   ${f(r.ga.timeRatio)}×`);
  }
  for (const fraction of [...new Set(rows.map((r) => r.fraction))]) {
    const at = rows.filter((r) => r.fraction === fraction);
    const range = (v: number[]) => `${f(Math.min(...v))}–${f(Math.max(...v))}×`;
    console.log(`${at[0]!.trainDigits} digits: GA ${range(at.map((r) => r.ga.timeRatio))}, GIF fast ${range(at.map((r) => r.gif.timeRatio))}; ` +
      `scoring + search alone ${range(at.map((r) => (r.gif.scoringSeconds + r.gif.searchSeconds) / r.retrainSeconds))}`);
  }
  const n = rows.map((r) => r.trainDigits);
  const share = fitOverSize(n, rows.map((r) => (r.gif.scoringSeconds + r.gif.searchSeconds) / r.retrainSeconds));
  const whole = fitOverSize(n, rows.map((r) => r.gif.timeRatio));
  const crossing = whole.b / (TARGET.timeRatio - whole.a);
  console.log(`fitted as a + b/n (n training digits): scoring + search ${f(share.a)}× + ${share.b.toFixed(0)}/n; GIF fast ${f(whole.a)}× + ${whole.b.toFixed(0)}/n, ` +
    (whole.a < TARGET.timeRatio ? `under 1/20 from about n = ${Math.round(crossing)} (an extrapolation)` : 'never under 1/20'));
}

/** Least-squares a, b of y ≈ a + b/n. */
function fitOverSize(n: readonly number[], y: readonly number[]): { a: number; b: number } {
  const x = n.map((v) => 1 / v);
  const mx = x.reduce((s, v) => s + v, 0) / x.length, my = y.reduce((s, v) => s + v, 0) / y.length;
  let sxy = 0, sxx = 0;
  x.forEach((v, i) => { sxy += (v - mx) * (y[i]! - my); sxx += (v - mx) ** 2; });
  const b = sxx > 0 ? sxy / sxx : 0;
  return { a: my - b * mx, b };
}

/** HVPs each GIF solver needs to bring the relative normal-equation residual down to each target. */
function solverRace(t: Trained, quick: boolean): SolverRace[] {
  const { net, splits, recipe, params } = t;
  const target = subset(splits.train, Int32Array.from(Array.from(splits.train.y.keys()).filter((i) => splits.train.y[i] === 3)));
  const retainedIdx = Int32Array.from(Array.from(splits.train.y.keys()).filter((i) => splits.train.y[i] !== 3));
  const perm = new Rng(0).permutation(retainedIdx.length).subarray(0, quick ? 100 : 300);
  const hb = subset(splits.train, Int32Array.from(perm, (p) => retainedIdx[p]!));
  const H = hessianOperator({ loss: (p: typeof params, b: { x: typeof hb.x; y: Int32Array }) => crossEntropy(net.apply(p, b.x), b.y), weightDecay: recipe.weightDecay }, params, [{ x: hb.x, y: hb.y }]);
  const m = target.y.length, n = splits.train.y.length;
  const g = flatGradient((p: typeof params) => crossEntropy(net.apply(p, target.x), target.y), params).map((v) => (v * m) / (n - m));
  const scores = unitScores(net, params, target.x, (o, r) => crossEntropy(o, target.y.subarray(r.start, r.end)));
  const J = selectFromScores(net, scores, { ratio: 0.05, selector: 'gradient' }).indices;
  const targets = quick ? [1e-1, 3e-2] : [1e-1, 3e-2, 1e-2, 3e-3];
  const maxRich = quick ? 60 : 300;
  return targets.map((tolerance) => {
    const rich = solveGifRichardson(H, J, g, { tolerance, maxIterations: maxRich, powerIterations: 10 }).diagnostics;
    const cgls = solveGifKrylov(H, J, g, { tolerance, maxIterations: 200 }).diagnostics;
    return {
      target: tolerance,
      richardson: { hvps: rich.hvps, iterations: rich.iterations, reached: rich.converged, restarts: rich.restarts },
      cgls: { hvps: cgls.hvps, iterations: cgls.iterations, reached: cgls.converged },
    };
  });
}

function headline(result: TaskResult): Record<string, number> {
  const get = (m: string) => result.rows.find((r) => r.method === m);
  const re = get('retrain')!;
  const out: Record<string, number> = { retrainF1: re.test.f1!, retrainSeconds: re.seconds };
  for (const m of EDIT_METHODS) {
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
  console.log(`GIF benchmark${quick ? ' (--quick)' : ''}: class removal on the embedded MNIST; timings on a shared machine are noisy`);
  const mlp = trained('mlp', quick);

  console.log('\n1–2. MLP 784-128-10 tanh, class 3: GIF at 5% against every baseline and retraining, then the ratio sweep');
  const mlpRun = classRemoval(mlp, 'mlp', quick, true);
  console.log(formatTable(mlpRun));
  const h = headline(mlpRun);
  console.log(`\nGIF (CGLS) F1 gap to retraining ${h['GIF-CGLS F1 gap']!.toFixed(3)}, time ${h['GIF-CGLS time/retrain']!.toFixed(2)}× retraining; ` +
    `GIF (Richardson) gap ${h['GIF F1 gap']!.toFixed(3)}, time ${h['GIF time/retrain']!.toFixed(2)}×; ` +
    `GA (no Hessian) gap ${h['GA F1 gap']!.toFixed(3)}`);
  console.log('\n1b. GIF (CGLS) on the smallest budget (the fast preset): Hessian batch 100, 4 CGLS iterations');
  const cheapRun = presetRun(mlp, 3, 'fast', mlpRun.groundTruth);
  const hc = headline(cheapRun);
  console.log(`GIF (CGLS, cheap) F1 ${hc['GIF-CGLS F1']!.toFixed(3)} (plain ${hc['GIF-CGLS plain F1']!.toFixed(3)}), gap to retraining ${hc['GIF-CGLS F1 gap']!.toFixed(3)}, ` +
    `time ${hc['GIF-CGLS time/retrain']!.toFixed(3)}× retraining (${(hc['GIF-CGLS time/retrain']! * hc.retrainSeconds!).toFixed(2)} s vs ${hc.retrainSeconds!.toFixed(1)} s)`);
  console.log('\nsweep (test F1 at the step chosen on validation / plain step):');
  console.log('selector  ratio   method      |J|     F1     plain F1');
  for (const p of mlpRun.sweep) {
    console.log(`${p.selector.padEnd(9)} ${(100 * p.ratio).toFixed(0).padStart(3)}%   ${p.method.padEnd(9)} ${String(p.parameters).padStart(6)}  ${p.test.f1!.toFixed(3)}  ${p.plain.f1!.toFixed(3)}`);
  }
  for (const m of ['IF', 'SIF']) {
    const r = mlpRun.rows.find((x) => x.method === m);
    if (r) console.log(`${m} (all parameters): F1 ${r.test.f1!.toFixed(3)}, plain ${r.plain!.f1!.toFixed(3)}`);
  }

  console.log('\n3. HVPs to reach the same relative residual ‖b − Ax‖/‖b‖ (GIF at 5%, gradient selection)');
  const race = solverRace(mlp, quick);
  console.log('target    Richardson HVPs (iters, reached)   CGLS HVPs (iters, reached)   ratio');
  for (const r of race) {
    console.log(`${r.target.toExponential(0).padEnd(9)} ${String(r.richardson.hvps).padStart(6)} (${r.richardson.iterations}, ${r.richardson.reached})`.padEnd(45) +
      `${String(r.cgls.hvps).padStart(6)} (${r.cgls.iterations}, ${r.cgls.reached})`.padEnd(29) + (r.richardson.hvps / r.cgls.hvps).toFixed(1));
  }

  let cnnRuns: { full: TaskResult; fast: TaskResult; budgets: BudgetOutcome[]; damping: DampingOutcome[]; perClass: ClassOutcome[]; sizes: SizeOutcome[] } | null = null;
  if (cnn) {
    console.log('\n4. small CNN, class 3, GIF at 5%');
    const t = trained('cnn', quick);
    const full = classRemoval(t, 'cnn', quick, false);
    console.log(formatTable(full));
    const fast = presetRun(t, 3, 'fast', full.groundTruth);
    const o = outcome(fast, 'GIF-CGLS');
    console.log(`CNN, fast preset (H 100, ≤4 CGLS): GIF (CGLS) F1 ${f(o.f1)} (plain ${f(o.plainF1)}), gap ${f(o.f1Gap)}, ` +
      `${f(o.seconds, 2)} s (scoring ${f(o.scoringSeconds, 2)} + solve ${f(o.solveSeconds, 2)} + step search ${f(o.searchSeconds, 2)}) ` +
      `= ${f(o.timeRatio)}× retraining; GA F1 ${f(outcome(fast, 'GA').f1)}`);
    const classes = quick ? [3] : [0, 3, 7];
    console.log(`\n4b. small CNN, GIF (CGLS) at 5% on every budget (Hessian batch × CGLS iterations), classes ${classes.join(', ')}, with GA beside it`);
    const truths = new Map([[3, full.groundTruth]]);
    const budgets = budgetSweep(t, classes, truths);
    printBudgetSweep(budgets);
    const dampingClasses = quick ? [3] : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    console.log(`\n4c. small CNN, the damping λ chosen on the validation split (classes ${dampingClasses.join(', ')})`);
    const damping = dampingOnValidation(t, dampingClasses, truths);
    printDamping(damping);
    const cnnDamping = DEFAULT_DAMPING.cnn;
    console.log(`\n4d. small CNN per class (${dampingClasses.join(', ')}): GIF (CGLS) and GA under the default and the fast preset at the CLI's damping λ = ${cnnDamping}, against the retraining of 4c`);
    const perClassCnn = perClass(t, dampingClasses, truths, cnnDamping);
    printPerClass(perClassCnn, cnnDamping);
    const fractions = quick ? [0.5] : [0.25, 0.5];
    const sizeClasses = quick ? [3] : [0, 3, 7];
    console.log(`\n4e. small CNN on ${fractions.map((p) => `${100 * p}%`).join(' and ')} of the training digits (validation split in proportion), classes ${sizeClasses.join(', ')}: ` +
      `the fast preset at λ = ${cnnDamping} and GA, each against its own retraining; the whole set is 4d's`);
    const sizes = dataSizes(t, fractions, sizeClasses, perClassCnn, cnnDamping);
    printDataSizes(sizes);
    cnnRuns = { full, fast, budgets, damping, perClass: perClassCnn, sizes };
  }

  const classes = quick ? [0, 3, 7] : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  console.log(`\n5. MLP per class (${classes.join(', ')}): one retraining each (${mlp.recipe.epochs} epochs, as θ*), GIF (CGLS) and GA under the default and the fast preset`);
  const classRows = perClass(mlp, classes, new Map([[3, mlpRun.groundTruth]]), DEFAULT_DAMPING.mlp);
  printPerClass(classRows, DEFAULT_DAMPING.mlp);

  const out = {
    quick, mlp: { headline: h, trainSeconds: mlp.trainSeconds, result: resultJson(mlpRun) }, mlpCheap: { headline: hc }, solverRace: race,
    ...(cnnRuns ? { cnn: { headline: headline(cnnRuns.full), result: resultJson(cnnRuns.full), fast: { headline: headline(cnnRuns.fast), gif: outcome(cnnRuns.fast, 'GIF-CGLS'), ga: outcome(cnnRuns.fast, 'GA') }, budgets: cnnRuns.budgets, damping: cnnRuns.damping,
      perClass: { damping: DEFAULT_DAMPING.cnn, classes: cnnRuns.perClass, summary: perClassSummary(cnnRuns.perClass) }, dataSizes: cnnRuns.sizes } } : {}),
    perClass: {
      target: TARGET, presets: PRESETS, ratio: 0.05, selector: 'gradient', classes: classRows,
      summary: perClassSummary(classRows),
    },
  };
  writeFileSync('bench/results/gif.json', JSON.stringify(out, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
  console.log('\nwrote bench/results/gif.json');
  return out;
}
