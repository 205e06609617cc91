// Seeded randomness for the judge's simulations: the same seed, the same runs, the same verdict.

export { seeded } from '../../../src/sim/random.ts';

/** Binomial(n, p) by inversion: cheap when n·p is small, as error counts are. */
export function binomial(random: () => number, n: number, p: number): number {
  if (p <= 0 || n <= 0) return 0;
  if (p >= 1) return n;
  const q = 1 - p;
  let pmf = q ** n;
  if (pmf < 1e-250) {
    // Too many trials for inversion to start from P(0): count them one by one.
    let hits = 0;
    for (let i = 0; i < n; i++) if (random() < p) hits += 1;
    return hits;
  }
  let cdf = pmf;
  const u = random();
  let x = 0;
  while (u > cdf && x < n) {
    pmf *= ((n - x) / (x + 1)) * (p / q);
    x += 1;
    cdf += pmf;
  }
  return x;
}

/** log C(n, x) as a sum of logs: exact enough for the small n the tests sum over. */
export function logChoose(n: number, x: number): number {
  let sum = 0;
  for (let i = 1; i <= x; i++) sum += Math.log((n - x + i) / i);
  return sum;
}
