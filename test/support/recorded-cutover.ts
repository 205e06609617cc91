// Cutovers recorded as the bot records them (the audit trail and the gate records each committed
// transition carries), driven through the pure machine: the input of the chart's spec builder.
import { step } from '../../src/domain/machine.ts';
import { atMost, measured } from '../../src/domain/measurement.ts';
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { Plan } from '../../src/domain/plan.ts';
import type { GateRecord, Transition } from '../../src/domain/state.ts';
import { auditFor } from '../../src/runtime/engine.ts';
import { Drive, ONCALL, OPS, STARTER, ok } from '../domain/drive.ts';
import { makePlan } from './plans.ts';

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
      { gate: 'five-xx', at, measurement: measured([atMost('5xx_ratio', s.errorRate, 0.01), { name: 'stable_5xx_ratio', value: s.stableErrorRate, ok: true }]) },
      {
        gate: 'p95',
        at,
        measurement: measured([
          { name: 'p95_latency_ms', value: s.p95, ok: true },
          { name: 'stable_p95_latency_ms', value: s.stableP95, ok: true },
          atMost('p95_regression', Number((s.p95 / s.stableP95 - 1).toFixed(4)), 0.2),
        ]),
      },
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
