/**
 * gpu.js backend benchmark, per backend and mode: gift's CPU backend beside `gpu:<mode>` for
 * every gpu.js mode this process supports (run under `xvfb-run -a` to include headlessgl).
 *
 * - kernel launch overhead: a 1-element kernel, launched many times, one readback at the end;
 * - upload (fromArray) and readback (toArray) cost over sizes;
 * - square float32 matmul over sizes, and the smallest size where each mode beats the CPU;
 * - gradient-free HVPs of the benchmark CNN over batch sizes, with its crossover batch;
 * - live device buffers over a long loop of HVPs under `tidy` (10,000; 1,000 with --quick).
 *
 * Device work is timed up to a readback, because GL calls return before the GPU finishes.
 * `--quick` shortens everything; `--modes=webasm,cpu` restricts the gpu.js modes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import {
  add, ConcreteTensor, findBackend, hvp, matmul, Rng, setBackend, sum, tanh, tensor, type Backend, type Tensor,
} from '../engine/index.js';
import { flattenTree } from '../engine/tree.js';
import {
  GPU_MODES, GpuBackend, gpuBackendName, gpuModeSupport, tidy, type GpuMode,
} from '../engine/backends/gpu/index.js';
import { cnnWorkload } from './workloads.js';

/** Median ms per call of `fn` over about `budgetMs`, after one warm-up call (compiles kernels). */
function median(fn: () => void, budgetMs: number, minCalls = 3, maxCalls = 2000): number {
  fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minCalls || (performance.now() - start < budgetMs && samples.length < maxCalls)) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

const f = (x: number | null, digits = 3): string => (x === null ? '—' : x >= 100 ? x.toFixed(0) : x.toPrecision(digits));

function randomArray(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

interface Row { backend: string; [key: string]: number | string | null }

/** Launch overhead: 200 dependent 1-element kernels, then one readback. */
function launchOverhead(b: Backend, budgetMs: number): number {
  const x = b.fromArray([1], [1], 'float32');
  return median(() => {
    let y = x;
    for (let i = 0; i < 200; i++) {
      const next = b.unary('neg', y);
      if (y !== x) b.dispose(y);
      y = next;
    }
    b.toArray(y);
    b.dispose(y);
  }, budgetMs) / 200;
}

function transfer(b: Backend, n: number, budgetMs: number): { uploadMs: number; readbackMs: number } {
  const host = randomArray(n, n);
  const uploadMs = median(() => {
    const x = b.fromArray(host, [n], 'float32');
    b.dispose(x);
  }, budgetMs / 2);
  const x = b.fromArray(host, [n], 'float32');
  const readbackMs = median(() => { b.toArray(x); }, budgetMs / 2);
  b.dispose(x);
  return { uploadMs, readbackMs };
}

/** ms of one n×n×n matmul: 4 chained products (a·b, then ·b again), then a readback. */
function matmulMs(b: Backend, n: number, budgetMs: number): number {
  const a = b.fromArray(randomArray(n * n, 1).map((v) => v / n), [n, n], 'float32');
  const m = b.fromArray(randomArray(n * n, 2).map((v) => v / Math.sqrt(n)), [n, n], 'float32');
  const ms = median(() => {
    let y = a;
    for (let i = 0; i < 4; i++) {
      const next = b.matmul(y, m, false, false);
      if (y !== a) b.dispose(y);
      y = next;
    }
    b.toArray(y);
    b.dispose(y);
  }, budgetMs, 2, 50) / 4;
  b.dispose(a);
  b.dispose(m);
  return ms;
}

/** ms of one HVP of the benchmark CNN at `batch`, with the result read back. */
function cnnHvpMs(name: string, batch: number, budgetMs: number): number {
  setBackend(name);
  const w = cnnWorkload('float32', batch, 1);
  const rng = new Rng(5);
  const v = Object.fromEntries(Object.entries(w.params).map(([k, p]) => [k, rng.normalTensor(p.shape, 0, 1, 'float32')]));
  const ms = median(() => {
    tidy(() => {
      const hv = hvp(w.loss, w.params, v);
      for (const leaf of flattenTree(hv).leaves) leaf.toArray();
    });
  }, budgetMs, 2, 100);
  setBackend('cpu');
  return ms;
}

/** Live device buffers over `count` HVPs of a small tanh MLP, each inside `tidy`. */
function memoryLoop(name: string, count: number): { checkpoints: { hvps: number; liveBuffers: number; liveBytes: number; rssMiB: number }[]; ms: number } {
  setBackend(name);
  const backend = findBackend(name) as GpuBackend;
  const rng = new Rng(3);
  const x = rng.normalTensor([16, 32], 0, 1, 'float32');
  const w = { w1: rng.normalTensor([32, 16], 0, 0.2, 'float32'), w2: rng.normalTensor([16, 4], 0, 0.2, 'float32') };
  const v = { w1: rng.normalTensor([32, 16], 0, 1, 'float32'), w2: rng.normalTensor([16, 4], 0, 1, 'float32') };
  const loss = (p: typeof w): Tensor => sum(tanh(matmul(tanh(matmul(x, p.w1)), p.w2)));
  let total: Tensor = tensor(new Float32Array([0]), [1]);
  const checkpoints: { hvps: number; liveBuffers: number; liveBytes: number; rssMiB: number }[] = [];
  const t0 = performance.now();
  for (let i = 1; i <= count; i++) {
    const next = tidy(() => add(total, sum(hvp(loss, w, v).w2)));
    if (total instanceof ConcreteTensor) total.dispose();
    total = next;
    if (i === 1 || i % Math.max(1, Math.floor(count / 5)) === 0) {
      const info = backend.info();
      checkpoints.push({ hvps: i, liveBuffers: info.liveBuffers, liveBytes: info.liveBytes, rssMiB: process.memoryUsage().rss / 2 ** 20 });
    }
  }
  total.toArray();
  const ms = (performance.now() - t0) / count;
  setBackend('cpu');
  return { checkpoints, ms };
}

/** The smallest size at which `ms` beats the CPU's, or null. */
function crossover(sizes: readonly number[], cpu: readonly number[], ms: readonly number[]): number | null {
  const i = sizes.findIndex((_, k) => ms[k]! < cpu[k]!);
  return i < 0 ? null : sizes[i]!;
}

export async function run(args: string[]): Promise<unknown> {
  const quick = args.includes('--quick');
  const only = args.find((a) => a.startsWith('--modes='))?.slice('--modes='.length).split(',');
  const budget = quick ? 150 : 1000;
  const modes = GPU_MODES.filter((m) => gpuModeSupport()[m] && (!only || only.includes(m)));
  const skipped = GPU_MODES.filter((m) => !gpuModeSupport()[m]);
  const backends = ['cpu', ...modes.map(gpuBackendName)];
  console.log(`node ${process.version}; gpu.js modes: ${modes.join(', ')}; unsupported here: ${skipped.join(', ') || 'none'}`);
  console.log(`${quick ? 'quick' : 'full'} run; medians; noisy on a shared machine. headlessgl under Xvfb is Mesa's software renderer (llvmpipe), not a GPU.`);

  // launch and transfer
  const transferSizes = quick ? [1e3, 1e5] : [1e3, 1e4, 1e5, 1e6];
  const overhead: Row[] = [];
  for (const name of backends) {
    const b = findBackend(name)!;
    const row: Row = { backend: name, launchMs: launchOverhead(b, budget) };
    for (const n of transferSizes) {
      const t = transfer(b, n, budget);
      row[`upload${n}`] = t.uploadMs;
      row[`readback${n}`] = t.readbackMs;
    }
    overhead.push(row);
  }
  console.log(`\nbackend          launch ms  ${transferSizes.map((n) => `up ${n.toExponential(0)} ms  down ${n.toExponential(0)} ms`).join('  ')}`);
  for (const r of overhead) {
    console.log(`${r.backend.padEnd(16)} ${f(r.launchMs as number).padStart(9)}  ${transferSizes.map((n) => `${f(r[`upload${n}`] as number).padStart(11)}  ${f(r[`readback${n}`] as number).padStart(12)}`).join('  ')}`);
  }

  // matmul
  const matSizes = quick ? [16, 64, 128] : [16, 32, 64, 128, 256, 384];
  const matmulRows: Row[] = [];
  const cpuMat = matSizes.map((n) => matmulMs(findBackend('cpu')!, n, budget));
  matmulRows.push({ backend: 'cpu', ...Object.fromEntries(matSizes.map((n, k) => [`n${n}`, cpuMat[k]!])), crossover: null });
  for (const name of backends.slice(1)) {
    const ms = matSizes.map((n) => matmulMs(findBackend(name)!, n, budget));
    matmulRows.push({ backend: name, ...Object.fromEntries(matSizes.map((n, k) => [`n${n}`, ms[k]!])), crossover: crossover(matSizes, cpuMat, ms) });
  }
  console.log(`\nfloat32 matmul n×n·n×n, ms per product\nbackend          ${matSizes.map((n) => `n=${n}`.padStart(8)).join(' ')}  beats cpu from n=`);
  for (const r of matmulRows) console.log(`${r.backend.padEnd(16)} ${matSizes.map((n) => f(r[`n${n}`] as number).padStart(8)).join(' ')}  ${r.backend === 'cpu' ? '' : f(r.crossover as number | null)}`);

  // CNN HVP
  const batches = quick ? [1, 8] : [1, 8, 32, 64];
  const hvpRows: Row[] = [];
  const cpuHvp = batches.map((n) => cnnHvpMs('cpu', n, budget));
  hvpRows.push({ backend: 'cpu', ...Object.fromEntries(batches.map((n, k) => [`b${n}`, cpuHvp[k]!])), crossover: null });
  for (const name of backends.slice(1)) {
    const ms = batches.map((n) => cnnHvpMs(name, n, budget));
    hvpRows.push({ backend: name, ...Object.fromEntries(batches.map((n, k) => [`b${n}`, ms[k]!])), crossover: crossover(batches, cpuHvp, ms) });
  }
  console.log(`\nbenchmark CNN HVP (float32), ms per HVP incl. readback\nbackend          ${batches.map((n) => `batch ${n}`.padStart(9)).join(' ')}  beats cpu from batch`);
  for (const r of hvpRows) console.log(`${r.backend.padEnd(16)} ${batches.map((n) => f(r[`b${n}`] as number).padStart(9)).join(' ')}  ${r.backend === 'cpu' ? '' : f(r.crossover as number | null)}`);

  // memory under tidy, in the best mode
  const count = quick ? 1000 : 10000;
  let memory: { mode: GpuMode; count: number; msPerHvp: number; checkpoints: unknown[] } | null = null;
  if (modes.length > 0) {
    const mode = modes[0]!;
    const m = memoryLoop(gpuBackendName(mode), count);
    memory = { mode, count, msPerHvp: m.ms, checkpoints: m.checkpoints };
    console.log(`\n${count} HVPs (tanh MLP 32-16-4, batch 16) under tidy on gpu:${mode}: ${f(m.ms)} ms/HVP`);
    for (const c of m.checkpoints) console.log(`  ${String(c.hvps).padStart(6)} hvps: ${c.liveBuffers} live buffers, ${f(c.liveBytes / 1024, 3)} KiB, RSS ${f(c.rssMiB, 3)} MiB`);
  }

  const infos = backends.slice(1).map((name) => (findBackend(name) as GpuBackend).info());
  const result = { date: new Date().toISOString(), node: process.version, quick, modes, skipped, overhead, matmul: matmulRows, cnnHvp: hvpRows, memory, infos };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/gpu.json', JSON.stringify(result, null, 2));
  console.log('\nwrote bench/results/gpu.json');
  return result;
}
