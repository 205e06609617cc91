// What a judge says after a check, and the words for the war room. Pure.
import type { Revision, SkipReason } from './batch.ts';

/**
 * - rollback: the evidence reached 1/α at some check; it stays so (the decision was taken then;
 *   Ville's bound is about the first crossing, so later data cannot take it back);
 * - continue: this check was judged and the evidence is below 1/α: the soak may go on;
 * - inconclusive: this check could not be judged (no data, stable serving nothing, a counter
 *   reset…): never a pass.
 */
export type JudgeDecision<F> =
  | { readonly verdict: 'rollback' | 'continue'; readonly figures: F; readonly summary: string }
  | { readonly verdict: 'inconclusive'; readonly reason: SkipReason; readonly revisions?: readonly Revision[]; readonly figures: F; readonly summary: string };

/** The evidence part of every judge's figures. */
export interface EvidenceFigures {
  /** The e-value: how many times likelier the data are under the mixture of regressions than if the canary were no worse. */
  readonly evidence: number;
  /** Roll back when the evidence reaches this: 1/α. */
  readonly threshold: number;
  /** Batches judged and counter resets seen over the judge's life (the whole cutover). */
  readonly batches: number;
  readonly resets: number;
}

const REASONS: Readonly<Record<SkipReason, string>> = {
  baseline: 'first reading of the counters: the next check has increments to judge',
  counter_reset: 'a counter went down (the revision restarted): this check is not data',
  no_data: 'the canary served no requests in this check',
  no_stable_traffic: 'stable served no requests in this check (the 100 % stage): nothing to compare the canary with',
  invalid: 'the counts cannot be right',
  estimating_threshold: "stable has not served enough requests yet to place the slow threshold near its percentile",
  layout_changed: 'the histogram buckets changed: the slow threshold is estimated anew',
};

export function reasonText(reason: SkipReason, revisions?: readonly Revision[], detail?: string): string {
  const who = revisions?.length ? ` (${revisions.join(' and ')})` : '';
  return `${REASONS[reason]}${who}${detail ? `: ${detail}` : ''}`;
}

/** "2.4 %", "0.5 %", "0.04 %"; "no requests" for a rate of nothing. */
export function percent(rate: number | null): string {
  if (rate === null) return 'no requests';
  const p = rate * 100;
  if (p === 0) return '0 %';
  return `${p >= 0.1 ? p.toFixed(1) : p.toPrecision(1)} %`;
}

export const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** 3.1, 37, 1,250, 4.2e+9: enough to see how close the evidence is. */
export function evidenceText(e: number): string {
  if (e < 10) return e.toFixed(1);
  if (e < 1e6) return count(e);
  return e.toExponential(1);
}

export function evidenceClause(f: EvidenceFigures, crossed: boolean): string {
  return crossed
    ? `evidence ${evidenceText(f.evidence)}, past the ${count(f.threshold)} needed: roll back`
    : `evidence ${evidenceText(f.evidence)} of the ${count(f.threshold)} needed to roll back`;
}

export const rateOf = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);
