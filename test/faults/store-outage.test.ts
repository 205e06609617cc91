// Issue 5: Redis unreachable for a while, in the middle of a cutover, with a traffic shift in
// flight and another cutover waiting for its go/no-go. (test/slack/store-down.test.ts proves the
// reply for four commands; this goes through every kind of command and click, and what the
// workers do meanwhile.)
// - During the outage every command and click is answered "cannot reach the state store; nothing
//   was changed", and nothing is: no state, no audit entry, no new cutover.
// - The shift that was in flight when Redis went away is not half-applied: it lands once, after
//   Redis is back, and is confirmed once.
// - When Redis is back the soak goes on, the queued effects are dispatched, no job gave up, and the
//   status card and its thread catch up, in audit order.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../src/infra/redis-server.ts';
import { encodeButtonValue } from '../../templates/button-value.ts';
import { statusCard } from '../../templates/card.ts';
import { HELP, STORE_DOWN } from '../../templates/replies.ts';
import { waitForAudit } from '../support/engine.ts';
import { OPS, RM1, RM2, WAR_ROOM, cardOf, openRoom, quickPlan, startedId, waitForButton, type Reply, type Room } from '../slack/harness.ts';
import { auditOf, confirmedPercents, threadAgainstAudit } from './trail.ts';
import { slowShifts, worldOf } from '../support/world.ts';

let dir: string;
let redis: RedisServer;
let room: Room;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cutover-store-outage-'));
  redis = await startRedisServer({ dir });
  const quickGo = (doc: Record<string, any>) => {
    doc.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
  };
  room = await openRoom(
    {
      moving: quickPlan('moving', (doc) => {
        quickGo(doc);
        doc.soak = '2s';
        doc.promotion = 'auto';
      }),
      // Waits for two approvals all along.
      pending: quickPlan('pending'),
      idle: quickPlan('idle'),
    },
    { redisUrl: redis.url },
  );
});

afterAll(async () => {
  // Forced: a graceful BullMQ close can wait on a blocking call the outage cut (see store-down.test.ts).
  await room?.bot.runtime.close({ force: true });
  await room?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('while Redis is away every command and click is refused plainly and changes nothing; then the cutover picks up where it was', async () => {
  const { fake, bot } = room;
  const store = bot.runtime.store;
  const pendingId = startedId(await room.slash('/cutover', 'start pending'));
  const pendingApprove = await waitForButton(fake, pendingId, 'approve');
  expect((await room.click('approve', pendingApprove.value, { user: RM2 })).text).toMatch(/approval is recorded/);

  const id = startedId(await room.slash('/cutover', 'start moving'));
  const approve = await waitForButton(fake, id, 'approve');
  const serviceKey = (await room.state(id)).serviceKey;
  // Each shift takes 1.5 s to land: Redis goes away in the middle of the one to 50 %.
  await slowShifts(bot.runtime, serviceKey, 1_500);
  expect((await room.click('approve', approve.value, { user: RM1 })).text).toMatch(/^✅ Done/);
  await waitForAudit(store, id, (e) => e.type === 'notice' && e.notice.kind === 'shifting' && e.notice.percent === 50, 20_000);
  const moving = await room.state(id);
  expect([moving.phase, moving.traffic]).toEqual(['shifting', 10]);

  const pendingBefore = { state: await room.state(pendingId), audit: await auditOf(store, pendingId) };
  const idsBefore = await store.recentIds(100);
  await redis.kill();
  const downAt = Date.now();

  // Every kind of command and click, from people who may do them, in the right channel.
  const value = (cutover: string, seq: number) => encodeButtonValue({ c: cutover, s: seq });
  const asked: Array<[string, () => Promise<Reply>]> = [
    ['/cutover start idle', () => room.slash('/cutover', 'start idle')],
    ['/cutover start idle canary=rev-2', () => room.slash('/cutover', 'start idle canary=rev-2')],
    ['/cutover status', () => room.slash('/cutover', 'status pending')],
    ['/cutover status (the one here)', () => room.slash('/cutover', 'status')],
    ['/cutover plans', () => room.slash('/cutover', 'plans')],
    ['/cutover hold', () => room.slash('/cutover', 'hold moving db looks odd')],
    ['/cutover resume', () => room.slash('/cutover', 'resume moving')],
    ['/cutover abort', () => room.slash('/cutover', 'abort pending not today', { user: RM2 })],
    ['/promote', () => room.slash('/promote', 'moving')],
    ['/promote (the one here)', () => room.slash('/promote', '')],
    ['/rollback', () => room.slash('/rollback', 'moving error budget burning')],
    ['/rollback (the one here)', () => room.slash('/rollback', '')],
    ['click approve', () => room.click('approve', pendingApprove.value, { user: OPS })],
    ['click reject', () => room.click('reject', pendingApprove.value, { user: OPS })],
    ['click promote', () => room.click('promote', value(id, moving.phaseSeq), { user: RM2 })],
    ['click hold', () => room.click('hold', value(id, moving.phaseSeq))],
    ['click resume', () => room.click('resume', value(id, moving.phaseSeq))],
    ['click rollback', () => room.click('rollback', value(id, moving.phaseSeq))],
  ];
  for (const [what, ask] of asked) {
    const reply = await ask();
    expect([reply.response_type, reply.text], what).toEqual(['ephemeral', STORE_DOWN]);
  }
  // What needs no store still works: help, and the usage of a malformed command.
  expect((await room.slash('/cutover', 'help')).text).toBe(HELP);
  expect((await room.slash('/cutover', 'start pending canary=BAD')).text).toContain('is not a revision name');
  // Away a little longer: the first soak's check and the shift's job both fall due with no Redis.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, downAt + 2_000 - Date.now())));
  redis = await startRedisServer({ dir, port: redis.port });
  const upAt = Date.now();

  // Nothing the outage saw was applied: the waiting cutover is as it was, audit and all; no new one.
  await waitForAudit(store, id, (e) => e.type === 'evidence', 45_000);
  expect(await room.state(pendingId)).toEqual(pendingBefore.state);
  expect(await auditOf(store, pendingId)).toEqual(pendingBefore.audit);
  expect(new Set(await store.recentIds(100))).toEqual(new Set(idsBefore));

  // The shift in flight did not land while Redis was away; it landed once after, and was confirmed once.
  const state = await room.state(id);
  expect([state.phase, state.outcome, state.traffic]).toEqual(['completed', 'completed', 100]);
  const shifts = await worldOf(bot.runtime).shifts(serviceKey);
  expect(shifts.map((s) => s.percent)).toEqual([10, 50, 100]);
  expect(shifts[1]!.at).toBeGreaterThanOrEqual(upAt);
  const audit = await auditOf(store, id);
  expect(confirmedPercents(audit)).toEqual([10, 50, 100]);
  expect(audit.filter((e) => e.type === 'refused')).toEqual([]);

  // Queued effects were dispatched and no job gave up.
  expect(await store.pendingEffects(id)).toEqual([]);
  for (const queue of [bot.runtime.queues.cutover, bot.runtime.queues.rollback, bot.runtime.queues.notify]) expect(await queue.getFailedCount(), queue.name).toBe(0);

  // The room caught up: the card shows the end, the thread every notice in order.
  const card = await fake.waitFor((f) => {
    const c = cardOf(f, id);
    return c?.text === 'Cutover moving: completed' && c;
  }, { timeoutMs: 15_000 });
  const { expected, actual } = threadAgainstAudit(fake, WAR_ROOM, card.ts, audit, (await store.loadPlan(id))!, state);
  expect(actual).toEqual(expected);
  // The waiting cutover's card shows its stored state, which nothing said during the outage changed.
  const pendingCard = statusCard({ state: pendingBefore.state, plan: (await store.loadPlan(pendingId))! });
  await fake.waitFor((f) => JSON.stringify(cardOf(f, pendingId)?.blocks) === JSON.stringify(pendingCard.blocks));
}, 90_000);
