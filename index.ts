/** gift: Generalized Influence Functions in TypeScript. */
export * from './engine/index.js';
