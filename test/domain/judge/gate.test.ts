// The judge in a gate's track: counts from any window definition taken in once each, running
// counters differenced (a reset is not data), the guard beside the test, the 100 % stage, and the
// track's verdicts as the machine sees them. Pure.
import { describe, expect, it } from 'vitest';
import { judge, NEW_TRACK, nextCohortTrack, type GateTrack } from '../../../src/domain/gates.ts';
import { GUARD_MIN_REQUESTS, histogramQuantile, judgeSample, newJudgeTrack, nextCohortJudge, type JudgeTrack } from '../../../src/domain/judge/gate.ts';
import { errorRateLogEvidence, newErrorRateJudge, updateErrorRate } from '../../../src/domain/judge/error-rate.ts';
import { errored, sampled, type JudgeSample, type RevisionCounts } from '../../../src/domain/measurement.ts';
import type { JudgeRule } from '../../../src/domain/plan.ts';

const ERRORS: JudgeRule = { metric: 'error_rate', worseBy: 2, falseRollback: 0.01, alpha: 0.01, quantile: 0.95, max: null };
const LATENCY: JudgeRule = { metric: 'latency', worseBy: 0.2, falseRollback: 0.01, alpha: 0.01, quantile: 0.95, max: null };

const counts = (canary: [number, number], stable: [number, number]) => ({
  canary: { requests: canary[0], errors: canary[1] } satisfies RevisionCounts,
  stable: { requests: stable[0], errors: stable[1] } satisfies RevisionCounts,
});
const windowed = (since: number, through: number, canary: [number, number], stable: [number, number]): JudgeSample => ({ since, through, errors: counts(canary, stable) });
const counters = (through: number, canary: [number, number], stable: [number, number]): JudgeSample => ({ since: null, through, errors: counts(canary, stable) });

function must(track: JudgeTrack | undefined, rule: JudgeRule, sample: JudgeSample) {
  const out = judgeSample(track, rule, sample);
  if ('error' in out) throw new Error(out.error);
  return out;
}

/** The same increments fed straight to the domain's judge: what the track must match. */
const direct = (...batches: [[number, number], [number, number]][]) =>
  batches.reduce((s, [c, st]) => updateErrorRate(s, { kind: 'increments', canary: { requests: c[0], errors: c[1] }, stable: { requests: st[0], errors: st[1] } }), newErrorRateJudge({ worseBy: 2, alpha: 0.01 }));

describe('counts from a window start', () => {
  it('counts over the soak so far are cumulative: each check judges what is new, once', () => {
    const a = must(undefined, ERRORS, windowed(0, 60_000, [100, 1], [9_900, 50]));
    expect(a.verdict).toBe('pass');
    const b = must(a.track, ERRORS, windowed(0, 120_000, [250, 4], [19_750, 99]));
    // Exactly the two increments: (100, 1 | 9,900, 50) then (150, 3 | 9,850, 49).
    expect(b.track.state.logLr).toEqual(direct([[100, 1], [9_900, 50]], [[150, 3], [9_850, 49]]).logLr);
    expect(b.track).toMatchObject({ origin: 0, through: 120_000 });
    expect(b.reading.figures).toMatchObject({ canary: { requests: 250, errors: 4 }, stable: { requests: 19_750, errors: 99 }, batches: 2 });
  });

  it('a window that starts where the judged data ends (a new cohort, a resumed soak, counts since the last check) is all new', () => {
    const a = must(undefined, ERRORS, windowed(0, 60_000, [100, 1], [9_900, 50]));
    const b = must(a.track, ERRORS, windowed(90_000, 150_000, [500, 2], [9_500, 40]));
    expect(b.track.state.logLr).toEqual(direct([[100, 1], [9_900, 50]], [[500, 2], [9_500, 40]]).logLr);
    // Then cumulative again from the new start.
    const c = must(b.track, ERRORS, windowed(90_000, 210_000, [1_000, 5], [19_000, 80]));
    expect(c.track.state.logLr).toEqual(direct([[100, 1], [9_900, 50]], [[500, 2], [9_500, 40]], [[500, 3], [9_500, 40]]).logLr);
  });

  it('a window that starts inside data already judged cannot be told apart: a baseline, inconclusive, never judged twice', () => {
    const a = must(undefined, ERRORS, windowed(0, 60_000, [100, 1], [9_900, 50]));
    const b = must(a.track, ERRORS, windowed(30_000, 90_000, [100, 9], [9_900, 50]));
    expect(b.verdict).toBe('inconclusive');
    expect(b.reading).toMatchObject({ decision: 'inconclusive', reason: 'baseline' });
    expect(b.track.state.logLr).toEqual(a.track.state.logLr);
    const c = must(b.track, ERRORS, windowed(30_000, 150_000, [200, 10], [19_800, 100]));
    expect(c.track.state.logLr).toEqual(direct([[100, 1], [9_900, 50]], [[100, 1], [9_900, 50]]).logLr);
  });
});

describe('running counters', () => {
  it('the first reading is the baseline; then differences; a counter that went down is a reset, not data', () => {
    const a = must(undefined, ERRORS, counters(1, [5_000, 20], [500_000, 2_000]));
    expect(a.reading).toMatchObject({ decision: 'inconclusive', reason: 'baseline' });
    const b = must(a.track, ERRORS, counters(2, [5_100, 21], [509_900, 2_050]));
    expect(b.track.state.logLr).toEqual(direct([[100, 1], [9_900, 50]]).logLr);
    // The canary restarted: its counter starts again near 0.
    const c = must(b.track, ERRORS, counters(3, [40, 30], [519_800, 2_100]));
    expect(c.reading).toMatchObject({ decision: 'inconclusive', reason: 'counter_reset', revisions: ['canary'] });
    expect(c.reading.summary).toContain('a counter went down (the revision restarted): this check is not data (canary)');
    expect(c.track.state.logLr).toEqual(b.track.state.logLr);
    const d = must(c.track, ERRORS, counters(4, [140, 31], [529_700, 2_150]));
    expect(d.track.state.logLr).toEqual(direct([[100, 1], [9_900, 50]], [[100, 1], [9_900, 50]]).logLr);
    expect(d.reading.figures.resets).toBe(1);
  });
});

describe('decisions as verdicts', () => {
  it('a bad canary rolls back (fail) as soon as the evidence reaches 1/α, with the figures in its words', () => {
    let track: JudgeTrack | undefined;
    let verdicts: string[] = [];
    for (let i = 1; i <= 10; i++) {
      const out = must(track, ERRORS, windowed(0, i * 10_000, [50 * i, 2 * i], [950 * i, 5 * i]));
      track = out.track;
      verdicts = [...verdicts, out.verdict];
      if (out.verdict === 'fail') {
        expect(out.reading.decision).toBe('rollback');
        expect(out.reading.summary).toMatch(/^errors: canary 4\.0 % \(\d+ of \d+\) vs stable 0\.5 % \(\d+ of [\d,]+\): evidence [\d,.e+]+, past the 100 needed: roll back$/);
        expect(out.observations[0]).toMatchObject({ name: 'evidence', threshold: '>= 100 rolls back', ok: false });
        break;
      }
    }
    expect(verdicts.at(-1)).toBe('fail');
    expect(verdicts.slice(0, -1).every((v) => v === 'pass')).toBe(true);
  });

  it('counts that do not fit the metric are an error for the track', () => {
    expect(judgeSample(undefined, LATENCY, windowed(0, 1, [1, 0], [1, 0]))).toEqual({ error: 'the source measured no latency histograms' });
  });
});

describe('the guard (max:)', () => {
  const guarded: JudgeRule = { ...ERRORS, max: 0.05 };

  it('is read only from the cohort canary requests the judge took in, once there are enough, and rolls back past max', () => {
    const few = must(undefined, guarded, windowed(0, 10_000, [GUARD_MIN_REQUESTS - 1, 20], [10_000, 50]));
    expect(few.reading.guard).toBeUndefined();
    const more = must(few.track, guarded, windowed(0, 20_000, [GUARD_MIN_REQUESTS + 1, 20], [10_100, 50]));
    expect(more.reading.guard).toEqual({ value: 0.19802, max: 0.05, ok: false, requests: 101 });
    expect(more.verdict).toBe('fail');
    expect(more.observations.at(-1)).toEqual({ name: 'canary_5xx_ratio_this_cohort', value: 0.19802, threshold: '<= 0.05', ok: false });
  });

  it('starts again with each cohort, while the test goes on', () => {
    const a = must(undefined, guarded, windowed(0, 10_000, [1_000, 10], [9_000, 45]));
    const track: GateTrack = { ...NEW_TRACK, judge: a.track };
    const next = nextCohortTrack(track);
    expect(next.judge?.cohort).toEqual({ requests: 0, errors: 0, bounds: null, buckets: null });
    expect(next.judge?.state).toBe(a.track.state);
    expect(next).toMatchObject({ failingSince: null, errors: 0, last: null });
    expect(nextCohortTrack(undefined)).toBe(NEW_TRACK);
  });

  it('at 100 % stable serves nothing: the test cannot compare (inconclusive) but the guard still reads the canary', () => {
    const a = must(undefined, guarded, windowed(0, 10_000, [5_000, 10], [5_000, 12]));
    const healthy = must(nextCohortJudge(a.track), guarded, windowed(20_000, 30_000, [2_000, 3], [0, 0]));
    expect(healthy).toMatchObject({ verdict: 'inconclusive', reading: { reason: 'no_stable_traffic', guard: { ok: true, requests: 2_000 } } });
    const broken = must(healthy.track, guarded, windowed(20_000, 40_000, [4_000, 400], [0, 0]));
    expect(broken).toMatchObject({ verdict: 'fail', reading: { decision: 'inconclusive', reason: 'no_stable_traffic', guard: { ok: false } } });
  });
});

describe('latency', () => {
  it('reads histograms in the layout each sample carries, and the guard at the percentile', () => {
    const bounds = [100, 200, 400, 800];
    const rule: JudgeRule = { ...LATENCY, max: 600 };
    const h = (since: number, through: number, canary: number[], stable: number[]): JudgeSample => ({ since, through, latency: { bounds, canary, stable } });
    const a = must(undefined, rule, h(0, 10_000, [10, 60, 20, 8, 2], [100, 600, 200, 90, 10]));
    expect(a.reading).toMatchObject({ decision: 'inconclusive', reason: 'estimating_threshold' });
    // 95 % of 100 canary requests = the 95th: bucket [400, 800) holds the 91st–98th: 400 + 5/8 × 400.
    expect(a.reading.guard).toEqual({ value: 650, max: 600, ok: false, requests: 100, quantile: 0.95 });
    expect(a.verdict).toBe('fail');
    const b = must(a.track, { ...rule, max: null }, h(0, 20_000, [20, 120, 40, 16, 4], [200, 1_200, 400, 180, 20]));
    expect(b.reading.decision).toBe('continue');
    // Stable's past (1,000 requests): 990 are below 800 ms, the first bound with 95 % below it.
    expect(b.reading.figures).toMatchObject({ thresholdMs: 800 });
  });

  it('histogramQuantile interpolates within the bucket and reads the overflow bucket as at least its bound', () => {
    expect(histogramQuantile([10, 20], [0, 10, 0], 0.5)).toBe(15);
    expect(histogramQuantile([10, 20], [10, 0, 0], 1)).toBe(10);
    expect(histogramQuantile([10, 20], [0, 0, 5], 0.5)).toBe(20);
    expect(histogramQuantile([10, 20], [0, 0, 0], 0.5)).toBeNull();
  });
});

describe('judge(): the track the machine keeps', () => {
  const rule = { forMs: 0, maxErrors: 3, judge: ERRORS };

  it('an error keeps the test, counts towards max_errors, and is never a pass', () => {
    const first = judge(NEW_TRACK, sampled(windowed(0, 10_000, [100, 1], [9_900, 50]), []), 10_000, rule);
    expect(first.verdict).toBe('pass');
    const broken = judge(first.track, errored('Cloud Monitoring did not answer'), 20_000, rule);
    expect(broken).toMatchObject({ verdict: 'error', track: { errors: 1, judge: first.track.judge } });
    expect(broken.track.last).toMatchObject({ verdict: 'error', error: 'Cloud Monitoring did not answer' });
  });

  it('inconclusive neither passes nor breaks an error streak', () => {
    const t0 = judge(NEW_TRACK, errored('timeout'), 1, rule).track;
    const baseline = judge(t0, sampled(counters(2, [10, 0], [1_000, 1]), []), 2, rule);
    expect(baseline.verdict).toBe('inconclusive');
    expect(baseline.track.errors).toBe(1);
    expect(baseline.track.last?.judge?.reason).toBe('baseline');
  });

  it('a judge gate measured without counts is an error', () => {
    const out = judge(NEW_TRACK, { outcome: 'pass', observations: [] }, 1, rule);
    expect(out).toMatchObject({ verdict: 'error', track: { last: { error: 'the gate measured no counts for the judge' } } });
  });

  it('the track is plain data: it survives JSON (Redis) and goes on identically', () => {
    const a = judge(NEW_TRACK, sampled(windowed(0, 10_000, [100, 3], [9_900, 50]), []), 10_000, rule).track;
    const copy = JSON.parse(JSON.stringify(a)) as GateTrack;
    const next = sampled(windowed(0, 20_000, [200, 7], [19_800, 99]), []);
    expect(judge(copy, next, 20_000, rule)).toEqual(judge(a, next, 20_000, rule));
    expect(Math.exp(errorRateLogEvidence(newJudgeTrack(ERRORS).state as never))).toBe(1);
  });
});
