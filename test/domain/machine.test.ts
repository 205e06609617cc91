import { describe, expect, it } from 'vitest';
import { step } from '../../src/domain/machine.ts';
import type { CutoverEvent, CutoverState, Effect, Phase } from '../../src/domain/state.ts';
import { makePlan } from '../support/plans.ts';
import { Drive, ONCALL, OPS, ok, pass, reach, RM2, STARTER, STRANGER, T0 } from './drive.ts';

const plan = makePlan();

/** The table's plan carries every feature: a timeline (one checkpoint before T0 with a gate, one after), sign-off and hypercare. */
const tplan = makePlan((p) => {
  p.timeline = [
    { at: 'T-60', name: 'Final preparation', owner: 'ops-lead', checklist: ['dashboards open', 'rollback reviewed'], gates: [{ id: 'ready', command: 'true' }] },
    { at: 'T+30', name: 'Keep or roll back', owner: 'release-manager', checklist: ['decision taken'] },
  ];
  p.sign_off = [{ role: 'release-manager', item: 'Go/No-Go decision signed' }];
  p.hypercare = { duration: '72h' };
});

type EventName =
  | 'approve' | 'reject' | 'promote' | 'hold' | 'resume' | 'rollback' | 'abort' | 'tick' | 'sign_off' | 'close'
  | 'preflight_done' | 'traffic_confirmed' | 'traffic_failed' | 'gate_check' | 'rollback_done' | 'rollback_failed' | 'approval_stuck'
  | 'start_due' | 't0_due' | 'checkpoint_due' | 'checkpoint_overdue' | 'checkpoint_gates' | 'hypercare_end';

/** Each event as its rightful sender would send it in this state (current phaseSeq, current seq). */
function eventFor(name: EventName, s: CutoverState, now: number): CutoverEvent {
  const target = s.stage >= 0 ? tplan.stages[s.stage]!.percent : 0;
  switch (name) {
    case 'approve': return { type: 'approve', actor: OPS };
    case 'reject': return { type: 'reject', actor: OPS, reason: 'not today' };
    case 'promote': return { type: 'promote', actor: STARTER };
    case 'hold': return { type: 'hold', actor: OPS, reason: 'hold on' };
    case 'resume': return { type: 'resume', actor: STARTER };
    case 'rollback': return { type: 'rollback', actor: ONCALL, reason: 'errors' };
    case 'abort': return { type: 'abort', actor: OPS, reason: 'freeze' };
    case 'preflight_done': return { type: 'preflight_done', phaseSeq: s.phaseSeq, results: [pass('G1', now)] };
    case 'traffic_confirmed': return { type: 'traffic_confirmed', phaseSeq: s.phaseSeq, percent: s.phase === 'shifting' ? target : s.traffic };
    case 'traffic_failed': return { type: 'traffic_failed', phaseSeq: s.phaseSeq, code: 'transient', message: 'UNAVAILABLE' };
    case 'gate_check': return { type: 'gate_check', seq: s.monitor?.seq ?? s.checkSeq + 1, results: [pass('slo', now)] };
    case 'rollback_done': return { type: 'rollback_done', phaseSeq: s.phaseSeq, percent: 0, steps: [] };
    case 'rollback_failed': return { type: 'rollback_failed', phaseSeq: s.phaseSeq, code: 'transient', message: 'UNAVAILABLE', steps: [] };
    case 'approval_stuck': return { type: 'approval_stuck', phaseSeq: s.phaseSeq };
    case 'tick': return { type: 'tick', actor: OPS, checkpoint: 0, item: 0 };
    case 'sign_off': return { type: 'sign_off', actor: STARTER, item: 0 };
    case 'close': return { type: 'close', actor: STARTER, reason: 'quiet for a day' };
    case 'start_due': return { type: 'start_due' };
    case 't0_due': return { type: 't0_due' };
    case 'checkpoint_due': return { type: 'checkpoint_due', index: 1 };
    case 'checkpoint_overdue': return { type: 'checkpoint_overdue', index: 0, level: 1 };
    case 'checkpoint_gates': return { type: 'checkpoint_gates', index: 0, run: 1, results: [pass('ready', now)] };
    case 'hypercare_end': return { type: 'hypercare_end' };
  }
}

const EVENTS: EventName[] = [
  'approve', 'reject', 'promote', 'hold', 'resume', 'rollback', 'abort', 'tick', 'sign_off', 'close',
  'preflight_done', 'traffic_confirmed', 'traffic_failed', 'gate_check', 'rollback_done', 'rollback_failed', 'approval_stuck',
  'start_due', 't0_due', 'checkpoint_due', 'checkpoint_overdue', 'checkpoint_gates', 'hypercare_end',
];

/** Timeline and closure events: the same answer in every running phase but the ones that own them. */
type TimelineEvent = 'tick' | 'sign_off' | 'close' | 'start_due' | 't0_due' | 'checkpoint_due' | 'checkpoint_overdue' | 'checkpoint_gates' | 'hypercare_end';
const TIMELINE = (phase: string): Record<TimelineEvent, string> => ({
  tick: `→ ${phase}`, sign_off: 'wrong_phase', close: 'wrong_phase', start_due: 'stale', t0_due: 'stale',
  checkpoint_due: `→ ${phase}`, checkpoint_overdue: `→ ${phase}`, checkpoint_gates: `→ ${phase}`, hypercare_end: 'stale',
});

// What each event does in each phase: "→ phase" for a transition, a refusal code otherwise.
const TABLE: Record<string, Record<EventName, string>> = {
  preflight: { ...TIMELINE('preflight'), approve: 'wrong_phase', reject: 'wrong_phase', promote: 'wrong_phase', hold: '→ held', resume: 'not_held', rollback: '→ rolling_back', abort: '→ aborted', preflight_done: '→ awaiting_go_no_go', traffic_confirmed: 'stale', traffic_failed: 'stale', gate_check: 'stale', rollback_done: 'stale', rollback_failed: 'stale', approval_stuck: 'stale' },
  awaiting_go_no_go: { ...TIMELINE('awaiting_go_no_go'), approve: '→ awaiting_go_no_go', reject: '→ held', promote: 'wrong_phase', hold: '→ held', resume: 'not_held', rollback: '→ rolling_back', abort: '→ aborted', preflight_done: 'stale', traffic_confirmed: 'stale', traffic_failed: 'stale', gate_check: 'stale', rollback_done: 'stale', rollback_failed: 'stale', approval_stuck: '→ awaiting_go_no_go' },
  shifting: { ...TIMELINE('shifting'), approve: 'wrong_phase', reject: 'wrong_phase', promote: 'shift_in_progress', hold: '→ held', resume: 'not_held', rollback: '→ rolling_back', abort: 'traffic_on_canary', preflight_done: 'stale', traffic_confirmed: '→ soaking', traffic_failed: '→ held', gate_check: 'stale', rollback_done: 'stale', rollback_failed: 'stale', approval_stuck: 'stale' },
  soaking: { ...TIMELINE('soaking'), approve: 'wrong_phase', reject: 'wrong_phase', promote: 'soak_in_progress', hold: '→ held', resume: 'not_held', rollback: '→ rolling_back', abort: 'traffic_on_canary', preflight_done: 'stale', traffic_confirmed: 'stale', traffic_failed: 'stale', gate_check: '→ soaking', rollback_done: 'stale', rollback_failed: 'stale', approval_stuck: 'stale' },
  awaiting_promotion: { ...TIMELINE('awaiting_promotion'), approve: 'wrong_phase', reject: 'wrong_phase', promote: '→ shifting', hold: '→ held', resume: 'not_held', rollback: '→ rolling_back', abort: 'traffic_on_canary', preflight_done: 'stale', traffic_confirmed: 'stale', traffic_failed: 'stale', gate_check: '→ awaiting_promotion', rollback_done: 'stale', rollback_failed: 'stale', approval_stuck: '→ awaiting_promotion' },
  held_soaking: { ...TIMELINE('held'), approve: 'wrong_phase', reject: 'wrong_phase', promote: 'wrong_phase', hold: 'already_held', resume: '→ soaking', rollback: '→ rolling_back', abort: 'traffic_on_canary', preflight_done: 'stale', traffic_confirmed: 'stale', traffic_failed: 'stale', gate_check: '→ held', rollback_done: 'stale', rollback_failed: 'stale', approval_stuck: 'stale' },
  held_preflight: { ...TIMELINE('held'), approve: 'wrong_phase', reject: 'wrong_phase', promote: 'wrong_phase', hold: 'already_held', resume: '→ preflight', rollback: '→ rolling_back', abort: '→ aborted', preflight_done: 'stale', traffic_confirmed: 'stale', traffic_failed: 'stale', gate_check: 'stale', rollback_done: 'stale', rollback_failed: 'stale', approval_stuck: 'stale' },
  rolling_back: { ...TIMELINE('rolling_back'), approve: 'wrong_phase', reject: 'wrong_phase', promote: 'wrong_phase', hold: 'already_rolling_back', resume: 'not_held', rollback: 'already_rolling_back', abort: 'already_rolling_back', preflight_done: 'stale', traffic_confirmed: 'stale', traffic_failed: 'stale', gate_check: 'stale', rollback_done: '→ rolled_back', rollback_failed: '→ failed', approval_stuck: 'stale' },
};
TABLE.scheduled = { ...TIMELINE('scheduled'), approve: 'wrong_phase', reject: 'wrong_phase', promote: 'wrong_phase', hold: 'wrong_phase', resume: 'not_held', rollback: '→ rolling_back', abort: '→ aborted', preflight_done: 'stale', traffic_confirmed: 'stale', traffic_failed: 'stale', gate_check: 'stale', rollback_done: 'stale', rollback_failed: 'stale', approval_stuck: 'stale', start_due: '→ preflight' } as Record<EventName, string>;
TABLE.ready = { ...TIMELINE('ready'), approve: 'wrong_phase', reject: 'wrong_phase', promote: 'wrong_phase', hold: '→ held', resume: 'not_held', rollback: '→ rolling_back', abort: '→ aborted', preflight_done: 'stale', traffic_confirmed: 'stale', traffic_failed: 'stale', gate_check: 'stale', rollback_done: 'stale', rollback_failed: 'stale', approval_stuck: 'stale', t0_due: '→ shifting' } as Record<EventName, string>;
TABLE.hypercare = { ...TIMELINE('hypercare'), approve: 'wrong_phase', reject: 'wrong_phase', promote: 'wrong_phase', hold: 'wrong_phase', resume: 'not_held', rollback: '→ rolling_back', abort: 'traffic_on_canary', preflight_done: 'stale', traffic_confirmed: 'stale', traffic_failed: 'stale', gate_check: '→ hypercare', rollback_done: 'stale', rollback_failed: 'stale', approval_stuck: 'stale', sign_off: '→ hypercare', close: '→ completed', hypercare_end: '→ completed' } as Record<EventName, string>;
for (const terminal of ['rolled_back', 'completed', 'aborted', 'failed'] as const) {
  // Nothing happens after the end, but sign-off: seed 001's closeout comes after the fact.
  TABLE[terminal] = { ...(Object.fromEntries(EVENTS.map((e) => [e, 'finished'])) as Record<EventName, string>), sign_off: `→ ${terminal}` };
}

describe('state machine: every phase against every event', () => {
  for (const [phase, row] of Object.entries(TABLE)) {
    describe(phase, () => {
      for (const name of EVENTS) {
        it(`${name} → ${row[name]}`, () => {
          const d = reach(tplan, phase as Phase);
          const before = structuredClone(d.state);
          const t = step(tplan, Object.freeze(d.state), eventFor(name, d.state, d.now + 1), d.now + 1);
          const expected = row[name];
          if (expected.startsWith('→ ')) {
            expect(t.ok, t.ok ? '' : `refused ${t.refusal.code}`).toBe(true);
            if (t.ok) {
              expect(t.state.phase).toBe(expected.slice(2));
              expect(t.state.version).toBe(before.version + 1);
            }
          } else {
            expect(t.ok).toBe(false);
            if (!t.ok) expect(t.refusal.code).toBe(expected);
          }
          expect(d.state).toEqual(before); // the input state is never mutated
        });
      }
    });
  }
});

const effectTypes = (effects: readonly Effect[]) => effects.map((e) => (e.type === 'announce' ? `announce:${e.notice.kind}` : e.type === 'escalate' ? `escalate:${e.escalation.code}` : e.type));

describe('state machine: the runbook rules', () => {
  it('opens in preflight, asks for it to run, and starts the updates', () => {
    const d = new Drive(plan);
    expect(d.state.phase).toBe('preflight');
    expect(d.state.decisions[0]).toMatchObject({ action: 'start', by: STARTER.id, role: 'release-manager' });
  });

  it('refuses to let someone without a role start a cutover', async () => {
    const { openCutover } = await import('../../src/domain/machine.ts');
    const t = openCutover({ id: 'x', plan, actor: STRANGER, revisions: { stable: 'a', canary: 'b' }, now: T0 });
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.refusal).toMatchObject({ code: 'not_authorized', action: 'start' });
  });

  it('go/no-go needs min distinct approvers, counts a second click once, and refuses strangers', () => {
    const d = reach(plan, 'awaiting_go_no_go');
    const first = d.must({ type: 'approve', actor: OPS });
    expect(first.state.phase).toBe('awaiting_go_no_go');
    expect(first.effects).toContainEqual({ type: 'announce', notice: expect.objectContaining({ kind: 'approved', needed: 1 }) });
    const again = d.apply({ type: 'approve', actor: OPS });
    expect(again.ok || again.refusal.code).toBe('already_approved');
    const stranger = d.apply({ type: 'approve', actor: STRANGER });
    expect(stranger.ok || stranger.refusal).toMatchObject({ code: 'not_authorized', roles: ['release-manager', 'ops-lead'] });
    const second = d.must({ type: 'approve', actor: RM2 });
    expect(second.state.phase).toBe('shifting');
    expect(second.effects).toContainEqual({ type: 'shift_traffic', phaseSeq: second.state.phaseSeq, stage: 0, percent: 1 });
  });

  it('two-person rule: the starter alone can never satisfy the go/no-go', () => {
    const solo = makePlan((p) => (p.approvals.go_no_go = { roles: ['release-manager'], min: 1 }));
    const d = reach(solo, 'awaiting_go_no_go');
    const own = d.must({ type: 'approve', actor: STARTER });
    expect(own.state.phase).toBe('awaiting_go_no_go');
    expect(own.effects).toContainEqual({ type: 'announce', notice: expect.objectContaining({ kind: 'approved', needed: 1, othersNeeded: true }) });
    expect(d.must({ type: 'approve', actor: RM2 }).state.phase).toBe('shifting');
  });

  it('two_person: false lets the starter approve alone', () => {
    const solo = makePlan((p) => (p.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false }));
    const d = reach(solo, 'awaiting_go_no_go');
    expect(d.must({ type: 'approve', actor: STARTER }).state.phase).toBe('shifting');
  });

  it('a click from an older card (stale phaseSeq) is refused, never applied', () => {
    const d = reach(plan, 'awaiting_promotion');
    const old = d.state.phaseSeq - 1;
    const t = d.apply({ type: 'promote', actor: STARTER, expect: old });
    expect(t.ok || t.refusal.code).toBe('stale');
    expect(d.must({ type: 'promote', actor: STARTER, expect: d.state.phaseSeq }).state.phase).toBe('shifting');
  });

  it('soak: a check lands on the soak end, and a clean end waits for /promote (manual)', () => {
    const d = reach(plan, 'soaking');
    expect(d.state.soak!.endsAt - d.state.soak!.startedAt).toBe(10 * 60_000);
    d.soakClean();
    expect(d.state.phase).toBe('awaiting_promotion');
    expect(d.state.monitor).not.toBeNull(); // still watching while waiting
    expect(d.now).toBe(d.state.soak!.endsAt);
  });

  it('promotion: auto advances by itself; the last cohort completes and writes evidence', () => {
    const auto = makePlan((p) => (p.promotion = 'auto'));
    const d = reach(auto, 'soaking');
    const shifted: number[] = [];
    for (;;) {
      d.soakClean();
      if (d.state.phase === 'completed') break;
      expect(d.state.phase).toBe('shifting');
      shifted.push(auto.stages[d.state.stage]!.percent);
      d.confirm();
    }
    expect(shifted).toEqual([5, 25, 100]);
    expect(d.state).toMatchObject({ outcome: 'completed', traffic: 100, monitor: null });
  });

  it('a failing gate rolls back at once, escalates, and stops monitoring', () => {
    const d = reach(plan, 'soaking');
    const t = ok(d.check('fail', 60_000));
    expect(t.state.phase).toBe('rolling_back');
    expect(t.state.rollback).toMatchObject({ trigger: 'gate', gates: ['slo'] });
    expect(effectTypes(t.effects)).toEqual(['announce:gate_check', 'roll_back', 'announce:rollback_started', 'escalate:gate_failed']);
    expect(t.state.monitor).toBeNull();
  });

  it('for: a gate fails only after failing continuously for its window', () => {
    const withFor = makePlan((p) => (p.gates.stage[0].for = '10m'));
    const d = reach(withFor, 'soaking');
    d.soakClean(); // clean soak, now awaiting promotion and still checking every minute
    for (let i = 0; i < 10; i++) expect(ok(d.check('fail', 60_000)).state.phase).toBe('awaiting_promotion');
    expect(ok(d.check('fail', 60_000)).state.phase).toBe('rolling_back');
  });

  it('for: a pass in between restarts the window; an error does not', () => {
    const withFor = makePlan((p) => (p.gates.stage[0].for = '3m'));
    const d = reach(withFor, 'soaking');
    ok(d.check('fail', 60_000));
    ok(d.check('fail', 60_000));
    ok(d.check('pass', 60_000));
    ok(d.check('fail', 60_000));
    ok(d.check('error', 60_000));
    ok(d.check('fail', 60_000));
    expect(d.state.phase).toBe('soaking');
    expect(ok(d.check('fail', 60_000)).state.phase).toBe('rolling_back');
  });

  it('errors are never a pass: a soak with errors is not clean; max_errors in a row holds and escalates', () => {
    const d = reach(plan, 'soaking');
    // Run the soak clock past its end on errors: it must not count as clean.
    ok(d.check('error', 10 * 60_000));
    expect(d.state.phase).toBe('soaking');
    ok(d.check('error', 60_000));
    const held = ok(d.check('error', 60_000));
    expect(held.state.phase).toBe('held');
    expect(held.state.held).toMatchObject({ code: 'gate_errors', from: 'soaking' });
    expect(effectTypes(held.effects)).toContain('escalate:gate_errors');
    expect(held.effects.some((e) => e.type === 'schedule_check')).toBe(true); // still watching
    // A held canary that then fails is rolled back.
    expect(ok(d.check('fail', 60_000)).state.phase).toBe('rolling_back');
  });

  it('promote is refused while a gate is not passing at the last check', () => {
    const withFor = makePlan((p) => (p.gates.stage[0].for = '10m'));
    const d = reach(withFor, 'soaking');
    d.soakClean();
    ok(d.check('fail', 60_000));
    const t = d.apply({ type: 'promote', actor: STARTER });
    expect(t.ok || t.refusal).toMatchObject({ code: 'gates_not_clean', gates: ['slo'] });
  });

  it('preflight failure holds (seed 001 no-go policy) and escalates; resume runs preflight again', () => {
    const d = new Drive(plan);
    const t = d.must({ type: 'preflight_done', phaseSeq: d.state.phaseSeq, results: [{ gate: 'G1', measurement: { outcome: 'error', error: 'timed out' }, at: T0 }] });
    expect(t.state.held).toMatchObject({ code: 'preflight_failed', from: 'preflight' });
    expect(effectTypes(t.effects)).toContain('escalate:preflight_failed');
    const r = d.must({ type: 'resume', actor: STARTER });
    expect(r.state.phase).toBe('preflight');
    expect(r.effects).toContainEqual({ type: 'run_preflight', phaseSeq: r.state.phaseSeq });
  });

  it('a preflight that is missing a gate result does not pass', () => {
    const d = new Drive(plan);
    expect(d.must({ type: 'preflight_done', phaseSeq: d.state.phaseSeq, results: [] }).state.phase).toBe('held');
  });

  it('no-go holds and clears approvals; resume asks for the go/no-go afresh', () => {
    const d = reach(plan, 'awaiting_go_no_go');
    d.must({ type: 'approve', actor: RM2 });
    d.must({ type: 'reject', actor: OPS, reason: 'dashboards red' });
    expect(d.state.approvals.go_no_go).toEqual([]);
    const r = d.must({ type: 'resume', actor: STARTER });
    expect(r.state.phase).toBe('awaiting_go_no_go');
    expect(effectTypes(r.effects)).toContain('schedule_stuck_check');
  });

  it('a traffic failure holds and escalates; resume retries the same cohort', () => {
    const d = reach(plan, 'shifting');
    const t = d.must({ type: 'traffic_failed', phaseSeq: d.state.phaseSeq, code: 'permission_denied', message: 'missing run.services.update' });
    expect(t.state).toMatchObject({ phase: 'held', traffic: 0, held: { code: 'traffic_failed' } });
    expect(effectTypes(t.effects)).toContain('escalate:traffic_failed');
    const r = d.must({ type: 'resume', actor: STARTER });
    expect(r.effects).toContainEqual({ type: 'shift_traffic', phaseSeq: r.state.phaseSeq, stage: 0, percent: 1 });
  });

  it('resume after a hold during a soak earns a fresh, full soak', () => {
    const d = reach(plan, 'held_soaking');
    const r = d.must({ type: 'resume', actor: STARTER }, 5 * 60_000);
    expect(r.state.phase).toBe('soaking');
    expect(r.state.soak).toEqual({ startedAt: d.now, endsAt: d.now + 10 * 60_000 });
  });

  it('abort only before traffic moves; after, the answer is a rollback', () => {
    expect(reach(plan, 'awaiting_go_no_go').must({ type: 'abort', actor: OPS }).state.outcome).toBe('aborted');
    const soaking = reach(plan, 'soaking').apply({ type: 'abort', actor: OPS });
    expect(soaking.ok || soaking.refusal.code).toBe('traffic_on_canary');
  });

  it('abort believes the service over the state: a canary found serving refuses it, an unread split is said', () => {
    // The store lost the go/no-go and the first shift; the service still serves the cohort.
    const d = reach(plan, 'awaiting_go_no_go');
    const before = d.state;
    for (const served of [{ canary: 1, stable: 99, other: 0 }, { canary: 0, stable: 95, other: 5 }]) {
      const refused = d.apply({ type: 'abort', actor: OPS, served });
      expect(refused.ok || refused.refusal).toMatchObject({ code: 'traffic_on_canary', served: served.canary });
    }
    expect(d.state).toBe(before);
    // Who may abort is asked first.
    const denied = d.apply({ type: 'abort', actor: { id: 'U0NOBODY', roles: [] }, served: { canary: 1, stable: 99, other: 0 } });
    expect(denied.ok || denied.refusal.code).toBe('not_authorized');
    const clean = reach(plan, 'awaiting_go_no_go').must({ type: 'abort', actor: OPS, reason: 'freeze', served: { canary: 0, stable: 100, other: 0 } });
    expect(clean.state.outcome).toBe('aborted');
    expect(clean.effects).toContainEqual({ type: 'announce', notice: { kind: 'aborted', by: OPS.id, reason: 'freeze' } });
    // A split that cannot be read does not stand in the way, but the notice says it was not checked.
    const unread = reach(plan, 'awaiting_go_no_go').must({ type: 'abort', actor: OPS, reason: 'freeze', served: { error: 'Cloud Run did not answer' } });
    expect(unread.state.outcome).toBe('aborted');
    expect(unread.effects).toContainEqual({ type: 'announce', notice: { kind: 'aborted', by: OPS.id, reason: 'freeze', unverified: 'Cloud Run did not answer' } });
  });

  it('rollback needs a rollback role; it then goes straight to the rollback job and escalates', () => {
    const d = reach(plan, 'soaking');
    const denied = d.apply({ type: 'rollback', actor: OPS });
    expect(denied.ok || denied.refusal).toMatchObject({ code: 'not_authorized', roles: ['release-manager', 'oncall-ops'] });
    const t = d.must({ type: 'rollback', actor: ONCALL, reason: 'support tickets' });
    expect(effectTypes(t.effects)).toEqual(['roll_back', 'announce:rollback_started', 'escalate:rollback']);
    const done = d.must({ type: 'rollback_done', phaseSeq: d.state.phaseSeq, percent: 0, steps: [] });
    expect(done.state).toMatchObject({ phase: 'rolled_back', outcome: 'rolled_back', traffic: 0 });
    expect(effectTypes(done.effects)).toEqual(['announce:rolled_back', 'stop_updates', 'write_evidence']);
  });

  it('a stuck approval escalates once per wait', () => {
    const d = reach(plan, 'awaiting_go_no_go');
    const seq = d.state.phaseSeq;
    expect(effectTypes(d.must({ type: 'approval_stuck', phaseSeq: seq }, 15 * 60_000).effects)).toEqual(['escalate:approval_stuck']);
    d.must({ type: 'approve', actor: OPS });
    d.must({ type: 'approve', actor: RM2 });
    const late = d.apply({ type: 'approval_stuck', phaseSeq: seq });
    expect(late.ok || late.refusal.code).toBe('stale');
  });

  it('a traffic fact is recorded whatever the phase (a shift that landed after a hold)', () => {
    const d = reach(plan, 'shifting');
    const seq = d.state.phaseSeq;
    d.must({ type: 'hold', actor: OPS });
    const t = d.must({ type: 'traffic_confirmed', phaseSeq: seq, percent: 1 });
    expect(t.state).toMatchObject({ phase: 'held', traffic: 1 });
    // The same fact again changes nothing.
    expect(d.apply({ type: 'traffic_confirmed', phaseSeq: seq, percent: 1 }).ok).toBe(false);
  });

  it('a split that drifts from the cohort outside the cutover holds and escalates; resume re-applies the cohort', () => {
    const d = reach(plan, 'soaking');
    const t = d.must({ type: 'traffic_confirmed', phaseSeq: d.state.phaseSeq - 1, percent: 40 });
    expect(t.state).toMatchObject({ phase: 'held', traffic: 40, held: { code: 'traffic_failed' } });
    expect(effectTypes(t.effects)).toContain('escalate:traffic_failed');
    const r = d.must({ type: 'resume', actor: STARTER });
    expect(r.state.phase).toBe('shifting');
    expect(r.effects).toContainEqual({ type: 'shift_traffic', phaseSeq: r.state.phaseSeq, stage: 0, percent: 1 });
  });

  it('a gate whose data is not visible yet (data lag) is waiting: not an error, and the soak is not clean without it', () => {
    const d = reach(plan, 'soaking');
    const waiting = (at: number) => ({ type: 'gate_check' as const, seq: d.state.monitor!.seq, results: [{ gate: 'slo', measurement: { outcome: 'error' as const, error: 'no data yet' }, at, waiting: true as const }] });
    for (let i = 0; i < 5; i++) {
      const t = d.must(waiting(d.now + 3 * 60_000), 3 * 60_000);
      expect(t.state.phase).toBe('soaking');
      expect(t.state.gates.slo).toMatchObject({ errors: 0, last: { verdict: 'waiting' } });
    }
    expect(d.now).toBeGreaterThan(d.state.soak!.endsAt); // the soak time is up, but nothing was measured yet
    expect(ok(d.check('pass', 60_000)).state.phase).toBe('awaiting_promotion');
  });

  it('a go/no-go interrupted by a hold is asked afresh on resume', () => {
    const d = reach(plan, 'awaiting_go_no_go');
    d.must({ type: 'approve', actor: OPS });
    d.must({ type: 'hold', actor: OPS, reason: 'waiting for the DBA' });
    const r = d.must({ type: 'resume', actor: STARTER });
    expect(r.state.approvals.go_no_go).toEqual([]);
    expect(r.effects).toContainEqual({ type: 'announce', notice: { kind: 'go_no_go_requested', roles: ['release-manager', 'ops-lead'], needed: 2 } });
  });
});
