import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/command.js';
import { numberFlag, parseFlags, positiveInt } from '../../cli/flags.js';

describe('numberFlag', () => {
  it('returns the fallback when absent and the number when accepted', () => {
    expect(numberFlag('epochs', undefined, 6, positiveInt, 'a positive integer')).toBe(6);
    expect(numberFlag('epochs', '12', 6, positiveInt, 'a positive integer')).toBe(12);
    expect(numberFlag('lr', '1e-3', 0.1, (v) => v > 0, 'a positive number')).toBe(1e-3);
  });

  it.each(['', ' ', 'abc', 'NaN', 'Infinity', '2.5', '0', '-3'])('rejects %j for a positive integer, naming the flag and value', (value) => {
    expect(() => numberFlag('epochs', value, 6, positiveInt, 'a positive integer')).toThrow(UsageError);
    expect(() => numberFlag('epochs', value, 6, positiveInt, 'a positive integer')).toThrow(`--epochs must be a positive integer, got '${value}'`);
  });
});

describe('parseFlags', () => {
  const options = { epochs: { type: 'string' }, quiet: { type: 'boolean' } } as const;

  it('returns the typed values and positionals of a well-formed command line', () => {
    const { values, positionals } = parseFlags({ args: ['3', '--epochs', '7', '--quiet'], strict: true, allowPositionals: true, options });
    expect(values).toEqual({ epochs: '7', quiet: true });
    expect(positionals).toEqual(['3']);
  });

  it.each([
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--epochs'], /--epochs/],
    [['stray'], /positional/],
  ])('reports %j as a UsageError naming what was wrong', (args, message) => {
    expect(() => parseFlags({ args, strict: true, allowPositionals: false, options })).toThrow(UsageError);
    expect(() => parseFlags({ args, strict: true, allowPositionals: false, options })).toThrow(message);
  });
});
