/**
 * The browser side of test/browser/browser.test.ts, bundled by it for Chromium: the gradient and
 * HVP of the benchmark CNN on the engine's CPU backend (float64 and float32) and on the gpu.js
 * backend in the browser's own WebGL; a class removal with GIF through gift/nn and
 * gift/influence; and what a file function says without Node. The results go into the page as
 * JSON, where the test reads
 * them back and checks them against the same computation in Node.
 */
import { findBackend, Rng } from '../../engine/index.js';
import { GPU_MODES, gpuModeSupport, type GpuBackend } from '../../engine/backends/gpu/index.js';
import { gradAndHvp } from '../gpu/cnn-probe.js';
import { gifProbe, type GifProbe } from './gif-probe.js';
import { nn } from '../../index.js'; // the root module: it must bundle too

/** What the page reports (the test has the same type). */
export interface BrowserReport {
  readonly userAgent: string;
  /** gpu.js modes this browser supports, best first, and the one the `gpu` backend ran. */
  readonly supported: readonly string[];
  readonly mode: string | null;
  readonly modesRun: readonly string[];
  readonly float64Ops: number;
  readonly cpu64: { g: number[]; hv: number[] };
  readonly cpu32: { g: number[]; hv: number[] };
  readonly gpu: { g: number[]; hv: number[] };
  /** gift/nn and gift/influence: a class removal end to end (gif-probe.ts). */
  readonly gif: GifProbe;
  /** What a file function says where there is no Node. */
  readonly saveModelError: { name: string; message: string };
}

function fileError(): { name: string; message: string } {
  const net = nn.mlp([2, 2]);
  try {
    nn.saveModel('model.safetensors', net, net.init(new Rng(0)));
    return { name: 'none', message: 'saveModel wrote a file in a browser' };
  } catch (e) {
    return { name: e instanceof nn.EnvironmentError ? 'EnvironmentError' : String((e as Error).name), message: (e as Error).message };
  }
}

const plain = (r: { g: Float64Array; hv: Float64Array }) => ({ g: Array.from(r.g), hv: Array.from(r.hv) });

function run(): BrowserReport {
  const cpu64 = gradAndHvp('cpu', 'float64');
  const cpu32 = gradAndHvp('cpu', 'float32');
  const gpu = gradAndHvp('gpu', 'float32');
  const info = (findBackend('gpu') as GpuBackend).info();
  const gif = gifProbe();
  return {
    gif, saveModelError: fileError(),
    userAgent: navigator.userAgent, supported: GPU_MODES.filter((m) => gpuModeSupport()[m]), mode: info.mode, modesRun: info.modesRun,
    float64Ops: info.float64Ops, cpu64: plain(cpu64), cpu32: plain(cpu32), gpu: plain(gpu),
  };
}

let text: string;
try {
  text = JSON.stringify(run());
} catch (e) {
  text = JSON.stringify({ error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) });
}
document.getElementById('results')!.textContent = text;
