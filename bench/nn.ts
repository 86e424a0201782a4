/**
 * nn benchmark: training throughput (samples per second) of `train()` — batching, forward,
 * backward, SGD with momentum, all included — for the default MLP (784-128-10 tanh) and the small
 * CNN on the embedded MNIST, per backend and dtype: cpu float64, cpu float32, and the gpu.js
 * backend (float32) when it loads. Also the wall time of the README's default run (6 epochs of the
 * MLP) and its test accuracy. `--quick` shortens every measurement; `--no-gpu` skips gpu.js.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Rng, findBackend, setBackend, type DType } from '../engine/index.js';
import { evaluate, mlp, smallCnn, subset, train, type Dataset, type Sequential } from '../nn/index.js';
import { loadMnist } from '../experiments/index.js';

interface Row {
  model: string;
  backend: string;
  dtype: DType;
  batchSize: number;
  steps: number;
  samplesPerSecond: number;
  msPerStep: number;
}

/** Trains on `steps` batches (after one warm-up batch) and times it. */
function measure(name: string, net: Sequential, data: Dataset, backend: string, dtype: DType, batchSize: number, seconds: number): Row {
  setBackend(backend);
  const params = net.init(new Rng(0), dtype);
  const run = (n: number): number => {
    const part = subset(data, Int32Array.from({ length: n * batchSize }, (_, i) => i % data.y.length));
    const t = performance.now();
    train(net, params, part, { epochs: 1, batchSize, lr: 0.05, seed: 0 });
    return (performance.now() - t) / 1000;
  };
  const once = run(2) / 2; // warm-up: kernel compilation on the GPU, JIT on the CPU
  const steps = Math.max(3, Math.min(400, Math.round(seconds / Math.max(once, 1e-4))));
  const elapsed = run(steps);
  setBackend('cpu');
  return { model: name, backend, dtype, batchSize, steps, samplesPerSecond: (steps * batchSize) / elapsed, msPerStep: (1000 * elapsed) / steps };
}

export async function run(args: string[]): Promise<unknown> {
  const quick = args.includes('--quick');
  const seconds = quick ? 0.5 : 3;
  const backends: { name: string; dtypes: DType[]; note: string }[] = [{ name: 'cpu', dtypes: ['float64', 'float32'], note: 'gift CPU kernels' }];
  if (!args.includes('--no-gpu')) {
    try {
      const gpu = await import('../engine/backends/gpu/index.js');
      const mode = gpu.bestGpuMode();
      if (findBackend('gpu')) backends.push({ name: 'gpu', dtypes: ['float32'], note: `gpu.js, mode ${mode}` });
    } catch (e) {
      console.log(`gpu.js backend not available: ${(e as Error).message}`);
    }
  }
  console.log(`node ${process.version}, ${quick ? 'quick' : 'full'} run; wall-clock times, noisy on a shared machine`);
  const mnistFlat = loadMnist({ dtype: 'float32' }).train;
  const mnistImages = loadMnist({ dtype: 'float32', flatten: false }).train;
  const rows: Row[] = [];
  for (const b of backends) {
    for (const dtype of b.dtypes) {
      for (const [name, net, data, batch] of [['mlp 784-128-10 tanh', mlp(), mnistFlat, 64], ['cnn 8c5-16c5-10', smallCnn(), mnistImages, 64]] as const) {
        try {
          const r = measure(name, net, data, b.name, dtype, batch, seconds);
          rows.push(r);
          console.log(`  ${name} on ${b.name} (${b.note}) ${dtype}: ${r.samplesPerSecond.toFixed(0)} samples/s`);
        } catch (e) {
          setBackend('cpu');
          console.log(`  ${name} on ${b.name} ${dtype}: failed (${(e as Error).message})`);
        }
      }
    }
  }
  console.log('\nmodel                  backend  dtype    batch  steps  samples/s   ms/step');
  for (const r of rows) {
    console.log(`${r.model.padEnd(22)} ${r.backend.padEnd(8)} ${r.dtype}  ${String(r.batchSize).padStart(5)}  ${String(r.steps).padStart(5)}  ${r.samplesPerSecond.toFixed(0).padStart(9)}  ${r.msPerStep.toFixed(1).padStart(8)}`);
  }
  const cpu32 = rows.find((r) => r.backend === 'cpu' && r.dtype === 'float32' && r.model.startsWith('mlp'));
  const cpu64 = rows.find((r) => r.backend === 'cpu' && r.dtype === 'float64' && r.model.startsWith('mlp'));
  if (cpu32 && cpu64) console.log(`MLP float32 / float64 throughput on the CPU: ${(cpu32.samplesPerSecond / cpu64.samplesPerSecond).toFixed(2)}×`);

  let defaultRun: { seconds: number; testAccuracy: number } | null = null;
  if (!quick) {
    // the README's `gift train` recipe, end to end
    const { train: trainSet, test } = loadMnist({ dtype: 'float32' });
    const net = mlp();
    const t = performance.now();
    const { params } = train(net, net.init(new Rng(0), 'float32'), trainSet, { epochs: 6, batchSize: 64, lr: 0.1, schedule: 'cosine' });
    defaultRun = { seconds: (performance.now() - t) / 1000, testAccuracy: evaluate(net, params, test).accuracy };
    console.log(`\ndefault run (MLP, 6 epochs, cpu float32): ${defaultRun.seconds.toFixed(1)} s, test accuracy ${(100 * defaultRun.testAccuracy).toFixed(2)}%`);
  }
  const result = { date: new Date().toISOString(), node: process.version, quick, rows, defaultRun };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/nn.json', JSON.stringify(result, null, 2));
  console.log('\nwrote bench/results/nn.json');
  return result;
}
