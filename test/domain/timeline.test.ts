import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/domain/state.ts';
import { parsePlanDocument } from '../../src/plans/parse.ts';
import { basePlanDocument, makePlan, vocabulary } from '../support/plans.ts';
import { Drive, fail, ok, OPS, pass, reach, RM2, STARTER, T0 } from './drive.ts';
import { compressPlan } from '../../src/app/rehearsal/compress.ts';

const H = 3_600_000;
const M = 60_000;

const seed001 = makePlan((p) => {
  p.roles['qa-owner'] = ['U0QA'];
  p.timeline = [
    { at: 'T-60', name: 'Final preparation', owner: 'ops-lead', checklist: ['preflight ready', 'war room active'] },
    { at: 'T-30', name: 'System verification', owner: 'qa-owner', checklist: ['monitors green'], gates: [{ id: 'synthetics', http: { url: 'http://127.0.0.1:9/s' } }] },
    { at: 'T-10', name: 'Go/no-go meeting', owner: 'release-manager', checklist: ['G1-G5 PASS'], blocks: 'go_no_go', grace: '5m' },
    { at: 'T+10', name: 'Validation', owner: 'ops-lead', checklist: ['health checked'] },
    { at: 'T+30', name: 'Keep or roll back', owner: 'release-manager', checklist: ['decision taken'], blocks: 'promote' },
  ];
  p.sign_off = [
    { role: 'ops-lead', item: 'Manuals acknowledged' },
    { role: 'release-manager', item: 'Go/No-Go decision signed' },
  ];
  p.hypercare = { duration: '72h', check_every: '1h', summary_every: '24h' };
});
const QA = { id: 'U0QA', roles: ['qa-owner'] };

const kinds = (effects: readonly Effect[]) => effects.map((e) => (e.type === 'announce' ? `announce:${e.notice.kind}` : e.type === 'escalate' ? `escalate:${e.escalation.code}` : e.type === 'schedule' ? `schedule:${e.key}@${e.at - T0}` : e.type));

describe('timeline: T0 and when checkpoints open', () => {
  it('without a schedule, T0 is now: the pre-T0 checkpoints open at once, in order; later ones get timers', () => {
    const d = new Drive(seed001);
    expect(d.state.t0).toBe(T0);
    expect(d.state.checkpoints.map((c) => c.status)).toEqual(['open', 'open', 'open', 'pending', 'pending']);
    const opened = d.opened.effects.flatMap((e) => (e.type === 'announce' && e.notice.kind === 'checkpoint_opened' ? [e.notice.index] : []));
    expect(opened).toEqual([0, 1, 2]);
    expect(kinds(d.opened.effects)).toEqual(expect.arrayContaining([`schedule:cp3@${10 * M}`, `schedule:cp4@${30 * M}`, 'run_checkpoint_gates']));
  });

  it('scheduled T0: preflight starts with the first checkpoint (T-60); each checkpoint has its timer', () => {
    const d = new Drive(seed001, T0, T0 + 2 * H);
    expect(d.state).toMatchObject({ phase: 'scheduled', t0: T0 + 2 * H });
    expect(d.state.checkpoints.every((c) => c.status === 'pending')).toBe(true);
    expect(kinds(d.opened.effects)).toEqual([
      'announce:scheduled',
      `schedule:start@${H}`,
      `schedule:cp0@${H}`,
      `schedule:cp1@${H + 30 * M}`,
      `schedule:cp2@${H + 50 * M}`,
      `schedule:cp3@${2 * H + 10 * M}`,
      `schedule:cp4@${2 * H + 30 * M}`,
    ]);
    const started = d.must({ type: 'start_due' }, H);
    expect(started.state.phase).toBe('preflight');
    expect(kinds(started.effects)).toEqual(['announce:started', 'start_updates', 'run_preflight']);
  });

  it('a timer for a later checkpoint opens every earlier one still pending first, in order', () => {
    const d = new Drive(seed001, T0, T0 + 2 * H);
    const t = d.must({ type: 'checkpoint_due', index: 2 }, H + 50 * M);
    expect(t.effects.flatMap((e) => (e.type === 'announce' ? [e.notice] : []))).toEqual([
      { kind: 'checkpoint_opened', index: 0 },
      { kind: 'checkpoint_opened', index: 1 },
      { kind: 'checkpoint_opened', index: 2 },
    ]);
    expect(d.apply({ type: 'checkpoint_due', index: 1 }).ok).toBe(false); // already open: the late timer is stale
  });

  it('a go given before a scheduled T0 waits for it; T0 shifts the first cohort', () => {
    const solo = makePlan((p) => (p.timeline = [{ at: 'T-60', name: 'prep', owner: 'ops-lead', checklist: ['x'] }]));
    const d = new Drive(solo, T0, T0 + 2 * H);
    d.must({ type: 'start_due' }, H);
    d.goNoGo();
    expect(d.state.phase).toBe('ready');
    expect(d.apply({ type: 'promote', actor: STARTER }).ok).toBe(false);
    const t = d.must({ type: 't0_due' }, H);
    expect(t.state.phase).toBe('shifting');
    expect(t.effects).toContainEqual({ type: 'shift_traffic', phaseSeq: t.state.phaseSeq, stage: 0, percent: 1 });
  });
});

describe('timeline: ticks, blocking, nudges', () => {
  it('only the owner role may tick; each tick is recorded with who and when; all ticked: done', () => {
    const d = new Drive(seed001);
    const wrong = d.apply({ type: 'tick', actor: STARTER, checkpoint: 0, item: 0 });
    expect(wrong.ok || wrong.refusal).toMatchObject({ code: 'not_authorized', roles: ['ops-lead'], checkpoint: 0 });
    d.must({ type: 'tick', actor: OPS, checkpoint: 0, item: 1 }, 1000);
    expect(d.state.checkpoints[0]!.ticks).toEqual([null, { by: 'U0OPS', at: T0 + 1000 }]);
    const twice = d.apply({ type: 'tick', actor: OPS, checkpoint: 0, item: 1 });
    expect(twice.ok || twice.refusal.code).toBe('already_ticked');
    const last = d.must({ type: 'tick', actor: OPS, checkpoint: 0, item: 0 }, 1000);
    expect(last.state.checkpoints[0]).toMatchObject({ status: 'done', doneAt: T0 + 2000 });
    expect(kinds(last.effects)).toEqual(['announce:checkpoint_ticked', 'announce:checkpoint_done']);
    const early = d.apply({ type: 'tick', actor: OPS, checkpoint: 3, item: 0 });
    expect(early.ok || early.refusal.code).toBe('checkpoint_not_open');
  });

  it('a checkpoint marked blocks: go_no_go refuses approval, with its name, until it is done', () => {
    const d = reach(seed001, 'awaiting_go_no_go');
    const blocked = d.apply({ type: 'approve', actor: OPS });
    expect(blocked.ok || blocked.refusal).toMatchObject({ code: 'checkpoint_blocking', checkpoint: 2 });
    d.must({ type: 'tick', actor: STARTER, checkpoint: 2, item: 0 });
    expect(d.state.checkpoints[2]!.status).toBe('done');
    d.must({ type: 'approve', actor: OPS });
    expect(d.must({ type: 'approve', actor: RM2 }).state.phase).toBe('shifting');
  });

  it('a checkpoint marked blocks: promote refuses promotion until it is done (even before it opens)', () => {
    const d = reach(seed001, 'awaiting_go_no_go');
    d.must({ type: 'tick', actor: STARTER, checkpoint: 2, item: 0 });
    d.must({ type: 'approve', actor: OPS });
    d.must({ type: 'approve', actor: RM2 });
    d.confirm();
    d.soakClean();
    const blocked = d.apply({ type: 'promote', actor: STARTER });
    expect(blocked.ok || blocked.refusal).toMatchObject({ code: 'checkpoint_blocking', checkpoint: 4 });
    d.must({ type: 'checkpoint_due', index: 4 });
    d.must({ type: 'tick', actor: STARTER, checkpoint: 4, item: 0 });
    expect(d.must({ type: 'promote', actor: STARTER }).state.phase).toBe('shifting');
  });

  it('a late checkpoint nudges its owner once, then escalates once', () => {
    const d = new Drive(seed001);
    const nudge = d.must({ type: 'checkpoint_overdue', index: 2, level: 1 }, 5 * M);
    expect(kinds(nudge.effects)).toEqual(['announce:checkpoint_nudged', `schedule:cp2.late2@${10 * M}`]);
    const missed = d.must({ type: 'checkpoint_overdue', index: 2, level: 2 }, 5 * M);
    expect(missed.effects).toEqual([{ type: 'escalate', escalation: { code: 'checkpoint_missed', detail: 'T-10 Go/no-go meeting (owner release-manager) is still open: 1 of 1 items not ticked' } }]);
    expect(d.apply({ type: 'checkpoint_overdue', index: 2, level: 2 }).ok).toBe(false);
    d.must({ type: 'tick', actor: STARTER, checkpoint: 2, item: 0 });
    expect(d.apply({ type: 'checkpoint_overdue', index: 2, level: 1 }).ok).toBe(false);
  });

  it('checkpoint gates must pass too: a failure escalates, finishing the checklist runs them again', () => {
    const d = new Drive(seed001);
    const failed = d.must({ type: 'checkpoint_gates', index: 1, run: 1, results: [fail('synthetics', T0)] });
    expect(kinds(failed.effects)).toEqual(['announce:checkpoint_gates', 'escalate:checkpoint_gates_failed']);
    expect(failed.gateResults.map((g) => [g.phase, g.gate])).toEqual([['checkpoint', 'T-30/synthetics']]);
    const ticked = d.must({ type: 'tick', actor: QA, checkpoint: 1, item: 0 });
    expect(ticked.state.checkpoints[1]).toMatchObject({ status: 'open', gateRuns: 2 });
    expect(ticked.effects).toContainEqual({ type: 'run_checkpoint_gates', index: 1, run: 2 });
    expect(d.apply({ type: 'checkpoint_gates', index: 1, run: 1, results: [pass('synthetics', T0)] }).ok).toBe(false); // an old run
    expect(d.must({ type: 'checkpoint_gates', index: 1, run: 2, results: [pass('synthetics', T0)] }).state.checkpoints[1]!.status).toBe('done');
  });

  it('gates that fail with the checklist complete are retried at check_every, escalating once, never in a loop', () => {
    const d = new Drive(seed001);
    d.must({ type: 'tick', actor: QA, checkpoint: 1, item: 0 });
    const failed = d.must({ type: 'checkpoint_gates', index: 1, run: 1, results: [fail('synthetics', T0)] });
    expect(kinds(failed.effects)).toEqual(['announce:checkpoint_gates', 'escalate:checkpoint_gates_failed', `schedule:cp1.gates2@${M}`]);
    expect(failed.state.checkpoints[1]).toMatchObject({ status: 'open', gateRuns: 1 });
    const retry = d.must({ type: 'checkpoint_gates_due', index: 1, run: 2 }, M);
    expect(retry.effects).toEqual([{ type: 'run_checkpoint_gates', index: 1, run: 2 }]);
    expect(d.apply({ type: 'checkpoint_gates_due', index: 1, run: 2 }).ok).toBe(false); // delivered twice
    const again = d.must({ type: 'checkpoint_gates', index: 1, run: 2, results: [fail('synthetics', d.now)] });
    expect(kinds(again.effects)).toEqual(['announce:checkpoint_gates', `schedule:cp1.gates3@${2 * M}`]);
    d.must({ type: 'checkpoint_gates_due', index: 1, run: 3 }, M);
    expect(d.must({ type: 'checkpoint_gates', index: 1, run: 3, results: [pass('synthetics', d.now)] }).state.checkpoints[1]!.status).toBe('done');
  });
});

describe('hypercare and sign-off', () => {
  const enterHypercare = () => {
    const d = reach(seed001, 'awaiting_go_no_go');
    d.must({ type: 'tick', actor: STARTER, checkpoint: 2, item: 0 });
    d.must({ type: 'checkpoint_due', index: 4 });
    d.must({ type: 'tick', actor: STARTER, checkpoint: 4, item: 0 });
    d.must({ type: 'approve', actor: OPS });
    d.must({ type: 'approve', actor: RM2 });
    for (;;) {
      d.confirm();
      d.soakClean();
      if (d.state.phase === 'hypercare') return d;
      d.must({ type: 'promote', actor: STARTER });
    }
  };

  it('after 100 %, hypercare keeps the gates running at its own cadence, asks for sign-off, and posts its summary daily', () => {
    const d = enterHypercare();
    expect(d.state.hypercare).toEqual({ startedAt: d.now, endsAt: d.now + 72 * H });
    expect(d.state.monitor!.nextAt).toBe(d.now + H);
    expect(d.state.outcome).toBeNull();
  });

  it('a gate failing in hypercare escalates and offers rollback, once per failing streak; it does not roll back by itself', () => {
    const d = enterHypercare();
    const first = ok(d.check('fail', H));
    expect(first.state.phase).toBe('hypercare');
    expect(kinds(first.effects)).toEqual(['announce:gate_check', 'announce:hypercare_alert', 'escalate:hypercare_gate_failed', 'schedule_check']);
    expect(kinds(ok(d.check('fail', H)).effects)).toEqual(['announce:gate_check', 'schedule_check']);
    ok(d.check('pass', H));
    expect(kinds(ok(d.check('fail', H)).effects)).toContain('escalate:hypercare_gate_failed');
    expect(d.must({ type: 'rollback', actor: STARTER, reason: 'hypercare alert' }).state.phase).toBe('rolling_back');
  });

  it('/cutover close ends hypercare early with a reason; the end timer ends it otherwise', () => {
    const closed = enterHypercare().must({ type: 'close', actor: OPS, reason: 'quiet for a day' });
    expect(closed.state).toMatchObject({ phase: 'completed', outcome: 'completed' });
    expect(closed.state.decisions.at(-1)).toMatchObject({ action: 'close', by: 'U0OPS', reason: 'quiet for a day' });
    const timed = enterHypercare().must({ type: 'hypercare_end' }, 72 * H);
    expect(kinds(timed.effects)).toEqual(['announce:hypercare_ended', 'announce:completed', 'stop_updates', 'write_evidence']);
  });

  it('sign-off opens at the end; each role signs its item once; after completion each sign-off rewrites the evidence', () => {
    const running = reach(seed001, 'preflight');
    const early = running.apply({ type: 'sign_off', actor: OPS, item: 0 });
    expect(early.ok || early.refusal.code).toBe('wrong_phase');
    const d = enterHypercare();
    const wrongRole = d.apply({ type: 'sign_off', actor: OPS, item: 1 });
    expect(wrongRole.ok || wrongRole.refusal).toMatchObject({ code: 'not_authorized', roles: ['release-manager'] });
    expect(kinds(d.must({ type: 'sign_off', actor: OPS, item: 0 }).effects)).toEqual(['announce:signed_off']);
    d.must({ type: 'close', actor: OPS });
    const last = d.must({ type: 'sign_off', actor: STARTER, item: 1 });
    expect(kinds(last.effects)).toEqual(['announce:signed_off', 'announce:signoff_complete', 'write_evidence']);
    expect(last.state.phase).toBe('completed');
    const again = d.apply({ type: 'sign_off', actor: STARTER, item: 1 });
    expect(again.ok || again.refusal.code).toBe('already_signed');
  });
});

describe('timeline in the plan', () => {
  const errors = (patch: (doc: Record<string, any>) => void) => {
    const doc = basePlanDocument();
    patch(doc);
    const result = parsePlanDocument(doc, vocabulary);
    return result.ok ? [] : result.errors;
  };

  it('refuses a bad time, an undefined owner, an empty checklist, and checkpoints out of order', () => {
    expect(errors((p) => (p.timeline = [{ at: 'T-sixty', name: 'x', owner: 'ops-lead', checklist: ['a'] }]))).toEqual(['timeline[0].at: must be a time relative to T0 like T-60, T0 or T+30 (minutes), or T+2h']);
    expect(errors((p) => (p.timeline = [{ at: 'T-60', name: 'x', owner: 'qa-owner', checklist: ['a'] }]))).toEqual(['timeline[0].owner: role "qa-owner" is not defined under roles (defined: release-manager, ops-lead, oncall-ops)']);
    expect(errors((p) => (p.timeline = [{ at: 'T-60', name: 'x', owner: 'ops-lead', checklist: [] }]))).toEqual(['timeline[0].checklist: needs at least one item to tick']);
    expect(errors((p) => (p.timeline = [{ at: 'T+10', name: 'x', owner: 'ops-lead', checklist: ['a'] }, { at: 'T-10', name: 'y', owner: 'ops-lead', checklist: ['a'] }]))).toEqual(['timeline[1].at: must not come before timeline[0] (T+10): list checkpoints in time order']);
    expect(errors((p) => (p.sign_off = [{ role: 'cfo', item: 'x' }]))).toEqual(['sign_off[0].role: role "cfo" is not defined under roles (defined: release-manager, ops-lead, oncall-ops)']);
    expect(errors((p) => (p.timezone = 'Mars/Olympus'))).toEqual(['timezone: must be an IANA time zone like UTC or Europe/Berlin']);
  });

  it('compresses the timeline and hypercare with the rest of the plan in a rehearsal', () => {
    const fast = compressPlan(seed001, 1000);
    expect(fast.timeline.map((c) => c.offsetMs)).toEqual([-3600, -1800, -600, 600, 1800]);
    expect(fast.timeline[2]!.graceMs).toBe(300);
    expect(fast.hypercare).toEqual({ durationMs: 259_200, checkEveryMs: 3_600, summaryEveryMs: 86_400 });
  });
});
