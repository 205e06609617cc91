// A request signed with the real secret but carrying a payload Bolt 5.1 cannot read (`payload=null`
// made its receiver reject unhandled, and never answer): the bot process refuses it at once (400),
// logs it once without the payload, and keeps serving.
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

it('refuses a signed request whose payload is null at once, and answers the next command', async () => {
  const url = `http://127.0.0.1:${bot.port}/slack/events`;
  const refused = await postToSlackEndpoint(url, 'payload=null', { secret: SECRET });
  expect(refused.status).toBe(400);
  expect(refused.elapsedMs).toBeLessThan(2_500);
  // Logged once, at warn, by its shape (the line reaches this process a moment after the answer).
  await expect.poll(() => bot.logs.filter((line) => line.msg === 'refused a request Bolt cannot read')).toEqual([expect.objectContaining({ level: 40, body: 'null', status: 400 })]);
  const health = await fetch(`http://127.0.0.1:${bot.port}/healthz`);
  expect(health.status).toBe(200);
  const help = await postToSlackEndpoint(url, slashCommand({ command: '/cutover', text: 'help', channel_id: WAR_ROOM, response_url: fake.responseUrl('after') }), { secret: SECRET });
  expect(help.status).toBe(200);
  expect(JSON.parse(help.body).text).toMatch(/^\*Cutover bot\*/);
  // Nothing escaped to the process's last-resort logger.
  await expect(bot.stderrMatching(/unhandled rejection/, 500)).rejects.toThrow();
});
