// Two bot processes on one Redis, each receiving half of the commands and clicks: the cutover
// ends as it would with one. Every traffic step runs once, and there is one status card.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SimulatedWorld } from '../../src/sim/world.ts';
import { CutoverStore } from '../../src/store/cutover-store.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.ts';
import { botEnv, startChildBot, type ChildBot } from '../support/child-bot.ts';
import { connect, uniquePrefix } from '../support/redis.ts';
import { OPS, RM1, RM2, SECRET, USERGROUPS, WAR_ROOM, cardOf, quickPlan, requests, startedId, waitForButton } from './harness.ts';

let fake: FakeSlack;
let dir: string;
let prefix: string;
let redis: Redis;
let bots: ChildBot[] = [];

beforeAll(async () => {
  fake = await startFakeSlack({ usergroups: USERGROUPS });
  dir = await mkdtemp(join(tmpdir(), 'cutover-replicas-'));
  await mkdir(join(dir, 'plans'));
  await writeFile(join(dir, 'plans', 'shared.yaml'), quickPlan('shared'));
  prefix = uniquePrefix('replicas');
  redis = connect();
  const env = botEnv({ token: fake.token, secret: SECRET, apiUrl: fake.apiUrl, prefix, dir });
  bots = await Promise.all([startChildBot(env), startChildBot(env)]);
});

afterAll(async () => {
  await Promise.all(bots.map((b) => b.stop()));
  redis?.disconnect();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('commands and clicks alternate between two replicas; the cutover completes as with one', async () => {
  const [a, b] = bots.map((bot) => requests(fake, `http://127.0.0.1:${bot.port}`)) as [ReturnType<typeof requests>, ReturnType<typeof requests>];
  const id = startedId(await a.slash('/cutover', 'start shared'));
  const approve = await waitForButton(fake, id, 'approve');
  expect((await b.click('approve', approve.value, { user: RM1 })).text).toMatch(/approval is recorded/);
  expect((await a.click('approve', approve.value, { user: OPS })).text).toMatch(/^✅ Done/);

  let seq = approve.seq;
  for (const replica of [b, a]) {
    const promote = await waitForButton(fake, id, 'promote', seq);
    expect((await replica.click('promote', promote.value, { user: RM2 })).text).toMatch(/^✅ Done/);
    seq = promote.seq;
  }
  await fake.waitFor((f) => f.files.some((file) => file.completed && file.title === 'SUMMARY.md'), { timeoutMs: 15_000 });

  const state = await new CutoverStore(redis, prefix).loadState(id);
  expect([state?.phase, state?.traffic]).toEqual(['completed', 100]);
  expect((await new SimulatedWorld(redis, prefix).shifts('simulated:shared-svc')).map((s) => s.percent)).toEqual([10, 50, 100]);

  // One card, one closing message, one evidence upload: whichever replica's workers ran them.
  const cards = fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === undefined && String(c.body.text).startsWith('Cutover shared:'));
  expect(cards).toHaveLength(1);
  expect(fake.channelMessages(WAR_ROOM).filter((m) => m.text.includes('Cutover shared completed'))).toHaveLength(1);
  expect(fake.files.filter((f) => f.title === 'SUMMARY.md')).toHaveLength(1);
  await fake.waitFor((f) => cardOf(f, id)?.text === 'Cutover shared: completed');

  // Each click was kept and worked exactly once, by whichever replica's worker took its job (the
  // requests alternated between the replicas; the work is the queue's to place).
  const clicks = bots.flatMap((bot) => bot.logs.filter((l) => l.msg === 'button click'));
  expect(clicks.length).toBe(2 + 2);
});

it('each replica stops cleanly on SIGTERM', async () => {
  const codes = await Promise.all(bots.map((b) => b.stop()));
  expect(codes).toEqual([0, 0]);
  bots = [];
});
