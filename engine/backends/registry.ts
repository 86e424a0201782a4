/**
 * Which backend new tensors live on. The CPU backend is always there; others (gpu.js) register
 * themselves when their module is imported, so the engine core never depends on them.
 */
import type { Backend } from '../backend.js';
import { ValueError } from '../errors.js';
import { cpuBackend } from './cpu.js';

const backends = new Map<string, Backend>([['cpu', cpuBackend]]);
let active: Backend = cpuBackend;

/** Makes a backend available to `setBackend` under its name. */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/**
 * Chooses the backend that new tensors and operations use.
 * @example
 * setBackend('cpu');
 */
export function setBackend(name: string): void {
  const b = backends.get(name);
  if (!b) throw new ValueError(`setBackend: unknown backend '${name}' (registered: ${[...backends.keys()].join(', ')})`);
  active = b;
}

/** The backend new tensors are created on. */
export function getBackend(): Backend {
  return active;
}

/** Looks a registered backend up by name. */
export function findBackend(name: string): Backend | undefined {
  return backends.get(name);
}
