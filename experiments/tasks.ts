/**
 * The tasks of SPEC §5 — class removal and label change / backdoor correction — run end to end:
 * score and select parameters, compute every edit (GIF with both solvers, FIF, PIF, IF, SIF and
 * the zero-HVP control GA) on one Hessian batch and one target gradient, choose each edit's step
 * on a validation split, retrain from scratch and warm-started as ground truth (or reuse the
 * retrained models of an earlier run), and collect one row per method.
 *
 * Conventions (SPEC §1, §4): the model was trained on `n` samples with the objective
 * mean CE + (wd/2)‖θ‖²; the target group has `m` samples; `H` is the Hessian of that objective
 * on a batch of the data that stays (`hessianSamples` of them); `g` is the gradient of the
 * target loss scaled to `m/(n − m)` times its mean — for removal with each sample's weight-decay
 * share `wd·θ*` included, as in influence/ — and every edit's Δθ is added to θ*.
 */
import { Rng, fromVector, sub, toVector, type Tensor } from '../engine/index.js';
import { ValueError } from '../engine/errors.js';
import {
  crossEntropy, predict, subset, train, evaluate,
  type Dataset, type Params, type Sequential, type TrainOptions,
} from '../nn/index.js';
import { hessianOperator, type Objective } from '../influence/hessian.js';
import { dampedOperator, type LinearOperator } from '../influence/operator.js';
import { EDIT_METHODS, SELECTION_METHODS, fifEdit, gaEdit, gifEdit, ifEdit, pifEdit, sifEdit, type Edit, type EditMethod, type SecondOrderProblem } from '../influence/gif/edits.js';
import { unitScores, type Rows, type UnitScores } from '../influence/gif/scores.js';
import { selectByThreshold, selectParameters, type Selection } from '../influence/gif/selection.js';
import { LINE_SEARCH_BATCH, bestStep, lineSearch } from '../influence/gif/line-search.js';
import { norm } from '../influence/gif/vectors.js';
import { BACKDOOR_LABEL, addTrigger } from './backdoor.js';

/** How the selection is made: by score (highest first), an ablation, or a threshold. */
export type Selector = 'output' | 'gradient' | 'output-lowest' | 'gradient-lowest' | 'random' | 'threshold';

/** Everything a task needs to know about how to edit. Defaults in brackets. */
export interface EditSettings {
  /** Fraction of each layer's parameters GIF/FIF/PIF may change [0.05]. */
  readonly ratio?: number;
  readonly selector?: Selector;
  /** For `selector: 'threshold'`: the threshold on |mean output| [0.5]. */
  readonly threshold?: number;
  /** Samples of the retained (clean) data in the Hessian batch [1000]. */
  readonly hessianSamples?: number;
  /**
   * λ of H + λI [0]. A list tries each λ: every Hessian-based edit is solved and searched at
   * each, and keeps the λ whose chosen step scores best on validation (ties go to the smaller λ),
   * as the step is chosen. Its row then reports that λ (`MethodRow.damping`), every λ tried
   * (`MethodRow.dampingTrials`), and the HVPs and seconds of all of them. {@link AUTO_DAMPING}
   * is a list that suits the small MNIST models.
   */
  readonly damping?: number | readonly number[];
  /** Iterations of each solver [GIF Richardson 100, Krylov 30]. */
  readonly richardsonIterations?: number;
  readonly krylovIterations?: number;
  /** Relative residual at which the solvers stop [1e-4]. */
  readonly tolerance?: number;
  /** Methods to run [all]. */
  readonly methods?: readonly EditMethod[];
  /**
   * Step lengths tried along each normalised edit, as multiples of ‖θ*‖ [0.005·1.5^k, k = 0…19,
   * i.e. 0.005 to 11]. The grid must reach past every method's best step: GIF on a small selection
   * spends much of its norm on cancelling the frozen parameters' effect and needs steps of several
   * ‖θ*‖. A chosen step at either end of the grid is flagged (`stepAtEdge`).
   */
  readonly stepGrid?: readonly number[];
  /**
   * Validation samples the step search follows at a time [{@link LINE_SEARCH_BATCH} = 100]: it
   * bounds the search's memory, and a length that cannot win is dropped after fewer samples
   * (line-search.ts, `bestStep`). The chosen step does not depend on it.
   */
  readonly searchBatchSize?: number;
  /** Seed of the Hessian batch and of the random parts of the selection [0]. */
  readonly seed?: number;
  /** Ratios of the sweep (GIF with CGLS, FIF and PIF at each, for the accuracy-vs-ratio chart) [none]. */
  readonly sweepRatios?: readonly number[];
  /** Selectors of the sweep [the task's selector]. */
  readonly sweepSelectors?: readonly Selector[];
  /** Target samples in the SIF target Hessian H_U (a subsample, scaled to the sum over all m) [hessianSamples]. */
  readonly targetHessianSamples?: number;
}

/** One point of the ratio sweep. */
export interface SweepPoint {
  readonly ratio: number;
  readonly selector: Selector;
  readonly method: 'GIF-CGLS' | 'FIF' | 'PIF';
  readonly parameters: number;
  readonly test: Metrics;
  readonly plain: Metrics;
  readonly hvps: number;
  /** Wall seconds of the solve plus the validation step search behind `test` (the shared scoring pass is not included). */
  readonly seconds: number;
  /** The step search's share of `seconds`. */
  readonly searchSeconds: number;
  /** The chosen step is the first or last of the grid: the best step may lie outside it. */
  readonly stepAtEdge: boolean;
  /** The validation score at the chosen step (what the search maximised: `Metrics.score`). */
  readonly validationScore: number;
  /** The λ of H + λI the point used: with a list of dampings, the one chosen on validation. */
  readonly damping: number;
}

/** One λ an edit was tried at, when the settings give a list of dampings. */
export interface DampingTrial {
  readonly damping: number;
  /** The validation score at this λ's chosen step: what the choice of λ compared. */
  readonly validationScore: number;
  /** Test metrics at this λ's chosen step. Reported to study the choice; never used to make it. */
  readonly test: Metrics;
  readonly hvps: number;
}

/** How the model is (re)trained: the recipe of θ*, reused for retraining. */
export interface Recipe extends Pick<TrainOptions, 'epochs' | 'batchSize' | 'lr' | 'momentum' | 'optimizer' | 'schedule' | 'seed'> {
  readonly weightDecay: number;
  /** Epochs of the warm-started retraining from θ* [2]. */
  readonly warmEpochs?: number;
  /** Initialisation seed of the network [0]. */
  readonly initSeed?: number;
}

/** Progress callbacks: a stage starts, a solver iterates. */
export interface TaskProgress {
  stage?(name: string): void;
  iteration?(name: string, iteration: number, maxIterations: number, residual: number): void;
}

/** Task metrics of one parameter vector (class removal or backdoor; unused fields absent). */
export interface Metrics {
  /** Class removal: accuracy on retained classes (t), on the removed class (s), F1 = 2(1−s)t/((1−s)+t). */
  readonly retainedAccuracy?: number;
  readonly removedAccuracy?: number;
  readonly f1?: number;
  readonly retainedLoss?: number;
  readonly removedLoss?: number;
  /** Backdoor: clean accuracy, relabel accuracy (triggered vs true label ↑), corrupt accuracy (triggered vs 4 ↓). */
  readonly cleanAccuracy?: number;
  readonly relabelAccuracy?: number;
  readonly corruptAccuracy?: number;
  /** The score the step search maximises (F1, or for backdoors the harmonic mean of clean and relabel accuracy). */
  readonly score: number;
}

/** One row of the side-by-side table. */
export interface MethodRow {
  /** `original`, `retrain`, `retrain-warm`, or an edit method. */
  readonly method: string;
  /** Test metrics at the step chosen on validation (for retraining: of the retrained model). */
  readonly test: Metrics;
  /** Test metrics of the plain influence step θ* + Δθ (edits only). */
  readonly plain?: Metrics;
  /** The chosen step length ‖θ_edit − θ*‖ and the plain one ‖Δθ‖. */
  readonly step?: number;
  readonly plainStep?: number;
  /** The chosen step is the first or last of the grid: the best step may lie outside it. */
  readonly stepAtEdge?: boolean;
  /**
   * Edits: the validation score at the chosen step (`Metrics.score`, which the search maximised).
   * Settings such as the damping can be compared on it without looking at the test set.
   */
  readonly validationScore?: number;
  /** Edits that solve with H: the λ of H + λI behind `test` (with a list of dampings, the one chosen on validation). */
  readonly damping?: number;
  /** With a list of dampings: the edit at every λ tried, in increasing λ. */
  readonly dampingTrials?: readonly DampingTrial[];
  /** Parameters changed (|J|, or all). */
  readonly parameters: number;
  /** ‖θ − θ_retrain‖ and ‖θ − θ_warm‖ at the chosen step. */
  readonly distanceToRetrain?: number;
  readonly distanceToWarm?: number;
  readonly hvps?: number;
  /**
   * Wall seconds of everything the `test` metrics needed. Edits: the scoring pass (unit scores,
   * selection and the target gradient, one pass shared by all methods and counted in full for
   * each), the solve, and the validation step search (`searchSeconds`); the plain step needs no
   * search, so `seconds − searchSeconds` is its cost. Retraining: the training run.
   */
  readonly seconds: number;
  /** Edits: the validation step search's share of `seconds` (one validation evaluation per grid length). */
  readonly searchSeconds?: number;
  /** Solver's relative residual and whether it converged. */
  readonly residual?: number;
  readonly converged?: boolean;
}

/**
 * The retrained models a task compares against, with what they cost. A task returns the ones it
 * used; pass them back in (`ClassRemovalSetup.groundTruth`, `BackdoorSetup.groundTruth`) to run
 * another setting of the same task without retraining. They must come from the same data and
 * recipe — only their length is checked.
 */
export interface GroundTruth {
  /** Retrained from scratch on the edited data, and the seconds it took. */
  readonly scratch: Params;
  readonly scratchSeconds: number;
  /** Warm-started from θ* (`warmEpochs`), and the seconds it took. */
  readonly warm: Params;
  readonly warmSeconds: number;
}

/** What a task returns. */
export interface TaskResult {
  readonly task: 'remove-class' | 'backdoor';
  readonly description: string;
  readonly n: number;
  readonly m: number;
  readonly parameterCount: number;
  readonly selection: Selection;
  readonly rows: MethodRow[];
  /**
   * Seconds spent on scoring and selection (with the target gradient), and on retraining from
   * scratch (for a ground truth passed in: what that retraining took when it ran).
   */
  readonly selectionSeconds: number;
  readonly retrainSeconds: number;
  readonly settings: Required<EditSettings>;
  /** The edits themselves (Δθ), for callers that want to keep the vectors. */
  readonly deltas: Record<string, Float64Array>;
  /** The retrained models (computed here, or the ones passed in); left out of the JSON report. */
  readonly groundTruth: GroundTruth;
  /** GIF/FIF/PIF over `sweepRatios` × `sweepSelectors` (empty without a sweep). */
  readonly sweep: SweepPoint[];
}

function defaults(s: EditSettings): TaskResult['settings'] {
  const stepGrid = s.stepGrid ?? Array.from({ length: 20 }, (_, k) => 0.005 * 1.5 ** k);
  const out = {
    ratio: s.ratio ?? 0.05, selector: s.selector ?? 'gradient', threshold: s.threshold ?? 0.5,
    hessianSamples: s.hessianSamples ?? 1000, damping: s.damping ?? 0, richardsonIterations: s.richardsonIterations ?? 100,
    krylovIterations: s.krylovIterations ?? 30, tolerance: s.tolerance ?? 1e-4, methods: s.methods ?? EDIT_METHODS,
    stepGrid, seed: s.seed ?? 0, sweepRatios: s.sweepRatios ?? [], sweepSelectors: s.sweepSelectors ?? [s.selector ?? 'gradient'],
    targetHessianSamples: s.targetHessianSamples ?? s.hessianSamples ?? 1000, searchBatchSize: s.searchBatchSize ?? LINE_SEARCH_BATCH,
  } as const;
  for (const r of out.sweepRatios) if (!(r > 0 && r <= 1)) throw new ValueError(`GIF task: sweep ratio must be in (0, 1], got ${r}`);
  if (!(out.ratio > 0 && out.ratio <= 1)) throw new ValueError(`GIF task: ratio must be in (0, 1], got ${out.ratio}`);
  if (!Number.isInteger(out.hessianSamples) || out.hessianSamples < 1) throw new ValueError(`GIF task: hessianSamples must be a positive integer, got ${out.hessianSamples}`);
  if (!stepGrid.length || !stepGrid.every((v) => v > 0 && Number.isFinite(v))) throw new ValueError('GIF task: the step grid must hold positive finite multiples');
  if (!Number.isInteger(out.searchBatchSize) || out.searchBatchSize < 1) throw new ValueError(`GIF task: searchBatchSize must be a positive integer, got ${out.searchBatchSize}`);
  for (const m of out.methods) if (!EDIT_METHODS.includes(m)) throw new ValueError(`GIF task: unknown method '${m}' (use ${EDIT_METHODS.join(', ')})`);
  // a list is kept in the order it is tried (increasing λ), and a one-entry list is a single λ
  const dampings = dampingsOf(out.damping);
  return { ...out, damping: dampings.length === 1 ? dampings[0]! : dampings };
}

/**
 * Dampings to choose from on validation: an edit is tried at each, and each method keeps the λ
 * that scores best there. On the small MNIST CNN, over the ten classes, the choice had the same
 * worst test gap to retraining as the CLI's fixed λ = 0.1 and a smaller mean gap (docs/gif.md).
 * It costs one solve and one step search per λ.
 * @example
 * const result = removeClass(setup, { damping: AUTO_DAMPING });
 * result.rows.find((r) => r.method === 'GIF-CGLS')?.damping // the λ GIF kept
 */
export const AUTO_DAMPING: readonly number[] = [0, 0.01, 0.1, 1];

/** The settings' damping as a checked list in increasing order (one entry for a single λ). */
function dampingsOf(damping: number | readonly number[]): number[] {
  const list = typeof damping === 'number' ? [damping] : [...damping];
  if (!list.length) throw new ValueError('GIF task: the list of dampings is empty');
  for (const d of list) if (!(d >= 0 && Number.isFinite(d))) throw new ValueError(`GIF task: damping must be a finite number ≥ 0, got ${d}`);
  if (new Set(list).size !== list.length) throw new ValueError(`GIF task: the dampings ${list.join(', ')} repeat a value`);
  return list.sort((a, b) => a - b);
}

/**
 * Scores units on the target samples and selects J with the chosen rule.
 * `targetLoss(outputs, rows)` is the mean loss of target samples `rows.start … rows.end − 1` (see {@link unitScores}).
 * @example chooseParameters(net, theta, targetX, (o, r) => crossEntropy(o, targetY.subarray(r.start, r.end)), { ratio: 0.05, selector: 'output' })
 */
export function chooseParameters(net: Sequential, params: Params, targetX: Tensor, targetLoss: (o: Tensor, rows: Rows) => Tensor, settings: EditSettings): { selection: Selection; scores: UnitScores } {
  const scores = unitScores(net, params, targetX, targetLoss);
  return { selection: selectFromScores(net, scores, settings), scores };
}

/**
 * J from precomputed unit scores with the settings' ratio, selector and seed.
 * @example selectFromScores(net, scores, { ratio: 0.1, selector: 'output' })
 */
export function selectFromScores(net: Sequential, scores: UnitScores, settings: EditSettings): Selection {
  const s = defaults(settings);
  const layout = net.parameterLayout();
  const pick = (which: 'output' | 'gradient', order: 'highest' | 'lowest') =>
    selectParameters(layout, scores[which], s.ratio, { order, seed: s.seed, rule: `${which}${order === 'lowest' ? '-lowest' : ''}` });
  let selection: Selection;
  switch (s.selector) {
    case 'output': selection = pick('output', 'highest'); break;
    case 'gradient': selection = pick('gradient', 'highest'); break;
    case 'output-lowest': selection = pick('output', 'lowest'); break;
    case 'gradient-lowest': selection = pick('gradient', 'lowest'); break;
    case 'random': selection = selectParameters(layout, null, s.ratio, { order: 'random', seed: s.seed, rule: 'random' }); break;
    case 'threshold': selection = selectByThreshold(layout, scores.output, s.threshold); break;
    default: throw new ValueError(`GIF task: unknown selector '${String(s.selector)}'`);
  }
  return selection;
}

/** What SIF needs beyond H (edits.ts `SecondOrderProblem`). */
type SecondOrderTarget = Omit<SecondOrderProblem, 'H'>;

/** The objective on plain batches `{x, y}`, as influence/hessian.ts wants it. */
interface XY { readonly x: Tensor; readonly y: Int32Array }
function ceObjective(net: Sequential, weightDecay: number): Objective<Params, XY> {
  return { loss: (p, b) => crossEntropy(net.apply(p, b.x), b.y), weightDecay };
}

/** Random `count` indices of `pool` (all of them when count ≥ its size). */
function sample(pool: Int32Array, count: number, rng: Rng): Int32Array {
  if (count >= pool.length) return pool;
  const perm = rng.permutation(pool.length);
  return Int32Array.from(perm.subarray(0, count), (p) => pool[p]!).sort();
}

/** The edits requested, on one Hessian operator; each timed and counted on its own. */
function computeEdits(
  H: LinearOperator, J: Int32Array, g: Float64Array, s: TaskResult['settings'], sif: () => SecondOrderTarget,
  progress: TaskProgress, methods: readonly EditMethod[], label: string,
): Edit[] {
  const edits: Edit[] = [];
  const iter = (name: string, max: number) => (i: number, r: number) => progress.iteration?.(name, i, max, r);
  const kOpts = (name: string) => ({ tolerance: s.tolerance, maxIterations: s.krylovIterations, onIteration: iter(name, s.krylovIterations) });
  let full: Edit | undefined;
  for (const method of methods) {
    progress.stage?.(`edit ${method}${label}`);
    switch (method) {
      case 'GIF': edits.push(gifEdit(H, J, g, { solver: 'richardson', tolerance: s.tolerance, maxIterations: s.richardsonIterations, powerIterations: 10, onIteration: iter('GIF', s.richardsonIterations), seed: s.seed })); break;
      case 'GIF-CGLS': edits.push(gifEdit(H, J, g, { solver: 'cgls', ...kOpts('GIF-CGLS') })); break;
      case 'FIF': edits.push(fifEdit(H, J, g, kOpts('FIF'))); break;
      // PIF is the IF cut down to J: one IF solve serves both (PIF reports that solve's cost)
      case 'IF': full ??= ifEdit(H, g, kOpts('IF')); edits.push(full); break;
      case 'PIF': full ??= ifEdit(H, g, kOpts('IF')); edits.push(pifEdit(H, J, g, kOpts('PIF'), full)); break;
      case 'SIF': {
        edits.push(sifEdit({ H, ...sif() }, kOpts('SIF')));
        break;
      }
      case 'GA': edits.push(gaEdit(J, g)); break;
    }
  }
  return edits;
}

/** θ + t·d/‖d‖ as a parameter tree. */
function along(theta: Float64Array, delta: Float64Array, length: number, like: Params): Params {
  const nd = norm(delta);
  const v = new Float64Array(theta.length);
  for (let i = 0; i < v.length; i++) v[i] = theta[i]! + (nd === 0 ? 0 : (length * delta[i]!) / nd);
  return fromVector(v, like); // a new tree: θ* itself is never modified
}

function distance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

/** The validation split as the step search sees it: the inputs it predicts, and the metrics of those predictions. */
interface ValidationSplit {
  readonly inputs: readonly Tensor[];
  metrics(predictions: readonly Int32Array[]): Metrics;
  /** Per input, the labels with the best score (see `StepObjective.ideal`): they let the search drop hopeless lengths early. */
  readonly ideal: readonly Int32Array[];
}

/** The step a search chose along one edit, its validation score, and the search's seconds. */
interface StepChoice { readonly length: number; readonly atEdge: boolean; readonly score: number; readonly seconds: number }

/** The trial whose chosen step scores best on validation; trials come in increasing λ, so ties keep the smaller λ. */
function bestOnValidation<T extends { readonly best: StepChoice }>(trials: readonly T[]): T {
  return trials.reduce((a, b) => (b.best.score > a.best.score ? b : a));
}

const sum = <T>(items: readonly T[], value: (item: T) => number): number => items.reduce((total, item) => total + value(item), 0);

/** Shared driver: edits, step search on validation, retraining, rows. */
function runTask(args: {
  task: TaskResult['task']; description: string; net: Sequential; params: Params; n: number; m: number;
  H: LinearOperator; g: Float64Array; selection: Selection; scores: UnitScores; selectionSeconds: number; gradientSeconds: number;
  settings: TaskResult['settings']; sif: () => SecondOrderTarget;
  validation: ValidationSplit; test: (p: Params) => Metrics; retrain: (warm: boolean) => Params; groundTruth?: GroundTruth; progress: TaskProgress;
}): TaskResult {
  const { params, settings: s, progress } = args;
  const theta = toVector(params);
  const thetaNorm = norm(theta);
  const dampings = dampingsOf(s.damping);
  // every edit at every λ (GA solves nothing, so one run of it serves them all), before the
  // ground truth, so the steps are chosen with everything in hand
  const tried: { damping: number; edit: Edit }[] = [];
  // SIF's target operators do not depend on λ: built once, on first use, for every λ
  let sifTarget: SecondOrderTarget | undefined;
  const sif = () => (sifTarget ??= args.sif());
  dampings.forEach((damping, i) => {
    const methods = i === 0 ? s.methods : s.methods.filter((m) => m !== 'GA');
    const label = dampings.length > 1 ? ` (λ = ${damping})` : '';
    for (const edit of computeEdits(dampedOperator(args.H, damping), args.selection.indices, args.g, s, sif, progress, methods, label)) tried.push({ damping, edit });
  });

  const groundTruth = args.groundTruth ?? retrainBoth(args.retrain, progress);
  const { scratch: retrained, warm, scratchSeconds: retrainSeconds, warmSeconds } = groundTruth;
  const thetaRetrain = toVector(retrained), thetaWarm = toVector(warm);
  for (const [name, v] of [['scratch', thetaRetrain], ['warm', thetaWarm]] as const) {
    if (v.length !== theta.length) throw new ValueError(`GIF task: the ${name} ground truth has ${v.length} parameters, θ* ${theta.length}`);
  }

  progress.stage?.('choose steps on the validation split');
  const rows: MethodRow[] = [
    { method: 'original', test: args.test(params), parameters: 0, distanceToRetrain: distance(theta, thetaRetrain), distanceToWarm: distance(theta, thetaWarm), seconds: 0 },
    { method: 'retrain', test: args.test(retrained), parameters: theta.length, distanceToRetrain: 0, distanceToWarm: distance(thetaRetrain, thetaWarm), seconds: retrainSeconds },
    { method: 'retrain-warm', test: args.test(warm), parameters: theta.length, distanceToRetrain: distance(thetaWarm, thetaRetrain), distanceToWarm: 0, seconds: warmSeconds },
  ];
  const deltas: Record<string, Float64Array> = {};
  // the scoring pass also yields the target gradient, so every method pays for it once
  const overhead = Math.max(args.selectionSeconds, args.gradientSeconds);
  // the step search is part of what the chosen-step metrics cost: timed, and counted in `seconds`
  // θ*'s share of the search (its activations on the validation inputs, line-search.ts) is
  // computed once here and charged to every edit, since an edit run alone would pay it too
  let started = performance.now();
  const search = lineSearch(args.net, params, args.validation.inputs, { batchSize: s.searchBatchSize });
  const searchSetupSeconds = (performance.now() - started) / 1000;
  const chooseStep = (delta: Float64Array): StepChoice => {
    started = performance.now();
    const line = search.along(delta);
    const best = bestStep(line, s.stepGrid.map((k) => k * thetaNorm), { score: (p) => args.validation.metrics(p).score, ideal: args.validation.ideal });
    return {
      length: s.stepGrid[best.index]! * thetaNorm, atEdge: best.index === 0 || best.index === s.stepGrid.length - 1, score: best.score,
      seconds: (performance.now() - started) / 1000,
    };
  };
  for (const method of s.methods) {
    const trials = tried.filter((t) => t.edit.method === method).map((t) => ({ ...t, best: chooseStep(t.edit.delta) }));
    const chosenTrial = bestOnValidation(trials);
    const { edit, best, damping } = chosenTrial;
    deltas[method] = edit.delta;
    const plainStep = norm(edit.delta);
    const chosen = along(theta, edit.delta, best.length, params);
    const chosenVec = toVector(chosen);
    const test = args.test(chosen);
    const usesSelection = SELECTION_METHODS.includes(method);
    const searchSeconds = searchSetupSeconds + sum(trials, (t) => t.best.seconds);
    rows.push({
      method, test, plain: args.test(along(theta, edit.delta, plainStep, params)),
      step: best.length, plainStep, stepAtEdge: best.atEdge, validationScore: best.score, parameters: usesSelection ? args.selection.indices.length : theta.length,
      ...(method === 'GA' ? {} : { damping }),
      // the chosen λ's test metrics are the row's: evaluated once
      ...(trials.length > 1 ? { dampingTrials: trials.map((t) => ({ damping: t.damping, validationScore: t.best.score, test: t === chosenTrial ? test : args.test(along(theta, t.edit.delta, t.best.length, params)), hvps: t.edit.hvps })) } : {}),
      distanceToRetrain: distance(chosenVec, thetaRetrain), distanceToWarm: distance(chosenVec, thetaWarm),
      hvps: sum(trials, (t) => t.edit.hvps), seconds: sum(trials, (t) => t.edit.wallMs / 1000) + (usesSelection ? overhead : args.gradientSeconds) + searchSeconds, searchSeconds,
      residual: edit.diagnostics?.relativeResidual, converged: edit.diagnostics?.converged,
    });
  }
  // the sweep: GIF (CGLS), FIF and PIF at every ratio and selector, on the same H and g, each at
  // every λ with the λ chosen on validation as above
  const sweep: SweepPoint[] = [];
  if (s.sweepRatios.length) {
    const kOpts = { tolerance: s.tolerance, maxIterations: s.krylovIterations };
    const fullDeltas = dampings.map((damping) => {
      const done = tried.find((t) => t.edit.method === 'IF' && t.damping === damping);
      if (done) return done.edit.delta;
      progress.stage?.(`sweep: IF for PIF${dampings.length > 1 ? ` (λ = ${damping})` : ''}`);
      return ifEdit(dampedOperator(args.H, damping), args.g, kOpts).delta;
    });
    for (const selector of s.sweepSelectors) {
      for (const ratio of s.sweepRatios) {
        progress.stage?.(`sweep: ${selector} selection at ${(100 * ratio).toFixed(1)}%`);
        const J = selectFromScores(args.net, args.scores, { ...s, ratio, selector }).indices;
        const byMethod: Record<SweepPoint['method'], { damping: number; delta: Float64Array; hvps: number; seconds: number; best: StepChoice }[]> = { 'GIF-CGLS': [], FIF: [], PIF: [] };
        dampings.forEach((damping, i) => {
          const H = dampedOperator(args.H, damping);
          const gif = gifEdit(H, J, args.g, { solver: 'cgls', ...kOpts });
          const fif = fifEdit(H, J, args.g, kOpts);
          const pif = new Float64Array(theta.length);
          for (const j of J) pif[j] = fullDeltas[i]![j]!;
          byMethod['GIF-CGLS'].push({ damping, delta: gif.delta, hvps: gif.hvps, seconds: gif.wallMs / 1000, best: chooseStep(gif.delta) });
          byMethod.FIF.push({ damping, delta: fif.delta, hvps: fif.hvps, seconds: fif.wallMs / 1000, best: chooseStep(fif.delta) });
          byMethod.PIF.push({ damping, delta: pif, hvps: 0, seconds: 0, best: chooseStep(pif) });
        });
        for (const method of ['GIF-CGLS', 'FIF', 'PIF'] as const) {
          const trials = byMethod[method];
          const { delta, best, damping } = bestOnValidation(trials);
          const searchSeconds = searchSetupSeconds + sum(trials, (t) => t.best.seconds);
          sweep.push({
            ratio, selector, method, parameters: J.length, hvps: sum(trials, (t) => t.hvps), seconds: sum(trials, (t) => t.seconds) + searchSeconds, searchSeconds,
            stepAtEdge: best.atEdge, validationScore: best.score, damping,
            test: args.test(along(theta, delta, best.length, params)), plain: args.test(along(theta, delta, norm(delta), params)),
          });
        }
      }
    }
  }
  return {
    task: args.task, description: args.description, n: args.n, m: args.m, parameterCount: theta.length,
    selection: args.selection, rows, selectionSeconds: args.selectionSeconds, retrainSeconds, settings: s, deltas, groundTruth, sweep,
  };
}

/** Retrains from scratch and warm-started, timing each. */
function retrainBoth(retrain: (warm: boolean) => Params, progress: TaskProgress): GroundTruth {
  progress.stage?.('retrain from scratch');
  let t0 = performance.now();
  const scratch = retrain(false);
  const scratchSeconds = (performance.now() - t0) / 1000;
  progress.stage?.('retrain warm-started from θ*');
  t0 = performance.now();
  const warm = retrain(true);
  return { scratch, scratchSeconds, warm, warmSeconds: (performance.now() - t0) / 1000 };
}

function retrainer(net: Sequential, params: Params, data: Dataset, recipe: Recipe): (warm: boolean) => Params {
  return (warm) => {
    const dtype = (params.find((p) => 'weight' in p) as { weight: Tensor } | undefined)?.weight.dtype ?? 'float64';
    const start = warm ? params : net.init(new Rng(recipe.initSeed ?? 0), dtype);
    const { warmEpochs = 2, initSeed: _i, weightDecay, ...options } = recipe;
    return train(net, start, data, { ...options, weightDecay, epochs: warm ? warmEpochs : options.epochs }).params;
  };
}

// ------------------------------------------------------------------------------ class removal

function classMetrics(net: Sequential, params: Params, data: Dataset, removed: number): Metrics {
  return classMetricsOf(predict(net, params, data.x), data.y, removed);
}

function classMetricsOf(pred: Int32Array, labels: Int32Array, removed: number): Metrics {
  let rightT = 0, nT = 0, rightS = 0, nS = 0;
  labels.forEach((y, i) => {
    if (y === removed) { nS++; if (pred[i] === y) rightS++; } else { nT++; if (pred[i] === y) rightT++; }
  });
  const t = rightT / Math.max(1, nT), s = rightS / Math.max(1, nS);
  const f1 = (1 - s) + t === 0 ? 0 : (2 * (1 - s) * t) / ((1 - s) + t);
  return { retainedAccuracy: t, removedAccuracy: s, f1, score: f1 };
}

function classLosses(net: Sequential, params: Params, data: Dataset, removed: number): { retainedLoss: number; removedLoss: number } {
  const idxR: number[] = [], idxS: number[] = [];
  data.y.forEach((y, i) => (y === removed ? idxS : idxR).push(i));
  const loss = (idx: number[]) => (idx.length ? evaluate(net, params, subset(data, idx)).loss : Number.NaN);
  return { retainedLoss: loss(idxR), removedLoss: loss(idxS) };
}

/** Inputs of {@link removeClass}. */
export interface ClassRemovalSetup {
  readonly net: Sequential;
  /** θ*, trained on `train` with `recipe`. */
  readonly params: Params;
  readonly train: Dataset;
  /** Held out from training; the step of each edit is chosen on it. */
  readonly validation: Dataset;
  readonly test: Dataset;
  readonly removedClass: number;
  readonly recipe: Recipe;
  /** Retrained models of this same removal (e.g. `result.groundTruth` of an earlier run); retrained when absent. */
  readonly groundTruth?: GroundTruth;
}

/**
 * The right-hand side g of a removal edit: `Σ_U (∇ℓ(z) + wd·θ*) / (n − m)` from the mean target
 * gradient. Each removed sample also takes its share `(wd/2)‖θ‖²` of the summed objective with
 * it, so at a stationary θ* the Newton step of the retained objective is exactly `H⁻¹g` with
 * this g — the convention of influence/ (docs/influence.md). SPEC §4's `m/(n − m)·mean ∇ℓ`
 * leaves out `m·wd·θ* / (n − m)`.
 * @example removalGradient(meanTargetGradient, toVector(params), m, n, 1e-3)
 */
export function removalGradient(meanTargetGradient: Float64Array, theta: Float64Array, m: number, n: number, weightDecay: number): Float64Array {
  if (!(m >= 1 && m < n)) throw new ValueError(`removalGradient: need 1 ≤ m < n, got m = ${m}, n = ${n}`);
  if (theta.length !== meanTargetGradient.length) throw new ValueError(`removalGradient: θ has ${theta.length} entries, the gradient ${meanTargetGradient.length}`);
  return meanTargetGradient.map((v, i) => (m * (v + weightDecay * theta[i]!)) / (n - m));
}

/**
 * Class removal (SPEC §5): remove every training sample of `removedClass`. Hessian batch from
 * the retained samples, target = the removed class; metrics on the test set: retained accuracy
 * t, removed accuracy s, F1 = 2(1−s)t/((1−s)+t).
 * @example
 * const result = removeClass({ net, params, train, validation, test, removedClass: 3, recipe }, { ratio: 0.05 });
 * console.table(result.rows.map((r) => ({ method: r.method, f1: r.test.f1 })));
 */
export function removeClass(setup: ClassRemovalSetup, settings: EditSettings = {}, progress: TaskProgress = {}): TaskResult {
  const { net, params, train: data, validation, test, removedClass: c, recipe } = setup;
  if (!Number.isInteger(c) || c < 0 || c >= data.classes) throw new ValueError(`removeClass: class ${c} is outside [0, ${data.classes})`);
  const s = defaults(settings);
  const n = data.y.length;
  const targetIdx = Int32Array.from(Array.from(data.y.keys()).filter((i) => data.y[i] === c));
  const retainedIdx = Int32Array.from(Array.from(data.y.keys()).filter((i) => data.y[i] !== c));
  const m = targetIdx.length;
  if (m === 0) throw new ValueError(`removeClass: the training set has no sample of class ${c}`);
  const target = subset(data, targetIdx);

  // one forward and backward pass over the target samples: unit scores and the target gradient
  progress.stage?.('score and select parameters, target gradient');
  const t0 = performance.now();
  const { selection, scores } = chooseParameters(net, params, target.x, (o, r) => crossEntropy(o, target.y.subarray(r.start, r.end)), s);
  const gMean = scores.targetGradient;
  const g = removalGradient(gMean, toVector(params), m, n, recipe.weightDecay);
  const selectionSeconds = (performance.now() - t0) / 1000;
  const gradientSeconds = selectionSeconds;
  progress.stage?.('Hessian batch');
  const objective = ceObjective(net, recipe.weightDecay);
  const rng = new Rng(s.seed);
  const hBatch = subset(data, sample(retainedIdx, s.hessianSamples, rng));
  const H = hessianOperator(objective, params, [{ x: hBatch.x, y: hBatch.y }]); // undamped: runTask adds each λ
  const hu = subset(target, sample(Int32Array.from({ length: m }, (_, i) => i), s.targetHessianSamples, new Rng(s.seed + 1)));
  const sif = (): SecondOrderTarget => ({
    targetHessian: scaled(hessianOperator({ loss: objective.loss }, params, [{ x: hu.x, y: hu.y }]), m),
    targetGradientSum: gMean.map((v) => v * m), n, m, weightDecay: recipe.weightDecay,
  });

  const retained = subset(data, retainedIdx);
  return runTask({
    task: 'remove-class', description: `remove class ${c} (${m} of ${n} training samples)`, net, params, n, m, H, g, selection, scores,
    selectionSeconds, gradientSeconds, settings: s, sif, progress,
    validation: {
      inputs: [validation.x], metrics: ([pred]) => classMetricsOf(pred!, validation.y, c),
      ideal: [validation.y.map((y) => (y === c ? (c + 1) % validation.classes : y))], // the removed class predicted as any other
    },
    test: (p) => ({ ...classMetrics(net, p, test, c), ...classLosses(net, p, test, c) }),
    retrain: retrainer(net, params, retained, recipe), groundTruth: setup.groundTruth,
  });
}

/** `factor·A` as an operator (the Hessian of a summed loss from the Hessian of its mean). */
function scaled(A: LinearOperator, factor: number): LinearOperator {
  return { size: A.size, apply: (v) => A.apply(v).map((x) => x * factor), get hvps() { return A.hvps; } };
}

// ------------------------------------------------------------------------------ backdoor

/** Inputs of {@link correctBackdoor}. */
export interface BackdoorSetup {
  readonly net: Sequential;
  /** θ*, trained on the poisoned `train` with `recipe`. */
  readonly params: Params;
  /** The poisoned training set (triggered samples carry label 4). */
  readonly train: Dataset;
  /** Indices into `train` of the poisoned samples and their true labels. */
  readonly poisoned: Int32Array;
  readonly trueLabels: Int32Array;
  readonly validation: Dataset;
  readonly test: Dataset;
  readonly recipe: Recipe;
  /** The backdoor label [4]. */
  readonly targetLabel?: number;
  /** Retrained models of this same correction (e.g. `result.groundTruth` of an earlier run); retrained when absent. */
  readonly groundTruth?: GroundTruth;
}

function backdoorMetrics(net: Sequential, params: Params, clean: Dataset, triggered: Tensor, trueLabels: Int32Array, targetLabel: number): Metrics {
  return backdoorMetricsOf(predict(net, params, clean.x), clean.y, predict(net, params, triggered), trueLabels, targetLabel);
}

function backdoorMetricsOf(cleanPred: Int32Array, cleanLabels: Int32Array, pred: Int32Array, trueLabels: Int32Array, targetLabel: number): Metrics {
  const cleanAcc = predictAccuracy(cleanPred, cleanLabels);
  let relabel = 0, corrupt = 0;
  pred.forEach((p, i) => { if (p === trueLabels[i]) relabel++; if (p === targetLabel) corrupt++; });
  const r = relabel / Math.max(1, pred.length), cA = corrupt / Math.max(1, pred.length);
  const score = cleanAcc + r === 0 ? 0 : (2 * cleanAcc * r) / (cleanAcc + r);
  return { cleanAccuracy: cleanAcc, relabelAccuracy: r, corruptAccuracy: cA, score };
}

function predictAccuracy(pred: Int32Array, y: Int32Array): number {
  let right = 0;
  pred.forEach((p, i) => (right += p === y[i] ? 1 : 0));
  return right / Math.max(1, pred.length);
}

/** The samples of `ds` whose label is not `label`, with the trigger added (for relabel/corrupt accuracy). */
function triggeredExcept(ds: Dataset, label: number): { x: Tensor; y: Int32Array } {
  const idx = Int32Array.from(Array.from(ds.y.keys()).filter((i) => ds.y[i] !== label));
  const sub_ = subset(ds, idx);
  return { x: addTrigger(sub_.x), y: sub_.y };
}

/**
 * Label change / backdoor correction (SPEC §5): the poisoned samples' target loss is
 * `CE(triggered, 4) − CE(triggered, true label)` (scaled by m/(n−m) of its mean), the Hessian
 * batch is clean training data. Test metrics: clean accuracy, relabel accuracy (triggered test
 * images vs their true labels, ↑), corrupt accuracy (triggered vs 4, ↓); test images whose true
 * label is 4 are left out of the triggered sets, where both would count the same prediction.
 * @example const result = correctBackdoor({ net, params, train, poisoned, trueLabels, validation, test, recipe });
 */
export function correctBackdoor(setup: BackdoorSetup, settings: EditSettings = {}, progress: TaskProgress = {}): TaskResult {
  const { net, params, train: data, poisoned, trueLabels, validation, test, recipe } = setup;
  const label = setup.targetLabel ?? BACKDOOR_LABEL;
  const s = defaults(settings);
  const n = data.y.length, m = poisoned.length;
  if (m === 0 || m >= n) throw new ValueError(`correctBackdoor: need 0 < poisoned samples < n, got ${m} of ${n}`);
  if (trueLabels.length !== m) throw new ValueError(`correctBackdoor: ${trueLabels.length} true labels for ${m} poisoned samples`);
  const target = subset(data, poisoned);
  const targetLoss = (o: Tensor, r: Rows): Tensor => sub(crossEntropy(o, target.y.subarray(r.start, r.end)), crossEntropy(o, trueLabels.subarray(r.start, r.end)));

  // one forward and backward pass over the target samples: unit scores and the target gradient
  progress.stage?.('score and select parameters, target gradient');
  const t0 = performance.now();
  const { selection, scores } = chooseParameters(net, params, target.x, targetLoss, s);
  const gMean = scores.targetGradient;
  const g = gMean.map((v) => (v * m) / (n - m));
  const selectionSeconds = (performance.now() - t0) / 1000;
  const gradientSeconds = selectionSeconds;
  progress.stage?.('Hessian batch');
  const isPoisoned = new Uint8Array(n);
  poisoned.forEach((i) => (isPoisoned[i] = 1));
  const cleanIdx = Int32Array.from(Array.from(data.y.keys()).filter((i) => !isPoisoned[i]));
  const hBatch = subset(data, sample(cleanIdx, s.hessianSamples, new Rng(s.seed)));
  const objective = ceObjective(net, recipe.weightDecay);
  const H = hessianOperator(objective, params, [{ x: hBatch.x, y: hBatch.y }]); // undamped: runTask adds each λ
  const huIdx = sample(Int32Array.from({ length: m }, (_, i) => i), s.targetHessianSamples, new Rng(s.seed + 1));
  const hu = subset(target, huIdx);
  const huTrue = Int32Array.from(huIdx, (i) => trueLabels[i]!);
  // SIF for a label change: H_U of the change of loss, and the triggered samples' loss as trained
  // (label 4) inside the full-data Hessian (edits.ts)
  const sif = (): SecondOrderTarget => ({
    targetHessian: scaled(hessianOperator({
      loss: (p: Params, b: XY) => { const out = net.apply(p, b.x); return sub(crossEntropy(out, b.y), crossEntropy(out, huTrue)); },
    }, params, [{ x: hu.x, y: hu.y }]), m),
    targetGradientSum: gMean.map((v) => v * m), n, m, weightDecay: recipe.weightDecay,
    labelChange: { trainedHessian: scaled(hessianOperator({ loss: objective.loss }, params, [{ x: hu.x, y: hu.y }]), m) },
  });

  // corrected training data: the triggered images keep their trigger but get their true labels back
  const correctedY = data.y.slice();
  poisoned.forEach((i, k) => (correctedY[i] = trueLabels[k]!));
  const corrected: Dataset = { x: data.x, y: correctedY, classes: data.classes };
  const valTrig = triggeredExcept(validation, label), testTrig = triggeredExcept(test, label);
  return runTask({
    task: 'backdoor', description: `correct a backdoor (${m} of ${n} training samples triggered and labelled ${label})`, net, params, n, m, H, g,
    selection, scores, selectionSeconds, gradientSeconds, settings: s, sif, progress,
    validation: {
      inputs: [validation.x, valTrig.x], metrics: ([clean, triggered]) => backdoorMetricsOf(clean!, validation.y, triggered!, valTrig.y, label),
      ideal: [validation.y, valTrig.y], // clean and triggered digits alike read as their true labels
    },
    test: (p) => backdoorMetrics(net, p, test, testTrig.x, testTrig.y, label),
    retrain: retrainer(net, params, corrected, recipe), groundTruth: setup.groundTruth,
  });
}
