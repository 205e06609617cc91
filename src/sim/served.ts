// What a simulated service served, request by request: random, from the scenario's seed, so a
// rehearsal shows the judge deciding on noisy counts, and the same seed replays the same draws.
//
// Each split served (from one shift to the next) is cut into 10-second slices of plan time (10 s /
// speed of wall time in a compressed rehearsal), counted from the shift. Each slice serves 1,000
// requests (100 a second, the judge benchmark's traffic); each goes to the canary with the split's
// share, fails with its revision's error rate, and takes a log-logistic latency whose p95 is its
// revision's, counted into exponential buckets. A slice's draws depend only on (seed, service,
// which split, which slice): every replica and every check computes the same counters, and a
// rehearsal replayed with its seed draws the same requests, whatever the wall clock's jitter
// (only the last, unfinished slice of each split is left out). Counters run from the first shift,
// as a Prometheus counter would.
import type { ServedCounters } from '../ports.ts';
import { signalsFor, type ScenarioSpec } from './scenario.ts';
import { seeded } from './random.ts';

export const REQUESTS_PER_SLICE = 1_000;
export const SLICE_PLAN_MS = 10_000;

/** Exponential buckets: 1 ms × 1.4^i, i = 0…30 (up to 24 s), as Cloud Run's request_latencies has such a layout. */
const GROWTH = 1.4;
export const LATENCY_BOUNDS: readonly number[] = Object.freeze(Array.from({ length: 31 }, (_, i) => GROWTH ** i));
const LOG_GROWTH = Math.log(GROWTH);

/** Shape of the log-logistic latencies: p95 / median = 19^(1/4) ≈ 2.1, a realistic spread. */
const SHAPE = 4;
const P95_FACTOR = 19 ** (1 / SHAPE);

export interface Shift {
  readonly percent: number;
  readonly at: number;
}

/** FNV-1a, then mixed with the seed and the slice: each slice its own stream. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const mix = (a: number, b: number): number => {
  let h = Math.imul(a ^ (b + 0x9e3779b9 + (a << 6) + (a >>> 2)), 0x85ebca6b);
  h ^= h >>> 13;
  return Math.imul(h, 0xc2b2ae35) >>> 0;
};

function latencyBucket(ms: number): number {
  if (ms < 1) return 0;
  return Math.min(LATENCY_BOUNDS.length, Math.floor(Math.log(ms) / LOG_GROWTH) + 1);
}

interface Side {
  requests: number;
  errors: number;
  latency: number[];
}

const emptySide = (): Side => ({ requests: 0, errors: 0, latency: new Array(LATENCY_BOUNDS.length + 1).fill(0) });

function serveSlice(spec: ScenarioSpec, serviceHash: number, shifts: readonly Shift[], segment: number, index: number, sliceMs: number, totals: { canary: Side; stable: Side }): void {
  const shift = shifts[segment]!;
  const at = shift.at + index * sliceMs;
  const first = shifts.find((s) => s.percent > 0);
  const signals = signalsFor(spec, { canaryPercent: shift.percent, sinceFirstShiftMs: first && first.at <= at ? at - first.at : 0 });
  const random = seeded(mix(mix(mix(spec.seed >>> 0, serviceHash), segment), index >>> 0));
  const share = shift.percent / 100;
  const scales = { canary: signals.p95LatencyMs / P95_FACTOR, stable: signals.stableP95LatencyMs / P95_FACTOR };
  const rates = { canary: signals.errorRate, stable: signals.stableErrorRate };
  for (let i = 0; i < REQUESTS_PER_SLICE; i++) {
    const side = random() < share ? 'canary' : 'stable';
    const t = totals[side];
    t.requests += 1;
    if (random() < rates[side]) t.errors += 1;
    const u = Math.min(1 - 1e-12, Math.max(1e-12, random()));
    t.latency[latencyBucket(scales[side] * (u / (1 - u)) ** (1 / SHAPE))]! += 1;
  }
}

interface Memo {
  readonly shifts: readonly Shift[];
  /** Slices counted in each split so far. */
  readonly counted: number[];
  readonly totals: { canary: Side; stable: Side };
}

const memos = new Map<string, Memo>();

const samePrefix = (a: readonly Shift[], b: readonly Shift[]): boolean => a.length <= b.length && a.every((s, i) => s.at === b[i]!.at && s.percent === b[i]!.percent);

/**
 * The counters of `serviceKey` at `now` (wall ms): every whole slice of every split since the first
 * shift. Kept per process and extended slice by slice; started again when the shift log changed
 * where slices were already counted (so every process computes the same counters from the same log).
 */
export function servedCounters(serviceKey: string, spec: ScenarioSpec, shifts: readonly Shift[], now: number): ServedCounters {
  const sliceMs = SLICE_PLAN_MS / spec.speed;
  const key = `${serviceKey}\u0000${JSON.stringify(spec)}`;
  const wholeSlices = (segment: number) => {
    const end = Math.min(shifts[segment + 1]?.at ?? now, now);
    return Math.max(0, Math.floor((end - shifts[segment]!.at) / sliceMs));
  };
  let memo = memos.get(key);
  const valid = memo && samePrefix(memo.shifts, shifts) && memo.counted.every((n, i) => n <= wholeSlices(i));
  if (!memo || !valid) memo = { shifts: [], counted: [], totals: { canary: emptySide(), stable: emptySide() } };
  memo = { ...memo, shifts: [...shifts], counted: shifts.map((_, i) => memo!.counted[i] ?? 0) };
  memos.delete(key);
  memos.set(key, memo);
  // Many services in one process (a benchmark, a test run): keep the most recently used.
  if (memos.size > 200) memos.delete(memos.keys().next().value!);
  const serviceHash = hash(serviceKey);
  shifts.forEach((_, segment) => {
    const until = wholeSlices(segment);
    for (let j = memo.counted[segment]!; j < until; j++) serveSlice(spec, serviceHash, shifts, segment, j, sliceMs, memo.totals);
    memo.counted[segment] = Math.max(memo.counted[segment]!, until);
  });
  const copy = (s: Side) => ({ requests: s.requests, errors: s.errors, latency: [...s.latency] });
  return { bounds: LATENCY_BOUNDS, canary: copy(memo.totals.canary), stable: copy(memo.totals.stable) };
}

/** Forgets every service's counters (tests: to check that a fresh process computes the same). */
export function forgetServed(): void {
  memos.clear();
}
