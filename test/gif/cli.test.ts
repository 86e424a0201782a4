/** The GIF commands reject bad arguments with usage errors before doing any work, and describe themselves. */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/command.js';
import { commands } from '../../cli/commands.js';
import { backdoorCommand } from '../../cli/commands/backdoor.js';
import { parseTaskOptions, removeClassCommand } from '../../cli/commands/remove-class.js';
import { parseBackdoorArgs } from '../../cli/commands/backdoor.js';
import { removeGroupCommand } from '../../cli/commands/remove-group.js';
import { Rng } from '../../engine/index.js';
import { gaussianBlobs, mlp } from '../../nn/index.js';
import { trainOrLoad } from '../../experiments/index.js';
import { writeReport } from '../../experiments/index.js';
import { AUTO_DAMPING, type TaskResult } from '../../experiments/index.js';

describe('gift remove-class / backdoor / remove-group arguments', () => {
  const bad: [typeof removeClassCommand, string[], RegExp][] = [
    [removeClassCommand, ['12'], /class must be an integer 0-9/],
    [removeClassCommand, ['three'], /class must be an integer 0-9/],
    [removeClassCommand, ['1', '2'], /expected one class/],
    [removeClassCommand, ['3', '--ratio', '0'], /--ratio must be in \(0, 1\]/],
    [removeClassCommand, ['3', '--ratio', 'abc'], /--ratio/],
    [removeClassCommand, ['3', '--selector', 'magic'], /--selector must be one of/],
    [removeClassCommand, ['3', '--methods', 'GIF,XIF'], /unknown method 'XIF'/],
    [removeClassCommand, ['3', '--sweep', '0.1,2'], /--sweep/],
    [removeClassCommand, ['3', '--hessian-samples', '2.5'], /--hessian-samples must be a positive integer/],
    [removeClassCommand, ['3', '--krylov-iterations', '0'], /--krylov-iterations must be a positive integer, got '0'/],
    [backdoorCommand, ['--krylov-iterations', 'four'], /--krylov-iterations must be a positive integer, got 'four'/],
    [removeClassCommand, ['3', '--model', 'vgg'], /--model must be mlp or cnn/],
    [removeClassCommand, ['3', '--frobnicate'], /Unknown option/],
    [backdoorCommand, ['--fraction', '1.5'], /--fraction must be in \(0, 1\)/],
    [backdoorCommand, ['extra'], /positional|Unexpected argument/i],
    [removeGroupCommand, ['--sizes', '10,x'], /--sizes must be a positive integer/],
    [removeGroupCommand, ['--kinds', 'random,odd'], /unknown kind 'odd'/],
    [removeGroupCommand, ['--methods', 'FIF'], /unknown method 'FIF'/],
    [removeGroupCommand, ['--retrain', 'never'], /--retrain must be warm, scratch or full-batch/],
  ];
  it.each(bad)('%#: a UsageError naming the problem', async (command, args, message) => {
    await expect(command.run(args)).rejects.toThrow(UsageError);
    await expect(command.run(args)).rejects.toThrow(message);
  });

  it('every GIF command is registered with a summary and a usage text that names its options', () => {
    for (const c of [removeClassCommand, backdoorCommand, removeGroupCommand]) {
      expect(commands).toContain(c);
      expect(c.summary.length).toBeGreaterThan(10);
      expect(c.usage).toMatch(/^usage: gift /);
    }
    expect(removeClassCommand.usage).toContain('--ratio');
    expect(removeClassCommand.usage).toContain('--krylov-iterations');
    expect(removeClassCommand.usage).toContain('GIF,GIF-CGLS,FIF,PIF,IF,SIF,GA');
    expect(backdoorCommand.usage).toContain('--fraction');
    expect(removeGroupCommand.usage).toContain('--sizes');
  });
});

describe('parseTaskOptions', () => {
  it('CGLS gets --iterations/3 unless --krylov-iterations says otherwise; GA is a method', () => {
    expect(parseTaskOptions({}).settings.krylovIterations).toBe(20);
    expect(parseTaskOptions({ iterations: '30' }).settings.krylovIterations).toBe(10);
    const fast = parseTaskOptions({ iterations: '30', 'krylov-iterations': '4', 'hessian-samples': '100', methods: 'GIF-CGLS,GA' }).settings;
    expect([fast.krylovIterations, fast.richardsonIterations, fast.hessianSamples]).toEqual([4, 30, 100]);
    expect(fast.methods).toEqual(['GIF-CGLS', 'GA']);
  });

  it('damping defaults to 0 on the MLP and 0.1 on the CNN, and --damping overrides both', () => {
    expect(parseTaskOptions({}).settings.damping).toBe(0);
    expect(parseTaskOptions({ model: 'cnn' }).settings.damping).toBe(0.1);
    expect(parseTaskOptions({ model: 'cnn', damping: '0' }).settings.damping).toBe(0);
  });

  it('--damping takes a list or auto, for a λ chosen on validation per method', () => {
    expect(parseTaskOptions({ damping: '0,0.1,1' }).settings.damping).toEqual([0, 0.1, 1]);
    expect(parseTaskOptions({ model: 'cnn', damping: 'auto' }).settings.damping).toEqual(AUTO_DAMPING);
    expect(parseTaskOptions({ damping: '0.3' }).settings.damping).toBe(0.3);
    for (const bad of ['-1', 'strong', '0,,1', '0.1,0.1', '0,-0.1']) expect(() => parseTaskOptions({ damping: bad })).toThrow(UsageError);
    expect(() => parseTaskOptions({ damping: '0.1,0.1' })).toThrow(/twice/);
  });

  it('--lr sets the learning rate of θ* and of retraining, and must be positive', () => {
    expect(parseTaskOptions({}).recipe.lr).toBe(0.05);
    expect(parseTaskOptions({ lr: '0.02' }).recipe.lr).toBe(0.02);
    // the backdoored CNN dies at 0.05 (docs/gif.md): its command defaults to 0.02; the others keep 0.05
    expect(parseTaskOptions({ model: 'cnn' }, 'backdoor').recipe.lr).toBe(0.02);
    expect(parseTaskOptions({ model: 'cnn', lr: '0.03' }, 'backdoor').recipe.lr).toBe(0.03);
    expect(parseTaskOptions({}, 'backdoor').recipe.lr).toBe(0.05);
    expect(parseTaskOptions({ model: 'cnn' }).recipe.lr).toBe(0.05);
    expect(parseBackdoorArgs(['--model', 'cnn']).cli.recipe.lr).toBe(0.02);
    expect(parseBackdoorArgs(['--fraction', '0.2']).fraction).toBe(0.2);
    expect(() => parseBackdoorArgs(['--fraction', '1'])).toThrow(/--fraction/);
    expect(() => parseTaskOptions({ lr: '0' })).toThrow(UsageError);
    expect(() => parseTaskOptions({ lr: 'fast' })).toThrow(/--lr/);
  });
});

describe('trainOrLoad', () => {
  const recipe = { epochs: 1, batchSize: 16, lr: 0.05, momentum: 0.9, weightDecay: 0, seed: 0, initSeed: 0 };
  it('refuses a model that learned nothing (loss at chance) and saves nothing', () => {
    // random inputs with random labels: no recipe can learn them in one epoch
    const rng = new Rng(7);
    const data = { x: rng.normalTensor([240, 6]), y: Int32Array.from({ length: 240 }, () => Math.floor(rng.uniform() * 3)), classes: 3 };
    const path = join(mkdtempSync(join(tmpdir(), 'gift-train-')), 'model.safetensors');
    expect(() => trainOrLoad(mlp([6, 5, 3], 'relu'), data, recipe, path)).toThrow(/did not learn: the mean training loss of epoch 1 is 1\.\d+, at chance \(ln 3 = 1\.099\).*--lr/);
    expect(existsSync(path)).toBe(false);
  });

  it('trains, saves and then loads a model that learned', () => {
    const data = gaussianBlobs({ n: 240, classes: 3, features: 6, seed: 1 });
    const path = join(mkdtempSync(join(tmpdir(), 'gift-train-')), 'model.safetensors');
    const first = trainOrLoad(mlp([6, 5, 3], 'relu'), data, recipe, path);
    expect([first.cached, existsSync(path)]).toEqual([false, true]);
    expect(trainOrLoad(mlp([6, 5, 3], 'relu'), data, recipe, path).cached).toBe(true);
  });
});

describe('writeReport', () => {
  it('writes JSON, Markdown and SVG and leaves no temporary files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gift-report-'));
    const metrics = { retainedAccuracy: 0.9, removedAccuracy: 0.05, f1: 0.92, score: 0.92 };
    const result = {
      task: 'remove-class', description: 'remove class 1 (10 of 100 training samples)', n: 100, m: 10, parameterCount: 50,
      selection: { indices: Int32Array.of(1, 2, 3), layers: [], ratio: 0.05, fraction: 0.06, rule: 'gradient' },
      rows: [
        { method: 'original', test: metrics, parameters: 0, seconds: 0 },
        { method: 'retrain', test: metrics, parameters: 50, seconds: 2 },
        { method: 'GIF-CGLS', test: metrics, plain: metrics, step: 1, plainStep: 0.5, parameters: 3, hvps: 9, seconds: 0.2, residual: 1e-3, converged: false },
      ],
      selectionSeconds: 0.1, retrainSeconds: 2, deltas: { 'GIF-CGLS': new Float64Array(50) },
      settings: { ratio: 0.05, selector: 'gradient', threshold: 0.5, hessianSamples: 10, damping: 0, richardsonIterations: 5, krylovIterations: 5, tolerance: 1e-4, methods: ['GIF-CGLS'], stepGrid: [0.1, 1], seed: 0, sweepRatios: [0.05, 0.1], sweepSelectors: ['gradient'], targetHessianSamples: 10 },
      sweep: [0.05, 0.1].map((ratio) => ({ ratio, selector: 'gradient', method: 'GIF-CGLS', parameters: 3, test: metrics, plain: metrics, hvps: 9, seconds: 0.1 })),
    } as unknown as TaskResult;
    const files = writeReport(dir, 'r', result, { note: 'x' });
    expect(readdirSync(dir).sort()).toEqual(['r.json', 'r.md', 'r.svg']);
    expect(files.length).toBe(3);
    const md = readFileSync(join(dir, 'r.md'), 'utf8');
    expect(md).toContain('| GIF-CGLS | 3 | 90.0 | 5.0 | 0.920 |');
    expect(md).toContain('1.0e-3*');
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(json.deltas).toBeUndefined();
    expect(json.selection.size).toBe(3);
  });
});
