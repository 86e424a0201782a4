/**
 * gift/influence: Hessian operators, inverse-HVP solvers (exact, cg, lissa), classic influence
 * queries (removal effects, top-k, self-influence, first/second-order group influence,
 * I_up,loss), leave-group-out retraining as ground truth, and results files.
 *
 * Conventions (docs/influence.md): L(θ) = mean ℓ + (wd/2)‖θ‖²; damping solves (H + λI)x = v;
 * a score is the predicted change of the test loss when training points are removed and the
 * model retrained — positive: helpful, negative: harmful.
 * @module
 */
export * from './operator.js';
export * from './hessian.js';
export * from './errors.js';
export * from './linalg.js';
export * from './solvers.js';
export * from './influence.js';
export * from './retrain.js';
export * from './models.js';
export * as gif from './gif/index.js';
