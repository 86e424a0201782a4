/**
 * Saving and loading influence results as JSON, together with the settings that produced them
 * (solver, damping, model, data), so a number read later says where it came from. Files are
 * written to a temporary name and renamed, so a crash never leaves half a file.
 */
import { ValueError } from '../engine/index.js';
import { writeFileAtomic } from '../nn/index.js';
import { nodeModule } from '../nn/node.js';

/** The on-disk envelope. `kind` says what `data` holds (e.g. 'influence-scores'). */
export interface ResultsFile<S, D> {
  format: 'gift-influence';
  version: 1;
  kind: string;
  createdAt: string;
  settings: S;
  data: D;
}

/** A corrupt or mismatched results file. @example try { loadResults(p, 'x') } catch (e) { if (e instanceof ResultsFormatError) … } */
export class ResultsFormatError extends ValueError {}

/** Typed arrays become plain arrays; non-finite numbers are refused (JSON would turn them into null). */
function toJsonValue(value: unknown, path: string): unknown {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ValueError(`saveResults: ${path} is ${value}; results must be finite`);
    return value;
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return toJsonValue(Array.from(value as unknown as ArrayLike<number>), path);
  if (Array.isArray(value)) return value.map((v, i) => toJsonValue(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function').map(([k, v]) => [k, toJsonValue(v, `${path}.${k}`)]));
  }
  return value;
}

/**
 * Writes `{ settings, data }` under `kind` to `path` atomically.
 * @example saveResults('out/scores.json', 'influence-scores', { solver: 'cg', damping: 1e-3 }, { scores })
 */
export function saveResults<S, D>(path: string, kind: string, settings: S, data: D): void {
  const file = { format: 'gift-influence', version: 1, kind, createdAt: new Date().toISOString(), settings: toJsonValue(settings, 'settings'), data: toJsonValue(data, 'data') };
  writeFileAtomic(path, JSON.stringify(file, null, 1));
}

/**
 * Reads a file written by {@link saveResults}, checking its format and kind.
 * @example const { settings, data } = loadResults<Settings, Data>('out/scores.json', 'influence-scores')
 */
export function loadResults<S, D>(path: string, kind: string): ResultsFile<S, D> {
  const { existsSync, readFileSync } = nodeModule('node:fs', 'loadResults');
  if (!existsSync(path)) throw new ResultsFormatError(`loadResults: ${path} does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ResultsFormatError(`loadResults: ${path} is not valid JSON (${(e as Error).message})`);
  }
  const f = parsed as Partial<ResultsFile<S, D>>;
  if (f === null || typeof f !== 'object' || f.format !== 'gift-influence') throw new ResultsFormatError(`loadResults: ${path} is not a gift influence results file`);
  if (f.version !== 1) throw new ResultsFormatError(`loadResults: ${path} has version ${String(f.version)}, this gift reads version 1`);
  if (f.kind !== kind) throw new ResultsFormatError(`loadResults: ${path} holds '${String(f.kind)}', expected '${kind}'`);
  if (!('settings' in f) || !('data' in f)) throw new ResultsFormatError(`loadResults: ${path} lacks settings or data`);
  return f as ResultsFile<S, D>;
}
