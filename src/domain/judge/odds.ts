// The e-process both judges share: a mixture, over a fixed grid of odds ratios θ ≥ 1, of
// conditional-binomial likelihood ratios, one factor per check batch. Pure arithmetic.
//
// The model. In one check batch the canary served n_c requests and stable n_s; of the N "hits"
// (errors, or requests slower than a threshold) X were the canary's. Let s = n_c / (n_c + n_s),
// the canary's share of the batch. If hits are rare per-request events at rates λ_c and λ_s, then
// given N, X ~ Binomial(N, π(θ)) with θ = λ_c / λ_s and
//     π(θ) = θ s / (θ s + 1 − s),
// so θ is the canary's odds (≈ rate) of a hit relative to stable's. The likelihood ratio of θ
// against θ = 1 for that batch simplifies to
//     L_b(θ) = (π/s)^X ((1−π)/(1−s))^(N−X) = θ^X / (1 + s (θ − 1))^N,
// the binomial coefficient cancelling: no log-gamma anywhere, so no special-functions package.
//
// The evidence (e-value) after t batches is the mixture  E_t = Σ_k w_k Π_{b≤t} L_b(θ_k)  over a
// grid θ_k ≥ 1 with weights w_k > 0, Σ w_k = 1, fixed before any data. Exact, not an
// approximation of an integral: the grid *is* the prior. The state is the K sums Σ_b log L_b(θ_k),
// so it is small, JSON-safe and updated one batch at a time, each batch with its own share s_b.
//
// Why it is valid (H0: the canary is no worse than stable, λ_c ≤ λ_s, or p_c ≤ p_s per request).
// For θ ≥ 1, L_b(θ) is increasing and convex in X. Given everything before the batch and the
// batch's n_c, n_s and N:
//  - rare events (Poisson): X ~ Bin(N, π0) with π0 ≤ s, and exactly
//        E[L_b(θ)] = ((1 + π0 (θ − 1)) / (1 + s (θ − 1)))^N ≤ 1;
//  - Bernoulli requests with p_c = p_s: X is hypergeometric, which is below Bin(N, s) in the convex
//    order (Hoeffding 1963), so E[L_b] ≤ E_{Bin(N,s)}[L_b] = 1; with p_c < p_s, X is Fisher's
//    noncentral hypergeometric with odds < 1, stochastically smaller still, and L_b is increasing.
// So for each θ_k the running product is a nonnegative supermartingale starting at 1, and so is
// the fixed-weight mixture; by Ville's inequality P_H0(some t has E_t ≥ 1/α) ≤ α, however often
// one looks and however s_b moves from batch to batch (stage after stage). The bound needs only
// (a) every θ_k ≥ 1, (b) weights fixed in advance summing to at most 1, (c) a batch's hit
// definition fixed before the batch is seen. The prior below changes power, never the bound.
// What the argument assumes: within a batch requests are independent draws given the batch; both
// revisions see the same load at the same time, which is why the test conditions on the total.

/** The grid and its weights, as logs. Frozen; derived only from the configured floor. */
export interface OddsPrior {
  readonly logTheta: readonly number[];
  readonly logWeight: readonly number[];
}

/**
 * The grid: θ = floor × √2^k for k = 0…10, i.e. from the smallest regression worth catching
 * (`floor`, ≥ 1) up to 32× it. Spacing √2 is about the width of the likelihood in log θ after the
 * 40–60 hits a decision usually takes (sd ≈ 1/√(N π (1−π)) ≈ 0.3–0.4), so the grid loses little
 * against a continuous prior; regressions beyond 32× the floor are still caught, fast, by the top
 * point. Weights fall off as 1/(k+1)² (normalised), putting ~60 % of the mass on the two lowest
 * points: a large regression piles up evidence so fast that the prior weight it gets barely matters
 * (log 1/w is paid once), while a regression near `floor` needs every nat.
 */
export const GRID_POINTS = 11;
export const GRID_RATIO = Math.SQRT2;

const priors = new Map<number, OddsPrior>();

export function oddsPrior(floor: number): OddsPrior {
  if (!(Number.isFinite(floor) && floor >= 1)) throw new RangeError(`the smallest odds ratio worth catching must be a finite number ≥ 1, not ${floor}`);
  const cached = priors.get(floor);
  if (cached) return cached;
  const raw = Array.from({ length: GRID_POINTS }, (_, k) => 1 / (k + 1) ** 2);
  const total = raw.reduce((a, b) => a + b, 0);
  const prior: OddsPrior = Object.freeze({
    logTheta: Object.freeze(raw.map((_, k) => Math.log(floor) + k * Math.log(GRID_RATIO))),
    logWeight: Object.freeze(raw.map((w) => Math.log(w / total))),
  });
  priors.set(floor, prior);
  return prior;
}

/** log L_b(θ) = X log θ − N log(1 + s (θ − 1)), for one batch with canary share `share`. */
export function batchLogLr(logTheta: number, share: number, canaryHits: number, totalHits: number): number {
  if (totalHits === 0) return 0;
  return canaryHits * logTheta - totalHits * Math.log1p(share * Math.expm1(logTheta));
}

/** The sums Σ_b log L_b(θ_k) after one more batch. */
export function addBatch(prior: OddsPrior, logLr: readonly number[], share: number, canaryHits: number, totalHits: number): readonly number[] {
  return Object.freeze(prior.logTheta.map((lt, k) => (logLr[k] ?? 0) + batchLogLr(lt, share, canaryHits, totalHits)));
}

export const emptyLogLr = (prior: OddsPrior): readonly number[] => Object.freeze(prior.logTheta.map(() => 0));

/** log E = log Σ_k w_k exp(Σ_b log L_b(θ_k)), computed without overflow. */
export function logEvidence(prior: OddsPrior, logLr: readonly number[]): number {
  const terms = prior.logWeight.map((lw, k) => lw + (logLr[k] ?? 0));
  const top = Math.max(...terms);
  if (!Number.isFinite(top)) return top;
  return top + Math.log(terms.reduce((sum, t) => sum + Math.exp(t - top), 0));
}

/** The e-value as a plain number for people and JSON: capped so it never becomes Infinity. */
export const evidenceValue = (logE: number): number => Math.exp(Math.min(logE, 690));
