// A request signed with the real secret but carrying a payload Bolt 5.1 cannot read (`payload=null`
// makes its receiver reject unhandled): the bot process logs it and keeps serving.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.ts';
import { startChildBot, type ChildBot } from '../support/child-bot.ts';
import { redisUrl, uniquePrefix } from '../support/redis.ts';
import { postToSlackEndpoint, slashCommand } from '../support/slack-requests.ts';
import { SECRET, WAR_ROOM } from '../slack/harness.ts';

let fake: FakeSlack;
let bot: ChildBot;
let dir: string;

beforeAll(async () => {
  fake = await startFakeSlack();
  dir = await mkdtemp(join(tmpdir(), 'cutover-bad-payload-'));
  await mkdir(join(dir, 'plans'));
  bot = await startChildBot({
    SLACK_BOT_TOKEN: fake.token,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: fake.apiUrl,
    REDIS_URL: redisUrl(),
    REDIS_PREFIX: uniquePrefix('bad-payload'),
    PLANS_DIR: join(dir, 'plans'),
    EVIDENCE_DIR: join(dir, 'evidence'),
    PORT: '0',
  });
});

afterAll(async () => {
  await bot.stop();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

it('survives a signed request whose payload is null, and answers the next command', async () => {
  const url = `http://127.0.0.1:${bot.port}/slack/events`;
  // Bolt never answers this one: send it, and wait for the bot to say it caught the rejection.
  void postToSlackEndpoint(url, 'payload=null', { secret: SECRET }).catch(() => undefined);
  await bot.stderrMatching(/unhandled rejection: TypeError/);
  const health = await fetch(`http://127.0.0.1:${bot.port}/healthz`);
  expect(health.status).toBe(200);
  const help = await postToSlackEndpoint(url, slashCommand({ command: '/cutover', text: 'help', channel_id: WAR_ROOM, response_url: fake.responseUrl('after') }), { secret: SECRET });
  expect(help.status).toBe(200);
  expect(JSON.parse(help.body).text).toMatch(/^\*Cutover bot\*/);
});
