/** Parsing of command-line flags, shared by every subcommand so they all fail alike. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.js';

/**
 * node:util's `parseArgs`, with a malformed command line (an unknown flag, a missing value, a
 * stray positional) reported as a UsageError, which prints the command's usage and exits 2.
 * @example const { values } = parseFlags({ args: [...args], strict: true, options: { epochs: { type: 'string' } } });
 */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * The number a flag holds: `fallback` when the flag is absent, else its value when it is a
 * finite number that `ok` accepts; anything else (empty, not a number, out of range) is a
 * UsageError `--name must be <what>, got '<value>'`.
 * @example numberFlag('epochs', '5', 6, positiveInt, 'a positive integer') // 5
 */
export function numberFlag(name: string, value: string | undefined, fallback: number, ok: (v: number) => boolean, what: string): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || !ok(v)) throw new UsageError(`--${name} must be ${what}, got '${value}'`);
  return v;
}

/** Accepts integers ≥ 1. @example numberFlag('groups', '2', 1, positiveInt, 'a positive integer') */
export const positiveInt = (v: number): boolean => Number.isInteger(v) && v > 0;
