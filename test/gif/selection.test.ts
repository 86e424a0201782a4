/** Parameter selection: exact per-layer budgets, whole units in score order, biases only of whole units. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValueError } from '../../engine/index.js';
import { selectByThreshold, selectParameters, type SelectableLayer } from '../../influence/gif/selection.js';

/** A layout of consecutive layers with the given (units, fanIn), weights then biases, as nn lays them out. */
function makeLayout(shapes: readonly (readonly [number, number])[]): SelectableLayer[] {
  let offset = 0;
  return shapes.map(([units, fanIn], i) => {
    const l: SelectableLayer = { layer: 2 * i, kind: 'linear', weightOffset: offset, biasOffset: offset + units * fanIn, units, fanIn };
    offset += units * (fanIn + 1);
    return l;
  });
}

/** For each layer: which units have all weights + bias, which have some weights, and which biases are in J. */
function account(layout: readonly SelectableLayer[], J: Int32Array) {
  const set = new Set(J);
  return layout.map((l) => {
    const weightsPerUnit = Array.from({ length: l.units }, (_, u) => {
      let c = 0;
      for (let w = 0; w < l.fanIn; w++) if (set.has(l.weightOffset + u * l.fanIn + w)) c++;
      return c;
    });
    const biases = Array.from({ length: l.units }, (_, u) => set.has(l.biasOffset + u));
    const inLayer = J.filter((j) => j >= l.weightOffset && j < l.biasOffset + l.units).length;
    return { weightsPerUnit, biases, inLayer };
  });
}

describe('selectParameters', () => {
  it('takes exactly floor(ratio·n_l) per layer, whole units by score, leftover weights from the next unit', () => {
    const layout = makeLayout([[5, 4], [3, 5]]); // n = 25 and 18
    const scores = [Float64Array.of(0.1, 0.9, 0.5, 0.3, 0.7), Float64Array.of(2, 1, 3)];
    const sel = selectParameters(layout, scores, 0.5, { order: 'highest', seed: 0 });
    // layer 0: k = 12 = 2 whole units (1, 4) + 2 weights of unit 2; layer 1: k = 9 = 1 unit (2) + 3 weights of unit 0
    expect(sel.layers.map((l) => l.budget)).toEqual([12, 9]);
    expect(sel.layers[0]!.wholeUnits).toEqual([1, 4]);
    expect(sel.layers[0]!.partialUnit).toBe(2);
    expect(sel.layers[0]!.partialWeights).toBe(2);
    expect(sel.layers[1]!.wholeUnits).toEqual([2]);
    expect(sel.layers[1]!.partialUnit).toBe(0);
    const [a0, a1] = account(layout, sel.indices);
    expect(a0!.weightsPerUnit).toEqual([0, 4, 2, 0, 4]);
    expect(a0!.biases).toEqual([false, true, false, false, true]);
    expect(a1!.weightsPerUnit).toEqual([3, 0, 5]);
    expect(a1!.biases).toEqual([false, false, true]);
    expect(sel.indices.length).toBe(21);
    expect(sel.fraction).toBeCloseTo(21 / 43, 12);
  });

  it('lowest-k takes the lowest-scoring units first', () => {
    const layout = makeLayout([[4, 2]]);
    const sel = selectParameters(layout, [Float64Array.of(3, 1, 2, 4)], 0.5, { order: 'lowest' });
    expect(sel.layers[0]!.wholeUnits).toEqual([1, 2]);
  });

  it('holds for any layout, ratio, order and scores (property)', () => {
    const arb = fc.record({
      shapes: fc.array(fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 9 })), { minLength: 1, maxLength: 4 }),
      ratio: fc.double({ min: 0.01, max: 1, noNaN: true }),
      order: fc.constantFrom('highest' as const, 'lowest' as const, 'random' as const),
      seed: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(fc.property(arb, ({ shapes, ratio, order, seed }) => {
      const layout = makeLayout(shapes);
      const scoreRng = (u: number, i: number) => Math.abs(Math.sin(seed + 7 * u + 13 * i));
      const scores = layout.map((l, i) => Float64Array.from({ length: l.units }, (_, u) => scoreRng(u, i)));
      const total = layout.reduce((n, l) => n + l.units * (l.fanIn + 1), 0);
      const budgets = layout.map((l) => Math.floor(ratio * l.units * (l.fanIn + 1) + 1e-9));
      if (budgets.every((b) => b === 0)) {
        expect(() => selectParameters(layout, scores, ratio, { order, seed })).toThrow(ValueError);
        return;
      }
      const sel = selectParameters(layout, scores, ratio, { order, seed });
      // strictly increasing, in range
      for (let k = 1; k < sel.indices.length; k++) expect(sel.indices[k]!).toBeGreaterThan(sel.indices[k - 1]!);
      expect(sel.indices[sel.indices.length - 1]!).toBeLessThan(total);
      account(layout, sel.indices).forEach((acc, i) => {
        const l = layout[i]!;
        expect(acc.inLayer).toBe(budgets[i]); // exact budget
        const whole = acc.weightsPerUnit.filter((c, u) => c === l.fanIn && acc.biases[u]).length;
        const partial = acc.weightsPerUnit.filter((c) => c > 0 && c < l.fanIn);
        expect(whole).toBe(Math.floor(budgets[i]! / (l.fanIn + 1)));
        expect(partial.length).toBeLessThanOrEqual(1); // leftover weights come from one unit
        // a bias only with all of its unit's weights
        acc.biases.forEach((b, u) => { if (b) expect(acc.weightsPerUnit[u]).toBe(l.fanIn); });
        if (order !== 'random') {
          // whole units score at least as high (lowest: at most as high) as any unit not taken whole
          const s = scores[i]!;
          const isWhole = (u: number) => acc.biases[u]!;
          const taken = [...s.keys()].filter(isWhole).map((u) => s[u]!);
          const rest = [...s.keys()].filter((u) => !isWhole(u)).map((u) => s[u]!);
          if (taken.length && rest.length) {
            if (order === 'highest') expect(Math.min(...taken)).toBeGreaterThanOrEqual(Math.max(...rest));
            else expect(Math.max(...taken)).toBeLessThanOrEqual(Math.min(...rest));
          }
        }
      });
    }), { numRuns: 200 });
  });

  it('is reproducible from its seed and rejects bad input with typed errors', () => {
    const layout = makeLayout([[6, 5]]);
    const a = selectParameters(layout, null, 0.3, { order: 'random', seed: 4 });
    const b = selectParameters(layout, null, 0.3, { order: 'random', seed: 4 });
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(() => selectParameters(layout, null, 0, { order: 'random' })).toThrow(ValueError);
    expect(() => selectParameters(layout, null, 1.5, { order: 'random' })).toThrow(/ratio/);
    expect(() => selectParameters(layout, null, 0.3, { order: 'highest' })).toThrow(/needs scores/);
    expect(() => selectParameters(layout, [Float64Array.of(1, 2)], 0.3)).toThrow(/6 units but 2 scores/);
    expect(() => selectParameters(layout, [Float64Array.of(1, 2, 3, Number.NaN, 5, 6)], 0.3)).toThrow(/NaN/);
  });
});

describe('selectByThreshold', () => {
  it('takes whole units whose score reaches the threshold, in every layer', () => {
    const layout = makeLayout([[4, 3], [2, 4]]);
    const sel = selectByThreshold(layout, [Float64Array.of(0.2, 0.6, 0.5, 0.1), Float64Array.of(0.9, 0.4)], 0.5);
    expect(sel.layers.map((l) => l.wholeUnits)).toEqual([[1, 2], [0]]);
    expect(sel.indices.length).toBe(2 * 4 + 5);
    expect(() => selectByThreshold(layout, [Float64Array.of(0, 0, 0, 0), Float64Array.of(0, 0)], 1)).toThrow(ValueError);
  });
});
