/**
 * Optimizers and learning-rate schedules, with PyTorch's update rules. An optimizer keeps its
 * state (momentum buffers, Adam moments) per leaf of the parameter tree and returns new
 * parameters: tensors are immutable. Updates are engine ops, so they run on any backend.
 */
import { ValueError, add, div, flattenTree, leavesLike, mul, sqrt, sub, type Tensor, type Tree } from '../engine/index.js';

/** Takes one step from gradients. `lr` overrides the optimizer's rate (schedules pass it). */
export interface Optimizer {
  step<T extends Tree>(params: T, grads: T, lr?: number): T;
  /** The base learning rate. */
  readonly lr: number;
}

function checkRate(op: string, name: string, v: number, max = Infinity): void {
  if (!Number.isFinite(v) || v < 0 || v > max) throw new ValueError(`${op}: ${name} must be finite and in [0, ${max}], got ${v}`);
}

function leaves(op: string, params: Tree, grads: Tree): { p: Tensor[]; g: Tensor[]; rebuild: (l: readonly Tensor[]) => Tree } {
  const fp = flattenTree(params);
  return { p: fp.leaves, g: leavesLike(params, grads, op, 'grads', 'the parameter tree'), rebuild: fp.unflatten };
}

/** Options of SGD (PyTorch's torch.optim.SGD). */
export interface SgdOptions {
  readonly lr: number;
  readonly momentum?: number;
  /** Adds wd·θ to the gradient (the gradient of (wd/2)‖θ‖²). */
  readonly weightDecay?: number;
  readonly nesterov?: boolean;
}

/**
 * Stochastic gradient descent with momentum and weight decay, as PyTorch: g ← g + wd·θ;
 * b ← μ·b + g (b = g on the first step); θ ← θ − lr·b (Nesterov: θ ← θ − lr·(g + μ·b)).
 * @example
 * const opt = new Sgd({ lr: 0.1, momentum: 0.9 });
 * params = opt.step(params, grad(L)(params, x, y));
 */
export class Sgd implements Optimizer {
  readonly lr: number;
  private readonly momentum: number;
  private readonly weightDecay: number;
  private readonly nesterov: boolean;
  private buffers: Tensor[] | null = null;

  constructor(options: SgdOptions) {
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    checkRate('Sgd', 'lr', this.lr);
    checkRate('Sgd', 'momentum', this.momentum, 1);
    checkRate('Sgd', 'weightDecay', this.weightDecay);
  }

  step<T extends Tree>(params: T, grads: T, lr = this.lr): T {
    checkRate('Sgd', 'lr', lr);
    const { p, g, rebuild } = leaves('Sgd', params, grads);
    const next = p.map((theta, i) => {
      let d = this.weightDecay > 0 ? add(g[i]!, mul(theta, this.weightDecay)) : g[i]!;
      if (this.momentum > 0) {
        const prev = this.buffers?.[i];
        const buf = prev ? add(mul(prev, this.momentum), d) : d;
        (this.buffers ??= [])[i] = buf;
        d = this.nesterov ? add(d, mul(buf, this.momentum)) : buf;
      }
      return sub(theta, mul(d, lr));
    });
    return rebuild(next) as T;
  }
}

/** Options of Adam (PyTorch's torch.optim.Adam). */
export interface AdamOptions {
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** L2 weight decay added to the gradient (Adam, not AdamW — it matches the SPEC objective). */
  readonly weightDecay?: number;
}

/**
 * Adam (Kingma & Ba) as PyTorch: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr·m̂/(√v̂ + ε)
 * with bias-corrected m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
 * @example const opt = new Adam({ lr: 1e-3 });
 */
export class Adam implements Optimizer {
  readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private t = 0;
  private m: Tensor[] = [];
  private v: Tensor[] = [];

  constructor(options: AdamOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    checkRate('Adam', 'lr', this.lr);
    checkRate('Adam', 'beta1', this.beta1, 1);
    checkRate('Adam', 'beta2', this.beta2, 1);
    checkRate('Adam', 'eps', this.eps);
    checkRate('Adam', 'weightDecay', this.weightDecay);
  }

  step<T extends Tree>(params: T, grads: T, lr = this.lr): T {
    checkRate('Adam', 'lr', lr);
    const { p, g, rebuild } = leaves('Adam', params, grads);
    this.t++;
    const c1 = 1 - this.beta1 ** this.t, c2 = 1 - this.beta2 ** this.t;
    const next = p.map((theta, i) => {
      const d = this.weightDecay > 0 ? add(g[i]!, mul(theta, this.weightDecay)) : g[i]!;
      const m = this.m[i] ? add(mul(this.m[i]!, this.beta1), mul(d, 1 - this.beta1)) : mul(d, 1 - this.beta1);
      const v = this.v[i] ? add(mul(this.v[i]!, this.beta2), mul(mul(d, d), 1 - this.beta2)) : mul(mul(d, d), 1 - this.beta2);
      this.m[i] = m;
      this.v[i] = v;
      // PyTorch: θ − (lr/c1)·m / (√v/√c2 + ε)
      return sub(theta, mul(div(m, add(div(sqrt(v), Math.sqrt(c2)), this.eps)), lr / c1));
    });
    return rebuild(next) as T;
  }
}

/** A learning rate per epoch (0-based). */
export type LrSchedule = (epoch: number) => number;

/**
 * The rate multiplied by `gamma` every `stepSize` epochs (PyTorch's StepLR).
 * @example stepLr(0.1, 5, 0.5)(10) // 0.025
 */
export function stepLr(lr: number, stepSize: number, gamma = 0.1): LrSchedule {
  checkRate('stepLr', 'lr', lr);
  if (!Number.isInteger(stepSize) || stepSize < 1) throw new ValueError(`stepLr: stepSize must be a positive integer, got ${stepSize}`);
  checkRate('stepLr', 'gamma', gamma);
  return (epoch) => lr * gamma ** Math.floor(epoch / stepSize);
}

/**
 * Cosine annealing from `lr` at epoch 0 to `minLr` at epoch `epochs` (PyTorch's CosineAnnealingLR
 * with T_max = epochs): lr_e = minLr + (lr − minLr)(1 + cos(π e / epochs))/2.
 * @example cosineLr(0.1, 10)(5) // 0.05
 */
export function cosineLr(lr: number, epochs: number, minLr = 0): LrSchedule {
  checkRate('cosineLr', 'lr', lr);
  checkRate('cosineLr', 'minLr', minLr);
  if (!Number.isInteger(epochs) || epochs < 1) throw new ValueError(`cosineLr: epochs must be a positive integer, got ${epochs}`);
  return (epoch) => minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * Math.min(epoch, epochs)) / epochs))) / 2;
}

/** A constant rate. @example constantLr(0.01)(7) // 0.01 */
export function constantLr(lr: number): LrSchedule {
  checkRate('constantLr', 'lr', lr);
  return () => lr;
}
