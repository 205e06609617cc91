// Dropping one target of a train in waves (`rollback: target`): the pure machine. A per-target
// gate's failure, or `/rollback <plan> <target>`, rolls back that target alone while the rest of
// the train carries on; a whole-train gate, or a failure that would leave no target, rolls back
// everything; a wave left with no target is skipped.
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/domain/plan.ts';
import type { CutoverEvent, Effect, Transition } from '../../src/domain/state.ts';
import { Drive, fail, ONCALL, pass, STARTER, STRANGER } from '../domain/drive.ts';
import { basePlanDocument, planFrom } from '../support/plans.ts';

function trainPlan(patch: (doc: Record<string, any>) => void = () => undefined): Plan {
  const doc = basePlanDocument();
  delete doc.service;
  doc.targets = ['a', 'b', 'c'].map((name) => ({ platform: 'simulated', name }));
  doc.strategy = { waves: [[0], [1, 2]] };
  doc.rollback = 'target';
  doc.stages = [10, 50, 100];
  doc.promotion = 'auto';
  doc.gates.stage = [
    { id: 'slo', slo_snapshot: { url: 'http://127.0.0.1:9/slo', max_p95_latency_ms: 600 } },
    { id: 'global', scope: 'once', slo_snapshot: { url: 'http://127.0.0.1:9/global', max_p95_latency_ms: 600 } },
  ];
  patch(doc);
  return planFrom(doc);
}

/** A check of every gate in play: those named fail, the rest pass. */
function check(d: Drive, failing: readonly string[] = [], advanceMs = 60_000): Transition {
  d.now += advanceMs;
  const results = d.plan.gates.stage.map((g) => (failing.includes(g.id) ? fail(g.id, d.now) : pass(g.id, d.now)));
  return d.apply({ type: 'gate_check', seq: d.state.monitor!.seq, results });
}

/** Through the go/no-go and cohorts (each confirmed and soaked clean) until cohort `stage` is soaking. */
function soakingAt(plan: Plan, stage: number): Drive {
  const d = new Drive(plan);
  d.goNoGo();
  for (;;) {
    d.confirm();
    if (d.state.stage === stage) return d;
    d.soakClean();
    if (d.state.phase === 'awaiting_promotion') d.must({ type: 'promote', actor: STARTER });
  }
}

const effectsOf = (t: Transition): readonly Effect[] => (t.ok ? t.effects : []);
const noticesOf = (t: Transition) => effectsOf(t).flatMap((e) => (e.type === 'announce' ? [e.notice] : []));
const escalationsOf = (t: Transition) => effectsOf(t).flatMap((e) => (e.type === 'escalate' ? [e.escalation] : []));
const drop = (target: number, reason = 'region errors'): Extract<CutoverEvent, { type: 'rollback' }> => ({ type: 'rollback', actor: ONCALL, reason, target });

describe('a per-target gate failing in waves with rollback: target', () => {
  it('drops that target alone: it goes back to stable by its own job, its gates stop, the soak goes on', () => {
    const plan = trainPlan();
    const d = soakingAt(plan, 3); // wave 2 (b and c) at 10 %; a at 100 %
    const t = check(d, ['slo@b']);
    expect(t.ok).toBe(true);
    expect(d.state).toMatchObject({ phase: 'soaking', stage: 3, rollback: null });
    expect(d.state.dropped).toEqual([{ target: 1, trigger: 'gate', by: null, reason: 'gate slo@b failed at 10 %', at: d.now, gates: ['slo@b'], stage: 3 }]);
    expect(effectsOf(t)).toContainEqual({ type: 'roll_back_target', target: 1 });
    expect(effectsOf(t).some((e) => e.type === 'roll_back')).toBe(false);
    expect(noticesOf(t)).toContainEqual({ kind: 'target_dropped', target: 1, trigger: 'gate', by: null, reason: 'gate slo@b failed at 10 %', gates: ['slo@b'] });
    expect(escalationsOf(t)).toEqual([
      { code: 'target_dropped', detail: 'b (target 1) dropped (automatic): gate slo@b failed at 10 %; its release goes back to stable, the rest of the train carries on', gates: ['slo@b'] },
    ]);
    // b's gate no longer judges; the next check is scheduled for the others.
    expect(Object.keys(d.state.gates).sort()).toEqual(['global', 'slo@a', 'slo@c']);
    expect(effectsOf(t)).toContainEqual({ type: 'schedule_check', seq: d.state.monitor!.seq, at: d.state.monitor!.nextAt });
    // A later failure of b's gate (a late report) is not judged; c failing too would leave a.
    expect(check(d, ['slo@b']).ok && d.state.phase).toBe('soaking');
    expect(d.state.dropped).toHaveLength(1);
  });

  it('the target of an earlier wave, at 100 %, is dropped the same way', () => {
    const d = soakingAt(trainPlan(), 4);
    check(d, ['slo@a']);
    expect(d.state).toMatchObject({ phase: 'soaking', stage: 4, dropped: [{ target: 0, reason: 'gate slo@a failed at 100 %' }] });
  });

  it('a whole-train gate (scope: once) failing rolls back every target', () => {
    const d = soakingAt(trainPlan(), 3);
    const t = check(d, ['global']);
    expect(d.state).toMatchObject({ phase: 'rolling_back', rollback: { trigger: 'gate', gates: ['global'] } });
    expect(d.state.dropped).toBeUndefined();
    expect(effectsOf(t)).toContainEqual({ type: 'roll_back', phaseSeq: d.state.phaseSeq });
  });

  it('a per-target gate and a whole-train gate failing together roll back every target', () => {
    const d = soakingAt(trainPlan(), 3);
    check(d, ['slo@b', 'global']);
    expect(d.state.phase).toBe('rolling_back');
  });

  it('a failure that would leave no target carrying the release rolls back the whole train', () => {
    const d = soakingAt(trainPlan(), 3);
    check(d, ['slo@a', 'slo@b', 'slo@c']);
    expect(d.state).toMatchObject({ phase: 'rolling_back', rollback: { gates: ['slo@a', 'slo@b', 'slo@c'] } });
    // …and so does the last live target's own failure once the others were dropped.
    const e = soakingAt(trainPlan(), 3);
    e.must(drop(1));
    e.must(drop(0));
    expect(e.state.dropped?.map((x) => x.target)).toEqual([1, 0]);
    check(e, ['slo@c']);
    expect(e.state).toMatchObject({ phase: 'rolling_back', rollback: { gates: ['slo@c'] } });
  });

  it('without rollback: target, the same failure rolls back the whole train (as before)', () => {
    const d = soakingAt(trainPlan((doc) => delete doc.rollback), 3);
    check(d, ['slo@b']);
    expect(d.state).toMatchObject({ phase: 'rolling_back', rollback: { gates: ['slo@b'] } });
  });

  it('a wave left without targets is over: the train moves to the next wave, or completes with the others', () => {
    // One target per wave: b's failure in its own wave leaves that wave empty.
    const d = soakingAt(trainPlan((doc) => (doc.strategy = 'waves')), 4); // wave 2 (b) at 50 %
    const t = check(d, ['slo@b']);
    expect(d.state).toMatchObject({ phase: 'shifting', stage: 6 });
    expect(effectsOf(t)).toContainEqual({ type: 'shift_traffic', phaseSeq: d.state.phaseSeq, stage: 6, percent: 10 });
    expect(effectsOf(t)).toContainEqual({ type: 'roll_back_target', target: 1 });
    d.confirm();
    d.soakClean();
    d.confirm();
    d.soakClean();
    d.confirm();
    // The last wave's only target failing: nothing is left to move, the train completes with a.
    const last = check(d, ['slo@c']);
    expect(d.state).toMatchObject({ phase: 'completed', outcome: 'completed', traffic: 100 });
    expect(d.state.dropped?.map((x) => x.target)).toEqual([1, 2]);
    expect(noticesOf(last)).toContainEqual({ kind: 'completed', dropped: [1, 2] });
    expect(effectsOf(last)).toContainEqual({ type: 'roll_back_target', target: 2 });
    expect(effectsOf(last)).toContainEqual({ type: 'write_evidence' });
  });

  it('the final cohort completes after its clean soak with a target dropped in it', () => {
    const d = soakingAt(trainPlan(), 5); // wave 2 (b, c) at 100 %
    check(d, ['slo@c']);
    expect(d.state.phase).toBe('soaking');
    d.soakClean();
    expect(d.state).toMatchObject({ phase: 'completed', outcome: 'completed', dropped: [{ target: 2 }] });
  });

  it('a wave whose promotion is manual waits for /promote once its last target is dropped', () => {
    const d = soakingAt(trainPlan((doc) => ((doc.strategy = 'waves'), (doc.promotion = 'manual'))), 1); // a at 50 %
    d.must(drop(0));
    expect(d.state).toMatchObject({ phase: 'awaiting_promotion', stage: 1 });
    // The whole-train gate still judges; promotion wants it clean, as always.
    expect(d.apply({ type: 'promote', actor: STARTER })).toMatchObject({ ok: false, refusal: { code: 'gates_not_clean', gates: ['global'] } });
    check(d);
    expect(d.state.phase).toBe('awaiting_promotion');
    d.must({ type: 'promote', actor: STARTER });
    expect(d.state).toMatchObject({ phase: 'shifting', stage: 3 });
  });
});

describe('/rollback <plan> <target>', () => {
  it('drops that target on one person’s word, whatever min the whole rollback needs', () => {
    const plan = trainPlan((doc) => (doc.approvals.rollback = { roles: ['release-manager', 'oncall-ops'], min: 2 }));
    const d = soakingAt(plan, 3);
    const t = d.must(drop(2, 'EU support tickets'));
    expect(d.state).toMatchObject({ phase: 'soaking', dropped: [{ target: 2, trigger: 'manual', by: ONCALL.id, reason: 'EU support tickets', gates: [] }] });
    expect(d.state.approvals.rollback).toEqual([]);
    expect(d.state.decisions.at(-1)).toMatchObject({ action: 'rollback', by: ONCALL.id, role: 'oncall-ops', reason: 'EU support tickets', target: 2 });
    expect(effectsOf(t)).toContainEqual({ type: 'roll_back_target', target: 2 });
    // The check already scheduled stays; no new one.
    expect(effectsOf(t).some((e) => e.type === 'schedule_check')).toBe(false);
  });

  it('skips a wave whose targets were all dropped before it started', () => {
    const d = soakingAt(trainPlan((doc) => (doc.strategy = 'waves')), 0); // a at 10 %, b and c untouched
    d.must(drop(1));
    d.soakClean();
    d.confirm();
    d.soakClean();
    d.confirm();
    d.soakClean();
    // From wave 1's 100 % straight to wave 3's 10 %: wave 2 (b) is skipped.
    expect(d.state).toMatchObject({ phase: 'shifting', stage: 6 });
  });

  it('is refused, changing nothing, where the plan does not drop single targets', () => {
    const cases: Array<[string, Plan]> = [
      ['lockstep', trainPlan((doc) => ((doc.strategy = 'lockstep'), delete doc.rollback))],
      ['waves with rollback: train', trainPlan((doc) => (doc.rollback = 'train'))],
      ['one service', planFrom(basePlanDocument())],
    ];
    for (const [label, plan] of cases) {
      const d = soakingAt(plan, 0);
      const before = d.state;
      const t = d.apply(drop(1));
      expect(t.ok, label).toBe(false);
      if (!t.ok) expect(t.refusal, label).toMatchObject({ code: 'target_rollback_not_allowed', target: 1 });
      expect(d.state, label).toBe(before);
    }
  });

  it('is refused for the last target carrying the release, a target dropped already, one that does not exist, and while shifting', () => {
    const d = soakingAt(trainPlan(), 0); // a at 10 %; b and c not started
    d.must(drop(1));
    expect(d.apply(drop(1))).toMatchObject({ ok: false, refusal: { code: 'target_already_dropped', target: 1 } });
    d.must(drop(2));
    expect(d.state).toMatchObject({ phase: 'soaking', stage: 0 });
    expect(d.apply(drop(0))).toMatchObject({ ok: false, refusal: { code: 'last_live_target', target: 0 } });
    expect(d.apply(drop(7))).toMatchObject({ ok: false, refusal: { code: 'unknown_target', target: 7 } });
    expect(d.apply({ ...drop(0), actor: STRANGER })).toMatchObject({ ok: false, refusal: { code: 'last_live_target' } });
    const s = new Drive(trainPlan());
    s.goNoGo();
    expect(s.apply(drop(1))).toMatchObject({ ok: false, refusal: { code: 'shift_in_progress' } });
    const early = new Drive(trainPlan());
    expect(early.apply(drop(1))).toMatchObject({ ok: false, refusal: { code: 'wrong_phase' } });
  });

  it('needs a rollback role', () => {
    const d = soakingAt(trainPlan(), 3);
    expect(d.apply({ ...drop(1), actor: STRANGER })).toMatchObject({ ok: false, refusal: { code: 'not_authorized', roles: ['release-manager', 'oncall-ops'] } });
  });

  it('a resume past a wave whose targets were all dropped while held goes to the next wave', () => {
    const d = soakingAt(trainPlan((doc) => (doc.strategy = 'waves')), 3); // b at 10 %
    d.must({ type: 'hold', actor: STARTER, reason: 'look' });
    d.must(drop(1));
    expect(d.state.phase).toBe('held');
    d.must({ type: 'resume', actor: STARTER });
    expect(d.state).toMatchObject({ phase: 'shifting', stage: 6 });
  });

  it('…and with manual promotion, to awaiting /promote: a resume does not start a wave people were to decide on', () => {
    const d = soakingAt(trainPlan((doc) => ((doc.strategy = 'waves'), (doc.promotion = 'manual'))), 3); // b at 10 %
    d.must({ type: 'hold', actor: STARTER, reason: 'look' });
    d.must(drop(1));
    const t = d.must({ type: 'resume', actor: STARTER });
    expect(d.state).toMatchObject({ phase: 'awaiting_promotion', stage: 3, held: null, traffic: 100 });
    expect(noticesOf(t)).toEqual([{ kind: 'resumed', by: STARTER.id, to: 'awaiting_promotion' }]);
    check(d);
    d.must({ type: 'promote', actor: STARTER });
    expect(d.state).toMatchObject({ phase: 'shifting', stage: 6 });
  });
});

describe('the dropped target’s own rollback reports', () => {
  it('back on stable: announced once, the report merged; a repeat is stale', () => {
    const d = soakingAt(trainPlan(), 3);
    d.must(drop(1));
    const report = { target: 1, at: d.now, split: { canary: 0, stable: 100, other: 0 } };
    const t = d.must({ type: 'target_rolled_back', target: 1, steps: [], targets: [report] });
    // The report rides on the notice too: the audit trail keeps each target's history (its chart).
    expect(noticesOf(t)).toEqual([{ kind: 'target_back', target: 1, steps: [], targets: [report] }]);
    expect(d.state.targets?.[1]).toEqual(report);
    expect(d.state.dropped?.[0]?.backAt).toBe(d.now);
    expect(d.apply({ type: 'target_rolled_back', target: 1, steps: [], targets: [report] })).toMatchObject({ ok: false, refusal: { code: 'stale' } });
    // A target that was never dropped has no rollback of its own.
    expect(d.apply({ type: 'target_rolled_back', target: 2, steps: [] })).toMatchObject({ ok: false, refusal: { code: 'stale' } });
  });

  it('not yet back: escalated and retried; given up: escalated for people to act, once', () => {
    const d = soakingAt(trainPlan(), 3);
    d.must(drop(1));
    const retry = d.must({ type: 'target_rollback_failed', target: 1, code: 'transient', message: 'UNAVAILABLE', final: false });
    expect(escalationsOf(retry)).toEqual([{ code: 'target_rollback_failed', detail: 'b (target 1) could not be moved back to stable yet; retrying: UNAVAILABLE' }]);
    const gave = d.must({ type: 'target_rollback_failed', target: 1, code: 'permission_denied', message: 'PERMISSION_DENIED', final: true });
    expect(escalationsOf(gave)).toEqual([{ code: 'target_rollback_not_confirmed', detail: 'b (target 1) could not be moved back to stable: PERMISSION_DENIED' }]);
    expect(d.state.dropped?.[0]?.rollbackError).toBe('PERMISSION_DENIED');
    expect(d.apply({ type: 'target_rollback_failed', target: 1, code: 'permission_denied', message: 'x', final: true })).toMatchObject({ ok: false, refusal: { code: 'stale' } });
  });

  it('after the train completed: still heard, and the evidence written again', () => {
    const d = soakingAt(trainPlan((doc) => (doc.strategy = 'waves')), 6);
    const done = check(d, ['slo@c']);
    expect(d.state.phase).toBe('completed');
    expect(effectsOf(done)).toContainEqual({ type: 'roll_back_target', target: 2 });
    const t = d.must({ type: 'target_rolled_back', target: 2, steps: [], targets: [{ target: 2, at: d.now, split: { canary: 0, stable: 100, other: 0 } }] });
    expect(effectsOf(t)).toContainEqual({ type: 'write_evidence' });
    expect(d.state.phase).toBe('completed');
  });

  it('a whole rollback since makes it stale: that rollback moves the target too', () => {
    const d = soakingAt(trainPlan(), 3);
    d.must(drop(1));
    d.must({ type: 'rollback', actor: ONCALL, reason: 'everything' });
    expect(d.state.phase).toBe('rolling_back');
    expect(d.apply({ type: 'target_rolled_back', target: 1, steps: [] })).toMatchObject({ ok: false, refusal: { code: 'stale' } });
  });
});
