// Whole Cloud Run cutovers whose traffic shift cannot be confirmed: a persistent transient error
// (retried up to the bound) and a missing permission (not retried). Both hold and escalate, and
// the split the cutover records is the one the fake actually serves.
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudRunCutover, escalations, FAST_CLOUD_RUN, gates, type CloudRunHarness } from './harness.ts';

let h: CloudRunHarness | undefined;
afterEach(async () => {
  h?.cloud.run.clearFaults();
  await h?.close();
  h = undefined;
});

describe('a Cloud Run traffic shift that cannot be confirmed holds the cutover', () => {
  it('a persistent UNAVAILABLE: retried up to the bound, then held and escalated with the split unchanged', async () => {
    h = await cloudRunCutover({ stages: [10, 50, 100], stageGates: [gates.fiveXx] });
    const id = await h.start();
    await h.goNoGo(id);
    await h.room.notice('soak_clean', (n) => n.percent === 10);
    const before = h.cloud.run.callCount('UpdateService');
    h.cloud.run.failNext('UpdateService', status.UNAVAILABLE, 1_000, 'The service is currently unavailable.');
    await h.promote(id, 10);

    const { notice } = await h.room.notice('held');
    expect(notice).toMatchObject({ code: 'traffic_failed', by: null });
    const state = await h.state(id);
    expect(state.phase).toBe('held');
    expect(state.held).toMatchObject({ code: 'traffic_failed', from: 'shifting' });
    expect(state.held?.reason).toBe(
      `could not confirm 50 % on the canary: Cloud Run did not answer after ${FAST_CLOUD_RUN.maxAttempts} attempts: could not update the traffic of the service (UNAVAILABLE: The service is currently unavailable.)`,
    );
    // Bounded: exactly maxAttempts updates were tried, none accepted.
    expect(h.cloud.run.callCount('UpdateService') - before).toBe(FAST_CLOUD_RUN.maxAttempts);
    // No split recorded that was not confirmed: the state says 10 %, and 10 % is what is served.
    expect(h.acceptedUpdates()).toEqual([10]);
    expect(h.served()).toBe(10);
    expect(state.traffic).toBe(h.served());
    expect(h.room.notices('traffic_failed')).toMatchObject([{ percent: 50, code: 'transient' }]);
    expect(escalations(await h.audit(id))).toEqual([{ code: 'traffic_failed', detail: state.held?.reason }]);
    // A held canary that serves traffic is still watched.
    const heldAt = h.room.posted.findIndex((p) => p.entry.type === 'notice' && p.entry.notice.kind === 'held');
    await h.room.waitFor(
      (p) => p.entry.type === 'notice' && p.entry.notice.kind === 'gate_check' && h!.room.posted.indexOf(p) > heldAt,
      'gate check while held',
    );
    expect(await h.state(id)).toMatchObject({ phase: 'held', traffic: 10 });
  });

  it('PERMISSION_DENIED: one attempt, held with a message naming the missing permission', async () => {
    h = await cloudRunCutover({ stages: [10, 100], stageGates: [gates.fiveXx] });
    const id = await h.start();
    await h.room.notice('go_no_go_requested');
    // The server's words do not name the permission; the adapter knows which one the call needs.
    h.cloud.run.failNext('UpdateService', status.PERMISSION_DENIED, 1, 'The caller does not have permission');
    await h.goNoGo(id);

    await h.room.notice('held');
    const state = await h.state(id);
    expect(state).toMatchObject({ phase: 'held', traffic: 0, held: { code: 'traffic_failed', from: 'shifting' } });
    expect(state.held?.reason).toBe(
      `could not confirm 10 % on the canary: missing permission run.services.update on ${h.service} (The caller does not have permission)`,
    );
    expect(h.cloud.run.callCount('UpdateService')).toBe(1);
    expect(h.acceptedUpdates()).toEqual([]);
    expect(h.served()).toBe(0);
    expect(h.room.notices('traffic_failed')).toMatchObject([{ percent: 10, code: 'permission_denied' }]);
    expect(escalations(await h.audit(id))).toMatchObject([{ code: 'traffic_failed', detail: expect.stringContaining('run.services.update') }]);
  });
});
