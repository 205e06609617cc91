import { describe, expect, it } from 'vitest';
import { splitAlpha } from '../../../src/domain/judge/alpha.ts';

describe('splitAlpha (Bonferroni)', () => {
  it('gives equal shares that add up to the cutover budget', () => {
    const shares = splitAlpha(0.01, ['error_rate', 'latency']);
    expect(shares).toEqual({ error_rate: 0.005, latency: 0.005 });
    expect(Object.values(splitAlpha(0.01, ['a', 'b', 'c'])).reduce((s, a) => s + a, 0)).toBeCloseTo(0.01, 15);
  });

  it('follows weights', () => {
    const shares = splitAlpha(0.03, { error_rate: 2, latency: 1 });
    expect(shares.error_rate).toBeCloseTo(0.02, 15);
    expect(shares.latency).toBeCloseTo(0.01, 15);
  });

  it('refuses what cannot be a budget or a split', () => {
    expect(() => splitAlpha(0, ['a'])).toThrow(/between 0 and 1/);
    expect(() => splitAlpha(1, ['a'])).toThrow(/between 0 and 1/);
    expect(() => splitAlpha(0.01, [])).toThrow(/at least one/);
    expect(() => splitAlpha(0.01, ['a', 'a'])).toThrow(/unique/);
    expect(() => splitAlpha(0.01, { a: 0 })).toThrow(/positive/);
  });
});
