/**
 * gift in a browser: gift/engine, gift/gpu, gift/nn and gift/influence. test/browser/page.ts is
 * bundled by Vite (already here under vitest) as a user's bundler would bundle gift (gpu.js
 * resolves to its browser build, ndarray's CommonJS is wrapped, a `node:` import would stop the
 * build), loaded into headless Chromium, and run there: the engine's CPU backend, the gpu.js
 * backend in the browser's own WebGL (SwiftShader without a GPU), and a GIF class removal
 * through gift/nn and gift/influence. Its numbers are checked against the same computations in
 * Node.
 *
 * Needs Chromium (`apt-get install chromium`, or GIFT_CHROMIUM=/path/to/chrome). .ci/run installs
 * it and sets GIFT_EXPECT_BROWSER=1, which turns a missing Chromium into a failure; elsewhere the
 * test says that it was skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Rollup } from 'vite';
import { describe, expect, it } from 'vitest';
import { gradAndHvp, relError } from '../gpu/cnn-probe.js';
import { gifProbe } from './gif-probe.js';
import type { BrowserReport } from './page.js';

const here = dirname(fileURLToPath(import.meta.url));
const expectBrowser = process.env.GIFT_EXPECT_BROWSER === '1';

/** The Chromium to run: GIFT_CHROMIUM, or Debian's. */
function findChromium(): string | null {
  const candidates = [process.env.GIFT_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p)) ?? null;
}
const chromium = findChromium();
if (!chromium && !expectBrowser) console.log('[browser] browser.test.ts skipped: no Chromium (apt-get install chromium, or set GIFT_CHROMIUM); .ci/run installs it');

/** Bundles the page, opens it in headless Chromium and returns what it wrote into #results. */
async function runInChromium(executable: string): Promise<BrowserReport & { error?: string }> {
  const built = await build({
    configFile: false, logLevel: 'silent', root: here,
    build: { write: false, minify: false, lib: { entry: join(here, 'page.ts'), formats: ['iife'], name: 'giftBrowserTest', fileName: 'page' } },
    // Vite would stub a Node built-in and warn; other bundlers refuse it. Refuse it here too.
    plugins: [{
      name: 'no-node-builtins', enforce: 'pre',
      resolveId(id: string, importer?: string) {
        if (id.startsWith('node:') || builtinModules.includes(id)) throw new Error(`${importer ?? '?'} imports the Node built-in '${id}': gift/engine, gift/gpu, gift/nn and gift/influence must load in a browser`);
        return null;
      },
    }],
  });
  const output = (Array.isArray(built) ? built[0] : built) as Rollup.RollupOutput;
  const script = output.output[0].code.replace(/<\/script/gi, '<\\/script');
  const dir = mkdtempSync(join(tmpdir(), 'gift-browser-'));
  try {
    const page = join(dir, 'page.html');
    writeFileSync(page, `<!doctype html><html><body><pre id="results"></pre><script>${script}</script></body></html>`);
    // no network, no background services: this machine refuses outside connections
    const run = spawnSync(executable, [
      '--headless', '--no-sandbox', '--disable-gpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${page}`,
    ], { encoding: 'utf8', timeout: 100_000, maxBuffer: 64 * 1024 * 1024 });
    const found = /<pre id="results">([\s\S]*?)<\/pre>/.exec(run.stdout ?? '');
    if (!found || !found[1]) throw new Error(`Chromium gave no results (exit ${run.status}, signal ${run.signal}): ${(run.stderr ?? '').slice(-2000)}`);
    const text = found[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    return JSON.parse(text) as BrowserReport & { error?: string };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('gift in headless Chromium', () => {
  // one page load serves both tests
  let page: Promise<BrowserReport> | null = null;
  const page_ = async (): Promise<BrowserReport> => {
    if (!chromium) throw new Error('GIFT_EXPECT_BROWSER=1, but no Chromium at /usr/bin/chromium (or GIFT_CHROMIUM)');
    page ??= runInChromium(chromium).then((r) => {
      if (r.error) throw new Error(`the page failed in Chromium: ${r.error}`);
      return r;
    });
    return page;
  };

  it.skipIf(!chromium && !expectBrowser)('the engine and the gpu.js backend in WebGL give Node\'s gradient and HVP of the benchmark CNN', async () => {
    const report = await page_();
    // the engine's CPU backend computes what it computes in Node
    const cpu64 = gradAndHvp('cpu', 'float64'), cpu32 = gradAndHvp('cpu', 'float32');
    expect(report.cpu64.hv.length).toBe(cpu64.hv.length);
    expect(relError(report.cpu64.g, cpu64.g)).toBeLessThan(1e-12);
    expect(relError(report.cpu64.hv, cpu64.hv)).toBeLessThan(1e-12);
    expect(relError(report.cpu32.hv, cpu32.hv)).toBeLessThan(1e-6);
    // the gpu backend ran the browser's WebGL, every kernel of it, within float32 tolerance
    expect(['webgl2', 'webgl']).toContain(report.mode);
    expect(report.modesRun).toEqual([report.mode]);
    expect(report.float64Ops).toBe(0);
    const errGpu = relError(report.gpu.hv, cpu64.hv);
    console.log(`[browser] ${report.userAgent.match(/HeadlessChrome\/\S+/)?.[0] ?? report.userAgent}: gpu.js modes ${report.supported.join(', ')}; ran ${report.mode}; ` +
      `CNN HVP relative error vs Node's float64: gpu ${errGpu.toExponential(2)}, cpu float64 ${relError(report.cpu64.hv, cpu64.hv).toExponential(2)}`);
    expect(relError(report.gpu.g, cpu64.g)).toBeLessThan(1e-4);
    expect(errGpu).toBeLessThan(1e-3);
  });
  it.skipIf(!chromium && !expectBrowser)('gift/nn and gift/influence remove a class with GIF in the browser as in Node; file functions say they need Node', async () => {
    const report = await page_();
    const node = gifProbe();
    expect(relError(report.gif.theta, node.theta)).toBeLessThan(1e-12);
    expect(report.gif.methods.map((m) => m.method)).toEqual(node.methods.map((m) => m.method));
    report.gif.methods.forEach((m, i) => {
      const want = node.methods[i]!;
      expect(m.f1, m.method).toBeCloseTo(want.f1, 12);
      expect(m.delta.length, m.method).toBe(want.delta.length);
      // the probe's solves are damped and converged: 4e-15 when this was written. Undamped, 20
      // CGLS steps on H² amplified last-bit differences (the browser's V8 is not Node's) to 1e-3
      if (want.delta.length > 0) expect(relError(m.delta, want.delta), m.method).toBeLessThan(1e-10);
    });
    expect(node.methods.find((m) => m.method === 'GIF-CGLS')!.delta.some((d) => d !== 0)).toBe(true);
    console.log(`[browser] GIF class removal: θ* relative error vs Node ${relError(report.gif.theta, node.theta).toExponential(2)}; edits ` +
      report.gif.methods.filter((m) => m.delta.length > 0).map((m) => `${m.method} ${relError(m.delta, node.methods.find((n) => n.method === m.method)!.delta).toExponential(2)}`).join(', '));
    expect(report.gif.roundTrip).toBe(true);
    expect(report.gif.png).toBe(node.png);
    expect(report.saveModelError.name).toBe('EnvironmentError');
    expect(report.saveModelError.message).toMatch(/writeFileAtomic needs Node\.js ≥ 20\.16 \(it uses node:fs\)/);
  });
});
