/**
 * Reports of a GIF task: the side-by-side table as text, a Markdown report with an SVG chart of
 * test accuracy against the modification ratio, and the JSON of the whole result. Files are
 * written atomically (a temporary file renamed into place), so a report is never half-written.
 */
import { writeFileAtomic } from '../nn/index.js';
import { nodeModule } from '../nn/node.js';
import type { Metrics, MethodRow, SweepPoint, TaskResult } from './tasks.js';

const pct = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '—' : (100 * v).toFixed(1));
const num = (v: number | undefined, digits = 2): string => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits));

/** The chosen step, marked † when it is an end of the step grid (the best step may lie outside it). */
const stepCell = (r: MethodRow): string => `${num(r.step)}${r.stepAtEdge ? '†' : ''}`;
/** SIF is derived for removal; on label change it runs in our extension (edits.ts). */
const SIF_LABEL_CHANGE_NOTE = "SIF on a label change is our extension of Basu et al.'s removal formula, not the paper's: the second-order expansion of the relabelled objective, whose change-of-label Hessian is indefinite on a network (docs/gif.md).";
const EDGE_NOTE = '† the chosen step is an end of the step grid: the best step may lie outside it.';

/** The task tried a list of dampings, so every Hessian-based row has its own λ, chosen on validation. */
const triedDampings = (result: TaskResult): boolean => typeof result.settings.damping !== 'number';
const dampingText = (d: number | readonly number[]): string => (typeof d === 'number' ? String(d) : `λ ∈ {${d.join(', ')}}, each method's chosen on validation`);

/** The columns of the table for a task (with a λ column when it tried several dampings). */
function columns(result: TaskResult): { head: string[]; cells: (r: MethodRow, retrainSeconds: number) => string[] } {
  const { head, cells } = taskColumns(result.task);
  if (!triedDampings(result)) return { head, cells };
  const at = head.indexOf('step');
  return {
    head: [...head.slice(0, at), 'λ', ...head.slice(at)],
    cells: (r, rs) => {
      const c = cells(r, rs);
      return [...c.slice(0, at), r.damping === undefined ? '—' : String(r.damping), ...c.slice(at)];
    },
  };
}

function taskColumns(task: TaskResult['task']): { head: string[]; cells: (r: MethodRow, retrainSeconds: number) => string[] } {
  const common = (r: MethodRow, retrainSeconds: number): string[] => [
    num(r.distanceToRetrain), num(r.distanceToWarm), r.hvps === undefined ? '—' : String(r.hvps), num(r.seconds, 1),
    r.method === 'original' ? '—' : r.seconds === 0 ? '—' : `${(r.seconds / retrainSeconds).toFixed(2)}×`,
    r.residual === undefined ? '—' : `${r.residual.toExponential(1)}${r.converged ? '' : '*'}`,
  ];
  const tail = ['‖θ−θ_re‖', '‖θ−θ_warm‖', 'HVPs', 'time s', 'vs retrain', 'residual'];
  if (task === 'remove-class') {
    return {
      head: ['method', '|J|', 'retained %', 'removed %', 'F1', 'plain F1', 'val. F1', 'step', 'plain step', ...tail],
      cells: (r, rs) => [r.method, r.parameters ? String(r.parameters) : '—', pct(r.test.retainedAccuracy), pct(r.test.removedAccuracy), num(r.test.f1, 3),
        num(r.plain?.f1, 3), num(r.validationScore, 3), stepCell(r), num(r.plainStep), ...common(r, rs)],
    };
  }
  return {
    head: ['method', '|J|', 'clean %', 'relabel %', 'corrupt %', 'plain relabel %', 'plain corrupt %', 'val. score', 'step', 'plain step', ...tail],
    cells: (r, rs) => [r.method, r.parameters ? String(r.parameters) : '—', pct(r.test.cleanAccuracy), pct(r.test.relabelAccuracy), pct(r.test.corruptAccuracy),
      pct(r.plain?.relabelAccuracy), pct(r.plain?.corruptAccuracy), num(r.validationScore, 3), stepCell(r), num(r.plainStep), ...common(r, rs)],
  };
}

/**
 * The side-by-side table as aligned text (for the terminal).
 * @example console.log(formatTable(result))
 */
export function formatTable(result: TaskResult): string {
  const { head, cells } = columns(result);
  const rows = result.rows.map((r) => cells(r, result.retrainSeconds));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  const table = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  if (result.rows.some((r) => r.stepAtEdge)) table.push('', EDGE_NOTE);
  return table.join('\n');
}

function markdownTable(result: TaskResult): string {
  const { head, cells } = columns(result);
  return [
    `| ${head.map(escapePipes).join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...result.rows.map((r) => `| ${cells(r, result.retrainSeconds).map(escapePipes).join(' | ')} |`),
  ].join('\n');
}

/** The accuracy the chart plots for a task: retained-class accuracy, or relabel accuracy. */
function chartValue(task: TaskResult['task'], m: Metrics): number {
  return task === 'remove-class' ? (m.f1 ?? Number.NaN) : (m.relabelAccuracy ?? Number.NaN);
}

/**
 * An SVG line chart of the sweep: test F1 (class removal) or relabel accuracy (backdoor) of
 * GIF, FIF and PIF against the modification ratio, one line per method and selector, with the
 * retrained model, IF and SIF as horizontal references.
 * @example writeFileSync('chart.svg', sweepChart(result))
 */
export function sweepChart(result: TaskResult): string {
  const W = 640, Hh = 400, left = 60, right = 170, top = 30, bottom = 50;
  const pw = W - left - right, ph = Hh - top - bottom;
  const points = result.sweep;
  const ratios = [...new Set(points.map((p) => p.ratio))].sort((a, b) => a - b);
  const label = result.task === 'remove-class' ? 'test F1' : 'test relabel accuracy';
  const refs = result.rows.filter((r) => ['retrain', 'original', 'IF', 'SIF'].includes(r.method)).map((r) => ({ name: r.method, v: chartValue(result.task, r.test) }));
  const allValues = [...points.map((p) => chartValue(result.task, p.test)), ...refs.map((r) => r.v)].filter(Number.isFinite);
  const lo = Math.max(0, Math.floor(10 * Math.min(...allValues, 1)) / 10), hi = 1;
  const xs = ratios.map(Math.log);
  const xmin = Math.min(...xs), xmax = Math.max(...xs);
  const X = (r: number) => left + (xmax === xmin ? pw / 2 : ((Math.log(r) - xmin) / (xmax - xmin)) * pw);
  const Y = (v: number) => top + ph - ((v - lo) / (hi - lo || 1)) * ph;
  const colours: Record<string, string> = { 'GIF-CGLS': '#d62728', FIF: '#1f77b4', PIF: '#2ca02c' };
  const dashes = ['', '6 3', '2 2', '8 2 2 2'];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Hh}" viewBox="0 0 ${W} ${Hh}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${Hh}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="14">${escapeXml(result.description.split(' (')[0]!)}: ${label} vs modification ratio</text>`,
    `<line x1="${left}" y1="${top + ph}" x2="${left + pw}" y2="${top + ph}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + ph}" stroke="black"/>`,
  ];
  for (const r of ratios) {
    out.push(`<line x1="${X(r)}" y1="${top + ph}" x2="${X(r)}" y2="${top + ph + 4}" stroke="black"/>`);
    out.push(`<text x="${X(r)}" y="${top + ph + 18}" text-anchor="middle">${(100 * r).toFixed(r < 0.1 ? 1 : 0)}%</text>`);
  }
  for (let k = 0; k <= 5; k++) {
    const v = lo + ((hi - lo) * k) / 5;
    out.push(`<line x1="${left - 4}" y1="${Y(v)}" x2="${left + pw}" y2="${Y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 8}" y="${Y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  out.push(`<text x="${left + pw / 2}" y="${Hh - 10}" text-anchor="middle">modification ratio (per layer, log scale)</text>`);
  out.push(`<text x="16" y="${top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${top + ph / 2})">${label}</text>`);
  let legendY = top + 10;
  const legend = (text: string, colour: string, dash: string) => {
    out.push(`<line x1="${left + pw + 12}" y1="${legendY}" x2="${left + pw + 36}" y2="${legendY}" stroke="${colour}" stroke-width="2" stroke-dasharray="${dash}"/>`);
    out.push(`<text x="${left + pw + 42}" y="${legendY + 4}">${escapeXml(text)}</text>`);
    legendY += 18;
  };
  refs.forEach((r, i) => {
    if (!Number.isFinite(r.v)) return;
    const colour = ['#000', '#999', '#9467bd', '#8c564b'][i % 4]!;
    out.push(`<line x1="${left}" y1="${Y(r.v)}" x2="${left + pw}" y2="${Y(r.v)}" stroke="${colour}" stroke-dasharray="4 4"/>`);
    legend(r.name, colour, '4 4');
  });
  const selectors = [...new Set(points.map((p) => p.selector))];
  for (const method of ['GIF-CGLS', 'FIF', 'PIF'] as const) {
    selectors.forEach((sel, si) => {
      const line = points.filter((p) => p.method === method && p.selector === sel).sort((a, b) => a.ratio - b.ratio);
      if (!line.length) return;
      const path = line.map((p, k) => `${k ? 'L' : 'M'}${X(p.ratio).toFixed(1)},${Y(chartValue(result.task, p.test)).toFixed(1)}`).join(' ');
      out.push(`<path d="${path}" fill="none" stroke="${colours[method]}" stroke-width="2" stroke-dasharray="${dashes[si % dashes.length]}"/>`);
      for (const p of line) out.push(`<circle cx="${X(p.ratio).toFixed(1)}" cy="${Y(chartValue(result.task, p.test)).toFixed(1)}" r="3" fill="${colours[method]}"/>`);
      legend(`${method === 'GIF-CGLS' ? 'GIF' : method} (${sel})`, colours[method]!, dashes[si % dashes.length]!);
    });
  }
  out.push('</svg>');
  return out.join('\n');
}

function escapePipes(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function sweepTable(result: TaskResult): string {
  if (!result.sweep.length) return '';
  const value = (p: SweepPoint, m: Metrics) => (result.task === 'remove-class' ? num(m.f1, 3) : pct(m.relabelAccuracy));
  const what = result.task === 'remove-class' ? 'F1' : 'relabel %';
  const withDamping = triedDampings(result);
  return [
    `| selector | ratio | method | \\|J\\| | ${what} (chosen step) | ${what} (plain step) | HVPs |${withDamping ? ' λ |' : ''}`,
    `| --- | ---: | --- | ---: | ---: | ---: | ---: |${withDamping ? ' ---: |' : ''}`,
    ...result.sweep.map((p) => `| ${p.selector} | ${(100 * p.ratio).toFixed(1)}% | ${p.method === 'GIF-CGLS' ? 'GIF (CGLS)' : p.method} | ${p.parameters} | ${value(p, p.test)}${p.stepAtEdge ? '†' : ''} | ${value(p, p.plain)} | ${p.hvps} |${withDamping ? ` ${p.damping} |` : ''}`),
  ].join('\n');
}

/** Each Hessian-based edit at every λ tried: the validation score that chose λ, and the test score beside it. */
function dampingTable(result: TaskResult): string {
  const rows = result.rows.filter((r) => r.dampingTrials);
  if (!rows.length) return '';
  const dampings = rows[0]!.dampingTrials!.map((t) => t.damping);
  const what = result.task === 'remove-class' ? 'F1' : 'score';
  return [
    `| method | ${dampings.map((d) => `λ = ${d}`).join(' | ')} |`,
    `| --- | ${dampings.map(() => '---:').join(' | ')} |`,
    ...rows.map((r) => `| ${r.method} | ${r.dampingTrials!.map((t) => {
      const cell = `${num(t.validationScore, 3)} / ${num(t.test.score, 3)}`;
      return t.damping === r.damping ? `**${cell}**` : cell;
    }).join(' | ')} |`),
    '',
    `Each cell: validation ${what} / test ${what} at that λ's chosen step. The chosen λ (bold) has the best validation ${what}; ties go to the smaller λ. The test number is there to read, never to choose by.`,
  ].join('\n');
}

/**
 * The Markdown report: settings, the side-by-side table, the sweep table and the chart.
 * @example writeFileSync('report.md', markdownReport(result, 'remove-class-3.svg'))
 */
export function markdownReport(result: TaskResult, chartFile: string | null, extra: Record<string, string> = {}): string {
  const s = result.settings;
  const lines = [
    `# gift: ${result.description}`,
    '',
    `- training samples n = ${result.n}, target samples m = ${result.m}, parameters P = ${result.parameterCount}`,
    `- selection: ${result.selection.rule} at ratio ${(100 * s.ratio).toFixed(1)}% → |J| = ${result.selection.indices.length} (${(100 * result.selection.fraction).toFixed(2)}%)`,
    `- Hessian batch: ${s.hessianSamples} samples of the retained (clean) data, damping ${dampingText(s.damping)}; solver tolerance ${s.tolerance}, ` +
      `Richardson ≤ ${s.richardsonIterations} iterations, CGLS ≤ ${s.krylovIterations}`,
    `- step: chosen on the validation split among ${s.stepGrid.length} lengths (${s.stepGrid[0]}…${s.stepGrid[s.stepGrid.length - 1]!.toPrecision(3)} × ‖θ*‖); "plain" is θ* + Δθ`,
    ...Object.entries(extra).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Methods side by side (test set)',
    '',
    markdownTable(result),
    '',
    'Times: edits include scoring/selection, the target gradient and the validation step search (the plain step needs no search); ' +
      '"vs retrain" divides by retraining from scratch. "val." is the validation score at the chosen step, the one number the search looked at. GA (Δθ_J = g_J, no Hessian) is a control: its plain step has no meaningful scale. ' +
      'A residual marked * did not reach the tolerance within the iteration limit (the best iterate is used).' +
      (triedDampings(result) ? ' λ is the damping each edit kept, the best of the list on validation; its HVPs and time count every λ tried.' : '') +
      (result.task === 'backdoor' && result.rows.some((r) => r.method === 'SIF') ? ` ${SIF_LABEL_CHANGE_NOTE}` : '') +
      (result.rows.some((r) => r.stepAtEdge) || result.sweep.some((p) => p.stepAtEdge) ? ` ${EDGE_NOTE}` : ''),
  ];
  if (triedDampings(result) && result.rows.some((r) => r.dampingTrials)) lines.push('', '## Damping chosen on validation', '', dampingTable(result));
  if (result.sweep.length) {
    lines.push('', '## Accuracy against modification ratio', '');
    if (chartFile) lines.push(`![accuracy against modification ratio](${chartFile})`, '');
    lines.push(sweepTable(result));
  }
  return lines.join('\n') + '\n';
}

/** The result as JSON-ready data (Δθ vectors and retrained models left out; their norms and distances are in the rows). @example JSON.stringify(resultJson(result)) */
export function resultJson(result: TaskResult, extra: Record<string, unknown> = {}): unknown {
  const { deltas: _d, groundTruth: _g, selection, ...rest } = result;
  return {
    ...extra, ...rest,
    selection: { rule: selection.rule, ratio: selection.ratio, fraction: selection.fraction, size: selection.indices.length, layers: selection.layers },
  };
}

/**
 * Writes `<name>.json`, `<name>.md` and (with a sweep) `<name>.svg` into `dir` (created if
 * needed) and returns their paths.
 * @example writeReport('reports', 'remove-class-3', result)
 */
export function writeReport(dir: string, name: string, result: TaskResult, extra: Record<string, string> = {}): string[] {
  const { join } = nodeModule('node:path', 'writeReport');
  nodeModule('node:fs', 'writeReport').mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  let chart: string | null = null;
  // render everything first, then write: an error in rendering leaves no partial report behind
  const svg = result.sweep.length ? sweepChart(result) : null;
  const md = markdownReport(result, svg ? `${name}.svg` : null, extra);
  const json = JSON.stringify(resultJson(result, extra), (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  if (svg) {
    chart = join(dir, `${name}.svg`);
    writeFileAtomic(chart, svg);
    files.push(chart);
  }
  writeFileAtomic(join(dir, `${name}.json`), json);
  writeFileAtomic(join(dir, `${name}.md`), md);
  files.push(join(dir, `${name}.json`), join(dir, `${name}.md`));
  return files;
}
