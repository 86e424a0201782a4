/**
 * gift: Generalized Influence Functions in TypeScript.
 *
 * The root module re-exports the engine flat (tensors, ops, transforms) and the other layers as
 * namespaces, because their names would otherwise clash (nn and influence both have a
 * `Dataset`). Each layer is also its own entry point: `gift/engine`, `gift/nn`,
 * `gift/influence`, `gift/gpu`.
 * @module
 */
export * from './engine/index.js';
export * as nn from './nn/index.js';
export * as influence from './influence/index.js';
