// Whole cutovers on seed 003's percentage flag (platform http-flag) against the local flag API,
// judged on Cloud Logging request logs: a healthy one to 100 %, and a flag API stuck on 503.
import { afterEach, describe, expect, it } from 'vitest';
import { escalations, FAST_FLAG, FLAG_TOKEN, flagCutover, gates, PROJECT, type FlagHarness } from './harness.ts';

let h: FlagHarness | undefined;
afterEach(async () => {
  h?.flags.clearFaults();
  await h?.close();
  h = undefined;
});

// Not a Cloud Run service: the logging gate names its project and counts every request log.
const logRatio = gates.logRatio({ project: PROJECT });

describe('a feature-flag cutover', () => {
  it('goes to 100 %: each cohort POSTed with the bearer token and read back', async () => {
    h = await flagCutover({ stages: [10, 50, 100], stageGates: [logRatio] });
    const id = await h.start();
    await h.goNoGo(id);
    await h.promote(id, 10);
    await h.promote(id, 50);
    await h.room.notice('completed');

    expect(await h.state(id)).toMatchObject({ phase: 'completed', traffic: 100 });
    // The initial 0, then exactly the cohorts.
    expect(h.flags.writes.map((w) => w.document)).toEqual([{ value: 0 }, { value: 10 }, { value: 50 }, { value: 100 }]);
    expect(h.value()).toBe(100);
    expect(h.flags.requests.every((r) => r.authorization === `Bearer ${FLAG_TOKEN}`)).toBe(true);
    const stage = (await h.gateRecords(id)).filter((r) => r.phase === 'stage');
    expect(stage.length).toBeGreaterThanOrEqual(3);
    expect(stage.every((r) => r.verdict === 'pass' && r.measurement.note !== 'simulated')).toBe(true);
    await h.room.waitFor((p) => p.entry.type === 'evidence', 'evidence entry');
  });

  it('a flag API that keeps answering 503: retried up to the bound, held and escalated, flag unchanged', async () => {
    h = await flagCutover({ stages: [10, 50, 100], stageGates: [logRatio] });
    const id = await h.start();
    await h.goNoGo(id);
    await h.room.notice('soak_clean', (n) => n.percent === 10);
    const before = h.flags.count('POST');
    h.flags.failNext('POST', 503, 1_000, '{"error":"flag store unavailable"}');
    await h.promote(id, 10);

    await h.room.notice('held');
    const state = await h.state(id);
    expect(state).toMatchObject({ phase: 'held', traffic: 10, held: { code: 'traffic_failed' } });
    expect(state.held?.reason).toContain(`the flag API did not answer after ${FAST_FLAG.maxAttempts} attempts`);
    expect(state.held?.reason).toContain('503');
    expect(state.held?.reason).not.toContain(FLAG_TOKEN);
    expect(h.flags.count('POST') - before).toBe(FAST_FLAG.maxAttempts);
    expect(h.value()).toBe(10);
    expect(state.traffic).toBe(h.value());
    expect(escalations(await h.audit(id))).toEqual([{ code: 'traffic_failed', detail: state.held?.reason }]);
  });
});
