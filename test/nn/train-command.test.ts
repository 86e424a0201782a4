import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../cli/command.js';
import { trainCommand } from '../../cli/commands/train.js';
import { evaluate, loadModel } from '../../nn/index.js';
import { loadMnist } from '../../experiments/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gift-train-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gift train', () => {
  it('trains, prints the test accuracy and saves a model that reloads to the same accuracy', async () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    const output = join(dir, 'mlp.safetensors');
    try {
      expect(await trainCommand.run(['--epochs', '1', '--output', output, '--seed', '3'])).toBe(0);
    } finally {
      log.mockRestore();
    }
    const printed = lines.find((l) => l.startsWith('test accuracy'));
    expect(printed).toMatch(/^test accuracy \d+\.\d\d%/);
    const { net, params, metadata } = loadModel(output);
    const acc = evaluate(net, params, loadMnist({ dtype: 'float32' }).test).accuracy;
    expect(printed).toContain(`${(100 * acc).toFixed(2)}%`);
    expect(acc).toBeGreaterThan(0.85); // one epoch
    expect(JSON.parse(metadata['gift.train']!).seed).toBe(3);
  });

  it('bad flags are usage errors and nothing is written', async () => {
    const output = join(dir, 'never.safetensors');
    for (const args of [['--model', 'rnn'], ['--epochs', '0'], ['--epochs', '2.5'], ['--lr', 'fast'], ['--dtype', 'int8'], ['--bogus'], ['--validation', '1'], ['--backend', 'tpu']]) {
      await expect(trainCommand.run([...args, '--output', output])).rejects.toThrow(UsageError);
    }
    expect(existsSync(output)).toBe(false);
  });
});
