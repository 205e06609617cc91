// Drives the pure machine into each phase the honest way: through events.
import { openCutover, step } from '../../src/domain/machine.ts';
import { passed, measured } from '../../src/domain/measurement.ts';
import type { Plan } from '../../src/domain/plan.ts';
import type { Actor, CutoverEvent, CutoverState, Phase, Transition } from '../../src/domain/state.ts';

export const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
export const STARTER: Actor = { id: 'U0RM1', roles: ['release-manager'] };
export const RM2: Actor = { id: 'U0RM2', roles: ['release-manager'] };
export const OPS: Actor = { id: 'U0OPS', roles: ['ops-lead'] };
export const ONCALL: Actor = { id: 'U0ONCALL1', roles: ['oncall-ops'] };
export const STRANGER: Actor = { id: 'U0NOBODY', roles: [] };

export const pass = (gate: string, at: number) => ({ gate, measurement: passed([{ name: 'v', value: 1, threshold: '<= 2', ok: true }]), at });
export const fail = (gate: string, at: number) => ({ gate, measurement: measured([{ name: 'v', value: 9, threshold: '<= 2', ok: false }]), at });
export const err = (gate: string, at: number) => ({ gate, measurement: { outcome: 'error' as const, error: 'timeout' }, at });

export function ok(t: Transition): Extract<Transition, { ok: true }> {
  if (!t.ok) throw new Error(`expected a transition, got refusal ${t.refusal.code} (${t.refusal.action} in ${t.refusal.phase})`);
  return t;
}

export class Drive {
  plan: Plan;
  state: CutoverState;
  now: number;
  opened: Extract<Transition, { ok: true }>;
  constructor(plan: Plan, now = T0, t0?: number) {
    this.plan = plan;
    this.now = now;
    this.opened = ok(openCutover({ id: 'c1', plan, actor: STARTER, revisions: { stable: 'a', canary: 'b' }, now, ...(t0 === undefined ? {} : { t0 }) }));
    this.state = this.opened.state;
  }
  apply(event: CutoverEvent, advanceMs = 0): Transition {
    this.now += advanceMs;
    const t = step(this.plan, this.state, event, this.now);
    if (t.ok) this.state = t.state;
    return t;
  }
  must(event: CutoverEvent, advanceMs = 0) {
    return ok(this.apply(event, advanceMs));
  }
  preflightPassed() {
    return this.must({ type: 'preflight_done', phaseSeq: this.state.phaseSeq, results: this.plan.gates.preflight.map((g) => pass(g.id, this.now)) });
  }
  /** Opens and ticks, as their owners, the checkpoints that block `what`. */
  clearBlocking(what: 'go_no_go' | 'promote') {
    const owners: Record<string, Actor> = { 'release-manager': STARTER, 'ops-lead': OPS, 'oncall-ops': ONCALL };
    this.plan.timeline.forEach((c, index) => {
      if (c.blocks !== what || this.state.checkpoints[index]?.status === 'done') return;
      if (this.state.checkpoints[index]?.status === 'pending') this.must({ type: 'checkpoint_due', index });
      c.checklist.forEach((_item, item) => this.must({ type: 'tick', actor: owners[c.owner]!, checkpoint: index, item }));
    });
  }
  goNoGo() {
    this.clearBlocking('go_no_go');
    this.preflightPassed();
    this.must({ type: 'approve', actor: RM2 });
    return this.must({ type: 'approve', actor: OPS });
  }
  confirm() {
    return this.must({ type: 'traffic_confirmed', phaseSeq: this.state.phaseSeq, percent: this.plan.stages[this.state.stage]!.percent });
  }
  check(results: 'pass' | 'fail' | 'error', advanceMs: number) {
    const make = results === 'pass' ? pass : results === 'fail' ? fail : err;
    this.now += advanceMs;
    const t = step(this.plan, this.state, { type: 'gate_check', seq: this.state.monitor!.seq, results: this.plan.gates.stage.map((g) => make(g.id, this.now)) }, this.now);
    if (t.ok) this.state = t.state;
    return t;
  }
  /** Passes checks until the soak of the current cohort is over. */
  soakClean() {
    const stage = this.plan.stages[this.state.stage]!;
    let guard = 0;
    while (this.state.phase === 'soaking' && guard++ < 1000) ok(this.check('pass', Math.max(1, this.state.monitor!.nextAt - this.now)));
    if (guard >= 1000) throw new Error(`soak of ${stage.percent} % never ended`);
  }
}

/** A state in each phase, reached through events. */
export function reach(plan: Plan, phase: Phase | 'held_soaking' | 'held_preflight' | 'final_soak'): Drive {
  const d = new Drive(plan, T0, phase === 'scheduled' || phase === 'ready' ? T0 + 3_600_000 : undefined);
  switch (phase) {
    case 'scheduled':
      return d;
    case 'ready':
      d.must({ type: 'start_due' });
      d.goNoGo();
      return d;
    case 'hypercare':
      if (!plan.hypercare) throw new Error('the plan has no hypercare');
      d.goNoGo();
      for (;;) {
        d.confirm();
        d.soakClean();
        if (d.state.phase === 'hypercare') return d;
        d.clearBlocking('promote');
        d.must({ type: 'promote', actor: STARTER });
      }
    case 'preflight':
      return d;
    case 'awaiting_go_no_go':
      d.preflightPassed();
      return d;
    case 'shifting':
      d.goNoGo();
      return d;
    case 'soaking':
      d.goNoGo();
      d.confirm();
      return d;
    case 'awaiting_promotion':
      d.goNoGo();
      d.confirm();
      d.soakClean();
      return d;
    case 'held':
    case 'held_soaking':
      d.goNoGo();
      d.confirm();
      d.must({ type: 'hold', actor: OPS, reason: 'looking at a graph' });
      return d;
    case 'held_preflight':
      d.must({ type: 'hold', actor: OPS, reason: 'wait' });
      return d;
    case 'rolling_back':
      d.goNoGo();
      d.confirm();
      d.must({ type: 'rollback', actor: ONCALL, reason: 'users report errors' });
      return d;
    case 'rolled_back':
      d.goNoGo();
      d.confirm();
      d.must({ type: 'rollback', actor: ONCALL });
      d.must({ type: 'rollback_done', phaseSeq: d.state.phaseSeq, percent: 0, steps: [] });
      return d;
    case 'final_soak':
      d.goNoGo();
      for (;;) {
        d.confirm();
        if (d.state.stage === plan.stages.length - 1) return d;
        d.soakClean();
        if (d.state.phase === 'awaiting_promotion') d.must({ type: 'promote', actor: STARTER });
      }
    case 'completed':
      d.goNoGo();
      for (;;) {
        d.confirm();
        d.soakClean();
        if (d.state.phase === 'hypercare') d.must({ type: 'close', actor: STARTER, reason: 'done' });
        if (d.state.phase === 'completed') return d;
        d.clearBlocking('promote');
        d.must({ type: 'promote', actor: STARTER });
      }
    case 'aborted':
      d.must({ type: 'abort', actor: OPS, reason: 'change freeze' });
      return d;
    case 'failed':
      d.goNoGo();
      d.confirm();
      d.must({ type: 'rollback', actor: ONCALL });
      d.must({ type: 'rollback_failed', phaseSeq: d.state.phaseSeq, code: 'transient', message: 'UNAVAILABLE', steps: [] });
      return d;
  }
}
