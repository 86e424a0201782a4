/**
 * docs/autodiff.md stays true: every ```js example runs against the engine source and prints
 * what its `// →` comments say.
 */
import { readFileSync } from 'node:fs';
import { format } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as engine from '../../engine/index.js';

const page = readFileSync(new URL('../../docs/autodiff.md', import.meta.url), 'utf8');
const examples = [...page.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('docs/autodiff.md examples', () => {
  it('has examples', () => expect(examples.length).toBeGreaterThanOrEqual(7));

  it.each(examples.map((code, i) => [i + 1, code] as const))('example %i prints what it says', (_i, code) => {
    const expected = [...code.matchAll(/console\.log\(.*\); \/\/ → (.*)$/gm)].map((m) => m[1]!);
    // `import { a, b } from 'gift/engine'` becomes a destructuring of the engine module
    const body = code.replace(/import \{([^}]*)\} from 'gift\/engine';/g, 'const {$1} = engine;');
    const printed: string[] = [];
    const fakeConsole = { log: (...args: unknown[]) => printed.push(format(...args)) };
    new Function('engine', 'console', body)(engine, fakeConsole);
    expect(printed).toEqual(expected);
  });
});
