/**
 * Node's built-in modules, looked up when a function that needs them runs instead of imported at
 * the top of a file. A bundler then meets no `node:` import, so gift/nn and gift/influence load
 * in a browser; only the functions that read or write files or gunzip need Node, and they say so
 * when it is missing.
 * (`process.getBuiltinModule` arrived in Node 20.16.)
 */
import { EnvironmentError } from './errors.js';

interface NodeModules {
  'node:fs': typeof import('node:fs');
  'node:path': typeof import('node:path');
  'node:zlib': typeof import('node:zlib');
  'node:module': typeof import('node:module');
}

type MaybeProcess = { getBuiltinModule?(id: string): unknown } | undefined;
const nodeProcess = (): MaybeProcess => (globalThis as { process?: MaybeProcess }).process;

/**
 * A Node built-in module for `op`, or an EnvironmentError saying that `op` needs Node.
 * @example nodeModule('node:fs', 'loadModel').readFileSync(path)
 */
export function nodeModule<K extends keyof NodeModules>(id: K, op: string): NodeModules[K] {
  const found = nodeProcess()?.getBuiltinModule?.(id);
  if (found === undefined) {
    throw new EnvironmentError(`${op} needs Node.js ≥ 20.16 (it uses ${id}); this environment has no Node built-ins (a browser?). In a browser, pass bytes and data to gift's encode/decode functions instead`);
  }
  return found as NodeModules[K];
}
