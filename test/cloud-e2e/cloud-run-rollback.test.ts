// Whole Cloud Run cutovers that roll back on a real production signal: a Cloud Logging 5xx ratio
// and a Cloud Monitoring p95 regression, each failing at the 25 % cohort. The rollback itself goes
// through the real adapter and is verified in the fake (100 % stable served).
import { afterEach, describe, expect, it } from 'vitest';
import type { Behaviour } from '../fakes/gcp/production-traffic.ts';
import { cloudRunCutover, escalations, gates, type CloudRunHarness } from './harness.ts';

let h: CloudRunHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Healthy below 25 %; from 25 % on the canary misbehaves as `bad` says. */
const breaksAt25 =
  (bad: { errorRate?: number; p95Ms?: number }): Behaviour =>
  (side, { canaryPercent }) => {
    const healthy = { errorRate: 0.001, p95Ms: side === 'canary' ? 190 : 180 };
    return side === 'canary' && canaryPercent >= 25 ? { ...healthy, ...bad } : healthy;
  };

async function expectRolledBack(harness: CloudRunHarness, id: string, gate: string): Promise<void> {
  await harness.room.notice('rolled_back');
  const state = await harness.state(id);
  expect(state).toMatchObject({ phase: 'rolled_back', outcome: 'rolled_back', traffic: 0, rollback: { trigger: 'gate', gates: [gate] } });
  // Stable serves everything again: the rollback was an update like any other, then confirmed.
  expect(harness.acceptedUpdates()).toEqual([5, 25, 0]);
  expect(harness.served()).toBe(0);
  expect(harness.cloud.run.service(harness.service).traffic_statuses.map((t) => [t.revision, t.percent])).toEqual([[harness.revisions.stable, 100]]);
  const audit = await harness.audit(id);
  expect(escalations(audit)).toEqual([{ code: 'gate_failed', detail: `gate ${gate} failed at 25 %`, gates: [gate] }]);
  expect(harness.room.notices('rollback_started')).toMatchObject([{ trigger: 'gate', gates: [gate], from: 25 }]);
  await harness.room.waitFor((p) => p.entry.type === 'evidence', 'evidence entry');
}

describe('a Cloud Run cutover rolls back on a failing production signal', () => {
  it('a Cloud Logging 5xx ratio that fails at 25 % for the whole for: window', async () => {
    // `for: 1s`: the first failing check only watches; the gate fails once it has failed for 1s.
    h = await cloudRunCutover({
      stages: [5, 25, 100],
      stageGates: [{ ...gates.logRatio(), for: '1s' }, gates.p95],
      behaviour: breaksAt25({ errorRate: 0.08 }),
    });
    const id = await h.start();
    await h.goNoGo(id);
    await h.promote(id, 5);
    await expectRolledBack(h, id, 'log-5xx');

    const at25 = (await h.gateRecords(id)).filter((r) => r.phase === 'stage' && r.percent === 25 && r.gate === 'log-5xx');
    // Failing inside its for: window first (one check, or more when a loaded machine starts checks
    // late inside the window), then failed once the window is over: never a fail straight away.
    const verdicts = at25.map((r) => r.verdict);
    expect(verdicts.at(-1)).toBe('fail');
    expect(verdicts.slice(0, -1).length).toBeGreaterThanOrEqual(1);
    expect(verdicts.slice(0, -1).every((v) => v === 'watch')).toBe(true);
    const ratio = at25.at(-1)!.measurement.observations?.find((o) => o.name === 'ratio');
    expect(ratio).toMatchObject({ ok: false, threshold: '<= 0.02' });
    expect(Number(ratio?.value)).toBeGreaterThan(0.05);
    // The p95 gate kept passing: only the logging gate caused the rollback.
    expect((await h.gateRecords(id)).filter((r) => r.gate === 'p95-regression').every((r) => r.verdict === 'pass')).toBe(true);
  });

  it('a Cloud Monitoring p95 regression against stable at 25 %', async () => {
    h = await cloudRunCutover({ stages: [5, 25, 100], stageGates: [gates.fiveXx, gates.p95], behaviour: breaksAt25({ p95Ms: 270 }) });
    const id = await h.start();
    await h.goNoGo(id);
    await h.promote(id, 5);
    await expectRolledBack(h, id, 'p95-regression');

    const failed = (await h.gateRecords(id)).find((r) => r.gate === 'p95-regression' && r.verdict === 'fail');
    expect(failed).toMatchObject({ percent: 25 });
    expect(failed?.measurement.observations).toEqual([
      { name: 'p95_latency_ms', value: 270, ok: true },
      { name: 'stable_p95_latency_ms', value: 180, ok: true },
      { name: 'p95_regression', value: 0.5, threshold: '<= 0.2', ok: false },
    ]);
  });
});
