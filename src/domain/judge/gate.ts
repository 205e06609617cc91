// A judge gate in the cutover: the judge's state kept in the gate's track (stored with the cutover,
// committed with it), updated one check at a time from the counts the gate measured. Pure.
//
// Where counts start. A source reports counts either from a window start (`since`: Cloud Monitoring
// over the soak so far, Cloud Logging since the data last judged) or as running counters of unknown
// origin (`since` null: Prometheus, the simulation). Whatever the window, each request must be
// judged at most once, or the e-process would count the same evidence twice; skipping data is
// always safe. So, against what the track last took in:
// - the same window start: the counts are cumulative; the judge takes the difference;
// - a start at or after the data already judged (a new cohort's soak, a resumed soak, or counts
//   since the last check): the counts are all new;
// - a start inside data already judged: nothing new can be told apart; the reading becomes the
//   baseline and the check is inconclusive;
// - running counters: differenced against the last reading; a counter that went down restarted,
//   and the judge drops that batch (its counter_reset).
import type { JudgeSample, Observation, RevisionCounts } from '../measurement.ts';
import type { JudgeRule } from '../plan.ts';
import type { Revision, SkipReason } from './batch.ts';
import type { JudgeDecision } from './decision.ts';
import { decideErrorRate, newErrorRateJudge, updateErrorRate, type ErrorRateFigures, type ErrorRateState } from './error-rate.ts';
import { decideLatency, newLatencyJudge, updateLatency, type LatencyFigures, type LatencyState } from './latency.ts';

/** The canary in the current cohort, for the guard (`max:`). Reset when a new cohort starts. */
export interface CohortCanary {
  readonly requests: number;
  readonly errors: number;
  /** latency: the canary's bucket counts over the cohort, in `bounds`' layout. */
  readonly bounds: readonly number[] | null;
  readonly buckets: readonly number[] | null;
}

export interface JudgeTrack {
  /** The e-process: it runs over the whole cutover, every cohort, so α is not split across stages. */
  readonly state: ErrorRateState | LatencyState;
  /** The window start the last reading was counted from; null for running counters. */
  readonly origin: number | null;
  /** The end of the data taken in so far; null before the first reading. */
  readonly through: number | null;
  readonly cohort: CohortCanary;
}

export type JudgeVerdict = 'rollback' | 'continue' | 'inconclusive';

/** What the war room and the evidence see of one check: the judge's decision, its figures and words. */
export interface JudgeReading {
  readonly metric: JudgeRule['metric'];
  readonly decision: JudgeVerdict;
  readonly reason?: SkipReason;
  readonly revisions?: readonly Revision[];
  readonly summary: string;
  readonly figures: ErrorRateFigures | LatencyFigures;
  /** The guard, once the cohort has enough canary requests to read it. */
  readonly guard?: { readonly value: number; readonly max: number; readonly ok: boolean; readonly requests: number; readonly quantile?: number };
}

export interface JudgedCheck {
  readonly track: JudgeTrack;
  readonly reading: JudgeReading;
  /** fail: roll back (the evidence, or the guard); pass: no regression shown so far; inconclusive: never a pass. */
  readonly verdict: 'fail' | 'pass' | 'inconclusive';
  readonly observations: readonly Observation[];
}

/**
 * The guard is read only once the canary served this many requests in the cohort: at fewer, one
 * error is already a 1 % ratio, and an early request or two would roll back a healthy canary.
 */
export const GUARD_MIN_REQUESTS = 100;

const EMPTY_COHORT: CohortCanary = Object.freeze({ requests: 0, errors: 0, bounds: null, buckets: null });

export function newJudgeTrack(rule: JudgeRule): JudgeTrack {
  const state =
    rule.metric === 'error_rate'
      ? newErrorRateJudge({ worseBy: rule.worseBy, alpha: rule.alpha })
      : newLatencyJudge({ worseBy: rule.worseBy, alpha: rule.alpha, quantile: rule.quantile });
  return Object.freeze({ state, origin: null, through: null, cohort: EMPTY_COHORT });
}

/** The track a new cohort starts with: the same test, a fresh guard. */
export const nextCohortJudge = (track: JudgeTrack): JudgeTrack => Object.freeze({ ...track, cohort: EMPTY_COHORT });

type Reading = { readonly canary: RevisionCounts; readonly stable: RevisionCounts } | { readonly canary: readonly number[]; readonly stable: readonly number[] };

const zerosLike = (reading: Reading): Reading =>
  Array.isArray(reading.canary)
    ? { canary: (reading.canary as number[]).map(() => 0), stable: (reading.stable as number[]).map(() => 0) }
    : { canary: { requests: 0, errors: 0 }, stable: { requests: 0, errors: 0 } };

/** The counts of `sample` for `rule`'s metric, or what is missing. */
function readingOf(rule: JudgeRule, sample: JudgeSample): Reading | string {
  if (rule.metric === 'error_rate') return sample.errors ? { canary: sample.errors.canary, stable: sample.errors.stable } : 'the source measured no request and error counts';
  return sample.latency ? { canary: sample.latency.canary, stable: sample.latency.stable } : 'the source measured no latency histograms';
}

/** Sets the judge's last cumulative reading: what the next cumulative counts are differenced against. */
function withLastReading<S extends ErrorRateState | LatencyState>(state: S, lastReading: Reading | null): S {
  return Object.freeze({ ...state, lastReading }) as unknown as S;
}

/** The canary's increment since `previous`, when there is one that is data (no reset, same layout). */
function canaryIncrement(previous: Reading | null, current: Reading): RevisionCounts | readonly number[] | null {
  if (!previous) return null;
  if (Array.isArray(current.canary)) {
    const before = previous.canary as readonly number[];
    if (!Array.isArray(before) || before.length !== current.canary.length) return null;
    const out = (current.canary as number[]).map((n, i) => n - before[i]!);
    return out.every((d) => Number.isFinite(d) && d >= 0) ? out : null;
  }
  const before = previous.canary as RevisionCounts;
  const now = current.canary as RevisionCounts;
  const d = { requests: now.requests - before.requests, errors: now.errors - before.errors };
  return d.requests >= 0 && d.errors >= 0 && d.errors <= d.requests ? d : null;
}

function cohortAfter(cohort: CohortCanary, increment: RevisionCounts | readonly number[] | null, bounds: readonly number[] | undefined): CohortCanary {
  if (!increment) return cohort;
  if (Array.isArray(increment)) {
    const sameLayout = cohort.bounds !== null && bounds !== undefined && cohort.bounds.length === bounds.length && cohort.bounds.every((b, i) => b === bounds[i]);
    const buckets = sameLayout && cohort.buckets ? cohort.buckets.map((n, i) => n + (increment[i] ?? 0)) : [...increment];
    const requests = buckets.reduce((a, b) => a + b, 0);
    return Object.freeze({ requests, errors: 0, bounds: bounds ? Object.freeze([...bounds]) : null, buckets: Object.freeze(buckets) });
  }
  const d = increment as RevisionCounts;
  return Object.freeze({ ...cohort, requests: cohort.requests + d.requests, errors: cohort.errors + d.errors });
}

/**
 * The latency at quantile `q` of a histogram, interpolated linearly within its bucket (as
 * Prometheus' histogram_quantile and Cloud Monitoring's percentile reducers do); in the overflow
 * bucket, its lower bound (the latency is at least that).
 */
export function histogramQuantile(bounds: readonly number[], counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const target = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (below + n >= target && n > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + ((target - below) / n) * (bounds[i]! - lower);
    }
    below += n;
  }
  return bounds[bounds.length - 1] ?? null;
}

const round = (value: number, digits = 6): number => Math.round(value * 10 ** digits) / 10 ** digits;

function guardOf(rule: JudgeRule, cohort: CohortCanary): JudgeReading['guard'] | undefined {
  if (rule.max === null || cohort.requests < GUARD_MIN_REQUESTS) return undefined;
  if (rule.metric === 'error_rate') {
    const value = cohort.errors / cohort.requests;
    return { value: round(value), max: rule.max, ok: value <= rule.max, requests: cohort.requests };
  }
  const value = cohort.bounds && cohort.buckets ? histogramQuantile(cohort.bounds, cohort.buckets, rule.quantile) : null;
  if (value === null) return undefined;
  return { value: round(value, 3), max: rule.max, ok: value <= rule.max, requests: cohort.requests, quantile: rule.quantile };
}

function observationsOf(rule: JudgeRule, decision: JudgeDecision<ErrorRateFigures | LatencyFigures>, guard: JudgeReading['guard']): Observation[] {
  const f = decision.figures;
  const out: Observation[] = [{ name: 'evidence', value: round(f.evidence, 4), threshold: `>= ${round(f.threshold, 4)} rolls back`, ok: decision.verdict !== 'rollback' }];
  if ('rate' in f.canary) {
    const e = f as ErrorRateFigures;
    out.push({ name: 'canary_5xx_ratio', value: e.canary.rate === null ? null : round(e.canary.rate), ok: true });
    out.push({ name: 'stable_5xx_ratio', value: e.stable.rate === null ? null : round(e.stable.rate), ok: true });
  } else {
    const l = f as LatencyFigures;
    out.push({ name: 'canary_slow_share', value: l.canary.share === null ? null : round(l.canary.share), ok: true });
    out.push({ name: 'stable_slow_share', value: l.stable.share === null ? null : round(l.stable.share), ok: true });
    if (l.thresholdMs !== null) out.push({ name: 'slow_threshold_ms', value: round(l.thresholdMs, 3), ok: true });
  }
  if (guard) {
    const name = rule.metric === 'error_rate' ? 'canary_5xx_ratio_this_cohort' : `canary_p${round(rule.quantile * 100, 2)}_ms_this_cohort`;
    out.push({ name, value: guard.value, threshold: `<= ${guard.max}`, ok: guard.ok });
  }
  return out;
}

/** One check of a judge gate: its counts in, the judge's state, decision and words out. */
export function judgeSample(previous: JudgeTrack | undefined, rule: JudgeRule, sample: JudgeSample): JudgedCheck | { readonly error: string } {
  const reading = readingOf(rule, sample);
  if (typeof reading === 'string') return { error: reading };
  const track = previous ?? newJudgeTrack(rule);
  let state = track.state;
  // Where these counts start, against what the track took in last (see the top of the file).
  if (sample.since === null) {
    if (track.origin !== null) state = withLastReading(state, null);
  } else if (!(track.origin === sample.since && state.lastReading !== null)) {
    const fresh = track.through === null || sample.since >= track.through;
    state = withLastReading(state, fresh ? zerosLike(reading) : null);
  }
  const before = state.lastReading as Reading | null;
  const bounds = sample.latency?.bounds;
  const next =
    state.judge === 'error_rate'
      ? updateErrorRate(state, { kind: 'cumulative', canary: (reading as { canary: RevisionCounts }).canary, stable: (reading as { stable: RevisionCounts }).stable })
      : updateLatency(state, { kind: 'cumulative', bounds: bounds ?? [], canary: reading.canary as readonly number[], stable: reading.stable as readonly number[] });
  // The guard counts what the judge took in as data, even when it could not weigh it (stable
  // serving nothing at 100 %, say): a broken canary at 100 % is still caught by its guard.
  const tookIn = next.last.outcome === 'judged' || (next.last.outcome === 'skipped' && ['no_data', 'no_stable_traffic', 'estimating_threshold'].includes(next.last.reason));
  const cohort = cohortAfter(track.cohort, tookIn ? canaryIncrement(before, reading) : null, bounds);
  const decision: JudgeDecision<ErrorRateFigures | LatencyFigures> = next.judge === 'error_rate' ? decideErrorRate(next) : decideLatency(next);
  const guard = guardOf(rule, cohort);
  const judgeReading: JudgeReading = {
    metric: rule.metric,
    decision: decision.verdict,
    ...(decision.verdict === 'inconclusive' ? { reason: decision.reason, ...(decision.revisions ? { revisions: decision.revisions } : {}) } : {}),
    summary: decision.summary,
    figures: decision.figures,
    ...(guard ? { guard } : {}),
  };
  const verdict = decision.verdict === 'rollback' || guard?.ok === false ? 'fail' : decision.verdict === 'continue' ? 'pass' : 'inconclusive';
  return {
    track: Object.freeze({ state: next, origin: sample.since, through: sample.through, cohort }),
    reading: judgeReading,
    verdict,
    observations: observationsOf(rule, decision, guard),
  };
}
