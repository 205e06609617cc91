// Whole Cloud Run cutovers judged by the canary judge on Cloud Run request logs: the real engine,
// BullMQ workers and Redis, the real Cloud Run adapter and the judge's real Cloud Logging source
// through the official clients into the gRPC fakes. A canary failing 20 times more often than
// stable at 25 % (far below its 50 % guard) is rolled back by the judge's evidence, the rollback
// naming the figures; a healthy canary is let through every cohort.
import { afterEach, describe, expect, it } from 'vitest';
import type { Behaviour } from '../fakes/gcp/production-traffic.ts';
import { cloudRunCutover, escalations, type CloudRunHarness, type GateDocument } from './harness.ts';

let h: CloudRunHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The judge on Cloud Run's request logs, with a guard so the 100 % cohort is watched too. */
const judge: GateDocument = { id: 'errors-vs-stable', judge: { metric: 'error_rate', source: 'cloud_logging', false_rollback: '1%', worse_by: '2x', max: '50%' } };

const errorsFrom25 =
  (canaryErrorRate: number): Behaviour =>
  (side, { canaryPercent }) => ({ errorRate: side === 'canary' && canaryPercent >= 25 ? canaryErrorRate : 0.001, p95Ms: 180 });

describe('a Cloud Run cutover judged canary against stable', () => {
  it('the judge rolls back a canary at 2 % 5xx against stable 0.1 %, naming the figures, well inside its guard', async () => {
    h = await cloudRunCutover({ stages: [5, 25, 100], stageGates: [judge], behaviour: errorsFrom25(0.02) });
    const id = await h.start();
    await h.goNoGo(id);
    await h.promote(id, 5);
    await h.room.notice('rolled_back');

    const state = await h.state(id);
    expect(state).toMatchObject({ phase: 'rolled_back', traffic: 0, rollback: { trigger: 'gate', gates: ['errors-vs-stable'] } });
    expect(h.acceptedUpdates()).toEqual([5, 25, 0]);
    expect(h.served()).toBe(0);
    const reason = state.rollback!.reason;
    expect(reason).toMatch(/^gate errors-vs-stable failed at 25 %: errors: canary [\d.]+ % \([\d,]+ of [\d,]+\) vs stable [\d.]+ % \([\d,]+ of [\d,]+\): evidence [\d,.e+]+, past the 100 needed: roll back$/);
    expect(escalations(await h.audit(id))).toEqual([{ code: 'gate_failed', detail: reason, gates: ['errors-vs-stable'] }]);

    // The judge's test ran across both cohorts, every check counted through the real adapter.
    const records = (await h.gateRecords(id)).filter((r) => r.gate === 'errors-vs-stable' && r.phase === 'stage');
    expect(records.at(-1)).toMatchObject({ percent: 25, verdict: 'fail', judge: { decision: 'rollback' } });
    expect(records.some((r) => r.percent === 5 && r.judge?.decision === 'continue')).toBe(true);
    expect(records.every((r) => r.measurement.note?.startsWith('cloud_logging: counts since'))).toBe(true);
    // The guard (50 %) never fired: the evidence decided.
    expect(records.at(-1)?.judge?.guard?.ok ?? true).toBe(true);
    // Each query read only what was new: it started where the judge's data ended.
    const judged = records.flatMap((r) => (r.measurement.outcome === 'pass' && r.measurement.sample ? [r.measurement.sample] : []));
    for (let i = 1; i < judged.length; i++) expect(judged[i]!.since).toBeGreaterThanOrEqual(judged[i - 1]!.through);
    const filters = h.cloud.logging.requests.map((r) => r.filter).filter((f) => f.includes('run.googleapis.com%2Frequests'));
    expect(filters.length).toBeGreaterThan(0);
    expect(filters.every((f) => f.includes(`resource.labels.service_name="${h!.service.split('/').at(-1)}"`) && f.includes(`resource.labels.revision_name="${h!.revisions.canary}"`))).toBe(true);
    await h.room.waitFor((p) => p.entry.type === 'evidence', 'evidence entry');
  });

  it('lets a canary as good as stable through every cohort; at 100 % the judge stands aside and its guard watches', async () => {
    h = await cloudRunCutover({ stages: [5, 25, 100], stageGates: [judge], behaviour: errorsFrom25(0.001) });
    const id = await h.start();
    await h.goNoGo(id);
    await h.promote(id, 5);
    await h.promote(id, 25);
    await h.room.notice('completed');
    expect(await h.state(id)).toMatchObject({ phase: 'completed', traffic: 100 });
    const records = (await h.gateRecords(id)).filter((r) => r.gate === 'errors-vs-stable' && r.phase === 'stage');
    expect(records.every((r) => r.verdict !== 'fail')).toBe(true);
    expect(records.filter((r) => r.percent < 100).some((r) => r.judge?.decision === 'continue')).toBe(true);
    expect(records.at(-1)).toMatchObject({ percent: 100, verdict: 'inconclusive', judge: { reason: 'no_stable_traffic' } });
  });
});
