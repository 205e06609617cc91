// The error-rate judge: its figures and words, counter resets, no data, monotonicity, a seeded
// null simulation against α, and properties of its state (serialisable, order-consistent).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideErrorRate,
  errorRateLogEvidence,
  newErrorRateJudge,
  updateErrorRate,
  type ErrorBatch,
  type ErrorRateState,
  type RevisionErrors,
} from '../../../src/domain/judge/error-rate.ts';
import { binomial, seeded } from './random.ts';

const inc = (canary: RevisionErrors, stable: RevisionErrors): ErrorBatch => ({ kind: 'increments', canary, stable });
const cum = (canary: RevisionErrors, stable: RevisionErrors): ErrorBatch => ({ kind: 'cumulative', canary, stable });
const fresh = (alpha = 0.01) => newErrorRateJudge({ worseBy: 2, alpha });
const evidence = (s: ErrorRateState) => Math.exp(errorRateLogEvidence(s));

describe('one batch, by hand', () => {
  it('12 of 500 canary requests failed against 48 of 9,500 on stable: the evidence and the words', () => {
    const s = updateErrorRate(fresh(0.001), inc({ requests: 500, errors: 12 }, { requests: 9_500, errors: 48 }));
    // Σ_k w_k θ_k^12 / (1 + 0.05 (θ_k − 1))^60 over the worse_by = 2 grid (odds.test.ts has the digits).
    expect(evidence(s)).toBeCloseTo(813.7617798674019, 8);
    const d = decideErrorRate(s);
    expect(d.verdict).toBe('continue');
    expect(d.summary).toBe('errors: canary 2.4 % (12 of 500) vs stable 0.5 % (48 of 9,500): evidence 814 of the 1,000 needed to roll back');
    expect(d.figures).toMatchObject({ canary: { requests: 500, errors: 12, rate: 0.024 }, stable: { requests: 9_500, errors: 48 }, threshold: 1_000, batches: 1 });
    expect(d.figures.stable.rate).toBeCloseTo(48 / 9_500, 15);
  });

  it('rolls back when the evidence reaches 1/α, and stays rolled back', () => {
    let s = updateErrorRate(fresh(0.01), inc({ requests: 500, errors: 12 }, { requests: 9_500, errors: 48 }));
    expect(decideErrorRate(s)).toMatchObject({ verdict: 'rollback' });
    expect(decideErrorRate(s).summary).toContain('evidence 814, past the 100 needed: roll back');
    expect(s.rollbackAtBatch).toBe(1);
    // Later good batches lower the e-value but cannot take back a decision made at the crossing.
    for (let i = 0; i < 20; i++) s = updateErrorRate(s, inc({ requests: 500, errors: 0 }, { requests: 9_500, errors: 50 }));
    expect(evidence(s)).toBeLessThan(100);
    expect(decideErrorRate(s).verdict).toBe('rollback');
    expect(s.rollbackAtBatch).toBe(1);
  });
});

describe('no data is never a pass', () => {
  it('a fresh judge, a canary that served nothing, stable serving nothing: inconclusive, evidence untouched', () => {
    expect(decideErrorRate(fresh())).toMatchObject({ verdict: 'inconclusive', reason: 'no_data' });
    let s = updateErrorRate(fresh(), inc({ requests: 0, errors: 0 }, { requests: 1_000, errors: 5 }));
    expect(decideErrorRate(s)).toMatchObject({ verdict: 'inconclusive', reason: 'no_data' });
    s = updateErrorRate(s, inc({ requests: 100, errors: 1 }, { requests: 900, errors: 4 }));
    expect(decideErrorRate(s).verdict).toBe('continue');
    const before = s.logLr;
    // The 100 % stage: only the canary serves; even 50 canary errors are not judged here.
    s = updateErrorRate(s, inc({ requests: 1_000, errors: 50 }, { requests: 0, errors: 0 }));
    const d = decideErrorRate(s);
    expect(d).toMatchObject({ verdict: 'inconclusive', reason: 'no_stable_traffic' });
    expect(d.summary).toContain('stable served no requests in this check (the 100 % stage)');
    expect(s.logLr).toEqual(before);
    expect(s.canary).toEqual({ requests: 100, errors: 1 });
  });

  it('impossible counts are reported, not judged', () => {
    const s = updateErrorRate(fresh(), inc({ requests: 10, errors: 11 }, { requests: 100, errors: 0 }));
    expect(decideErrorRate(s)).toMatchObject({ verdict: 'inconclusive', reason: 'invalid' });
    expect(decideErrorRate(s).summary).toContain('11 errors out of 10 requests');
    expect(s.batches).toBe(0);
    expect(decideErrorRate(updateErrorRate(fresh(), inc({ requests: Number.NaN, errors: 0 }, { requests: 1, errors: 0 }))).verdict).toBe('inconclusive');
  });
});

describe('counter resets', () => {
  it('cumulative counters: the first reading is a baseline, a counter going down is a reset (reported, not data), the next reading counts from it', () => {
    let s = updateErrorRate(fresh(), cum({ requests: 1_000, errors: 2 }, { requests: 19_000, errors: 95 }));
    expect(decideErrorRate(s)).toMatchObject({ verdict: 'inconclusive', reason: 'baseline' });
    s = updateErrorRate(s, cum({ requests: 1_050, errors: 3 }, { requests: 19_950, errors: 100 }));
    expect(decideErrorRate(s).verdict).toBe('continue');
    expect(s.canary).toEqual({ requests: 50, errors: 1 });
    expect(s.stable).toEqual({ requests: 950, errors: 5 });
    const judged = s.logLr;
    // The canary restarted: its counter fell from 1,050 to 40. Not −1,010 requests of data.
    s = updateErrorRate(s, cum({ requests: 40, errors: 0 }, { requests: 20_900, errors: 104 }));
    const d = decideErrorRate(s);
    expect(d).toMatchObject({ verdict: 'inconclusive', reason: 'counter_reset', revisions: ['canary'] });
    expect(d.summary).toContain('a counter went down (the revision restarted): this check is not data (canary)');
    expect(s.resets).toBe(1);
    expect(s.logLr).toEqual(judged);
    expect(s.canary).toEqual({ requests: 50, errors: 1 });
    // Counted from the reading after the reset.
    s = updateErrorRate(s, cum({ requests: 90, errors: 1 }, { requests: 21_850, errors: 109 }));
    expect(decideErrorRate(s).verdict).toBe('continue');
    expect(s.canary).toEqual({ requests: 100, errors: 2 });
    expect(s.stable).toEqual({ requests: 1_900, errors: 10 });
  });

  it('a negative increment is a reset too, and names who reset', () => {
    const s = updateErrorRate(fresh(), inc({ requests: 50, errors: 0 }, { requests: -3, errors: 0 }));
    expect(decideErrorRate(s)).toMatchObject({ verdict: 'inconclusive', reason: 'counter_reset', revisions: ['stable'] });
    expect(s.resets).toBe(1);
    expect(s.batches).toBe(0);
  });
});

describe('monotonicity', () => {
  it('with the same totals, more of the errors on the canary is more evidence; the same canary errors among more stable errors is less', () => {
    const one = (canaryErrors: number, stableErrors: number) =>
      evidence(updateErrorRate(fresh(), inc({ requests: 500, errors: canaryErrors }, { requests: 9_500, errors: stableErrors })));
    for (let x = 0; x < 30; x++) expect(one(x + 1, 29 - x)).toBeGreaterThan(one(x, 30 - x));
    for (let y = 0; y < 30; y++) expect(one(5, y + 1)).toBeLessThan(one(5, y));
  });

  it('a larger canary share makes the same errors less damning', () => {
    const at = (canaryRequests: number) => evidence(updateErrorRate(fresh(), inc({ requests: canaryRequests, errors: 6 }, { requests: 10_000 - canaryRequests, errors: 20 })));
    expect(at(500)).toBeGreaterThan(at(1_000));
    expect(at(1_000)).toBeGreaterThan(at(2_500));
  });
});

/** A cutover through stages 1/5/10/25/50 %, 1,000 requests a check: how often the judge rolls back. */
function simulate(o: { runs: number; checksPerStage: number; alpha: number; stable: number; canary: number; seed: number }) {
  const random = seeded(o.seed);
  let judgeRollbacks = 0;
  let peekingRollbacks = 0;
  for (let run = 0; run < o.runs; run++) {
    let s = newErrorRateJudge({ worseBy: 2, alpha: o.alpha });
    let peeked = false;
    let cx = 0;
    let cn = 0;
    let sx = 0;
    let sn = 0;
    for (const share of [0.01, 0.05, 0.1, 0.25, 0.5]) {
      for (let c = 0; c < o.checksPerStage && s.rollbackAtBatch === null; c++) {
        const canaryRequests = binomial(random, 1_000, share);
        const canary = { requests: canaryRequests, errors: binomial(random, canaryRequests, o.canary) };
        const stable = { requests: 1_000 - canaryRequests, errors: binomial(random, 1_000 - canaryRequests, o.stable) };
        s = updateErrorRate(s, inc(canary, stable));
        // The control: a one-sided two-proportion z-test at level α, looked at after every check.
        cx += canary.errors;
        cn += canary.requests;
        sx += stable.errors;
        sn += stable.requests;
        const pooled = (cx + sx) / (cn + sn);
        const se = Math.sqrt(pooled * (1 - pooled) * (1 / cn + 1 / sn));
        if (se > 0 && (cx / cn - sx / sn) / se > 1.645) peeked = true;
      }
    }
    if (s.rollbackAtBatch !== null) judgeRollbacks += 1;
    if (peeked) peekingRollbacks += 1;
  }
  return { judge: judgeRollbacks / o.runs, peeking: peekingRollbacks / o.runs };
}

describe('seeded simulation', () => {
  it('a healthy canary (canary = stable) is rolled back at most α of the time, though it is looked at after every check', () => {
    const alpha = 0.05;
    const runs = 1_500;
    const r = simulate({ runs, checksPerStage: 30, alpha, stable: 0.01, canary: 0.01, seed: 7 });
    // Within noise: α plus three binomial standard errors.
    expect(r.judge).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / runs));
    // The same runs are able to show a broken bound: a fixed-sample 5 % test looked at every
    // check rolls back healthy canaries far more than 5 % of the time.
    expect(r.peeking).toBeGreaterThan(2 * alpha);
  });

  it('a canary with three times the errors is caught in nearly every run', () => {
    const r = simulate({ runs: 300, checksPerStage: 30, alpha: 0.01, stable: 0.005, canary: 0.015, seed: 11 });
    expect(r.judge).toBeGreaterThan(0.95);
  });
});

const revisionArb = fc.integer({ min: 0, max: 3_000 }).chain((requests) => fc.record({ requests: fc.constant(requests), errors: fc.integer({ min: 0, max: Math.min(requests, 200) }) }));
const batchArb = fc.record({ canary: revisionArb, stable: revisionArb }).map(({ canary, stable }) => inc(canary, stable));

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seeded(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const fold = (batches: readonly ErrorBatch[], start: ErrorRateState = fresh()) => batches.reduce(updateErrorRate, start);

describe('properties of the state', () => {
  it('survives JSON (as it will in Redis): the parsed state equals the state and updates the same way', () => {
    fc.assert(
      fc.property(fc.array(batchArb, { maxLength: 15 }), batchArb, (batches, next) => {
        const s = fold(batches);
        const parsed = JSON.parse(JSON.stringify(s)) as ErrorRateState;
        expect(parsed).toEqual(s);
        expect(updateErrorRate(parsed, next)).toEqual(updateErrorRate(s, next));
        expect(decideErrorRate(parsed)).toEqual(decideErrorRate(s));
      }),
    );
  });

  it('the evidence and totals do not depend on the order of the batches (the crossing batch may: it is a time)', () => {
    fc.assert(
      fc.property(fc.array(batchArb, { minLength: 1, maxLength: 12 }), fc.integer(), (batches, seed) => {
        const a = fold(batches);
        const b = fold(shuffled(batches, seed));
        a.logLr.forEach((l, k) => expect(b.logLr[k]).toBeCloseTo(l, 6));
        expect(b.canary).toEqual(a.canary);
        expect(b.stable).toEqual(a.stable);
        expect(b.batches).toBe(a.batches);
        // Ending at or past 1/α means having crossed it, in whatever order the batches came.
        if (errorRateLogEvidence(a) >= Math.log(100) + 1e-9) expect([a.rollbackAtBatch, b.rollbackAtBatch]).not.toContain(null);
      }),
    );
  });

  it('cumulative counters give the same evidence as their increments', () => {
    fc.assert(
      fc.property(fc.array(batchArb, { maxLength: 12 }), (batches) => {
        let total = { canary: { requests: 7, errors: 1 }, stable: { requests: 70, errors: 3 } };
        let viaCounters = updateErrorRate(fresh(), cum(total.canary, total.stable));
        for (const b of batches) {
          total = {
            canary: { requests: total.canary.requests + b.canary.requests, errors: total.canary.errors + b.canary.errors },
            stable: { requests: total.stable.requests + b.stable.requests, errors: total.stable.errors + b.stable.errors },
          };
          viaCounters = updateErrorRate(viaCounters, cum(total.canary, total.stable));
        }
        const viaIncrements = fold(batches);
        expect(viaCounters.logLr).toEqual(viaIncrements.logLr);
        expect(viaCounters.canary).toEqual(viaIncrements.canary);
        expect(viaCounters.resets).toBe(0);
      }),
    );
  });
});
