// Issue 5: Redis restarts (append-only file on) in the middle of a soak, and the cutover carries on
// where it was. The whole bot runs here, in-process, as in production: the store's fail-fast
// client, BullMQ's queues and workers and the Slack war room all lose Redis at once, and the
// status card and its thread in the fake Slack must catch up. (The engine alone would leave out
// the notifier and the card, which are what people look at while it happens.)
//
// Two ways down: a clean stop (SIGTERM: Redis writes out its AOF and exits) and a SIGKILL. The
// SIGKILL case runs Redis with `appendfsync always`, so that "nothing acknowledged is lost" is
// Redis's promise and the test is about the bot. With `everysec` (production's setting) a killed
// Redis usually loses nothing, but not always: while a background fsync is slow (a loaded disk),
// Redis postpones writing its AOF buffer for up to 2 s and still answers clients; a loaded CI
// machine lost one such state write here. Losing the last writes, against a Cloud Run that does
// not forget, is test/faults/redis-lost-writes.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../src/infra/redis-server.ts';
import { CutoverStore } from '../../src/store/cutover-store.ts';
import { waitForAudit } from '../support/engine.ts';
import { connect } from '../support/redis.ts';
import { RM1, WAR_ROOM, cardOf, openRoom, quickPlan, startedId, waitForButton, type Room } from '../slack/harness.ts';
import { auditOf, confirmedPercents, noticesOf, threadAgainstAudit } from './trail.ts';
import { worldOf } from '../support/world.ts';

let dir: string | undefined;
let redis: RedisServer | undefined;
let room: Room | undefined;

afterEach(async () => {
  // Forced: a graceful BullMQ close can wait on a blocking call the restart cut (see store-down.test.ts).
  await room?.bot.runtime.close({ force: true });
  await room?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  room = undefined;
  redis = undefined;
  dir = undefined;
});

const PLAN = 'steady';
const STAGES = [10, 50, 100];

async function soakingCutover(appendFsync: 'everysec' | 'always'): Promise<{ room: Room; id: string }> {
  dir = await mkdtemp(join(tmpdir(), 'cutover-redis-restart-'));
  redis = await startRedisServer({ dir, appendFsync });
  room = await openRoom(
    {
      [PLAN]: quickPlan(PLAN, (doc) => {
        doc.stages = STAGES;
        // Long enough for Redis to be away for a good part of the first soak.
        doc.soak = '4s';
        doc.check_every = '1s';
        doc.promotion = 'auto';
        doc.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
      }),
    },
    { redisUrl: redis.url },
  );
  const id = startedId(await room.slash('/cutover', `start ${PLAN}`));
  const approve = await waitForButton(room.fake, id, 'approve');
  expect((await room.click('approve', approve.value, { user: RM1 })).text).toMatch(/^✅ Done/);
  // In the soak of the first cohort, with one gate check behind it.
  await waitForAudit(room.bot.runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'gate_check' && e.notice.percent === STAGES[0]);
  return { room, id };
}

async function restartAndFinish(r: Room, id: string, fsync: 'everysec' | 'always', down: (server: RedisServer) => Promise<void>) {
  const store = r.bot.runtime.store;
  const before = (await store.load(id))!;
  const auditBefore = await auditOf(store, id);
  expect([before.state.phase, before.state.stage, before.state.traffic]).toEqual(['soaking', 0, STAGES[0]]);

  const server = redis!;
  await down(server);
  // Away for a while: a gate check falls due and its job cannot even be fetched.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  redis = await startRedisServer({ dir: server.dir, port: server.port, appendFsync: fsync });
  // Back where it was: the same phase, cohort and soak window (the bot's own clients are still
  // reconnecting; a fresh one looks first).
  const look = connect(redis.url);
  const resumed = await new CutoverStore(look, store.prefix).loadState(id);
  look.disconnect();
  expect([resumed?.phase, resumed?.stage, resumed?.soak?.startedAt]).toEqual(['soaking', 0, before.state.soak!.startedAt]);
  expect(resumed!.version).toBeGreaterThanOrEqual(before.state.version);

  // Nothing acknowledged was lost: the state as it was, or later; the audit trail as it was, then more.
  const after = await waitForAudit(store, id, (e) => e.type === 'evidence', 45_000).then(() => store.load(id));
  const audit = await auditOf(store, id);
  expect(audit.slice(0, auditBefore.length)).toEqual(auditBefore);

  // The cutover went on from where it was: the first cohort's soak was not started again, and
  // every cohort was shifted once and confirmed once.
  const state = after!.state;
  expect([state.phase, state.outcome, state.traffic]).toEqual(['completed', 'completed', 100]);
  expect((await worldOf(r.bot.runtime).shifts(state.serviceKey)).map((s) => s.percent)).toEqual(STAGES);
  expect(confirmedPercents(audit)).toEqual(STAGES);
  const checks = noticesOf(audit, 'gate_check');
  expect(new Set(checks.map((c) => c.seq)).size).toBe(checks.length);
  // No check was run twice and none was lost: their seqs are consecutive.
  expect(checks.map((c) => c.seq)).toEqual(checks.map((_, i) => checks[0]!.seq + i));
  for (const kind of ['started', 'go', 'completed'] as const) expect(noticesOf(audit, kind), kind).toHaveLength(1);
  expect(audit.filter((e) => e.type === 'evidence')).toHaveLength(1);
  // Nothing gave up while Redis was away: no job failed for good.
  for (const queue of [r.bot.runtime.queues.cutover, r.bot.runtime.queues.rollback, r.bot.runtime.queues.notify]) expect(await queue.getFailedCount(), queue.name).toBe(0);

  // The war room caught up: one card showing the final state, every notice in its thread, in order.
  const card = await r.fake.waitFor((f) => {
    const c = cardOf(f, id);
    return c?.text === `Cutover ${PLAN}: completed` && c;
  }, { timeoutMs: 15_000 });
  const { expected, actual } = threadAgainstAudit(r.fake, WAR_ROOM, card.ts, audit, after!.plan, state);
  expect(actual).toEqual(expected);
  expect(r.fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === undefined && String(c.body.text).startsWith(`Cutover ${PLAN}:`) && c.status === 200)).toHaveLength(1);
  return { before, audit, state };
}

describe('Redis restarts in the middle of a soak (AOF on)', () => {
  it('a clean stop and start on the same port: the cutover continues where it was and completes, each cohort once', async () => {
    const { room: r, id } = await soakingCutover('everysec');
    await restartAndFinish(r, id, 'everysec', (server) => server.stop());
  });

  it('a SIGKILL and a start on the same port (appendfsync always): nothing acknowledged is lost, and the cutover completes the same way', async () => {
    const { room: r, id } = await soakingCutover('always');
    await restartAndFinish(r, id, 'always', (server) => server.kill());
  });
});
