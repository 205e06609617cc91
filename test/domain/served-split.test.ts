// A shift that finds the service serving a split the cutover did not set (someone moved traffic,
// or Redis lost its latest writes, a rollback among them): the machine holds, records the split
// served as a fact, keeps watching a canary that serves traffic, and resume re-applies the cohort.
import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/domain/state.ts';
import { makePlan } from '../support/plans.ts';
import { reach, STARTER } from './drive.ts';

const plan = makePlan();
const kinds = (effects: readonly Effect[]) => effects.map((e) => (e.type === 'announce' ? `announce:${e.notice.kind}` : e.type === 'escalate' ? `escalate:${e.escalation.code}` : e.type));

describe('traffic_failed with the split found served', () => {
  it('records the split served (0 %: a forgotten rollback), holds and escalates, and watches nothing', () => {
    const d = reach(plan, 'awaiting_promotion');
    d.must({ type: 'promote', actor: STARTER });
    expect([d.state.phase, d.state.traffic]).toEqual(['shifting', 1]);
    const t = d.must({ type: 'traffic_failed', phaseSeq: d.state.phaseSeq, code: 'drift', message: 'serves 0 %', served: 0 });
    expect(t.state).toMatchObject({ phase: 'held', traffic: 0, monitor: null, held: { code: 'traffic_failed', from: 'shifting' } });
    expect(kinds(t.effects)).toEqual(['announce:traffic_confirmed', 'announce:traffic_failed', 'escalate:traffic_failed', 'announce:held']);
    expect(t.effects[0]).toEqual({ type: 'announce', notice: { kind: 'traffic_confirmed', stage: 1, percent: 0 } });
  });

  it('a canary found serving more than confirmed is watched while held, and resume re-applies the cohort', () => {
    const d = reach(plan, 'awaiting_promotion');
    d.must({ type: 'promote', actor: STARTER });
    const t = d.must({ type: 'traffic_failed', phaseSeq: d.state.phaseSeq, code: 'drift', message: 'serves 40 %', served: 40 });
    expect(t.state).toMatchObject({ phase: 'held', traffic: 40 });
    expect(t.state.monitor).not.toBeNull();
    expect(kinds(t.effects)).toContain('schedule_check');
    const r = d.must({ type: 'resume', actor: STARTER });
    expect(r.state.phase).toBe('shifting');
    expect(r.effects).toContainEqual({ type: 'shift_traffic', phaseSeq: r.state.phaseSeq, stage: 1, percent: 5 });
  });

  it('without a split found (an error talking to the backend) the hold keeps what was last confirmed, as before', () => {
    const d = reach(plan, 'shifting');
    const t = d.must({ type: 'traffic_failed', phaseSeq: d.state.phaseSeq, code: 'transient', message: 'UNAVAILABLE' });
    expect(t.state).toMatchObject({ phase: 'held', traffic: 0 });
    expect(kinds(t.effects)).toEqual(['announce:traffic_failed', 'escalate:traffic_failed', 'announce:held']);
  });
});
