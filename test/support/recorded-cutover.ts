// Cutovers recorded as the bot records them (the audit trail and the gate records each committed
// transition carries), driven through the pure machine: the input of the chart's spec builder.
import { step } from '../../src/domain/machine.ts';
import { atMost, measured } from '../../src/domain/measurement.ts';
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { Measurement } from '../../src/domain/measurement.ts';
import type { GateSpec, Plan } from '../../src/domain/plan.ts';
import type { TargetReport } from '../../src/domain/service.ts';
import type { GateRecord, Transition } from '../../src/domain/state.ts';
import { isTrain, targetPercents } from '../../src/domain/train.ts';
import { auditFor } from '../../src/runtime/engine.ts';
import { Drive, ONCALL, OPS, STARTER, ok } from '../domain/drive.ts';
import { basePlanDocument, makePlan, planFrom } from './plans.ts';

/** Two stage gates that record canary and stable side by side, as the Cloud Monitoring gates do. */
export const chartPlan = (patch: (doc: Record<string, any>) => void = () => undefined): Plan =>
  makePlan((doc) => {
    doc.stages = [1, 5, 25, 100];
    doc.soak = '10m';
    doc.check_every = '2m';
    doc.gates.stage = [
      { id: 'five-xx', http: { url: 'http://127.0.0.1:9/5xx' } },
      { id: 'p95', http: { url: 'http://127.0.0.1:9/p95' } },
    ];
    patch(doc);
  });

export interface Signals {
  readonly errorRate: number;
  readonly stableErrorRate: number;
  readonly p95: number;
  readonly stableP95: number;
}

export const HEALTHY: Signals = { errorRate: 0.002, stableErrorRate: 0.001, p95: 210, stableP95: 200 };
export const BAD: Signals = { errorRate: 0.05, stableErrorRate: 0.001, p95: 900, stableP95: 200 };

/** The 5xx gate's and the p95 gate's measurements of these readings, as Cloud Monitoring records them. */
const errorRateOf = (s: Signals): Measurement => measured([atMost('5xx_ratio', s.errorRate, 0.01), { name: 'stable_5xx_ratio', value: s.stableErrorRate, ok: true }]);
const latencyOf = (s: Signals): Measurement =>
  measured([
    { name: 'p95_latency_ms', value: s.p95, ok: true },
    { name: 'stable_p95_latency_ms', value: s.stableP95, ok: true },
    atMost('p95_regression', Number((s.p95 / s.stableP95 - 1).toFixed(4)), 0.2),
  ]);

/** A train's targets: an API in two regions and its worker, each with revisions of its own. */
export const TRAIN_TARGETS = ['api-us', 'api-eu', 'worker'] as const;

/** Healthy readings that differ per target, so a chart showing another target's value is caught. */
export const TARGET_HEALTHY: readonly Signals[] = TRAIN_TARGETS.map((_id, t) => ({ errorRate: 0.002 + t / 1000, stableErrorRate: 0.001 + t / 1000, p95: 210 + 10 * t, stableP95: 200 + 10 * t }));

/** What the whole-train gate (`scope: once`) records: the train's p95 as one number. */
export const TRAIN_P95 = 333;

/**
 * A train of TRAIN_TARGETS: per-target 5xx gates (and p95 gates, with `latency: 'target'`) that
 * record canary and stable, and a whole-train gate recording the canary's p95 alone.
 */
export const trainChartPlan = (strategy: unknown, latency: 'target' | 'once' = 'target', rollback?: 'target'): Plan => {
  const doc = basePlanDocument();
  delete doc.service;
  doc.name = 'checkout';
  doc.targets = TRAIN_TARGETS.map((id, t) => ({ id, platform: 'simulated', name: id, stable: `${id}-00${t}1`, canary: `${id}-00${t}2` }));
  doc.strategy = strategy;
  if (rollback) doc.rollback = rollback;
  doc.stages = [10, 50, 100];
  doc.soak = '10m';
  doc.check_every = '2m';
  doc.gates.stage = [
    { id: 'five-xx', http: { url: 'http://127.0.0.1:9/{target}/5xx' } },
    ...(latency === 'target' ? [{ id: 'p95', http: { url: 'http://127.0.0.1:9/{target}/p95' } }] : []),
    { id: 'global-p95', scope: 'once', http: { url: 'http://127.0.0.1:9/p95' } },
  ];
  return planFrom(doc);
};

export class Recorded {
  readonly d: Drive;
  readonly audit: AuditEntry[] = [];
  readonly gates: GateRecord[] = [];

  constructor(plan: Plan) {
    this.d = new Drive(plan);
    this.#record(this.d.opened);
    // Every event the drive applies is recorded, as the engine commits it with its audit entries.
    const apply = this.d.apply.bind(this.d);
    this.d.apply = (event, advanceMs) => {
      const t = apply(event, advanceMs);
      this.#record(t);
      return t;
    };
  }

  get input() {
    return { state: this.d.state, plan: this.d.plan, audit: this.audit, gates: this.gates, now: this.d.now };
  }

  #record(t: Transition): void {
    if (!t.ok) return;
    this.audit.push(...auditFor(t, this.d.now));
    this.gates.push(...t.gateResults);
  }

  /** One check of both gates with these readings, `advanceMs` after the last event. */
  check(s: Signals, advanceMs: number): Transition {
    this.d.now += advanceMs;
    const at = this.d.now;
    const results = [
      { gate: 'five-xx', at, measurement: errorRateOf(s) },
      { gate: 'p95', at, measurement: latencyOf(s) },
    ];
    const t = step(this.d.plan, this.d.state, { type: 'gate_check', seq: this.d.state.monitor!.seq, results }, at);
    if (t.ok) this.d.state = t.state;
    this.#record(t);
    return t;
  }

  /** Checks with these readings until the soak is over (or the cutover leaves it). */
  soak(s: Signals): void {
    for (let guard = 0; this.d.state.phase === 'soaking' && guard < 1000; guard++) ok(this.check(s, Math.max(1, this.d.state.monitor!.nextAt - this.d.now)));
  }

  confirm(): void {
    this.d.confirm();
  }

  /**
   * A train's check: each target's gates read that target's signals, the whole-train gate the
   * train's p95. The machine judges (and records) only the gates of the targets in play.
   */
  checkEach(signals: readonly Signals[], advanceMs: number): Transition {
    this.d.now += advanceMs;
    const at = this.d.now;
    const reading = (g: GateSpec): Measurement => {
      if (g.target === undefined) return measured([{ name: 'p95_latency_ms', value: TRAIN_P95, ok: true }]);
      const s = signals[g.target]!;
      return g.id.startsWith('five-xx@') ? errorRateOf(s) : latencyOf(s);
    };
    const results = this.d.plan.gates.stage.map((g) => ({ gate: g.id, at, measurement: reading(g) }));
    return this.d.apply({ type: 'gate_check', seq: this.d.state.monitor!.seq, results });
  }

  soakEach(signals: readonly Signals[]): void {
    for (let guard = 0; this.d.state.phase === 'soaking' && guard < 1000; guard++) ok(this.checkEach(signals, Math.max(1, this.d.state.monitor!.nextAt - this.d.now)));
  }

  /** Each target's split after a shift of the cohort, as the train's platforms report it. */
  reports(percents: readonly (number | string)[]): TargetReport[] {
    return percents.map((p, target) => (typeof p === 'number' ? { target, at: this.d.now, split: { canary: p, stable: 100 - p, other: 0 } } : { target, at: this.d.now, split: null, error: p }));
  }

  /** A train's cohort reached: every target at its share of it, reported. */
  confirmTrain(advanceMs = 1000): void {
    const plan = this.d.plan;
    if (!isTrain(plan)) throw new Error('not a train');
    const percent = plan.stages[this.d.state.stage]!.percent;
    this.d.now += advanceMs;
    this.d.must({ type: 'traffic_confirmed', phaseSeq: this.d.state.phaseSeq, percent, targets: this.reports(targetPercents(plan, this.d.state.stage, percent)) });
  }

  promote(advanceMs = 60_000): void {
    this.d.must({ type: 'promote', actor: STARTER }, advanceMs);
  }
}

/** Every cohort clean, promoted by hand a minute after each soak. */
export function healthyCutover(): Recorded {
  const r = new Recorded(chartPlan());
  r.d.goNoGo();
  for (;;) {
    r.confirm();
    r.soak(HEALTHY);
    if (r.d.state.phase === 'completed') return r;
    r.promote();
  }
}

/** Clean at 1 % and 5 %; at 25 % the canary's errors and latency climb and the gates roll it back. */
export function rolledBackCutover(): Recorded {
  const r = new Recorded(chartPlan());
  r.d.goNoGo();
  for (let cohort = 0; cohort < 2; cohort++) {
    r.confirm();
    r.soak(HEALTHY);
    r.promote();
  }
  r.confirm();
  ok(r.check(HEALTHY, 120_000));
  ok(r.check(BAD, 120_000));
  if (r.d.state.phase !== 'rolling_back') throw new Error(`expected a rollback, got ${r.d.state.phase}`);
  r.d.must({ type: 'rollback_done', phaseSeq: r.d.state.phaseSeq, percent: 0, steps: [] }, 20_000);
  return r;
}

/** Held at 5 % by hand while someone looks; the canary is still watched; resumed; still running. */
export function heldCutover(): Recorded {
  const r = new Recorded(chartPlan());
  r.d.goNoGo();
  r.confirm();
  r.soak(HEALTHY);
  r.promote();
  r.confirm();
  ok(r.check(HEALTHY, 120_000));
  r.d.must({ type: 'hold', actor: OPS, reason: 'latency graph looks odd' }, 30_000);
  ok(r.check(HEALTHY, 120_000));
  ok(r.check(HEALTHY, 120_000));
  r.d.must({ type: 'resume', actor: STARTER }, 30_000);
  return r;
}

export { ONCALL };

/**
 * A lockstep train, its latency judged once for the whole train: clean at 10 %; the shift to 50 %
 * moves api-us and the worker but not api-eu, and the train holds; rolled back by hand.
 */
export function lockstepTrain(): Recorded {
  const r = new Recorded(trainChartPlan('lockstep', 'once'));
  r.d.goNoGo();
  r.confirmTrain();
  r.soakEach(TARGET_HEALTHY);
  r.promote();
  r.d.must({ type: 'traffic_failed', phaseSeq: r.d.state.phaseSeq, code: 'unavailable', message: 'api-eu (target 1): UNAVAILABLE', targets: r.reports([50, 'UNAVAILABLE', 50]) }, 5_000);
  if (r.d.state.phase !== 'held') throw new Error(`expected a hold, got ${r.d.state.phase}`);
  r.d.must({ type: 'rollback', actor: ONCALL, reason: 'api-eu will not move' }, 60_000);
  r.d.must({ type: 'rollback_done', phaseSeq: r.d.state.phaseSeq, percent: 0, steps: [], targets: r.reports([0, 0, 0]) }, 20_000);
  return r;
}

/** A train in waves (api-us and the worker first, then api-eu) until api-eu's canary goes bad at its first cohort. */
function untilEuGoesBad(plan: Plan): Recorded {
  const r = new Recorded(plan);
  r.d.goNoGo();
  // The first wave through 10, 50 and 100 %, promoted by hand.
  for (let cohort = 0; cohort < 3; cohort++) {
    r.confirmTrain();
    r.soakEach(TARGET_HEALTHY);
    r.promote();
  }
  r.confirmTrain();
  ok(r.checkEach(TARGET_HEALTHY, 120_000));
  ok(r.checkEach(TARGET_HEALTHY.map((s, t) => (t === 1 ? BAD : s)), 120_000));
  return r;
}

/** In waves with `rollback: target`: api-eu, alone in the last wave, goes bad at 10 % and is dropped; its own rollback reports it back. */
export function droppedTargetTrain(): Recorded {
  const r = untilEuGoesBad(trainChartPlan({ waves: [[0, 2], [1]] }, 'target', 'target'));
  if (r.d.state.phase !== 'completed') throw new Error(`expected the train to complete without api-eu, got ${r.d.state.phase}`);
  r.d.must({ type: 'target_rolled_back', target: 1, steps: [], targets: [{ target: 1, at: r.d.now + 5_000, split: { canary: 0, stable: 100, other: 0 } }] }, 5_000);
  return r;
}

/** In waves: api-eu goes bad at its first cohort and the gates roll back every target. */
export function wavesTrain(): Recorded {
  const r = untilEuGoesBad(trainChartPlan({ waves: [[0, 2], [1]] }));
  if (r.d.state.phase !== 'rolling_back') throw new Error(`expected a rollback, got ${r.d.state.phase}`);
  r.d.must({ type: 'rollback_done', phaseSeq: r.d.state.phaseSeq, percent: 0, steps: [], targets: r.reports([0, 0, 0]) }, 20_000);
  return r;
}
