/**
 * Progress on a terminal: a cli-progress bar where standard output is a terminal, plain lines
 * otherwise. The library reports progress through callbacks (nn's `TrainProgress`, the tasks'
 * `TaskProgress`); these turn them into output.
 */
import type { SingleBar } from 'cli-progress';
import { nodeModule } from '../nn/node.js';
import type { EpochRecord, TrainProgress } from '../nn/index.js';
import type { TaskProgress } from './tasks.js';

type CliProgress = typeof import('cli-progress');
let bars: CliProgress | null = null;
/** cli-progress, loaded on first use (a run that draws no bar never loads it). */
function cliProgress(): CliProgress {
  bars ??= nodeModule('node:module', 'a progress bar').createRequire(import.meta.url)('cli-progress') as CliProgress;
  return bars;
}

/** Whether standard output is a terminal: where a progress bar may be drawn. */
export function stdoutIsTTY(): boolean {
  return (globalThis as { process?: { stdout?: { isTTY?: boolean } } }).process?.stdout?.isTTY === true;
}

/**
 * Training progress: `'bar'` a bar per epoch, `'lines'` one line per epoch, `'auto'` a bar on a
 * terminal and lines otherwise. Epochs with a validation set always print their line.
 * @example train(net, params, data, { epochs: 3, progress: trainProgress('auto') })
 */
export function trainProgress(mode: 'auto' | 'bar' | 'lines'): TrainProgress {
  const drawBar = mode === 'bar' || (mode === 'auto' && stdoutIsTTY());
  let bar: SingleBar | null = null;
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  return {
    epochStart(epoch, epochs, steps) {
      if (!drawBar) return;
      const b = cliProgress();
      bar = new b.SingleBar({
        format: `epoch ${epoch + 1}/${epochs} [{bar}] {value}/{total} batches | loss {loss} | {speed} samples/s`,
        hideCursor: true, clearOnComplete: false,
      }, b.Presets.shades_classic);
      bar.start(steps, 0, { loss: '-', speed: '-' });
    },
    step(step, loss, samplesPerSecond) {
      bar?.update(step, { loss: loss.toFixed(4), speed: samplesPerSecond.toFixed(0) });
    },
    epochEnd(r: EpochRecord, epochs: number) {
      stop();
      const val = r.validationLoss === undefined || r.validationAccuracy === undefined ? '' : ` | validation loss ${r.validationLoss.toFixed(4)}, accuracy ${(100 * r.validationAccuracy).toFixed(2)}%`;
      if (!drawBar || val) console.log(`epoch ${r.epoch + 1}/${epochs}: lr ${r.lr.toPrecision(3)}, train loss ${r.trainLoss.toFixed(4)}${val} (${r.seconds.toFixed(1)} s)`);
    },
    abort: stop,
  };
}

/**
 * Progress on the console: each stage as a line with the elapsed time, and solver iterations as
 * a bar on a terminal (nothing extra otherwise).
 * @example const progress = consoleProgress(); removeClass(setup, settings, progress); progress.done();
 */
export function consoleProgress(options: { quiet?: boolean } = {}): TaskProgress & { done(): void } {
  const started = performance.now();
  const tty = stdoutIsTTY() && !options.quiet;
  let bar: SingleBar | null = null;
  let barName = '';
  const stopBar = () => {
    bar?.stop();
    bar = null;
    barName = '';
  };
  return {
    stage(name) {
      stopBar();
      if (!options.quiet) console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${name}`);
    },
    iteration(name, i, max, residual) {
      if (!tty) return;
      if (barName !== name) {
        stopBar();
        barName = name;
        const b = cliProgress();
        bar = new b.SingleBar({ format: `  ${name.padEnd(8)} [{bar}] {value}/{total} iterations | residual {residual}`, hideCursor: true }, b.Presets.shades_classic);
        bar.start(max, 0, { residual: '-' });
      }
      bar?.update(i, { residual: residual.toExponential(2) });
    },
    done: stopBar,
  };
}

