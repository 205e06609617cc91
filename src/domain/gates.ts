// Gate judgement: pure. A *failure* (the condition was measured and did not hold) and an *error*
// (it could not be measured) are kept apart, with separate limits, as argo-rollouts does.
import type { Measurement, Observation } from './measurement.ts';

/**
 * - pass: measured and held.
 * - watch: failing, but not yet for as long as the gate's `for:` window; the soak is not clean.
 * - fail: failing for the whole `for:` window (or once, without one): roll back.
 * - error: could not be measured; never a pass; the soak is not clean.
 * - errors_exhausted: `max_errors` consecutive errors: hold and escalate.
 * - waiting: the window's data is not visible yet (the gate's data lag); not judged, not clean.
 */
export type Verdict = 'pass' | 'watch' | 'fail' | 'error' | 'errors_exhausted' | 'waiting';

export interface GateTrack {
  /** When the current unbroken run of failures began. Errors do not break it; only a pass does. */
  readonly failingSince: number | null;
  /** Consecutive errors; a pass or a failure resets it. */
  readonly errors: number;
  readonly last: GateReading | null;
}

export interface GateReading {
  readonly verdict: Verdict;
  readonly at: number;
  readonly observations: readonly Observation[];
  readonly error?: string;
  readonly note?: string;
}

export interface GateRule {
  readonly forMs: number;
  readonly maxErrors: number;
}

export const NEW_TRACK: GateTrack = { failingSince: null, errors: 0, last: null };

export function judge(track: GateTrack, measurement: Measurement, at: number, rule: GateRule): { track: GateTrack; verdict: Verdict } {
  const reading = (verdict: Verdict) => readingOf(verdict, measurement, at);
  switch (measurement.outcome) {
    case 'pass':
      return { verdict: 'pass', track: { failingSince: null, errors: 0, last: reading('pass') } };
    case 'fail': {
      const failingSince = track.failingSince ?? at;
      const verdict: Verdict = at - failingSince >= rule.forMs ? 'fail' : 'watch';
      return { verdict, track: { failingSince, errors: 0, last: reading(verdict) } };
    }
    case 'error': {
      const errors = track.errors + 1;
      const verdict: Verdict = errors >= rule.maxErrors ? 'errors_exhausted' : 'error';
      return { verdict, track: { failingSince: track.failingSince, errors, last: reading(verdict) } };
    }
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
