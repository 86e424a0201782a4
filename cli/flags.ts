/** Parsing of numeric command-line flags, shared by every subcommand so they all fail alike. */
import { UsageError } from './command.js';

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
