// What both judges do with one check's counts before any statistics: turn cumulative counters into
// increments, and tell a counter reset from data. Pure.

export type Revision = 'canary' | 'stable';

/**
 * Why a batch was not judged. Each makes the check `inconclusive`, never a pass:
 * - baseline: the first cumulative reading, nothing to subtract it from yet;
 * - counter_reset: a counter went down (a revision restarted): not data; the reading becomes the new baseline;
 * - no_data: the canary served nothing in the batch;
 * - no_stable_traffic: stable served nothing (the 100 % stage): nothing to compare the canary with;
 * - invalid: counts that cannot be (more errors than requests, negative or non-finite increments);
 * - estimating_threshold (latency): stable has not served enough yet to place the slow threshold;
 * - layout_changed (latency): the histogram's bucket bounds changed; the threshold is estimated anew.
 */
export type SkipReason = 'baseline' | 'counter_reset' | 'no_data' | 'no_stable_traffic' | 'invalid' | 'estimating_threshold' | 'layout_changed';

/** What the latest batch was. `revisions` names who reset; `detail` says what was invalid. */
export type BatchOutcome =
  | { readonly outcome: 'none' }
  | { readonly outcome: 'judged' }
  | { readonly outcome: 'skipped'; readonly reason: SkipReason; readonly revisions?: readonly Revision[]; readonly detail?: string };

export const NOTHING_YET: BatchOutcome = Object.freeze({ outcome: 'none' });
export const JUDGED: BatchOutcome = Object.freeze({ outcome: 'judged' });

export const skipped = (reason: SkipReason, extra: { revisions?: readonly Revision[]; detail?: string } = {}): BatchOutcome =>
  Object.freeze({ outcome: 'skipped', reason, ...(extra.revisions ? { revisions: Object.freeze([...extra.revisions]) } : {}), ...(extra.detail ? { detail: extra.detail } : {}) });

export const isCount = (n: number): boolean => Number.isFinite(n) && n >= 0;

/**
 * `current − previous`, element by element, or null when any counter went down. A counter that
 * goes down restarted: its increment is unknown (part of the batch was lost with the old process),
 * so the caller drops the batch for both revisions (the two sides of a batch are only comparable
 * together) and takes the new reading as its baseline.
 */
export function counterIncrements(previous: readonly number[], current: readonly number[]): number[] | null {
  const out = current.map((now, i) => now - (previous[i] ?? 0));
  return out.some((d) => d < 0) ? null : out;
}
