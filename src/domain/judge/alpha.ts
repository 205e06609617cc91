// The false-rollback budget of a cutover and how its judges share it. Pure.
//
// `false_rollback` is the chance, over the whole cutover, of rolling back a canary that is no worse
// than stable. Each judge's e-process runs across every stage of the cutover (a batch's factor
// carries that batch's own split), so a judge needs one α for the whole cutover, not one per stage.
// Several judges (error rate, latency) each get a share, and a false rollback by any of them is a
// false rollback: by the union bound (Bonferroni), P(any judge falsely rolls back) ≤ Σ α_j, so
// shares that add up to `false_rollback` keep it, whatever the dependence between the judges
// (both see the same traffic). Equal shares unless weights say otherwise.

export function checkAlpha(alpha: number, what: string): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`${what}: alpha must be between 0 and 1, not ${alpha}`);
}

/**
 * Each judge's α: `falseRollback × weight / Σ weights` (Bonferroni). `judges` lists the judge ids,
 * or maps them to weights (e.g. { error_rate: 2, latency: 1 } to give errors two thirds).
 */
export function splitAlpha(falseRollback: number, judges: readonly string[] | Readonly<Record<string, number>>): Readonly<Record<string, number>> {
  checkAlpha(falseRollback, 'false_rollback');
  const weights: [string, number][] = Array.isArray(judges) ? judges.map((id) => [id, 1]) : Object.entries(judges);
  if (weights.length === 0) throw new RangeError('splitAlpha needs at least one judge');
  if (new Set(weights.map(([id]) => id)).size !== weights.length) throw new RangeError('splitAlpha: judge ids must be unique');
  if (weights.some(([, w]) => !(Number.isFinite(w) && w > 0))) throw new RangeError('splitAlpha: weights must be positive numbers');
  const total = weights.reduce((sum, [, w]) => sum + w, 0);
  return Object.freeze(Object.fromEntries(weights.map(([id, w]) => [id, (falseRollback * w) / total])));
}
