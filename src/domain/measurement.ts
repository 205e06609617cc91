// What a gate or a backend check reports. Pure data: the engine judges it, templates word it.

/** One value a gate looked at, with the threshold it was held to. */
export interface Observation {
  readonly name: string;
  readonly value: number | string | null;
  /** Human-readable threshold, e.g. "<= 600" or "== 200". */
  readonly threshold?: string;
  readonly ok: boolean;
}

/**
 * `pass`/`fail` mean the condition was measured and held / did not hold.
 * `error` means it could not be measured (timeout, no data, non-200 from a metrics source):
 * never a pass; the engine counts consecutive errors separately from failures.
 * `log` is captured output (a command's stdout/stderr, capped) for the evidence package.
 */
export type Measurement =
  | { readonly outcome: 'pass' | 'fail'; readonly observations: readonly Observation[]; readonly note?: string; readonly log?: string }
  | { readonly outcome: 'error'; readonly error: string; readonly observations?: readonly Observation[]; readonly note?: string; readonly log?: string };

export const passed = (observations: readonly Observation[], note?: string): Measurement =>
  note === undefined ? { outcome: 'pass', observations } : { outcome: 'pass', observations, note };

export const measured = (observations: readonly Observation[], note?: string): Measurement => {
  const outcome = observations.every((o) => o.ok) ? 'pass' : 'fail';
  return note === undefined ? { outcome, observations } : { outcome, observations, note };
};

export const errored = (error: string, note?: string): Measurement =>
  note === undefined ? { outcome: 'error', error } : { outcome: 'error', error, note };

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
