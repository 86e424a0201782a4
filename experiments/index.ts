/**
 * The experiments above the library: the embedded MNIST, the backdoor trigger, the MNIST
 * models and their cache, the class-removal, backdoor and group-removal tasks compared with
 * retraining, progress on a terminal, and reports (JSON, Markdown, SVG, HTML). `gift` (cli/)
 * and the benchmarks (bench/) are built on it; the library (engine/, nn/, influence/) knows
 * nothing of it.
 * @module
 */
export * from './mnist.js';
export * from './backdoor.js';
export * from './setup.js';
export * from './mnist-setup.js';
export * from './progress.js';
export * from './tasks.js';
export * from './groups.js';
export * from './report.js';
export * from './images.js';
export * from './results.js';
