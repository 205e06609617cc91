// Redis away when a command arrives: the store's client fails fast and the person is told so;
// once Redis is back, commands work again. (The bot's own Redis here, so it can be stopped.)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../src/infra/redis-server.ts';
import { STORE_DOWN } from '../../templates/replies.ts';
import { openRoom, quickPlan, startedId, waitForButton, type Room } from './harness.ts';

let dir: string;
let redis: RedisServer;
let room: Room;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cutover-store-down-'));
  redis = await startRedisServer({ dir });
  room = await openRoom({ fragile: quickPlan('fragile') }, { redisUrl: redis.url });
});

afterAll(async () => {
  // Forced: a BullMQ worker whose blocking wait was cut by the Redis restart can wait forever
  // in a graceful close (reported with the branch); its jobs are idempotent, so nothing is lost.
  await room?.bot.runtime.close({ force: true });
  await room?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('answers "cannot reach the state store; nothing was changed" while Redis is down, and works again after', async () => {
  const id = startedId(await room.slash('/cutover', 'start fragile'));
  const approve = await waitForButton(room.fake, id, 'approve');
  await redis.kill();

  for (const reply of [
    await room.slash('/cutover', 'status'),
    await room.slash('/cutover', 'hold fragile looks odd'),
    await room.slash('/promote', ''),
    await room.click('approve', approve.value),
  ]) {
    expect([reply.response_type, reply.text]).toEqual(['ephemeral', STORE_DOWN]);
  }

  redis = await startRedisServer({ dir, port: redis.port });
  const store = room.bot.runtime.redis;
  if (store.status !== 'ready') await once(store, 'ready');
  const held = await room.slash('/cutover', 'hold fragile looks odd');
  expect(held.text).toBe('✅ Done: the cutover is held: looks odd (0 % canary).');
});
