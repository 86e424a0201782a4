import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/command.js';
import { numberFlag, positiveInt } from '../../cli/flags.js';

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
