// The error-rate judge: a sequential test, canary against stable, of the canary's share of the
// errors given how many requests each served, as an e-process (see odds.ts for the statistics and
// why the false-rollback bound holds). Pure: `now` is not even needed; a check hands in counts.
//
// Per check batch: canary requests/errors and stable requests/errors, as increments or as
// cumulative counters (the judge keeps the last reading and subtracts). The odds ratio θ is the
// canary's error odds over stable's (≈ the ratio of error rates when errors are rare). Under H0
// "the canary is no worse" (θ ≤ 1) each error is the canary's with probability at most s, the
// canary's share of the batch's requests; the e-value multiplies one factor per batch with that
// batch's own s, so it stays a supermartingale under H0 while the split moves stage to stage, and
// one e-process can run over the whole cutover: α is not split across stages.
//
// The prior: odds ratios from `worse_by` (e.g. 2 for "twice stable's error rate") to 32× that, on a
// √2 grid, weights ∝ 1/(k+1)² (odds.ts). Any prior on θ ≥ 1 with weights summing to 1 keeps the
// bound (test/domain/judge/odds.test.ts checks E[factor] ≤ 1 exactly); `worse_by` only aims power.
// A side effect worth knowing: a regression well below `worse_by` (below (w−1)/ln w, ≈ 1.44× for
// w = 2) makes even the lowest grid point drift down, so it is almost never rolled back: `worse_by`
// works as a tolerance as well as a target.
import { counterIncrements, isCount, JUDGED, NOTHING_YET, skipped, type BatchOutcome, type Revision } from './batch.ts';
import { count, evidenceClause, percent, rateOf, reasonText, type EvidenceFigures, type JudgeDecision } from './decision.ts';
import { checkAlpha } from './alpha.ts';
import { addBatch, emptyLogLr, evidenceValue, logEvidence, oddsPrior } from './odds.ts';

export interface RevisionErrors {
  readonly requests: number;
  readonly errors: number;
}

/** One check's counts: increments since the previous check, or cumulative counters. */
export interface ErrorBatch {
  readonly kind: 'increments' | 'cumulative';
  readonly canary: RevisionErrors;
  readonly stable: RevisionErrors;
}

export interface ErrorRateConfig {
  /** The smallest regression worth catching, as a ratio of error odds (≈ rates): 2 = twice stable's. */
  readonly worseBy: number;
  /** This judge's share of the cutover's false-rollback budget (see splitAlpha). */
  readonly alpha: number;
}

/** Small and JSON-safe: it is stored with the cutover and updated one check at a time. */
export interface ErrorRateState {
  readonly judge: 'error_rate';
  readonly worseBy: number;
  readonly alpha: number;
  /** Σ over judged batches of log L_b(θ_k), one per grid point of oddsPrior(worseBy). */
  readonly logLr: readonly number[];
  /** Totals over the judged batches (what the evidence is about). */
  readonly canary: RevisionErrors;
  readonly stable: RevisionErrors;
  readonly batches: number;
  readonly resets: number;
  /** The last cumulative reading, for batches of kind `cumulative`. */
  readonly lastReading: { readonly canary: RevisionErrors; readonly stable: RevisionErrors } | null;
  readonly last: BatchOutcome;
  /** The judged batch (1-based) at which the evidence first reached 1/α; null while it has not. */
  readonly rollbackAtBatch: number | null;
}

export interface ErrorRateFigures extends EvidenceFigures {
  readonly canary: RevisionErrors & { readonly rate: number | null };
  readonly stable: RevisionErrors & { readonly rate: number | null };
}

const ZERO: RevisionErrors = Object.freeze({ requests: 0, errors: 0 });

export function newErrorRateJudge(config: ErrorRateConfig): ErrorRateState {
  if (!(Number.isFinite(config.worseBy) && config.worseBy > 1)) {
    throw new RangeError(`error rate: worse_by is a ratio to stable's error rate and must be above 1 (2 = twice), not ${config.worseBy}`);
  }
  checkAlpha(config.alpha, 'error rate');
  return Object.freeze({
    judge: 'error_rate',
    worseBy: config.worseBy,
    alpha: config.alpha,
    logLr: emptyLogLr(oddsPrior(config.worseBy)),
    canary: ZERO,
    stable: ZERO,
    batches: 0,
    resets: 0,
    lastReading: null,
    last: NOTHING_YET,
    rollbackAtBatch: null,
  });
}

const frozen = (r: RevisionErrors): RevisionErrors => Object.freeze({ requests: r.requests, errors: r.errors });

function problem(r: RevisionErrors): string | null {
  if (!isCount(r.requests) || !isCount(r.errors)) return `counts must be finite and not negative (requests ${r.requests}, errors ${r.errors})`;
  if (r.errors > r.requests) return `${r.errors} errors out of ${r.requests} requests`;
  return null;
}

/** The state after one more check. Never throws on bad data: bad data is reported, not judged. */
export function updateErrorRate(state: ErrorRateState, batch: ErrorBatch): ErrorRateState {
  const skip = (last: BatchOutcome, more: Partial<ErrorRateState> = {}): ErrorRateState => Object.freeze({ ...state, ...more, last });
  let canary = batch.canary;
  let stable = batch.stable;
  let lastReading = state.lastReading;

  if (batch.kind === 'cumulative') {
    const bad = problem(canary) ?? problem(stable);
    if (bad) return skip(skipped('invalid', { detail: bad }));
    const reading = Object.freeze({ canary: frozen(canary), stable: frozen(stable) });
    const previous = state.lastReading;
    if (previous === null) return skip(skipped('baseline'), { lastReading: reading });
    const c = counterIncrements([previous.canary.requests, previous.canary.errors], [canary.requests, canary.errors]);
    const s = counterIncrements([previous.stable.requests, previous.stable.errors], [stable.requests, stable.errors]);
    if (c === null || s === null) {
      const revisions: Revision[] = [...(c === null ? ['canary' as const] : []), ...(s === null ? ['stable' as const] : [])];
      return skip(skipped('counter_reset', { revisions }), { lastReading: reading, resets: state.resets + 1 });
    }
    canary = { requests: c[0]!, errors: c[1]! };
    stable = { requests: s[0]!, errors: s[1]! };
    lastReading = reading;
  } else {
    // Increments worked out by the caller: a negative one is still a reset, not data.
    const down: Revision[] = [];
    if (canary.requests < 0 || canary.errors < 0) down.push('canary');
    if (stable.requests < 0 || stable.errors < 0) down.push('stable');
    if (down.length) return skip(skipped('counter_reset', { revisions: down }), { resets: state.resets + 1 });
  }

  const bad = problem(canary) ?? problem(stable);
  if (bad) return skip(skipped('invalid', { detail: bad }), { lastReading });
  if (canary.requests === 0) return skip(skipped('no_data'), { lastReading });
  if (stable.requests === 0) return skip(skipped('no_stable_traffic'), { lastReading });

  const prior = oddsPrior(state.worseBy);
  const share = canary.requests / (canary.requests + stable.requests);
  const logLr = addBatch(prior, state.logLr, share, canary.errors, canary.errors + stable.errors);
  const batches = state.batches + 1;
  const crossed = state.rollbackAtBatch === null && logEvidence(prior, logLr) >= Math.log(1 / state.alpha);
  return Object.freeze({
    ...state,
    logLr,
    canary: frozen({ requests: state.canary.requests + canary.requests, errors: state.canary.errors + canary.errors }),
    stable: frozen({ requests: state.stable.requests + stable.requests, errors: state.stable.errors + stable.errors }),
    batches,
    lastReading,
    last: JUDGED,
    rollbackAtBatch: crossed ? batches : state.rollbackAtBatch,
  });
}

/** log of the e-value so far. */
export const errorRateLogEvidence = (state: ErrorRateState): number => logEvidence(oddsPrior(state.worseBy), state.logLr);

export function errorRateFigures(state: ErrorRateState): ErrorRateFigures {
  return {
    canary: { ...state.canary, rate: rateOf(state.canary.errors, state.canary.requests) },
    stable: { ...state.stable, rate: rateOf(state.stable.errors, state.stable.requests) },
    evidence: evidenceValue(errorRateLogEvidence(state)),
    threshold: 1 / state.alpha,
    batches: state.batches,
    resets: state.resets,
  };
}

/**
 * The verdict after the latest check, with the figures for the war room, e.g.
 * "errors: canary 2.4 % (12 of 500) vs stable 0.5 % (48 of 9,500): evidence 37 of the 100 needed to roll back".
 */
export function decideErrorRate(state: ErrorRateState): JudgeDecision<ErrorRateFigures> {
  const figures = errorRateFigures(state);
  const crossed = state.rollbackAtBatch !== null;
  const line = `canary ${percent(figures.canary.rate)} (${count(figures.canary.errors)} of ${count(figures.canary.requests)}) vs stable ${percent(figures.stable.rate)} (${count(figures.stable.errors)} of ${count(figures.stable.requests)}): ${evidenceClause(figures, crossed)}`;
  if (crossed) return { verdict: 'rollback', figures, summary: `errors: ${line}` };
  const last = state.last;
  if (last.outcome === 'judged') return { verdict: 'continue', figures, summary: `errors: ${line}` };
  const reason = last.outcome === 'skipped' ? last.reason : 'no_data';
  const revisions = last.outcome === 'skipped' ? last.revisions : undefined;
  const why = reasonText(reason, revisions, last.outcome === 'skipped' ? last.detail : undefined);
  return {
    verdict: 'inconclusive',
    reason,
    ...(revisions ? { revisions } : {}),
    figures,
    summary: `errors: inconclusive, ${why}; ${state.batches === 0 ? `nothing judged yet (${evidenceClause(figures, false)})` : `so far ${line}`}`,
  };
}
