// ROLE=web and ROLE=worker as two processes on one Redis, as a team scales them apart: the web
// process takes Slack's signed requests, acks and queues them and runs no job; the worker process
// runs every job (the commands' work included) and takes no Slack request. A cutover runs end to
// end across the two, on the simulated platform. And the surprise, played through them: a
// /cutover start taken while no worker ran, picked up past its time to live, is not run.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SimulatedWorld } from '../../src/sim/world.ts';
import { CutoverStore } from '../../src/store/cutover-store.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.ts';
import { botEnv, startChildBot, type ChildBot } from '../support/child-bot.ts';
import { scrape } from '../support/prometheus.ts';
import { connect, uniquePrefix } from '../support/redis.ts';
import { postToSlackEndpoint, slashCommand } from '../support/slack-requests.ts';
import { OPS, RM1, RM2, SECRET, USERGROUPS, WAR_ROOM, cardOf, quickPlan, requests, startedId, waitForButton } from './harness.ts';

let fake: FakeSlack;
let dir: string;
let prefix: string;
let redis: Redis;
let env: Record<string, string>;
let web: ChildBot | undefined;
let worker: ChildBot | undefined;

beforeAll(async () => {
  fake = await startFakeSlack({ usergroups: USERGROUPS });
  dir = await mkdtemp(join(tmpdir(), 'cutover-roles-'));
  await mkdir(join(dir, 'plans'));
  await writeFile(join(dir, 'plans', 'split.yaml'), quickPlan('split'));
  await writeFile(join(dir, 'plans', 'stale.yaml'), quickPlan('stale'));
  prefix = uniquePrefix('roles');
  redis = connect();
  env = botEnv({ token: fake.token, secret: SECRET, apiUrl: fake.apiUrl, prefix, dir });
  web = await startChildBot({ ...env, ROLE: 'web' });
});

afterAll(async () => {
  await Promise.all([web?.stop(), worker?.stop()]);
  redis?.disconnect();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const url = (bot: ChildBot) => `http://127.0.0.1:${bot.port}`;

it('a /cutover start the web process queued while no worker ran, picked up past its time to live, is not run, and the person is told', async () => {
  const body = slashCommand({ command: '/cutover', text: 'start stale', user_id: RM1, channel_id: WAR_ROOM, response_url: fake.responseUrl('stale') });
  const sent = Date.now();
  const acked = await postToSlackEndpoint(`${url(web!)}/slack/events`, body, { secret: SECRET });
  // Acked at once, empty: the work is queued.
  expect([acked.status, acked.body]).toEqual([200, '']);
  // The premise, not a synchronisation: the command grows older than the worker's 1 s time to live.
  await sleep(Math.max(0, sent + 1_200 - Date.now()));
  const late = await startChildBot({ ...env, ROLE: 'worker', COMMAND_TTL: '1s' });
  try {
    const reply = await fake.waitFor((f) => f.responses('stale')[0], { timeoutMs: 15_000 });
    expect(reply.text).toMatch(/^⏱️ \/cutover start was not run: it reached the bot's workers \d+(\.\d)?s after you sent it, and a command is kept 1s/);
    expect(await new CutoverStore(redis, prefix).activeIds()).toEqual([]);
    await late.logged((e) => e.msg === 'command expired before it could run; not run');
  } finally {
    expect(await late.stop()).toBe(0);
  }
});

it('a web process and a worker process run a cutover end to end: the web acks and queues, the worker does every job', async () => {
  worker = await startChildBot({ ...env, ROLE: 'worker' });
  const slack = requests(fake, url(web!));
  const id = startedId(await slack.slash('/cutover', 'start split'));
  const approve = await waitForButton(fake, id, 'approve');
  expect((await slack.click('approve', approve.value, { user: RM1 })).text).toMatch(/approval is recorded/);
  expect((await slack.click('approve', approve.value, { user: OPS })).text).toMatch(/^✅ Done/);
  let seq = approve.seq;
  for (let i = 0; i < 2; i++) {
    const promote = await waitForButton(fake, id, 'promote', seq, 20_000);
    expect((await slack.click('promote', promote.value, { user: RM2 })).text).toMatch(/^✅ Done/);
    seq = promote.seq;
  }
  await fake.waitFor((f) => f.files.some((file) => file.completed && file.title === 'SUMMARY.md'), { timeoutMs: 20_000 });
  const state = await new CutoverStore(redis, prefix).loadState(id);
  expect([state?.phase, state?.traffic]).toEqual(['completed', 100]);
  expect((await new SimulatedWorld(redis, prefix).shifts('simulated:split-svc')).map((s) => s.percent)).toEqual([10, 50, 100]);
  await fake.waitFor((f) => cardOf(f, id)?.text === 'Cutover split: completed', { timeoutMs: 10_000 });

  // The worker did the commands' work (it logs each), the web process none of it.
  const did = (bot: ChildBot, msg: string) => bot.logs.filter((l) => l.msg === msg).length;
  expect(did(worker, 'slash command')).toBe(1);
  expect(did(worker, 'button click')).toBe(4);
  expect(did(web!, 'slash command') + did(web!, 'button click')).toBe(0);
  // The checks ran in the worker; the web process has none to count.
  expect((await scrape(url(worker))).value('cutover_gate_check_duration_seconds_count')).toBeGreaterThanOrEqual(3);
  expect((await scrape(url(web!))).value('cutover_gate_check_duration_seconds_count')).toBe(0);
  // Both are ready; only the web process takes Slack's requests.
  for (const bot of [web!, worker]) {
    const ready = await fetch(`${url(bot)}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, 'ready\n']);
  }
  expect((await postToSlackEndpoint(`${url(worker)}/slack/events`, slashCommand({ text: 'help' }), { secret: SECRET })).status).toBe(404);
});

it('each stops cleanly on SIGTERM', async () => {
  const codes = await Promise.all([web!.stop(), worker!.stop()]);
  expect(codes).toEqual([0, 0]);
  web = worker = undefined;
});
