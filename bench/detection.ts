// Benchmark: how fast the canary judge (src/domain/judge) rolls back a bad canary and how rarely it
// rolls back a good one, beside the plan's threshold gate and Flagger's default analysis, all fed
// the same simulated traffic. The judge's real domain code runs on every check; so does the plan's
// real gate judgement (src/domain/gates.ts) for the threshold baseline.
//
//   node bench/detection.ts [--quick] [--out results.json]
//
// Traffic: 100 requests/s, checks every 10 s (1,000 requests a check). Each request goes to the
// canary with probability the stage's share, fails with its revision's error rate (Bernoulli), and
// gets a log-normal latency counted into exponential buckets (scale 1 ms, growth 1.4, 64 finite
// buckets: Cloud Run's request_latencies is an exponential distribution; these options are an
// assumption here, the gate will read them from each point). No data lag is simulated: Cloud
// Monitoring's 60–180 s delay would add the same to every method.
//
// Settings (see the issue): A bad canary (2.5 % vs 0.5 % errors at 5 %); B healthy canary through
// 1/5/10/25/50/100 %, 30 min each; C subtle (1 % vs 0.5 % at 5 %, one 30-min stage); D latency
// (canary p95 +30 %, at 5 %, one 30-min stage). The plan's false_rollback is 1 %, split equally
// between the error-rate and latency judges (0.5 % each): the judge is measured as it would run.
//
// Baselines, on the same checks:
// - threshold gate: "5xx ratio > 1 % for 10 min": the plan's gate, judged every 10 s over the soak
//   so far (the stage), failing only after failing continuously for 10 min; a pass restarts the
//   window; a new stage starts a new soak and a new track. For D: "p95 > 1.2 × stable's p95 for
//   10 min" the same way.
// - Flagger's default analysis: every 60 s the canary's error ratio over the last 60 s against 1 %;
//   a failed check adds one to a counter that a passing check does not reset; at the start of the
//   interval after the counter reaches 10 Flagger rolls back (it checks the counter before the
//   next analysis), so the canary serves one more interval.
import { writeFileSync } from 'node:fs';
import { judge as judgeGate, NEW_TRACK, type GateTrack } from '../src/domain/gates.ts';
import { atMost, errored, measured } from '../src/domain/measurement.ts';
import { newErrorRateJudge, newLatencyJudge, splitAlpha, updateErrorRate, updateLatency, type ErrorRateState, type LatencyState } from '../src/domain/judge/index.ts';
import { figure, percentile, type Figure } from './support.ts';
import { seeded } from '../src/sim/random.ts';

const CHECK_S = 10;
const REQUESTS_PER_CHECK = 1_000; // 100 requests/s
const STAGE_CHECKS = 180; // 30 minutes
const FALSE_ROLLBACK = 0.01;
const ALPHA = splitAlpha(FALSE_ROLLBACK, ['error_rate', 'latency']);
const WORSE_BY_ERRORS = 2;
const WORSE_BY_LATENCY = 0.2;

/** Exponential buckets like Cloud Run's request_latencies (assumed options; see the header). */
const BOUNDS: readonly number[] = Array.from({ length: 65 }, (_, i) => 1.4 ** i);

// ---------------------------------------------------------------------------------------------
// Randomness and traffic

/** Φ(z) by Simpson's rule on the normal density: only for the bucket table, computed once. */
function normalCdf(z: number): number {
  const x = Math.max(-12, Math.min(12, z));
  const n = 4_000;
  const h = x / n;
  let s = 0;
  for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2) / 2);
  return 0.5 + (s * h) / 3 / Math.sqrt(2 * Math.PI);
}

/**
 * The buckets of log-normal latencies with this median and σ, ready for sampling: their cumulative
 * probabilities, and a guide table (the first bucket that can hold u for each 1/256 of [0, 1)), so
 * that a draw costs one or two comparisons instead of a binary search.
 */
interface BucketTable {
  readonly cdf: Float64Array;
  readonly guide: Int32Array;
}

const GUIDE = 256;

function bucketTable(medianMs: number, sigma: number): BucketTable {
  const cdf = new Float64Array(BOUNDS.length + 1);
  BOUNDS.forEach((b, i) => {
    cdf[i] = normalCdf((Math.log(b) - Math.log(medianMs)) / sigma);
  });
  cdf[BOUNDS.length] = 1;
  const guide = new Int32Array(GUIDE);
  let i = 0;
  for (let k = 0; k < GUIDE; k++) {
    while (cdf[i]! <= k / GUIDE) i += 1;
    guide[k] = i;
  }
  return { cdf, guide };
}

function sampleBucket(table: BucketTable, u: number): number {
  let i = table.guide[Math.floor(u * GUIDE)]!;
  while (u >= table.cdf[i]!) i += 1;
  return i;
}

/** The p-quantile of a bucketed distribution, interpolated inside its bucket (as a percentile aligner does). */
function bucketQuantile(counts: readonly number[], p: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (below + c >= p * total && c > 0) {
      const lower = i === 0 ? 0 : BOUNDS[i - 1]!;
      const upper = i < BOUNDS.length ? BOUNDS[i]! : lower * 1.4;
      return lower + ((p * total - below) / c) * (upper - lower);
    }
    below += c;
  }
  return BOUNDS.at(-1)!;
}

interface Revision {
  readonly errorRate: number;
  /** Bucket table, or null when latency is not simulated (error-only settings run faster). */
  readonly latency: BucketTable | null;
}

interface Check {
  readonly canary: { readonly requests: number; readonly errors: number; readonly buckets: number[] | null };
  readonly stable: { readonly requests: number; readonly errors: number; readonly buckets: number[] | null };
}

function simulateCheck(random: () => number, share: number, canary: Revision, stable: Revision): Check {
  const side = (r: Revision) => ({ requests: 0, errors: 0, buckets: r.latency ? new Array<number>(BOUNDS.length + 1).fill(0) : null });
  const c = side(canary);
  const s = side(stable);
  for (let i = 0; i < REQUESTS_PER_CHECK; i++) {
    const toCanary = random() < share;
    const rev = toCanary ? canary : stable;
    const out = toCanary ? c : s;
    out.requests += 1;
    if (random() < rev.errorRate) out.errors += 1;
    if (rev.latency) out.buckets![sampleBucket(rev.latency, random())]! += 1;
  }
  return { canary: c, stable: s };
}

// ---------------------------------------------------------------------------------------------
// The deciders: each sees every check and says when it rolls back.

interface Decider {
  /** Called after each check with the time (s since the run began) and whether a new stage began. */
  see(check: Check, t: number, newStage: boolean): void;
  /** Time of the rollback (s), or null. */
  readonly rolledBackAt: number | null;
}

class Judge implements Decider {
  errors: ErrorRateState | null;
  latency: LatencyState | null;
  rolledBackAt: number | null = null;
  by: 'error_rate' | 'latency' | null = null;
  constructor(o: { errors: boolean; latency: boolean }) {
    this.errors = o.errors ? newErrorRateJudge({ worseBy: WORSE_BY_ERRORS, alpha: ALPHA.error_rate! }) : null;
    this.latency = o.latency ? newLatencyJudge({ worseBy: WORSE_BY_LATENCY, alpha: ALPHA.latency! }) : null;
  }
  see(check: Check, t: number): void {
    if (this.rolledBackAt !== null) return;
    if (this.errors) {
      this.errors = updateErrorRate(this.errors, { kind: 'increments', canary: check.canary, stable: check.stable });
      if (this.errors.rollbackAtBatch !== null) this.by = 'error_rate';
    }
    if (this.latency && check.canary.buckets && check.stable.buckets) {
      this.latency = updateLatency(this.latency, { kind: 'increments', bounds: BOUNDS, canary: check.canary.buckets, stable: check.stable.buckets });
      if (this.latency.rollbackAtBatch !== null && this.by === null) this.by = 'latency';
    }
    if (this.by !== null) this.rolledBackAt = t;
  }
}

/** The plan's threshold gate on the canary's error ratio (or p95 regression) over the soak so far. */
class ThresholdGate implements Decider {
  track: GateTrack = NEW_TRACK;
  soak = { requests: 0, errors: 0, canaryBuckets: null as number[] | null, stableBuckets: null as number[] | null };
  rolledBackAt: number | null = null;
  readonly metric: 'error_ratio' | 'p95_regression';
  constructor(metric: 'error_ratio' | 'p95_regression') {
    this.metric = metric;
  }
  see(check: Check, t: number, newStage: boolean): void {
    if (this.rolledBackAt !== null) return;
    if (newStage) {
      this.track = NEW_TRACK;
      this.soak = { requests: 0, errors: 0, canaryBuckets: null, stableBuckets: null };
    }
    this.soak.requests += check.canary.requests;
    this.soak.errors += check.canary.errors;
    const add = (into: number[] | null, b: number[] | null) => (b ? b.map((n, i) => n + (into?.[i] ?? 0)) : into);
    this.soak.canaryBuckets = add(this.soak.canaryBuckets, check.canary.buckets);
    this.soak.stableBuckets = add(this.soak.stableBuckets, check.stable.buckets);
    let m;
    if (this.metric === 'error_ratio') {
      m = this.soak.requests === 0 ? errored('no canary requests in the window') : measured([atMost('error_ratio', this.soak.errors / this.soak.requests, 0.01)]);
    } else {
      const canaryP95 = this.soak.canaryBuckets ? bucketQuantile(this.soak.canaryBuckets, 0.95) : null;
      const stableP95 = this.soak.stableBuckets ? bucketQuantile(this.soak.stableBuckets, 0.95) : null;
      m = canaryP95 === null || stableP95 === null ? errored('no data') : measured([atMost('p95_regression', canaryP95 / stableP95 - 1, 0.2)]);
    }
    const judged = judgeGate(this.track, m, t * 1000, { forMs: 600_000, maxErrors: 3 });
    this.track = judged.track;
    if (judged.verdict === 'fail') this.rolledBackAt = t;
  }
}

/** Flagger's default: 60 s interval, success rate ≥ 99 %, rollback after 10 failed checks. */
class Flagger implements Decider {
  window = { requests: 0, errors: 0, checks: 0 };
  failed = 0;
  rolledBackAt: number | null = null;
  see(check: Check, t: number): void {
    if (this.rolledBackAt !== null) return;
    this.window.requests += check.canary.requests;
    this.window.errors += check.canary.errors;
    this.window.checks += 1;
    if (this.window.checks < 60 / CHECK_S) return;
    // The tick: Flagger first looks at the counter (rollback), then runs this interval's analysis.
    if (this.failed >= 10) {
      this.rolledBackAt = t;
      return;
    }
    const { requests, errors } = this.window;
    if (requests === 0 || errors / requests > 0.01) this.failed += 1; // no values found fails the check too
    this.window = { requests: 0, errors: 0, checks: 0 };
  }
}

// ---------------------------------------------------------------------------------------------
// Runs

interface Stage {
  readonly share: number;
  readonly checks: number;
}

interface Outcome {
  readonly rolledBackAt: number | null;
  /** Failed requests the canary served up to the rollback (or the end). */
  readonly failedRequests: number;
}

/** One run: the same checks for every decider; stops when all have decided or the stages end. */
function runOnce(random: () => number, stages: readonly Stage[], canary: Revision, stable: Revision, deciders: readonly Decider[]): Outcome[] {
  const failedAt = deciders.map(() => 0);
  let failed = 0;
  let t = 0;
  for (const stage of stages) {
    for (let c = 0; c < stage.checks; c++) {
      if (deciders.every((d) => d.rolledBackAt !== null)) break;
      const check = simulateCheck(random, stage.share, canary, stable);
      t += CHECK_S;
      failed += check.canary.errors;
      deciders.forEach((d, i) => {
        if (d.rolledBackAt !== null) return;
        d.see(check, t, c === 0);
        failedAt[i] = failed;
      });
    }
  }
  return deciders.map((d, i) => ({ rolledBackAt: d.rolledBackAt, failedRequests: failedAt[i]! }));
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Wilson score interval for k of n at 95 %. */
export function wilson(k: number, n: number): { low: number; high: number } {
  const z = 1.959964;
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = ((z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n)));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface DetectionOptions {
  /** Fewer runs (about a tenth): a smoke run, not figures to quote. */
  readonly quick?: boolean;
  readonly runs?: Partial<Record<'a' | 'b' | 'c' | 'd', number>>;
  readonly log?: (line: string) => void;
}

const FULL_RUNS = { a: 2_000, b: 2_000, c: 1_000, d: 1_000 } as const;

export function runDetection(options: DetectionOptions = {}): Record<string, Figure> {
  const log = options.log ?? (() => undefined);
  const scale = options.quick ? 0.1 : 1;
  const runs = {
    a: options.runs?.a ?? Math.round(FULL_RUNS.a * scale),
    b: options.runs?.b ?? Math.round(FULL_RUNS.b * scale),
    c: options.runs?.c ?? Math.round(FULL_RUNS.c * scale),
    d: options.runs?.d ?? Math.round(FULL_RUNS.d * scale),
  };
  const figures: Record<string, Figure> = {};
  const pct = (x: number) => x * 100;

  // A: bad canary, 2.5 % against 0.5 % at 5 %, until every method has rolled back (an hour at most).
  {
    const started = performance.now();
    const random = seeded(1);
    const rows: Outcome[][] = [];
    for (let r = 0; r < runs.a; r++) {
      rows.push(runOnce(random, [{ share: 0.05, checks: 360 }], { errorRate: 0.025, latency: null }, { errorRate: 0.005, latency: null }, [new Judge({ errors: true, latency: false }), new ThresholdGate('error_ratio'), new Flagger()]));
    }
    const column = (i: number) => rows.map((row) => row[i]!);
    for (const [i, name] of [[0, 'judge'], [1, 'threshold_gate'], [2, 'flagger']] as const) {
      const outcomes = column(i);
      const caught = outcomes.filter((o) => o.rolledBackAt !== null);
      const failed = outcomes.map((o) => o.failedRequests);
      const times = caught.map((o) => o.rolledBackAt!);
      const judge = name === 'judge';
      figures[`detect_a_${name}_failed_requests_mean`] = figure(mean(failed), 'requests', judge ? 12 : null, 'at_most');
      figures[`detect_a_${name}_failed_requests_p95`] = figure(percentile(failed, 95), 'requests', judge ? 20 : null, 'at_most');
      figures[`detect_a_${name}_time_to_rollback_mean`] = figure(mean(times), 's', null);
      figures[`detect_a_${name}_time_to_rollback_p95`] = figure(percentile(times, 95), 's', null);
      figures[`detect_a_${name}_rolled_back_within_1h`] = figure(pct(caught.length / outcomes.length), '%', null);
    }
    log(`A: ${runs.a} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  // B: healthy canary (equal errors and latencies) through every stage, 30 minutes each.
  {
    const started = performance.now();
    const random = seeded(2);
    const latency = bucketTable(100, 0.5);
    const same: Revision = { errorRate: 0.005, latency };
    const stages = [0.01, 0.05, 0.1, 0.25, 0.5, 1].map((share) => ({ share, checks: STAGE_CHECKS }));
    const counts = { judge: 0, judge_error_rate: 0, judge_latency: 0, threshold_gate: 0, flagger: 0 };
    for (let r = 0; r < runs.b; r++) {
      const judge = new Judge({ errors: true, latency: true });
      const [j, g, f] = runOnce(random, stages, same, same, [judge, new ThresholdGate('error_ratio'), new Flagger()]);
      if (j!.rolledBackAt !== null) {
        counts.judge += 1;
        if (judge.by === 'error_rate') counts.judge_error_rate += 1;
        else counts.judge_latency += 1;
      }
      if (g!.rolledBackAt !== null) counts.threshold_gate += 1;
      if (f!.rolledBackAt !== null) counts.flagger += 1;
    }
    const interval = wilson(counts.judge, runs.b);
    figures.detect_b_judge_false_rollbacks = figure(pct(counts.judge / runs.b), '%', 1, 'at_most', `${counts.judge} of ${runs.b} runs, 3 h through 1/5/10/25/50/100 %, both judges`);
    figures.detect_b_judge_false_rollbacks_ci95_low = figure(pct(interval.low), '%', null, 'at_most', 'Wilson');
    figures.detect_b_judge_false_rollbacks_ci95_high = figure(pct(interval.high), '%', 1.5, 'at_most', 'Wilson');
    figures.detect_b_judge_false_rollbacks_by_errors = figure(pct(counts.judge_error_rate / runs.b), '%', null, 'at_most', `α = ${ALPHA.error_rate}`);
    figures.detect_b_judge_false_rollbacks_by_latency = figure(pct(counts.judge_latency / runs.b), '%', null, 'at_most', `α = ${ALPHA.latency}`);
    const gate = wilson(counts.threshold_gate, runs.b);
    figures.detect_b_threshold_gate_false_rollbacks = figure(pct(counts.threshold_gate / runs.b), '%', null, 'at_most', `95 % ${pct(gate.low).toFixed(2)}–${pct(gate.high).toFixed(2)}`);
    const flagger = wilson(counts.flagger, runs.b);
    figures.detect_b_flagger_false_rollbacks = figure(pct(counts.flagger / runs.b), '%', null, 'at_most', `95 % ${pct(flagger.low).toFixed(2)}–${pct(flagger.high).toFixed(2)}`);
    log(`B: ${runs.b} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  // C: subtle regression, 1 % against 0.5 % at 5 %, one 30-minute stage.
  {
    const started = performance.now();
    const random = seeded(3);
    const rows: Outcome[][] = [];
    for (let r = 0; r < runs.c; r++) {
      rows.push(runOnce(random, [{ share: 0.05, checks: STAGE_CHECKS }], { errorRate: 0.01, latency: null }, { errorRate: 0.005, latency: null }, [new Judge({ errors: true, latency: false }), new ThresholdGate('error_ratio'), new Flagger()]));
    }
    for (const [i, name] of [[0, 'judge'], [1, 'threshold_gate'], [2, 'flagger']] as const) {
      const outcomes = rows.map((row) => row[i]!);
      const caught = outcomes.filter((o) => o.rolledBackAt !== null);
      const judge = name === 'judge';
      figures[`detect_c_${name}_detected_within_30m`] = figure(pct(caught.length / outcomes.length), '%', judge ? 95 : null, 'at_least');
      figures[`detect_c_${name}_failed_requests_mean`] = figure(mean(outcomes.map((o) => o.failedRequests)), 'requests', null, 'at_most', 'to the rollback, or the whole stage when not caught');
      figures[`detect_c_${name}_time_to_rollback_mean`] = figure(mean(caught.map((o) => o.rolledBackAt!)), 's', null, 'below', 'runs caught');
    }
    log(`C: ${runs.c} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  // D: latency, the canary's every request 30 % slower (so its p95 is +30 %), at 5 %, one 30-minute stage.
  {
    const started = performance.now();
    const random = seeded(4);
    const stable: Revision = { errorRate: 0.005, latency: bucketTable(100, 0.5) };
    const canary: Revision = { errorRate: 0.005, latency: bucketTable(130, 0.5) };
    const rows: Outcome[][] = [];
    for (let r = 0; r < runs.d; r++) {
      rows.push(runOnce(random, [{ share: 0.05, checks: STAGE_CHECKS }], canary, stable, [new Judge({ errors: false, latency: true }), new ThresholdGate('p95_regression')]));
    }
    for (const [i, name] of [[0, 'judge'], [1, 'threshold_gate']] as const) {
      const outcomes = rows.map((row) => row[i]!);
      const times = outcomes.filter((o) => o.rolledBackAt !== null).map((o) => o.rolledBackAt!);
      figures[`detect_d_${name}_detected_within_30m`] = figure(pct(times.length / outcomes.length), '%', null, 'at_least');
      figures[`detect_d_${name}_time_to_rollback_mean`] = figure(mean(times), 's', null);
      figures[`detect_d_${name}_time_to_rollback_p95`] = figure(percentile(times, 95), 's', null);
    }
    log(`D: ${runs.d} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return figures;
}

export function table(figures: Record<string, Figure>): string {
  const rows = [['figure', 'value', 'unit', 'target', 'met'], ...Object.entries(figures).map(([name, f]) => [name, String(f.value), f.unit, f.target === null ? '' : String(f.target), f.met === null ? '' : f.met ? 'yes' : 'NO'])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 1 || c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? args[outAt + 1] : undefined;
  const started = performance.now();
  const figures = runDetection({ quick: args.includes('--quick'), log: (line) => console.error(line) });
  const seconds = (performance.now() - started) / 1000;
  console.log(table(figures));
  const missed = Object.entries(figures).filter(([, f]) => f.met === false).map(([name]) => name);
  console.log(`\n${missed.length ? `targets not met: ${missed.join(', ')}` : 'every target met'}; ${seconds.toFixed(1)} s`);
  const json = `${JSON.stringify(figures, null, 2)}\n`;
  if (out) writeFileSync(out, json);
  else console.log(json);
}
