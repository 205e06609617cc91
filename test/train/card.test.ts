// A train in the war room: one status card with a row per target (its share, the split its own
// platform verified, its gates), waves on the cohort trail, and the words of its escalations.
import { describe, expect, it } from 'vitest';
import { cloudAdapters } from '../../src/app/adapters.ts';
import { buildVocabulary } from '../../src/app/runtime.ts';
import type { Plan } from '../../src/domain/plan.ts';
import { statusCard } from '../../templates/card.ts';
import { escalationMessage, threadNotice } from '../../templates/messages.ts';
import { updateFacts } from '../../templates/update.ts';
import { Drive, fail, ok, pass } from '../domain/drive.ts';
import { checkMessage } from '../fakes/block-kit.ts';
import { basePlanDocument, planFrom } from '../support/plans.ts';

const vocabulary = buildVocabulary(cloudAdapters({}), () => {
  throw new Error('no simulated world in a template test');
});

function trainPlan(strategy?: unknown, rollback?: unknown): Plan {
  const doc = basePlanDocument();
  delete doc.service;
  doc.targets = [
    { platform: 'cloud-run', project: 'demo-project', region: 'us-central1', name: 'api', stable: 'api-00010-abc', canary: 'api-00011-def' },
    { platform: 'cloud-run', project: 'demo-project', region: 'europe-west1', name: 'api', stable: 'api-00010-abc', canary: 'api-00011-def' },
    { platform: 'cloud-run', project: 'demo-project', region: 'us-central1', name: 'worker', stable: 'wk-00003-aaa', canary: 'wk-00004-bbb' },
  ];
  doc.stages = [10, 50, 100];
  doc.gates.stage = [{ id: 'five-xx', cloud_monitoring: { metric: 'error_ratio', max: 0.01 } }];
  if (strategy !== undefined) doc.strategy = strategy;
  if (rollback !== undefined) doc.rollback = rollback;
  return planFrom(doc, vocabulary);
}

const split = (canary: number) => ({ canary, stable: 100 - canary, other: 0 });
const cardText = (d: Drive) => {
  const card = statusCard({ state: d.state, plan: d.plan });
  expect(checkMessage({ text: card.text, blocks: card.blocks })).toBeNull();
  return JSON.stringify(card.blocks);
};
const rows = (d: Drive): string[] => {
  const card = statusCard({ state: d.state, plan: d.plan });
  const train = card.blocks.find((b) => JSON.stringify(b).includes('*Train*')) as { text: { text: string } };
  return train.text.text.split('\n').slice(1);
};

describe('the status card of a train', () => {
  it('has a row per target: share, verified split, gate state', () => {
    const d = new Drive(trainPlan());
    d.goNoGo();
    d.must({ type: 'traffic_confirmed', phaseSeq: d.state.phaseSeq, percent: 10, targets: [0, 1, 2].map((target) => ({ target, at: d.now, split: split(10) })) });
    d.must({ type: 'gate_check', seq: d.state.monitor!.seq, results: [pass('five-xx@api-us-central1', d.now), pass('five-xx@api-europe-west1', d.now), pass('five-xx@worker-us-central1', d.now)] }, 1000);
    const text = cardText(d);
    expect(text).toContain('train of 3 (lockstep): per target below');
    expect(rows(d)).toEqual([
      '✅ *api-us-central1* Cloud Run us-central1 `api` · 10 % · verified 10 % canary · gates ✅',
      '✅ *api-europe-west1* Cloud Run europe-west1 `api` · 10 % · verified 10 % canary · gates ✅',
      '✅ *worker-us-central1* Cloud Run us-central1 `worker` · 10 % · verified 10 % canary · gates ✅',
    ]);
  });

  it('names the target whose shift failed, and the gate that failed', () => {
    const d = new Drive(trainPlan());
    d.goNoGo();
    d.must({
      type: 'traffic_failed',
      phaseSeq: d.state.phaseSeq,
      code: 'transient',
      message: 'could not shift 1 of 3 targets: api-europe-west1 (target 1): Cloud Run did not answer after 5 attempts',
      targets: [{ target: 0, at: d.now, split: split(10) }, { target: 1, at: d.now, split: null, error: 'Cloud Run did not answer after 5 attempts' }, { target: 2, at: d.now, split: split(10) }],
    });
    expect(rows(d)[1]).toBe('⚠️ *api-europe-west1* Cloud Run europe-west1 `api` · 0 % · not moved: Cloud Run did not answer after 5 attempts · gates ⏳');
    expect(cardText(d)).toContain('api-europe-west1 (target 1)');
  });

  it('rolling back: each target back on stable, or not yet', () => {
    const d = new Drive(trainPlan());
    d.goNoGo();
    d.must({ type: 'traffic_confirmed', phaseSeq: d.state.phaseSeq, percent: 10, targets: [0, 1, 2].map((target) => ({ target, at: d.now, split: split(10) })) });
    d.must({ type: 'gate_check', seq: d.state.monitor!.seq, results: [pass('five-xx@api-us-central1', d.now), fail('five-xx@api-europe-west1', d.now), pass('five-xx@worker-us-central1', d.now)] }, 1000);
    expect(d.state.phase).toBe('rolling_back');
    ok(d.apply({ type: 'rollback_target_failed', phaseSeq: d.state.phaseSeq, failed: [1], message: 'a target could not be rolled back yet', targets: [{ target: 0, at: d.now, split: split(0) }, { target: 1, at: d.now, split: null, error: 'UNAVAILABLE' }, { target: 2, at: d.now, split: split(0) }] }));
    expect(rows(d)).toEqual([
      '✅ *api-us-central1* Cloud Run us-central1 `api` · back on stable, verified · gates ✅',
      '⚠️ *api-europe-west1* Cloud Run europe-west1 `api` · not moved: UNAVAILABLE · gates ❌ five-xx@api-europe-west1',
      '✅ *worker-us-central1* Cloud Run us-central1 `worker` · back on stable, verified · gates ✅',
    ]);
    const escalation = escalationMessage({ code: 'rollback_target_failed', detail: 'api-europe-west1 (target 1): UNAVAILABLE' }, { state: d.state, plan: d.plan });
    expect(checkMessage(escalation)).toBeNull();
    expect(JSON.stringify(escalation)).toContain('Rollback stuck on a target: retrying');
  });

  it('waves: the trail marks each wave, and a later wave’s targets wait', () => {
    const d = new Drive(trainPlan({ waves: [[0], [1, 2]] }));
    d.goNoGo();
    d.must({ type: 'traffic_confirmed', phaseSeq: d.state.phaseSeq, percent: 10, targets: [{ target: 0, at: d.now, split: split(10) }, { target: 1, at: d.now, split: split(0) }, { target: 2, at: d.now, split: split(0) }] });
    const text = cardText(d);
    expect(text).toContain('*W1* ▶️ *10 %* → 50 % → 100 % → *W2* 10 % → 50 % → 100 %');
    expect(text).toContain('*Train* · waves, wave 1 of 2');
    expect(rows(d)[1]).toBe('✅ *api-europe-west1* Cloud Run europe-west1 `api` · wave 2 · 0 % · verified 0 % canary · gates wait for wave 2');
    // The 30-minute update gives each target's share.
    expect(updateFacts({ state: d.state, plan: d.plan }, d.now).traffic).toBe('canary per target: api-us-central1 10 %, api-europe-west1 0 %, worker-us-central1 0 %');
    const notice = threadNotice({ kind: 'traffic_confirmed', stage: 3, percent: 10 }, { state: d.state, plan: d.plan });
    expect(notice.text).toContain('cohort 4/6 (wave 2 of 2)');
  });

  it('a dropped target: its row says why and whether it is back on stable; the trail, thread and closing words say the train completed without it', () => {
    const d = new Drive(trainPlan('waves', 'target'));
    d.goNoGo();
    const reports = (...canary: number[]) => canary.map((c, target) => ({ target, at: d.now, split: split(c) }));
    // Wave 1 (us-central1 api) through its cohorts; wave 2 (europe-west1) at 10 %.
    for (const percent of [10, 50, 100]) {
      d.must({ type: 'traffic_confirmed', phaseSeq: d.state.phaseSeq, percent, targets: reports(percent, 0, 0) });
      d.soakClean();
      d.must({ type: 'promote', actor: { id: 'U0RM1', roles: ['release-manager'] } });
    }
    d.must({ type: 'traffic_confirmed', phaseSeq: d.state.phaseSeq, percent: 10, targets: reports(100, 10, 0) });
    const gates = (failing: string) => d.plan.gates.stage.map((g) => (g.id === failing ? fail(g.id, d.now) : pass(g.id, d.now)));
    d.must({ type: 'gate_check', seq: d.state.monitor!.seq, results: gates('five-xx@api-europe-west1') }, 1000);
    // Wave 2 lost its only target; wave 3 waits for /promote (the plan's promotion is manual).
    expect(d.state).toMatchObject({ phase: 'awaiting_promotion', stage: 3 });
    expect(rows(d)[1]).toBe('⏪ *api-europe-west1* Cloud Run europe-west1 `api` · wave 2 · dropped: gate five-xx@api-europe-west1 failed at 10 % · going back to stable (verified 10 % canary)');
    const text = cardText(d);
    expect(text).toContain('*Train* · waves, wave 2 of 3, 1 of 3 targets dropped');
    expect(text).toContain('*W2* ⏪ 10 % → ⏭️ 50 % → ⏭️ 100 % → *W3* 10 %');
    expect(text).toContain('Every target of wave 2 was dropped. Promote to 10 % (wave 3)?');
    expect(text).toContain('*Traffic*\\n100 % canary');
    expect(text).toContain('⏫ Promote to 10 %');
    expect(threadNotice({ kind: 'target_dropped', target: 1, trigger: 'gate', by: null, reason: 'gate five-xx@api-europe-west1 failed at 10 %', gates: [] }, { state: d.state, plan: d.plan }).text).toBe(
      '⏪ api-europe-west1 DROPPED (automatic): gate five-xx@api-europe-west1 failed at 10 %. Its release goes back to stable; the rest of the train carries on',
    );
    const escalation = escalationMessage({ code: 'target_dropped', detail: 'api-europe-west1 (target 1) dropped (automatic)' }, { state: d.state, plan: d.plan });
    expect(checkMessage(escalation)).toBeNull();
    expect(JSON.stringify(escalation)).toContain('the rest of the train carries on');
    expect(updateFacts({ state: d.state, plan: d.plan }, d.now)).toMatchObject({ status: 'Issue', issues: 'api-europe-west1 dropped (gate five-xx@api-europe-west1 failed at 10 %): going back to stable' });
    // Its own rollback confirms it back on stable.
    d.must({ type: 'target_rolled_back', target: 1, steps: [], targets: [{ target: 1, at: d.now, split: split(0) }] });
    expect(rows(d)[1]).toBe('↩️ *api-europe-west1* Cloud Run europe-west1 `api` · wave 2 · dropped: gate five-xx@api-europe-west1 failed at 10 % · back on stable, verified');
    // The worker's wave, to the end.
    d.check('pass', 60_000);
    d.must({ type: 'promote', actor: { id: 'U0RM1', roles: ['release-manager'] } });
    for (const percent of [10, 50, 100]) {
      if (percent > 10) d.must({ type: 'promote', actor: { id: 'U0RM1', roles: ['release-manager'] } });
      d.must({ type: 'traffic_confirmed', phaseSeq: d.state.phaseSeq, percent, targets: reports(100, 0, percent) });
      d.soakClean();
    }
    expect(d.state.phase).toBe('completed');
    const card = statusCard({ state: d.state, plan: d.plan });
    expect(card.text).toBe(`Cutover ${d.plan.name}: completed (1 of 3 targets dropped)`);
    expect(threadNotice({ kind: 'completed', dropped: [1] }, { state: d.state, plan: d.plan }).text).toBe(
      '🟢 Completed with 2 of 3 targets: the canary serves 100 % there; dropped (back to stable): api-europe-west1',
    );
  });
});
