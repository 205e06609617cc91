// Issue 5: Slack answers 429 with Retry-After, or 5xx, or slowly.
// - Every message is retried (by the WebClient, then by the notify job from its cursor) and the
//   thread of each cutover shows its audit trail in order: nothing lost, nothing moved, nothing twice.
// - A rollback is never delayed by Slack: with chat.* rate limited or slow, the traffic is back on
//   stable before the fake accepts any of the rollback's messages; they arrive when Slack recovers.
// The real bot in-process, driven by signed requests, against the fake Slack Web API.
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeSlack, RecordedCall } from '../fakes/slack-api.ts';
import { waitForAudit } from '../support/engine.ts';
import { ONCALL, RM1, WAR_ROOM, cardOf, openRoom, quickPlan, startedId, waitForButton, type Room } from '../slack/harness.ts';
import { auditOf, threadAgainstAudit } from './trail.ts';
import { worldOf } from '../support/world.ts';

let room: Room | undefined;
afterEach(async () => {
  await room?.close();
  room = undefined;
});

const quickGo = (doc: Record<string, any>) => {
  doc.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
};

const isChat = (c: RecordedCall) => c.method.startsWith('chat.');
const accepted = (c: RecordedCall) => c.status === 200 && (c.response as { ok?: boolean } | undefined)?.ok === true;

/** Waits until the room has posted every notice of the cutover's audit trail (the notifier is idle). */
async function caughtUp(r: Room, id: string): Promise<void> {
  const store = r.bot.runtime.store;
  const [audit, plan, state] = await Promise.all([auditOf(store, id), store.loadPlan(id), r.state(id)]);
  await r.fake.waitFor((f) => {
    const card = cardOf(f, id);
    return card && threadAgainstAudit(f, WAR_ROOM, card.ts, audit, plan!, state).actual.length >= audit.filter((e) => e.type === 'notice').length;
  }, { timeoutMs: 15_000 });
}

async function startAndGo(r: Room, plan: string): Promise<string> {
  const id = startedId(await r.slash('/cutover', `start ${plan}`));
  const approve = await waitForButton(r.fake, id, 'approve');
  expect((await r.click('approve', approve.value, { user: RM1 })).text).toMatch(/^✅ Done/);
  return id;
}

async function expectThreadInAuditOrder(r: Room, id: string, finalText: string): Promise<number> {
  const card = await r.fake.waitFor((f) => {
    const c = cardOf(f, id);
    return c?.text === finalText && c;
  }, { timeoutMs: 20_000 });
  const store = r.bot.runtime.store;
  const audit = await auditOf(store, id);
  const { expected, actual, repeats } = threadAgainstAudit(r.fake, WAR_ROOM, card.ts, audit, (await store.loadPlan(id))!, await r.state(id));
  expect(actual).toEqual(expected);
  return repeats;
}

describe('Slack answering 429 and 5xx', () => {
  it('every message is retried and each cutover’s thread shows its audit trail in order, once', async () => {
    const plan = (name: string) =>
      quickPlan(name, (doc) => {
        quickGo(doc);
        doc.promotion = 'auto';
      });
    room = await openRoom({ north: plan('north'), south: plan('south') });
    const r = room;
    const ids = await Promise.all([startAndGo(r, 'north'), startAndGo(r, 'south')]);

    // While both cutovers shift and soak, Slack refuses in bursts: rate limits with Retry-After,
    // server errors, on posts, edits and the evidence upload. More in a row than the WebClient's own
    // retries (2 here), so some notify jobs fail and are retried by BullMQ from their cursor.
    const faults: Array<[string, Parameters<FakeSlack['failNext']>[1], number]> = [
      ['chat.postMessage', { status: 429, retryAfter: 1 }, 3],
      ['chat.postMessage', { status: 500 }, 4],
      ['chat.update', { status: 503 }, 3],
      ['chat.update', { status: 429, retryAfter: 1 }, 1],
      ['chat.postMessage', { status: 502 }, 2],
      ['files.completeUploadExternal', { status: 500 }, 3],
    ];
    let injected = 0;
    for (const [method, fault, times] of faults) {
      r.fake.failNext(method, fault, times);
      injected += times;
    }

    for (const id of ids) {
      await waitForAudit(r.bot.runtime.store, id, (e) => e.type === 'evidence', 45_000);
      expect(await r.state(id)).toMatchObject({ phase: 'completed', traffic: 100 });
      // Faults answered before Slack took anything: no line posted twice.
      expect(await expectThreadInAuditOrder(r, id, `Cutover ${id.startsWith('north') ? 'north' : 'south'}: completed`)).toBe(0);
    }
    // The evidence arrived anyway, and every injected fault was met on the way.
    await r.fake.waitFor((f) => f.files.filter((file) => file.completed && file.title === 'SUMMARY.md').length === 2, { timeoutMs: 20_000 });
    expect(r.fake.calls.filter((c) => c.fault).length).toBe(injected);
    for (const queue of [r.bot.runtime.queues.notify, r.bot.runtime.queues.cutover]) expect(await queue.getFailedCount()).toBe(0);
  });
});

describe('a rollback is never delayed by Slack', () => {
  it('/rollback while chat.* answers 429 with Retry-After: traffic is on stable before any rollback message is accepted', async () => {
    room = await openRoom({
      brake: quickPlan('brake', (doc) => {
        quickGo(doc);
        doc.soak = '30s';
      }),
    });
    const r = room;
    // The on-call person's role comes from a Slack user group; its first lookups fail, so nothing
    // is cached when the rollback comes and the bot must ask Slack then.
    r.fake.failNext('usergroups.users.list', { error: 'internal_error' }, 2);
    const id = await startAndGo(r, 'brake');
    await waitForAudit(r.bot.runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'gate_check');
    await caughtUp(r, id);
    expect(r.fake.callsTo('usergroups.users.list').map((c) => c.fault !== undefined)).toEqual([true, true]);

    // Slack starts rate limiting the war room: the WebClient waits out Retry-After (3 s a time).
    r.fake.failNext('chat.postMessage', { status: 429, retryAfter: 3 }, 2);
    r.fake.failNext('chat.update', { status: 429, retryAfter: 3 }, 1);
    await r.fake.waitFor((f) => f.calls.some((c) => isChat(c) && c.status === 429), { timeoutMs: 10_000 });

    const asked = Date.now();
    const reply = await r.slash('/rollback', 'brake support tickets', { user: ONCALL });
    expect(reply.text).toMatch(/^✅ Done/);
    await waitForAudit(r.bot.runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'rolled_back', 15_000);
    const shifts = await worldOf(r.bot.runtime).shifts((await r.state(id)).serviceKey);
    expect(shifts.map((s) => s.percent)).toEqual([10, 0]);
    const stableAt = shifts[1]!.at;

    // Back on stable at once, not after Slack's Retry-After…
    expect(stableAt - asked).toBeLessThan(1_500);
    // …and before Slack accepted any message sent after the command.
    const firstAccepted = r.fake.calls.find((c) => isChat(c) && c.at >= asked && accepted(c));
    expect(firstAccepted === undefined || firstAccepted.at > stableAt, `first chat call accepted at ${firstAccepted?.at}, stable at ${stableAt}`).toBe(true);

    // The messages arrive when Slack lets them, in order: the rollback, its status-page draft, the end.
    expect(await expectThreadInAuditOrder(r, id, 'Cutover brake: rolled back')).toBe(0);
    const rollbackLine = r.fake.callsTo('chat.postMessage').find((c) => accepted(c) && String(c.body.text).startsWith('⏪ ROLLBACK'));
    expect(rollbackLine!.at).toBeGreaterThan(stableAt);
    expect(r.fake.calls.filter((c) => isChat(c) && c.status === 429).length).toBe(3);
  });

  it('an automatic rollback while every Slack call takes 2 s: traffic is on stable before the fake accepts the first rollback message', async () => {
    room = await openRoom({
      sour: quickPlan('sour', (doc) => {
        quickGo(doc);
        doc.stages = [5, 50, 100];
        doc.promotion = 'auto';
      }),
    });
    const r = room;
    await worldOf(r.bot.runtime).setScenario('simulated:sour-svc', { name: 'bad-canary', breach_at: 50 });
    const id = await startAndGo(r, 'sour');
    await waitForAudit(r.bot.runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'traffic_confirmed' && e.notice.percent === 5);
    // Slack slows to a crawl before the canary goes bad at 50 %.
    r.fake.setLatency(2_000);

    const started = await waitForAudit(r.bot.runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'rollback_started', 20_000);
    await waitForAudit(r.bot.runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'rolled_back', 15_000);
    const shifts = await worldOf(r.bot.runtime).shifts((await r.state(id)).serviceKey);
    expect(shifts.map((s) => s.percent)).toEqual([5, 50, 0]);
    const stableAt = shifts[2]!.at;
    expect(stableAt - started.at).toBeLessThan(1_500);

    const rollbackLine = await r.fake.waitFor((f) => f.callsTo('chat.postMessage').find((c) => accepted(c) && String(c.body.text).startsWith('⏪ ROLLBACK (automatic)')), { timeoutMs: 20_000 });
    expect(rollbackLine.at).toBeGreaterThan(stableAt);
    const escalation = await r.fake.waitFor((f) => f.callsTo('chat.postMessage').find((c) => accepted(c) && String(c.body.text).includes('🚨 sour cutover issue')), { timeoutMs: 20_000 });
    expect(escalation.at).toBeGreaterThan(stableAt);
    r.fake.setLatency(0);
    expect(await expectThreadInAuditOrder(r, id, 'Cutover sour: rolled back')).toBe(0);
  });
});
