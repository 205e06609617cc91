// The shared e-process: its closed forms, its prior, and the property the false-rollback bound
// rests on (each batch's mixture factor has expectation ≤ 1 when the canary is no worse), checked
// by exact sums rather than simulation.
import { describe, expect, it } from 'vitest';
import { addBatch, batchLogLr, emptyLogLr, GRID_POINTS, logEvidence, oddsPrior, type OddsPrior } from '../../../src/domain/judge/odds.ts';
import { logChoose } from './random.ts';

/** The mixture factor of one batch, computed the long way: Σ_k w_k θ_k^X / (1 + s(θ_k − 1))^N. */
const directFactor = (prior: OddsPrior, share: number, x: number, n: number): number =>
  prior.logTheta.reduce((sum, lt, k) => {
    const theta = Math.exp(lt);
    return sum + Math.exp(prior.logWeight[k]!) * theta ** x / (1 + share * (theta - 1)) ** n;
  }, 0);

describe('the prior from worse_by', () => {
  it('is a √2 grid from worse_by to 32× it, every point ≥ 1, weights ∝ 1/(k+1)² summing to 1', () => {
    const prior = oddsPrior(2);
    expect(prior.logTheta).toHaveLength(GRID_POINTS);
    const thetas = prior.logTheta.map(Math.exp);
    expect(thetas[0]).toBeCloseTo(2, 12);
    expect(thetas.at(-1)).toBeCloseTo(64, 10);
    for (let k = 1; k < thetas.length; k++) expect(thetas[k]! / thetas[k - 1]!).toBeCloseTo(Math.SQRT2, 12);
    const weights = prior.logWeight.map(Math.exp);
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    expect(weights[0]! / weights[1]!).toBeCloseTo(4, 12);
    expect(Object.isFrozen(prior) && Object.isFrozen(prior.logTheta)).toBe(true);
  });

  it('refuses a floor below 1: a point under θ = 1 would bet on the canary being better, which breaks the bound', () => {
    expect(() => oddsPrior(0.9)).toThrow(/≥ 1/);
    expect(() => oddsPrior(Number.NaN)).toThrow();
  });
});

describe('closed forms', () => {
  it('one grid point, one batch: L = θ^X / (1 + s(θ − 1))^N', () => {
    // θ = 2, s = ½, 3 of 4 errors on the canary: 2³ / 1.5⁴ = 8 / 5.0625.
    expect(Math.exp(batchLogLr(Math.log(2), 0.5, 3, 4))).toBeCloseTo(8 / 5.0625, 12);
    // No errors at all: no evidence either way.
    expect(batchLogLr(Math.log(2), 0.5, 0, 0)).toBe(0);
    // Every error on stable: evidence for the canary, 1/(1 + s)^N.
    expect(Math.exp(batchLogLr(Math.log(2), 0.25, 0, 3))).toBeCloseTo(1 / 1.25 ** 3, 12);
  });

  it('the mixture after one batch equals values computed by hand (40-digit decimal arithmetic)', () => {
    const prior = oddsPrior(2);
    // s = ½, X = 3, N = 4.
    expect(Math.exp(logEvidence(prior, addBatch(prior, emptyLogLr(prior), 0.5, 3, 4)))).toBeCloseTo(1.5337809403642982, 12);
    // 12 of 500 canary requests failed, 48 of 9,500 on stable: s = 0.05, X = 12, N = 60.
    expect(Math.exp(logEvidence(prior, addBatch(prior, emptyLogLr(prior), 0.05, 12, 60)))).toBeCloseTo(813.7617798674019, 8);
  });

  it('the incremental log-space state equals the direct sum Σ_k w_k Π_b L_b(θ_k) over many batches', () => {
    const prior = oddsPrior(1.5);
    const batches = [
      { s: 0.01, x: 0, n: 3 },
      { s: 0.05, x: 2, n: 9 },
      { s: 0.1, x: 1, n: 12 },
      { s: 0.25, x: 7, n: 20 },
      { s: 0.5, x: 4, n: 6 },
      { s: 0.05, x: 0, n: 0 },
    ];
    let logLr = emptyLogLr(prior);
    for (const b of batches) logLr = addBatch(prior, logLr, b.s, b.x, b.n);
    const direct = prior.logTheta.reduce((sum, lt, k) => {
      const theta = Math.exp(lt);
      const product = batches.reduce((p, b) => p * theta ** b.x / (1 + b.s * (theta - 1)) ** b.n, 1);
      return sum + Math.exp(prior.logWeight[k]!) * product;
    }, 0);
    expect(Math.exp(logEvidence(prior, logLr))).toBeCloseTo(direct, 10);
  });

  it('does not overflow where the direct sum would', () => {
    const prior = oddsPrior(2);
    let logLr = emptyLogLr(prior);
    for (let i = 0; i < 200; i++) logLr = addBatch(prior, logLr, 0.05, 40, 40);
    const logE = logEvidence(prior, logLr);
    expect(Number.isFinite(logE)).toBe(true);
    expect(logE).toBeGreaterThan(1000);
  });
});

describe('why the bound holds: one batch factor has expectation ≤ 1 when the canary is no worse', () => {
  const binomialExpectation = (prior: OddsPrior, share: number, n: number, p: number): number => {
    let e = 0;
    for (let x = 0; x <= n; x++) {
      const pmf = Math.exp(logChoose(n, x) + (x ? x * Math.log(p) : 0) + (n - x ? (n - x) * Math.log1p(-p) : 0));
      e += pmf * directFactor(prior, share, x, n);
    }
    return e;
  };

  it('rare-event model: X ~ Bin(N, π0) with π0 ≤ s gives E ≤ 1, and exactly 1 at π0 = s', () => {
    for (const floor of [1.2, 2, 5]) {
      const prior = oddsPrior(floor);
      for (const share of [0.01, 0.05, 0.25, 0.5, 0.9]) {
        for (const n of [1, 5, 20, 60]) {
          expect(binomialExpectation(prior, share, n, share)).toBeCloseTo(1, 9);
          for (const p of [share * 0.9, share / 2, share / 10]) expect(binomialExpectation(prior, share, n, p)).toBeLessThan(1);
        }
      }
    }
  });

  it('Bernoulli requests with equal rates: X is hypergeometric given the totals, and E < 1 (convex order)', () => {
    const prior = oddsPrior(2);
    for (const [canary, stable, errors] of [
      [5, 95, 3],
      [30, 70, 10],
      [50, 50, 40],
      [10, 990, 25],
    ] as const) {
      const total = canary + stable;
      let e = 0;
      let mass = 0;
      for (let x = Math.max(0, errors - stable); x <= Math.min(errors, canary); x++) {
        const pmf = Math.exp(logChoose(canary, x) + logChoose(stable, errors - x) - logChoose(total, errors));
        mass += pmf;
        e += pmf * directFactor(prior, canary / total, x, errors);
      }
      expect(mass).toBeCloseTo(1, 10);
      expect(e).toBeLessThan(1);
    }
  });

  it('a grid point below 1 would break it: with θ < 1 in the mixture, a better canary (π0 < s) pushes E above 1', () => {
    // The reason oddsPrior refuses floors below 1, shown on a hand-made prior.
    const bad: OddsPrior = { logTheta: [Math.log(0.5)], logWeight: [0] };
    expect(binomialExpectation(bad, 0.5, 10, 0.2)).toBeGreaterThan(1);
  });
});
