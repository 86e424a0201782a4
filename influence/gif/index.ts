/**
 * gift/influence/gif: Generalized Influence Functions (SPEC §4–5) — parameter selection, the
 * GIF least-squares edit with the convergent (Richardson) and Krylov (CGLS) solvers, the FIF,
 * PIF, IF and SIF baselines, the zero-HVP control GA, and the class-removal, backdoor and
 * group-removal tasks against retraining. See docs/gif.md.
 * @module
 */
export {
  solveGifRichardson, solveGifKrylov, leastSquaresCgls, columnOperator, principalSubmatrix, symmetricOperator,
  type SolverDiagnostics, type LeastSquaresSolution, type RectangularOperator, type KrylovOptions, type RichardsonOptions,
} from './solvers.js';
export { gifEdit, fifEdit, pifEdit, ifEdit, sifEdit, gaEdit, applyEdit, EDIT_METHODS, SELECTION_METHODS, type Edit, type EditMethod, type SecondOrderProblem } from './edits.js';
export {
  selectParameters, selectByThreshold, describeSelection,
  type Selection, type LayerSelection, type SelectableLayer, type SelectionOrder,
} from './selection.js';
export { unitScores, SCORING_BATCH, type UnitScores, type UnitScoreOptions, type Rows } from './scores.js';
export { bestStep, lineSearch, LINE_SEARCH_BATCH, type LineSearch, type LineSearchOptions, type Line, type LineChunk, type StepObjective, type StepSearch } from './line-search.js';
