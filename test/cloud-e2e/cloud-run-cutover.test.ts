// Whole Cloud Run cutovers that reach 100 %: healthy, through transient errors, and through
// another actor's concurrent change (a stale etag). Real engine, workers, Redis and clients.
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudRunCutover, gates, type CloudRunHarness } from './harness.ts';

let h: CloudRunHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' as const;

describe('a Cloud Run cutover on real production signals', () => {
  it('goes to 100 %, each cohort shifted once and confirmed, every gate measured through the official clients', async () => {
    h = await cloudRunCutover({ stages: [5, 25, 100], stageGates: [gates.logRatio(), gates.fiveXx, gates.p95] });
    const id = await h.start();
    await h.goNoGo(id);
    await h.promote(id, 5);
    await h.promote(id, 25);
    await h.room.notice('completed');

    const state = await h.state(id);
    expect(state).toMatchObject({ phase: 'completed', outcome: 'completed', traffic: 100 });
    // The fake saw exactly the cohort sequence, each update accepted, and serves what was recorded.
    expect(h.acceptedUpdates()).toEqual([5, 25, 100]);
    expect(h.cloud.run.updates.filter((u) => u.name === h!.service).map((u) => u.code)).toEqual([0, 0, 0]);
    expect(h.served()).toBe(100);
    expect(h.room.notices('traffic_confirmed').map((n) => n.percent)).toEqual([5, 25, 100]);
    // Each update carried the etag of a fresh read (never a stale or missing one)...
    const etags = h.cloud.run.updates.filter((u) => u.name === h!.service).map((u) => u.etag);
    expect(new Set(etags).size).toBe(3);
    expect(etags.every((e) => e !== '')).toBe(true);
    // ...and at 100 % the untagged stable target is gone: only the canary is left.
    expect(h.cloud.run.service(h.service).traffic).toEqual([{ type: REVISION, revision: h.revisions.canary, percent: 100, tag: '' }]);

    // Preflight: the backend's own check (service + both revisions ready) and the smoke log event.
    const preflight = h.room.notices('preflight')[0]!;
    expect(preflight.passed).toBe(true);
    expect(preflight.gates.map((g) => [g.gate, g.verdict])).toEqual([
      ['traffic-backend', 'pass'],
      ['smoke', 'pass'],
    ]);

    // Every stage check measured the real thing: no simulated note, canary-scoped queries.
    const records = await h.gateRecords(id);
    const stage = records.filter((r) => r.phase === 'stage');
    expect(new Set(stage.map((r) => r.gate))).toEqual(new Set(['log-5xx', 'five-xx', 'p95-regression']));
    expect(stage.every((r) => r.verdict === 'pass')).toBe(true);
    expect(stage.some((r) => r.measurement.note === 'simulated')).toBe(false);
    const at100 = stage.filter((r) => r.percent === 100);
    // At 100 % stable serves nothing: the p95 comparison uses its baseline from before the window.
    expect(at100.find((r) => r.gate === 'p95-regression')?.measurement.note).toMatch(/^stable served no traffic/);
    expect(h.cloud.monitoring.requests.some((r) => r.filter.includes(`one_of("${h!.revisions.canary}", "${h!.revisions.stable}")`))).toBe(true);
    expect(h.cloud.logging.requests.some((r) => r.filter.includes(`resource.labels.revision_name="${h!.revisions.canary}"`))).toBe(true);

    const evidence = await h.room.waitFor((p) => p.entry.type === 'evidence', 'evidence entry');
    expect(evidence.entry.type === 'evidence' && evidence.entry.files).toContain('gate-results.jsonl');
  });

  it('survives transient errors: Cloud Run calls retried by the adapter with backoff, a Monitoring query by its client', async () => {
    h = await cloudRunCutover({ stages: [10, 100], stageGates: [gates.fiveXx] });
    const id = await h.start();
    // Before the first shift: the read and the update both fail twice before they succeed.
    await h.room.notice('go_no_go_requested');
    h.cloud.run.failNext('GetService', status.UNAVAILABLE, 2);
    h.cloud.run.failNext('UpdateService', status.UNAVAILABLE, 2);
    // And the first gate check of the soak finds Monitoring unavailable once.
    h.cloud.monitoring.failNext('ListTimeSeries', status.UNAVAILABLE, 1);
    await h.goNoGo(id);
    await h.room.notice('traffic_confirmed', (n) => n.percent === 10);

    // The promotion's shift meets the other transient codes.
    await h.room.notice('soak_clean', (n) => n.percent === 10);
    h.cloud.run.failNext('GetService', status.INTERNAL, 1);
    h.cloud.run.failNext('UpdateService', status.DEADLINE_EXCEEDED, 1);
    h.cloud.run.failNext('UpdateService', status.RESOURCE_EXHAUSTED, 1);
    await h.promote(id, 10);
    await h.room.notice('completed');

    expect(await h.state(id)).toMatchObject({ phase: 'completed', traffic: 100 });
    expect(h.acceptedUpdates()).toEqual([10, 100]);
    expect(h.cloud.run.calls.filter((c) => c.method === 'UpdateService').map((c) => status[c.code])).toEqual([
      'UNAVAILABLE',
      'UNAVAILABLE',
      'OK',
      'DEADLINE_EXCEEDED',
      'RESOURCE_EXHAUSTED',
      'OK',
    ]);
    expect(h.cloud.run.calls.filter((c) => c.method === 'GetService' && c.code !== status.OK).map((c) => status[c.code])).toEqual([
      'UNAVAILABLE',
      'UNAVAILABLE',
      'INTERNAL',
    ]);
    // ListTimeSeries is idempotent: the client library retries it within the gate's timeout, so the
    // check measured (and passed) instead of reporting an error.
    expect(h.cloud.monitoring.calls.slice(0, 2).map((c) => status[c.code])).toEqual(['UNAVAILABLE', 'OK']);
    const first = (await h.gateRecords(id)).find((r) => r.phase === 'stage');
    expect(first).toMatchObject({ percent: 10, verdict: 'pass' });
    await h.room.waitFor((p) => p.entry.type === 'evidence', 'evidence entry');
  });

  it('resolves a stale etag by re-reading: another actor’s tag and label survive the shift', async () => {
    h = await cloudRunCutover({ stages: [10, 100], stageGates: [gates.fiveXx] });
    const id = await h.start();
    await h.goNoGo(id);
    await h.room.notice('soak_clean', (n) => n.percent === 10);

    // Someone tags a preview revision and labels the service just as our update is on its way.
    const preview = `${h.revisions.canary.replace(/-\d+-\w+$/, '')}-00003-ccc`;
    h.cloud.run.addRevision(`${h.service}/revisions/${preview}`);
    const service = h.service;
    h.cloud.run.beforeNext('UpdateService', () =>
      h!.cloud.run.changeBehindYourBack(service, (s) => {
        s.labels = { ...s.labels, 'changed-by': 'another-team' };
        s.traffic.push({ type: REVISION, revision: preview, percent: 0, tag: 'preview' });
      }),
    );
    await h.promote(id, 10);
    await h.room.notice('completed');

    const updates = h.cloud.run.updates.filter((u) => u.name === service);
    // The stale update was refused (nothing overwritten), the retry was built on their change.
    expect(updates.map((u) => status[u.code])).toEqual(['OK', 'ABORTED', 'OK']);
    expect(updates[2]!.etag).not.toBe(updates[1]!.etag);
    expect(updates[2]!.traffic).toContainEqual({ type: REVISION, revision: preview, percent: 0, tag: 'preview' });
    const final = h.cloud.run.service(service);
    expect(final.labels).toMatchObject({ 'changed-by': 'another-team' });
    expect(final.traffic).toEqual([
      { type: REVISION, revision: h.revisions.canary, percent: 100, tag: '' },
      { type: REVISION, revision: preview, percent: 0, tag: 'preview' },
    ]);
    expect(h.served()).toBe(100);
    expect(await h.state(id)).toMatchObject({ phase: 'completed', traffic: 100 });
    await h.room.waitFor((p) => p.entry.type === 'evidence', 'evidence entry');
  });
});
