// The latency judge: where the slow threshold comes from (stable's past only), the evidence by hand,
// inconclusive checks, and a seeded null simulation against α.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideLatency, latencyLogEvidence, latencyOddsFloor, newLatencyJudge, slowThresholdIndex, updateLatency, type LatencyBatch, type LatencyState } from '../../../src/domain/judge/latency.ts';
import { seeded } from './random.ts';

const BOUNDS = [10, 20, 50, 100, 200];
const inc = (canary: number[], stable: number[], bounds = BOUNDS): LatencyBatch => ({ kind: 'increments', bounds, canary, stable });
const fresh = (o: { alpha?: number; minStableRequests?: number } = {}) => newLatencyJudge({ worseBy: 0.2, alpha: o.alpha ?? 0.005, minStableRequests: o.minStableRequests ?? 100 });
const evidence = (s: LatencyState) => Math.exp(latencyLogEvidence(s));

describe('the slow threshold', () => {
  it('is the first bucket bound with at least the quantile of stable below it', () => {
    // 100 requests: 20 below 10 ms, 50 in [10, 20), 25 in [20, 50), 4 in [50, 100), 1 at 200 ms or more.
    expect(slowThresholdIndex([20, 50, 25, 4, 0, 1], 0.95)).toBe(2); // 95 below 50 ms
    expect(slowThresholdIndex([20, 50, 25, 4, 0, 1], 0.96)).toBe(3); // 99 below 100 ms
    expect(slowThresholdIndex([20, 50, 25, 4, 0, 1], 0.5)).toBe(1);
    // Stable's percentile in the overflow bucket: the last finite bound.
    expect(slowThresholdIndex([0, 0, 0, 0, 0, 100], 0.95)).toBe(4);
  });

  it('comes from stable’s past checks only: never from the batch it judges, never from the canary', () => {
    let s = fresh();
    // Check 1: stable fast (95 % below 20 ms). Not judged yet: nothing in the past to place a threshold with.
    s = updateLatency(s, inc([0, 10, 0, 0, 0, 0], [50, 145, 5, 0, 0, 0]));
    expect(decideLatency(s)).toMatchObject({ verdict: 'inconclusive', reason: 'estimating_threshold' });
    // Check 2: stable suddenly slow and the canary too; the threshold still comes from check 1: 20 ms.
    s = updateLatency(s, inc([0, 0, 0, 10, 0, 0], [0, 0, 0, 200, 0, 0]));
    expect(s.thresholdMs).toBe(20);
    expect(s.canary).toEqual({ requests: 10, slow: 10 });
    expect(s.stable).toEqual({ requests: 200, slow: 200 });
    // Check 3: stable's past now includes check 2: of 400, 200 below 50 ms and all below 100 ms → 100 ms.
    s = updateLatency(s, inc([10, 0, 0, 0, 0, 0], [100, 100, 0, 0, 0, 0]));
    expect(s.thresholdMs).toBe(100);
    // The canary's counts never move it.
    const a = updateLatency(fresh(), inc([0, 0, 0, 0, 0, 0], [50, 145, 5, 0, 0, 0]));
    const b = updateLatency(fresh(), inc([0, 0, 0, 0, 0, 999], [50, 145, 5, 0, 0, 0]));
    expect(updateLatency(a, inc([5, 0, 0, 0, 0, 5], [100, 90, 10, 0, 0, 0])).thresholdMs).toBe(updateLatency(b, inc([5, 0, 0, 0, 0, 5], [100, 90, 10, 0, 0, 0])).thresholdMs);
  });
});

describe('the evidence', () => {
  it('after one judged batch equals the hand-computed mixture over the (1 + w)² grid', () => {
    expect(latencyOddsFloor(0.2)).toBeCloseTo(1.44, 12);
    let s = updateLatency(fresh(), inc([0, 0, 0, 0, 0, 0], [50, 145, 5, 0, 0, 0]));
    // Threshold 20 ms. Canary: 4 of 10 slow; stable: 25 of 190. s = 10/200, X = 4, N = 29.
    s = updateLatency(s, inc([3, 3, 2, 1, 1, 0], [40, 125, 20, 5, 0, 0]));
    expect(s.thresholdMs).toBe(20);
    expect(s.canary).toEqual({ requests: 10, slow: 4 });
    expect(s.stable).toEqual({ requests: 190, slow: 25 });
    // Σ_k w_k θ_k⁴ / (1 + 0.05 (θ_k − 1))²⁹, θ_k = 1.44·√2^k, computed to 40 digits outside JavaScript.
    expect(evidence(s)).toBeCloseTo(2.7133252303766973, 10);
    const d = decideLatency(s);
    expect(d.verdict).toBe('continue');
    expect(d.summary).toBe('latency: canary 40.0 % at or above 20 ms (4 of 10) vs stable 13.2 % (25 of 190): evidence 2.7 of the 200 needed to roll back');
  });

  it('a canary far slower than stable is rolled back, and stays so', () => {
    let s = updateLatency(fresh(), inc([0, 0, 0, 0, 0, 0], [100, 180, 20, 0, 0, 0]));
    for (let i = 0; i < 5 && s.rollbackAtBatch === null; i++) s = updateLatency(s, inc([0, 2, 4, 4, 0, 0], [100, 180, 20, 0, 0, 0]));
    expect(decideLatency(s).verdict).toBe('rollback');
    const at = s.rollbackAtBatch;
    s = updateLatency(s, inc([10, 0, 0, 0, 0, 0], [100, 180, 20, 0, 0, 0]));
    expect(decideLatency(s).verdict).toBe('rollback');
    expect(s.rollbackAtBatch).toBe(at);
  });
});

describe('checks that cannot be judged', () => {
  it('no canary requests, no stable requests, a reset, a new bucket layout, impossible shapes: inconclusive, evidence untouched', () => {
    let s = updateLatency(fresh(), inc([0, 0, 0, 0, 0, 0], [50, 145, 5, 0, 0, 0]));
    s = updateLatency(s, inc([3, 3, 2, 1, 1, 0], [40, 125, 20, 5, 0, 0]));
    const logLr = s.logLr;
    const cases: [LatencyBatch, string][] = [
      [inc([0, 0, 0, 0, 0, 0], [40, 125, 20, 5, 0, 0]), 'no_data'],
      [inc([3, 3, 2, 1, 1, 0], [0, 0, 0, 0, 0, 0]), 'no_stable_traffic'],
      [inc([3, -3, 2, 1, 1, 0], [40, 125, 20, 5, 0, 0]), 'counter_reset'],
      [inc([3, 3, 2, 1, 0], [40, 125, 20, 5, 0]), 'invalid'],
      [inc([3, 3, 2, 1, 1, 0], [40, 125, 20, 5, 0, 0], [10, 20, 50, 100, 150]), 'layout_changed'],
      [inc([3, 3, 2, 1, 1, 0], [40, 125, 20, 5, 0, 0], [10, 20, 20, 100, 200]), 'invalid'],
    ];
    for (const [batch, reason] of cases) {
      const next = updateLatency(s, batch);
      expect(decideLatency(next), reason).toMatchObject({ verdict: 'inconclusive', reason });
      expect(next.logLr).toEqual(logLr);
    }
    // After a new layout the threshold is estimated again from stable's counts in that layout.
    const relaid = updateLatency(s, cases[4]![0]);
    expect(relaid.stableSeen).toBeNull();
    expect(decideLatency(updateLatency(relaid, inc([3, 3, 2, 1, 1, 0], [40, 125, 20, 5, 0, 0], [10, 20, 50, 100, 150])))).toMatchObject({ reason: 'estimating_threshold' });
  });

  it('cumulative histograms: baseline, increments, and a restart that is reported, not judged', () => {
    let s = newLatencyJudge({ worseBy: 0.2, alpha: 0.005, minStableRequests: 1 });
    s = updateLatency(s, { kind: 'cumulative', bounds: BOUNDS, canary: [1, 1, 1, 0, 0, 0], stable: [20, 30, 5, 0, 0, 0] });
    expect(decideLatency(s)).toMatchObject({ verdict: 'inconclusive', reason: 'baseline' });
    s = updateLatency(s, { kind: 'cumulative', bounds: BOUNDS, canary: [2, 2, 2, 0, 0, 0], stable: [40, 60, 10, 0, 0, 0] });
    expect(decideLatency(s)).toMatchObject({ verdict: 'inconclusive', reason: 'estimating_threshold' });
    s = updateLatency(s, { kind: 'cumulative', bounds: BOUNDS, canary: [3, 3, 3, 0, 0, 0], stable: [60, 90, 15, 0, 0, 0] });
    expect(decideLatency(s).verdict).toBe('continue');
    expect(s.canary.requests).toBe(3);
    s = updateLatency(s, { kind: 'cumulative', bounds: BOUNDS, canary: [3, 3, 3, 0, 0, 0], stable: [1, 0, 0, 0, 0, 0] });
    expect(decideLatency(s)).toMatchObject({ verdict: 'inconclusive', reason: 'counter_reset', revisions: ['stable'] });
    expect(s.resets).toBe(1);
  });
});

/** Log-normal latencies into exponential buckets (scale 1 ms, ×1.4), as Cloud Run's histograms look. */
const CLOUD_RUN_LIKE = Array.from({ length: 40 }, (_, i) => 1.4 ** i);
function histogram(random: () => number, n: number, medianMs: number, sigma: number): number[] {
  const counts = new Array<number>(CLOUD_RUN_LIKE.length + 1).fill(0);
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const ms = medianMs * Math.exp(sigma * z);
    const bucket = ms < 1 ? 0 : Math.min(CLOUD_RUN_LIKE.length, Math.floor(Math.log(ms) / Math.log(1.4)) + 1);
    counts[bucket]! += 1;
  }
  return counts;
}

describe('seeded simulation', () => {
  it('a canary exactly as fast as stable is rolled back at most α of the time', () => {
    const alpha = 0.05;
    const runs = 400;
    const random = seeded(3);
    let rollbacks = 0;
    for (let run = 0; run < runs; run++) {
      let s = newLatencyJudge({ worseBy: 0.2, alpha, minStableRequests: 200 });
      for (let c = 0; c < 60 && s.rollbackAtBatch === null; c++) {
        const share = c < 30 ? 0.05 : 0.25;
        s = updateLatency(s, inc(histogram(random, 200 * share, 120, 0.5), histogram(random, 200 * (1 - share), 120, 0.5), CLOUD_RUN_LIKE));
      }
      if (s.rollbackAtBatch !== null) rollbacks += 1;
    }
    expect(rollbacks / runs).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / runs));
  });

  it('a canary 50 % slower is caught in nearly every run', () => {
    const random = seeded(5);
    let caught = 0;
    for (let run = 0; run < 100; run++) {
      let s = newLatencyJudge({ worseBy: 0.2, alpha: 0.005 });
      for (let c = 0; c < 60 && s.rollbackAtBatch === null; c++) s = updateLatency(s, inc(histogram(random, 20, 180, 0.5), histogram(random, 380, 120, 0.5), CLOUD_RUN_LIKE));
      if (s.rollbackAtBatch !== null) caught += 1;
    }
    expect(caught).toBeGreaterThanOrEqual(95);
  });
});

describe('properties of the state', () => {
  const countsArb = fc.array(fc.integer({ min: 0, max: 300 }), { minLength: BOUNDS.length + 1, maxLength: BOUNDS.length + 1 });
  const batchArb = fc.record({ canary: countsArb, stable: countsArb }).map(({ canary, stable }) => inc(canary, stable));
  it('survives JSON and updates the same way after it', () => {
    fc.assert(
      fc.property(fc.array(batchArb, { maxLength: 10 }), batchArb, (batches, next) => {
        const s = batches.reduce(updateLatency, fresh());
        const parsed = JSON.parse(JSON.stringify(s)) as LatencyState;
        expect(parsed).toEqual(s);
        expect(updateLatency(parsed, next)).toEqual(updateLatency(s, next));
      }),
    );
  });
});
