/**
 * The gift engine: tensors, primitives with their differentiation rules, and the transforms
 * (grad, vjp, jvp, hvp, linearize). Read in this order to learn autodiff from it: tensor.ts, trace.ts,
 * primitives/mul.ts, composite.ts, transforms/jvp.ts, transforms/vjp.ts, transforms/grad.ts,
 * transforms/hvp.ts, transforms/linearize.ts, then backend.ts and backends/cpu.ts. docs/autodiff.md is the guided tour.
 * @module
 */
export * from './ops.js';
export * from './errors.js';
export type { DType, TypedArray } from './dtype.js';
export type { Shape } from './shape.js';
export { broadcastShapes, sizeOf } from './shape.js';
export {
  Tensor, ConcreteTensor, tensor, full, zeros, ones, scalar, zerosLike, onesLike, arange,
  getDefaultDType, setDefaultDType, type TensorLike, type NestedArray,
} from './tensor.js';
export { bind, definePrimitive, Trace, Tracer, type Primitive, type MaybeTensor } from './trace.js';
export { flattenTree, leavesLike, mapTree, zipTree, TreeError, type Tree } from './tree.js';
export { toVector, fromVector, treeSize } from './flat.js';
export { jvp } from './transforms/jvp.js';
export { vjp } from './transforms/vjp.js';
export { grad, valueAndGrad } from './transforms/grad.js';
export { hvp, hvpReverse, hessian } from './transforms/hvp.js';
export { linearize } from './transforms/linearize.js';
export { Rng } from './random.js';
export type { Backend, Buffer, UnaryOp, BinaryOp, Conv2dGeometry, PoolGeometry } from './backend.js';
export { registerBackend, setBackend, getBackend, findBackend } from './backends/registry.js';
export { cpuBackend } from './backends/cpu.js';
