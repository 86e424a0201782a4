/**
 * Engine benchmark: grad and HVP of an MLP (784-128-10, tanh, cross-entropy, batch 128) in
 * float32 and float64 and of a small CNN (batch 64); matmul throughput beside a naive triple
 * loop; memory over a long loop of HVPs. `--quick` shortens every measurement.
 *
 * FLOPs are counted, not estimated: each workload runs once on a counting backend that wraps
 * the CPU backend (2·M·N·K per matmul, one per output element of other kernels).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { setMatmulKernel, type MatmulKernel } from '../engine/backends/cpu.js';
import { wasmTiles } from '../engine/backends/wasm-tiles.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  cpuBackend, grad, hvp, linearize, matmul, registerBackend, Rng, setBackend, type Backend, type DType,
} from '../engine/index.js';
import { cnnWorkload, mlpWorkload, type Params, type Workload } from './workloads.js';

// ---------- measuring ----------

let gcFunction: (() => void) | null = null;
/** Node's gc(), enabled at run time so `npm run bench` needs no --expose-gc flag. */
function gc(): void {
  if (gcFunction === null) {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as () => void;
  }
  gcFunction();
}

const MiB = 1024 * 1024;

interface Timing {
  /** Median wall-clock milliseconds per call. */
  msPerCall: number;
  /**
   * Median CPU milliseconds per call (user + system, all of the process's threads). On a shared
   * machine this is the steadier number: waiting for a core does not count.
   */
  cpuMsPerCall: number;
  calls: number;
  peakRssMiB: number;
  peakHeapMiB: number;
}

/**
 * Median time per call of each function, over alternating calls filling about `budgetMs` after
 * a warm-up. Alternating matters on a shared machine: both see the same background load, so
 * their ratio (hvp/grad, engine/naive) is steadier than either time alone.
 */
function timeEach(fns: readonly (() => void)[], budgetMs: number, minCalls = 5): Timing[] {
  for (const fn of fns) for (let i = 0; i < 2; i++) fn();
  gc();
  const samples = fns.map(() => [] as number[]);
  const cpuSamples = fns.map(() => [] as number[]);
  let peakRss = 0, peakHeap = 0;
  const start = performance.now();
  while (samples[0]!.length < minCalls || performance.now() - start < budgetMs) {
    fns.forEach((fn, i) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fn();
      samples[i]!.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpuSamples[i]!.push((c.user + c.system) / 1000);
    });
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed + m.arrayBuffers);
    if (samples[0]!.length >= 10000) break;
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  return samples.map((s, i) => ({
    msPerCall: median(s), cpuMsPerCall: median(cpuSamples[i]!), calls: s.length, peakRssMiB: peakRss / MiB, peakHeapMiB: peakHeap / MiB,
  }));
}

/** A backend that forwards to the CPU and counts floating-point operations. */
function countingBackend(): { backend: Backend; flops: () => number; reset: () => void } {
  let flops = 0;
  const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
  const backend: Backend = {
    ...cpuBackend,
    name: 'cpu-flop-count',
    unary(op, x) { flops += size(x.shape); return cpuBackend.unary(op, x); },
    binary(op, a, b) { flops += size(a.shape); return cpuBackend.binary(op, a, b); },
    pow(x, p) { flops += size(x.shape); return cpuBackend.pow(x, p); },
    where(c, a, b) { flops += size(a.shape); return cpuBackend.where(c, a, b); },
    reduce(op, x, axes) { flops += size(x.shape); return cpuBackend.reduce(op, x, axes); },
    matmul(a, b, ta, tb) {
      const r = a.shape.length;
      const m = ta ? a.shape[r - 1]! : a.shape[r - 2]!, k = ta ? a.shape[r - 2]! : a.shape[r - 1]!;
      const n = tb ? b.shape[r - 2]! : b.shape[r - 1]!;
      flops += 2 * size(a.shape.slice(0, r - 2)) * m * n * k;
      return cpuBackend.matmul(a, b, ta, tb);
    },
    col2im(cols, shape, g) { flops += size(cols.shape); return cpuBackend.col2im(cols, shape, g); },
  };
  return { backend, flops: () => flops, reset: () => { flops = 0; } };
}

/** FLOPs of each function `setup` returns; `setup` runs on the counting backend and builds its tensors there. */
function countFlops(setup: () => (() => void)[]): number[] {
  const counter = countingBackend();
  registerBackend(counter.backend);
  setBackend(counter.backend.name);
  try {
    return setup().map((fn) => {
      counter.reset();
      fn();
      return counter.flops();
    });
  } finally {
    setBackend('cpu');
  }
}

// ---------- matmul vs naive ----------

function naiveMatmul(A: Float64Array | Float32Array, B: Float64Array | Float32Array, C: Float64Array | Float32Array, M: number, K: number, N: number): void {
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[i * K + k]! * B[k * N + j]!;
      C[i * N + j] = s;
    }
}

interface MatmulRow {
  shape: string; dtype: DType; engineMs: number; jsKernelMs: number; naiveMs: number;
  engineGflops: number; jsKernelGflops: number; naiveGflops: number; speedup: number; cpuSpeedup: number;
}

function benchMatmul(M: number, K: number, N: number, dtype: DType, budgetMs: number): MatmulRow {
  const rng = new Rng(1);
  const a = rng.normalTensor([M, K], 0, 1, dtype), b = rng.normalTensor([K, N], 0, 1, dtype);
  const A = a.toArray(), B = b.toArray();
  const C = dtype === 'float64' ? new Float64Array(M * N) : new Float32Array(M * N);
  const withKernel = (k: MatmulKernel) => () => { const prev = setMatmulKernel(k); matmul(a, b); setMatmulKernel(prev); };
  const [engine, js, naive] = timeEach([withKernel('wasm'), withKernel('js'), () => naiveMatmul(A, B, C, M, K, N)], budgetMs, 3) as [Timing, Timing, Timing];
  // the two must agree, or the comparison means nothing
  const got = matmul(a, b).toArray();
  let err = 0;
  for (let i = 0; i < C.length; i++) err = Math.max(err, Math.abs(got[i]! - C[i]!) / (1 + Math.abs(C[i]!)));
  if (err > (dtype === 'float64' ? 1e-10 : 1e-3)) throw new Error(`bench matmul: engine and naive results differ by ${err}`);
  const flops = 2 * M * N * K;
  return {
    shape: `${M}x${K} · ${K}x${N}`, dtype, engineMs: engine.msPerCall, jsKernelMs: js.msPerCall, naiveMs: naive.msPerCall,
    engineGflops: flops / engine.msPerCall / 1e6, jsKernelGflops: flops / js.msPerCall / 1e6, naiveGflops: flops / naive.msPerCall / 1e6,
    speedup: naive.msPerCall / engine.msPerCall, cpuSpeedup: naive.cpuMsPerCall / engine.cpuMsPerCall,
  };
}

// ---------- memory over many HVPs ----------

interface MemoryRun { workload: string; method: 'hvp' | 'linearized'; hvps: number; checkpoints: { hvps: number; heapMiB: number; rssMiB: number; arrayBuffersMiB: number }[]; heapGrowthMiB: number; rssGrowthMiB: number }

async function memoryOverHvps(w: Workload, count: number, method: MemoryRun['method']): Promise<MemoryRun> {
  const v = Object.fromEntries(Object.entries(w.params).map(([k, t]) => [k, new Rng(7).normalTensor(t.shape, 0, 1, w.dtype)]));
  const product = method === 'hvp' ? (u: Params) => hvp(w.loss, w.params, u) : linearize(grad(w.loss), w.params)[1];
  const checkpoints: MemoryRun['checkpoints'] = [];
  const every = Math.max(1, Math.floor(count / 10));
  const record = async (n: number): Promise<void> => {
    // a full collection, a turn of the event loop (array-buffer memory is released there), another collection
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
    gc();
    const m = process.memoryUsage();
    checkpoints.push({ hvps: n, heapMiB: m.heapUsed / MiB, rssMiB: m.rss / MiB, arrayBuffersMiB: m.arrayBuffers / MiB });
  };
  for (let i = 0; i < 20; i++) product(v); // warm-up: JIT and allocator settle
  await record(0);
  for (let i = 1; i <= count; i++) {
    product(v);
    if (i % every === 0) await record(i);
  }
  const first = checkpoints[0]!, last = checkpoints[checkpoints.length - 1]!;
  return { workload: w.name, method, hvps: count, checkpoints, heapGrowthMiB: last.heapMiB - first.heapMiB, rssGrowthMiB: last.rssMiB - first.rssMiB };
}

// ---------- the run ----------

interface ModelRow {
  workload: string; params: number;
  gradMs: number; hvpMs: number; ratio: number;
  /** A product replayed from one `linearize(grad f)` at the same point, and its speed-up over a fresh hvp. */
  linearizedMs: number; linearizeMs: number; linearizedSpeedup: number; linearizedRatio: number;
  gradCpuMs: number; hvpCpuMs: number; cpuRatio: number;
  gradGflops: number; hvpGflops: number; gradMflop: number; hvpMflop: number;
  peakRssMiB: number; peakHeapMiB: number;
}

function directionFor(w: Workload): Params {
  const rng = new Rng(3);
  return Object.fromEntries(Object.entries(w.params).map(([k, t]) => [k, rng.normalTensor(t.shape, 0, 1, w.dtype)]));
}

/**
 * Times grad and hvp of the workload `make()` builds. The workload is built a second time on the
 * counting backend (a tensor's kernels run on the backend it was created on) to count FLOPs.
 */
function benchModel(make: () => Workload, budgetMs: number): ModelRow {
  const [gradFlops, hvpFlops] = countFlops(() => {
    const c = make();
    return [() => { grad(c.loss)(c.params); }, () => { hvp(c.loss, c.params, directionFor(c)); }];
  });
  const w = make();
  const v = directionFor(w);
  const g = grad(w.loss);
  const t0 = performance.now();
  const [, hvpAt] = linearize(grad(w.loss), w.params);
  const linearizeMs = performance.now() - t0;
  const [tg, th, tl] = timeEach([() => { g(w.params); }, () => { hvp(w.loss, w.params, v); }, () => { hvpAt(v); }], budgetMs) as [Timing, Timing, Timing];
  return {
    workload: w.name, params: Object.values(w.params).reduce((n, t) => n + t.size, 0),
    gradMs: tg.msPerCall, hvpMs: th.msPerCall, ratio: th.msPerCall / tg.msPerCall,
    linearizedMs: tl.msPerCall, linearizeMs, linearizedSpeedup: th.msPerCall / tl.msPerCall, linearizedRatio: tl.msPerCall / tg.msPerCall,
    gradCpuMs: tg.cpuMsPerCall, hvpCpuMs: th.cpuMsPerCall, cpuRatio: th.cpuMsPerCall / tg.cpuMsPerCall,
    // throughput from CPU time: on a shared machine wall time mostly measures the queue for a core
    gradGflops: gradFlops / tg.cpuMsPerCall / 1e6, hvpGflops: hvpFlops / th.cpuMsPerCall / 1e6,
    gradMflop: gradFlops / 1e6, hvpMflop: hvpFlops / 1e6,
    peakRssMiB: Math.max(tg.peakRssMiB, th.peakRssMiB, tl.peakRssMiB), peakHeapMiB: Math.max(tg.peakHeapMiB, th.peakHeapMiB, tl.peakHeapMiB),
  };
}

const f = (x: number, d = 2): string => x.toFixed(d);

export async function run(args: string[]): Promise<unknown> {
  const quick = args.includes('--quick');
  const skipMemory = args.includes('--no-memory');
  const budget = quick ? 400 : 3000;
  setBackend('cpu');

  console.log(`node ${process.version}, ${quick ? 'quick' : 'full'} run, ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)}; times are medians of alternating calls; wall times are noisy on a shared machine, cpu times less so`);
  const models: ModelRow[] = [];
  const makers = [() => mlpWorkload('float64'), () => mlpWorkload('float32'), () => cnnWorkload('float64'), () => cnnWorkload('float32')];
  for (const make of makers) {
    models.push(benchModel(make, budget));
    const r = models[models.length - 1]!;
    console.log(`  ${r.workload}: grad ${f(r.gradMs)} ms, hvp ${f(r.hvpMs)} ms, linearized hvp ${f(r.linearizedMs)} ms`);
  }
  console.log('\nworkload                       params   grad ms  hvp ms  hvp/grad | grad cpu-ms  hvp cpu-ms  hvp/grad | GF/s (cpu time): grad  hvp  peak RSS MiB');
  for (const r of models) {
    console.log(`${r.workload.padEnd(30)} ${String(r.params).padStart(6)}  ${f(r.gradMs).padStart(7)} ${f(r.hvpMs).padStart(7)}  ${f(r.ratio).padStart(8)} | ${f(r.gradCpuMs).padStart(11)} ${f(r.hvpCpuMs).padStart(11)}  ${f(r.cpuRatio).padStart(8)} | ${f(r.gradGflops).padStart(9)} ${f(r.hvpGflops).padStart(9)}  ${f(r.peakRssMiB, 0).padStart(12)}`);
  }
  console.log('\nmany HVPs at one point: linearize(grad f) once, then replay only the tangent half');
  console.log('workload                       linearize ms  hvp ms  replayed ms  hvp/replayed  replayed/grad');
  for (const r of models) {
    console.log(`${r.workload.padEnd(30)} ${f(r.linearizeMs).padStart(12)} ${f(r.hvpMs).padStart(7)} ${f(r.linearizedMs).padStart(12)}  ${f(r.linearizedSpeedup).padStart(11)}×  ${f(r.linearizedRatio).padStart(13)}`);
  }

  const matmuls: MatmulRow[] = [];
  for (const dtype of ['float64', 'float32'] as const) {
    matmuls.push(benchMatmul(128, 784, 128, dtype, budget));
    matmuls.push(benchMatmul(256, 256, 256, dtype, budget));
  }
  console.log(`\nmatmul (engine kernel: ${wasmTiles() !== null ? 'wasm' : 'js only'}) dtype    engine ms  GF/s  js-kernel ms  GF/s  naive ms  GF/s  engine/naive  (by cpu time)`);
  for (const m of matmuls) {
    console.log(`${m.shape.padEnd(36)} ${m.dtype}  ${f(m.engineMs).padStart(8)} ${f(m.engineGflops).padStart(5)}  ${f(m.jsKernelMs).padStart(12)} ${f(m.jsKernelGflops).padStart(5)}  ${f(m.naiveMs).padStart(8)} ${f(m.naiveGflops).padStart(5)}  ${f(m.speedup).padStart(11)}×  ${f(m.cpuSpeedup).padStart(11)}×`);
  }

  const memory: MemoryRun[] = [];
  if (!skipMemory) {
    const count = quick ? 1000 : 10000;
    const w = mlpWorkload('float64', 16);
    for (const method of ['hvp', 'linearized'] as const) {
      console.log(`\nmemory over ${count} ${method === 'hvp' ? 'fresh HVPs' : 'replays of one linearization'} of ${w.name} (after gc at each checkpoint):`);
      const run = await memoryOverHvps(w, count, method);
      memory.push(run);
      for (const c of run.checkpoints) console.log(`  ${String(c.hvps).padStart(6)} hvps: heap ${f(c.heapMiB, 1)} MiB, array buffers ${f(c.arrayBuffersMiB, 1)} MiB, RSS ${f(c.rssMiB, 1)} MiB`);
      console.log(`  growth first→last checkpoint: heap ${f(run.heapGrowthMiB, 2)} MiB, RSS ${f(run.rssGrowthMiB, 2)} MiB`);
    }
  }

  const result = { date: new Date().toISOString(), node: process.version, quick, loadAverage: os.loadavg(), models, matmuls, memory };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/engine.json', JSON.stringify(result, null, 2));
  console.log('\nwrote bench/results/engine.json');
  return result;
}
