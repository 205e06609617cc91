// Gate judgement: pure. A *failure* (the condition was measured and did not hold) and an *error*
// (it could not be measured) are kept apart, with separate limits, as argo-rollouts does.
import { judgeSample, nextCohortJudge, type JudgeReading, type JudgeTrack } from './judge/gate.ts';
import type { Measurement, Observation } from './measurement.ts';
import type { JudgeRule } from './plan.ts';

/**
 * - pass: measured and held.
 * - watch: failing, but not yet for as long as the gate's `for:` window; the soak is not clean.
 * - fail: failing for the whole `for:` window (or once, without one): roll back.
 * - error: could not be measured; never a pass; the soak is not clean.
 * - errors_exhausted: `max_errors` consecutive errors: hold and escalate.
 * - waiting: the window's data is not visible yet (the gate's data lag); not judged, not clean.
 * - inconclusive: a judge measured its counts but could not weigh them (no canary requests in the
 *   check, stable serving nothing, a counter reset…): never a pass, not an error either.
 */
export type Verdict = 'pass' | 'watch' | 'fail' | 'error' | 'errors_exhausted' | 'waiting' | 'inconclusive';

export interface GateTrack {
  /** When the current unbroken run of failures began. Errors do not break it; only a pass does. */
  readonly failingSince: number | null;
  /** Consecutive errors; a pass or a failure resets it. */
  readonly errors: number;
  readonly last: GateReading | null;
  /** A judge gate's test: kept across cohorts, for the whole cutover. */
  readonly judge?: JudgeTrack;
}

export interface GateReading {
  readonly verdict: Verdict;
  readonly at: number;
  readonly observations: readonly Observation[];
  readonly error?: string;
  readonly note?: string;
  /** A judge gate's decision, figures and words. */
  readonly judge?: JudgeReading;
}

export interface GateRule {
  readonly forMs: number;
  readonly maxErrors: number;
  readonly judge?: JudgeRule;
}

export const NEW_TRACK: GateTrack = { failingSince: null, errors: 0, last: null };

/**
 * At 100 % stable serves nothing: a judge has nothing to compare the canary with. It says so
 * (inconclusive, never a pass) and stands aside from that cohort, which the plan's other gates and
 * the judges' guards decide (a plan must have one: see the plan schema).
 */
export const standsAside = (reading: GateReading | null | undefined, traffic: number): boolean =>
  traffic === 100 && reading?.verdict === 'inconclusive' && reading.judge?.reason === 'no_stable_traffic';

/** A gate's track when a new cohort starts: streaks start again; a judge's test goes on. */
export const nextCohortTrack = (track: GateTrack | undefined): GateTrack =>
  track?.judge ? { ...NEW_TRACK, judge: nextCohortJudge(track.judge) } : NEW_TRACK;

export function judge(track: GateTrack, measurement: Measurement, at: number, rule: GateRule): { track: GateTrack; verdict: Verdict } {
  if (rule.judge && measurement.outcome !== 'error') return weigh(track, measurement, at, rule.judge, rule);
  const reading = (verdict: Verdict) => readingOf(verdict, measurement, at);
  switch (measurement.outcome) {
    case 'pass':
      return { verdict: 'pass', track: { ...track, failingSince: null, errors: 0, last: reading('pass') } };
    case 'fail': {
      const failingSince = track.failingSince ?? at;
      const verdict: Verdict = at - failingSince >= rule.forMs ? 'fail' : 'watch';
      return { verdict, track: { ...track, failingSince, errors: 0, last: reading(verdict) } };
    }
    case 'error':
      return countError(track, measurement.error, at, rule, measurement);
  }
}

function countError(track: GateTrack, error: string, at: number, rule: GateRule, measurement?: Measurement): { track: GateTrack; verdict: Verdict } {
  const errors = track.errors + 1;
  const verdict: Verdict = errors >= rule.maxErrors ? 'errors_exhausted' : 'error';
  const last = measurement ? readingOf(verdict, measurement, at) : { verdict, at, observations: [], error };
  return { verdict, track: { ...track, errors, last } };
}

/**
 * A judge gate: the counts go to the judge, whose decision is the verdict. A rollback is a failure
 * at once (the test needs no `for:`); inconclusive neither passes nor counts as an error.
 */
function weigh(track: GateTrack, measurement: Extract<Measurement, { outcome: 'pass' | 'fail' }>, at: number, rule: JudgeRule, gate: GateRule): { track: GateTrack; verdict: Verdict } {
  const checked = measurement.sample ? judgeSample(track.judge, rule, measurement.sample) : { error: 'the gate measured no counts for the judge' };
  if ('error' in checked) return countError(track, checked.error, at, gate);
  const verdict: Verdict = checked.verdict;
  const last: GateReading = {
    verdict,
    at,
    observations: checked.observations,
    judge: checked.reading,
    ...(measurement.note === undefined ? {} : { note: measurement.note }),
  };
  switch (verdict) {
    case 'fail':
      return { verdict, track: { failingSince: track.failingSince ?? at, errors: 0, last, judge: checked.track } };
    case 'pass':
      return { verdict, track: { failingSince: null, errors: 0, last, judge: checked.track } };
    default:
      return { verdict, track: { failingSince: track.failingSince, errors: track.errors, last, judge: checked.track } };
  }
}

/** A one-shot gate (preflight, rollback drill): only a measured pass passes. */
export function judgeOnce(measurement: Measurement, at: number): GateReading {
  const verdict: Verdict = measurement.outcome === 'pass' ? 'pass' : measurement.outcome === 'fail' ? 'fail' : 'error';
  return readingOf(verdict, measurement, at);
}

function readingOf(verdict: Verdict, measurement: Measurement, at: number): GateReading {
  return {
    verdict,
    at,
    observations: measurement.observations ?? [],
    ...(measurement.outcome === 'error' ? { error: measurement.error } : {}),
    ...(measurement.note === undefined ? {} : { note: measurement.note }),
  };
}
