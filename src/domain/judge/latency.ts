// The latency judge: is the canary slower than stable? Per-revision latency histograms (bucket
// counts, as Cloud Monitoring's request_latencies distribution or Prometheus' _bucket series give
// them) per check batch, judged in the same e-value frame as errors. Pure.
//
// The choice: count a request as "slow" when its bucket lies at or above a threshold T near
// stable's p-th percentile (a bucket bound: the data say nothing finer), and run the error-rate
// e-process (odds.ts) on slow requests instead of errors: given how many requests each revision
// served and how many were slow in all, is the canary's share of the slow ones above its share of
// the requests?
//
// Validity. H0: the canary is no slower than stable, i.e. for every t, P_canary(latency ≥ t) ≤
// P_stable(latency ≥ t). For any fixed T the slow indicators are then "errors" with the canary's
// rate ≤ stable's, and odds.ts's argument applies. T may be chosen from data only if it is fixed
// before the batch it judges is seen (predictable): here, the batch judged at check b uses the
// bound picked from stable's histogram over checks 1…b−1 only, never from batch b and never from
// the canary. Then, given the past, T_b is a constant, E[L_b(θ) | past] ≤ 1, and the product over
// batches with moving T_b is still a supermartingale. (Picking T from the same batch, or from the
// canary's counts, would break this: the bound could be placed where the canary happens to look bad.)
// Re-estimating T every check from all of stable's past lets it follow stable through the stages.
//
// The prior: `worse_by` here is a latency ratio (0.2 = the canary 20 % slower). Scaling latencies
// by (1 + w) multiplies the share above a high percentile by about (1 + w)^k, k the tail's local
// slope (d log P(L > t) / d log t). For a log-normal with σ = 1, a wide spread, k ≈ 2 between the
// 90th and 99th percentiles; narrower spreads have larger k and a larger odds ratio, which the
// grid's upper points cover. So the grid of odds ratios starts at (1 + w)²: 1.44 for +20 %.
// Like the error judge, the prior aims power and never touches the bound.
import { checkAlpha } from './alpha.ts';
import { counterIncrements, isCount, JUDGED, NOTHING_YET, skipped, type BatchOutcome, type Revision } from './batch.ts';
import { count, evidenceClause, percent, rateOf, reasonText, type EvidenceFigures, type JudgeDecision } from './decision.ts';
import { addBatch, emptyLogLr, evidenceValue, logEvidence, oddsPrior } from './odds.ts';

/**
 * One check's histograms. `bounds` are the finite bucket bounds, ascending (ms); each revision's
 * counts have `bounds.length + 1` entries, Cloud Monitoring's layout: bucket 0 is below bounds[0],
 * bucket i is [bounds[i−1], bounds[i]), the last is bounds[last] and above. (Prometheus' `le`
 * buckets are cumulative: difference them first.)
 */
export interface LatencyBatch {
  readonly kind: 'increments' | 'cumulative';
  readonly bounds: readonly number[];
  readonly canary: readonly number[];
  readonly stable: readonly number[];
}

export interface LatencyConfig {
  /** The smallest slowdown worth catching, as a fraction: 0.2 = the canary 20 % slower. */
  readonly worseBy: number;
  readonly alpha: number;
  /** Stable's percentile the slow threshold sits at (default 0.95). */
  readonly quantile?: number;
  /** Stable requests seen before the threshold is placed and the canary judged (default 200). */
  readonly minStableRequests?: number;
}

export interface SlowCounts {
  readonly requests: number;
  readonly slow: number;
}

export interface LatencyState {
  readonly judge: 'latency';
  readonly worseBy: number;
  readonly alpha: number;
  readonly quantile: number;
  readonly minStableRequests: number;
  readonly bounds: readonly number[] | null;
  /** Stable's bucket counts over every past check: where the next threshold is picked from. */
  readonly stableSeen: readonly number[] | null;
  readonly lastReading: { readonly canary: readonly number[]; readonly stable: readonly number[] } | null;
  readonly logLr: readonly number[];
  /** Totals over the judged batches, each batch counted at its own threshold. */
  readonly canary: SlowCounts;
  readonly stable: SlowCounts;
  /** The threshold (ms) the latest judged batch was held to. */
  readonly thresholdMs: number | null;
  readonly batches: number;
  readonly resets: number;
  readonly last: BatchOutcome;
  readonly rollbackAtBatch: number | null;
}

export interface LatencyFigures extends EvidenceFigures {
  readonly canary: SlowCounts & { readonly share: number | null };
  readonly stable: SlowCounts & { readonly share: number | null };
  readonly thresholdMs: number | null;
}

/** The smallest odds ratio of a slow request the prior aims at, for a slowdown of `worseBy`. */
export const latencyOddsFloor = (worseBy: number): number => (1 + worseBy) ** 2;

const milliseconds = (ms: number): string => (ms < 10 ? String(Number(ms.toPrecision(2))) : count(ms));

const ZERO: SlowCounts = Object.freeze({ requests: 0, slow: 0 });

export function newLatencyJudge(config: LatencyConfig): LatencyState {
  if (!(Number.isFinite(config.worseBy) && config.worseBy > 0)) {
    throw new RangeError(`latency: worse_by is a fraction of stable's latency and must be above 0 (0.2 = 20 % slower), not ${config.worseBy}`);
  }
  checkAlpha(config.alpha, 'latency');
  const quantile = config.quantile ?? 0.95;
  if (!(quantile > 0 && quantile < 1)) throw new RangeError(`latency: quantile must be between 0 and 1, not ${quantile}`);
  const minStableRequests = config.minStableRequests ?? 200;
  if (!(Number.isFinite(minStableRequests) && minStableRequests >= 1)) throw new RangeError(`latency: minStableRequests must be at least 1, not ${minStableRequests}`);
  return Object.freeze({
    judge: 'latency',
    worseBy: config.worseBy,
    alpha: config.alpha,
    quantile,
    minStableRequests,
    bounds: null,
    stableSeen: null,
    lastReading: null,
    logLr: emptyLogLr(oddsPrior(latencyOddsFloor(config.worseBy))),
    canary: ZERO,
    stable: ZERO,
    thresholdMs: null,
    batches: 0,
    resets: 0,
    last: NOTHING_YET,
    rollbackAtBatch: null,
  });
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const sameBounds = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

function layoutProblem(batch: LatencyBatch): string | null {
  const { bounds } = batch;
  if (bounds.length === 0) return 'a histogram needs at least one bucket bound';
  if (!bounds.every((b, i) => Number.isFinite(b) && (i === 0 || b > bounds[i - 1]!))) return 'bucket bounds must be finite and ascending';
  for (const revision of ['canary', 'stable'] as const) {
    if (batch[revision].length !== bounds.length + 1) return `${revision} has ${batch[revision].length} bucket counts for ${bounds.length} bounds (expected ${bounds.length + 1})`;
    if (!batch[revision].every((n) => Number.isFinite(n))) return `${revision} bucket counts must be finite`;
  }
  return null;
}

/**
 * The bucket index j whose upper bound is the slow threshold: the first bound with at least
 * `quantile` of stable's requests below it. Slow = buckets j+1… (latency ≥ bounds[j]). If stable's
 * percentile falls in the overflow bucket, the last finite bound is used.
 */
export function slowThresholdIndex(stableCounts: readonly number[], quantile: number): number {
  const total = sum(stableCounts);
  const lastBound = stableCounts.length - 2;
  let below = 0;
  for (let j = 0; j <= lastBound; j++) {
    below += stableCounts[j]!;
    if (below >= quantile * total) return j;
  }
  return lastBound;
}

const slowAbove = (counts: readonly number[], j: number): number => sum(counts.slice(j + 1));

export function updateLatency(state: LatencyState, batch: LatencyBatch): LatencyState {
  const skip = (last: BatchOutcome, more: Partial<LatencyState> = {}): LatencyState => Object.freeze({ ...state, ...more, last });
  const layout = layoutProblem(batch);
  if (layout) return skip(skipped('invalid', { detail: layout }));
  const bounds = Object.freeze([...batch.bounds]);
  const reading = Object.freeze({ canary: Object.freeze([...batch.canary]), stable: Object.freeze([...batch.stable]) });

  if (state.bounds !== null && !sameBounds(state.bounds, bounds)) {
    // Counts in another layout cannot be added to stable's past ones: start the threshold again.
    // The evidence so far stays: it was earned on thresholds fixed before their batches.
    return skip(skipped('layout_changed'), { bounds, stableSeen: null, lastReading: batch.kind === 'cumulative' ? reading : null });
  }

  let canary = batch.canary;
  let stable = batch.stable;
  let lastReading = state.lastReading;
  if (batch.kind === 'cumulative') {
    if (![...canary, ...stable].every(isCount)) return skip(skipped('invalid', { detail: 'cumulative counts must not be negative' }), { bounds });
    const previous = state.lastReading;
    if (previous === null) return skip(skipped('baseline'), { bounds, lastReading: reading });
    const c = counterIncrements(previous.canary, canary);
    const s = counterIncrements(previous.stable, stable);
    if (c === null || s === null) {
      const revisions: Revision[] = [...(c === null ? ['canary' as const] : []), ...(s === null ? ['stable' as const] : [])];
      return skip(skipped('counter_reset', { revisions }), { bounds, lastReading: reading, resets: state.resets + 1 });
    }
    canary = c;
    stable = s;
    lastReading = reading;
  } else {
    const down: Revision[] = [];
    if (canary.some((n) => n < 0)) down.push('canary');
    if (stable.some((n) => n < 0)) down.push('stable');
    if (down.length) return skip(skipped('counter_reset', { revisions: down }), { bounds, resets: state.resets + 1 });
  }

  // The threshold for this batch comes from stable's past only; this batch's stable counts join
  // the past afterwards, whatever becomes of the batch.
  const past = state.stableSeen;
  const stableSeen = Object.freeze(stable.map((n, i) => n + (past?.[i] ?? 0)));
  const after = { bounds, lastReading, stableSeen };
  const canaryRequests = sum(canary);
  const stableRequests = sum(stable);
  if (canaryRequests === 0) return skip(skipped('no_data'), after);
  if (stableRequests === 0) return skip(skipped('no_stable_traffic'), after);
  if (past === null || sum(past) < state.minStableRequests) return skip(skipped('estimating_threshold'), after);

  const j = slowThresholdIndex(past, state.quantile);
  const canarySlow = slowAbove(canary, j);
  const stableSlow = slowAbove(stable, j);
  const prior = oddsPrior(latencyOddsFloor(state.worseBy));
  const share = canaryRequests / (canaryRequests + stableRequests);
  const logLr = addBatch(prior, state.logLr, share, canarySlow, canarySlow + stableSlow);
  const batches = state.batches + 1;
  const crossed = state.rollbackAtBatch === null && logEvidence(prior, logLr) >= Math.log(1 / state.alpha);
  return Object.freeze({
    ...state,
    ...after,
    logLr,
    canary: Object.freeze({ requests: state.canary.requests + canaryRequests, slow: state.canary.slow + canarySlow }),
    stable: Object.freeze({ requests: state.stable.requests + stableRequests, slow: state.stable.slow + stableSlow }),
    thresholdMs: bounds[j]!,
    batches,
    last: JUDGED,
    rollbackAtBatch: crossed ? batches : state.rollbackAtBatch,
  });
}

export const latencyLogEvidence = (state: LatencyState): number => logEvidence(oddsPrior(latencyOddsFloor(state.worseBy)), state.logLr);

export function latencyFigures(state: LatencyState): LatencyFigures {
  return {
    canary: { ...state.canary, share: rateOf(state.canary.slow, state.canary.requests) },
    stable: { ...state.stable, share: rateOf(state.stable.slow, state.stable.requests) },
    thresholdMs: state.thresholdMs,
    evidence: evidenceValue(latencyLogEvidence(state)),
    threshold: 1 / state.alpha,
    batches: state.batches,
    resets: state.resets,
  };
}

/** E.g. "latency: canary 12.0 % at or above 412 ms (60 of 500) vs stable 4.1 % (390 of 9,500): evidence 37 of the 200 needed to roll back". */
export function decideLatency(state: LatencyState): JudgeDecision<LatencyFigures> {
  const figures = latencyFigures(state);
  const crossed = state.rollbackAtBatch !== null;
  const at = figures.thresholdMs === null ? 'slow' : `at or above ${milliseconds(figures.thresholdMs)} ms`;
  const line = `canary ${percent(figures.canary.share)} ${at} (${count(figures.canary.slow)} of ${count(figures.canary.requests)}) vs stable ${percent(figures.stable.share)} (${count(figures.stable.slow)} of ${count(figures.stable.requests)}): ${evidenceClause(figures, crossed)}`;
  if (crossed) return { verdict: 'rollback', figures, summary: `latency: ${line}` };
  const last = state.last;
  if (last.outcome === 'judged') return { verdict: 'continue', figures, summary: `latency: ${line}` };
  const reason = last.outcome === 'skipped' ? last.reason : 'no_data';
  const revisions = last.outcome === 'skipped' ? last.revisions : undefined;
  const why = reasonText(reason, revisions, last.outcome === 'skipped' ? last.detail : undefined);
  return { verdict: 'inconclusive', reason, ...(revisions ? { revisions } : {}), figures, summary: `latency: inconclusive, ${why}; ${state.batches === 0 ? `nothing judged yet (${evidenceClause(figures, false)})` : `so far ${line}`}` };
}
