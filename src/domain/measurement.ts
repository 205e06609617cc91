// What a gate or a backend check reports. Pure data: the engine judges it, templates word it.

/** One value a gate looked at, with the threshold it was held to. */
export interface Observation {
  readonly name: string;
  readonly value: number | string | null;
  /** Human-readable threshold, e.g. "<= 600" or "== 200". */
  readonly threshold?: string;
  readonly ok: boolean;
}

/** Requests and 5xx errors one revision served. */
export interface RevisionCounts {
  readonly requests: number;
  readonly errors: number;
}

/**
 * What a judge gate measures: per-revision counts, canary against stable, which the domain's judge
 * (src/domain/judge) turns into evidence. The gate measures; it never decides.
 */
export interface JudgeSample {
  /**
   * Where the counts start: the window start (ms) they are counted from, or null for running
   * counters of unknown origin (Prometheus, the simulation), which the judge differences between
   * checks. Counts from a window start are cumulative while the start stays the same.
   */
  readonly since: number | null;
  /** The end of the data counted (ms since epoch). */
  readonly through: number;
  /** error_rate: requests and 5xx per revision. */
  readonly errors?: { readonly canary: RevisionCounts; readonly stable: RevisionCounts };
  /**
   * latency: bucket counts per revision; `bounds` are the finite bucket bounds (ms, ascending) and
   * each revision has `bounds.length + 1` counts (below the first bound, …, the last bound and above).
   */
  readonly latency?: { readonly bounds: readonly number[]; readonly canary: readonly number[]; readonly stable: readonly number[] };
}

/**
 * `pass`/`fail` mean the condition was measured and held / did not hold.
 * `error` means it could not be measured (timeout, no data, non-200 from a metrics source):
 * never a pass; the engine counts consecutive errors separately from failures. With `waiting`,
 * the source has no data for the window yet (its data lag): not judged, and not counted as an error.
 * `sample` carries a judge gate's counts; `log` is captured output (a command's stdout/stderr,
 * capped) for the evidence package.
 */
export type Measurement =
  | { readonly outcome: 'pass' | 'fail'; readonly observations: readonly Observation[]; readonly note?: string; readonly log?: string; readonly sample?: JudgeSample }
  | {
      readonly outcome: 'error';
      readonly error: string;
      readonly observations?: readonly Observation[];
      readonly note?: string;
      readonly log?: string;
      readonly waiting?: true;
    };

export const passed = (observations: readonly Observation[], note?: string): Measurement =>
  note === undefined ? { outcome: 'pass', observations } : { outcome: 'pass', observations, note };

export const measured = (observations: readonly Observation[], note?: string): Measurement => {
  const outcome = observations.every((o) => o.ok) ? 'pass' : 'fail';
  return note === undefined ? { outcome, observations } : { outcome, observations, note };
};

export const errored = (error: string, note?: string): Measurement =>
  note === undefined ? { outcome: 'error', error } : { outcome: 'error', error, note };

/** Counts a judge gate measured: the judge, not the gate, decides what they mean. */
export const sampled = (sample: JudgeSample, observations: readonly Observation[], note?: string): Measurement =>
  note === undefined ? { outcome: 'pass', observations, sample } : { outcome: 'pass', observations, sample, note };

/** An observation of `value` against an inclusive maximum. */
export const atMost = (name: string, value: number, max: number): Observation => ({
  name,
  value,
  threshold: `<= ${max}`,
  ok: value <= max,
});

export const atLeast = (name: string, value: number, min: number): Observation => ({
  name,
  value,
  threshold: `>= ${min}`,
  ok: value >= min,
});
