// The probes while what the bot depends on is down, and shutdown, on `node src/app/main.ts` as a
// child process (and once as `npm start`):
// - /healthz answers as soon as the process listens, with Slack unreachable or Redis unreachable;
//   /readyz is 503 with the reason until Redis answers and Slack's auth.test has succeeded once,
//   then 200 when they come (Slack and Redis started where the bot expects them);
// - SIGTERM exits within 10 s, code 0, with Redis stopped under a running bot, or never reached;
// - `npm start` signalled does not leave the bot running.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedisServer } from '../../src/infra/redis-server.ts';
import { STORE_DOWN } from '../../templates/replies.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.ts';
import { botEnv, startChildBot, type ChildBot } from '../support/child-bot.ts';
import { uniquePrefix } from '../support/redis.ts';
import { postToSlackEndpoint, slashCommand } from '../support/slack-requests.ts';
import { SECRET, WAR_ROOM, quickPlan } from './harness.ts';

let dir: string;
let fake: FakeSlack;
const started: ChildBot[] = [];
const servers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cutover-probes-'));
  await mkdir(join(dir, 'plans'));
  await writeFile(join(dir, 'plans', 'probe.yaml'), quickPlan('probe'));
  fake = await startFakeSlack();
});

afterAll(async () => {
  for (const bot of started) {
    bot.signal('SIGKILL');
    await bot.exited;
  }
  for (const close of servers) await close();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = (overrides: Record<string, string> = {}) => ({ ...botEnv({ token: fake.token, secret: SECRET, apiUrl: fake.apiUrl, prefix: uniquePrefix('probes'), dir }), ...overrides });

async function listening(environment: Record<string, string>, npm = false): Promise<ChildBot> {
  const bot = await startChildBot(environment, 30_000, { until: 'listening', npm });
  started.push(bot);
  return bot;
}

async function probe(bot: ChildBot, path: '/healthz' | '/readyz'): Promise<[number, string]> {
  const response = await fetch(`http://127.0.0.1:${bot.port}${path}`);
  return [response.status, await response.text()];
}

/** SIGTERM; resolves with the exit code and how long the exit took. */
async function terminate(bot: ChildBot): Promise<{ code: number | null; ms: number }> {
  const t0 = performance.now();
  bot.signal('SIGTERM');
  const { code } = await bot.exited;
  started.splice(started.indexOf(bot), 1);
  return { code, ms: performance.now() - t0 };
}

describe.concurrent('while a dependency is down', () => {
  it('Slack unreachable: /healthz answers, commands are acked, /readyz says why until auth.test succeeds', async () => {
    const port = await freePort();
    const bot = await listening(env({ SLACK_API_URL: `http://127.0.0.1:${port}/api/` }));
    expect(await probe(bot, '/healthz')).toEqual([200, 'ok\n']);
    const [status, body] = await probe(bot, '/readyz');
    expect(status).toBe(503);
    expect(body).toMatch(new RegExp(`^(starting: Redis has not answered yet; )?(Slack auth.test has not answered yet|cannot reach Slack's Web API at http://127.0.0.1:${port}/api/: .+)\\n$`));
    // Slack's requests are still taken: help is the ack itself.
    const help = await postToSlackEndpoint(`http://127.0.0.1:${bot.port}/slack/events`, slashCommand({ text: 'help', channel_id: WAR_ROOM }), { secret: SECRET });
    expect(help.status).toBe(200);
    expect(JSON.parse(help.body).text).toContain('/cutover start');

    // Slack comes back where the bot expects it: the next auth.test succeeds, and the bot is ready.
    const slack = await startFakeSlack({ port, token: fake.token });
    servers.push(() => slack.close());
    await bot.logged((e) => e.msg === 'bot ready', 30_000);
    expect(await probe(bot, '/readyz')).toEqual([200, 'ready\n']);
    expect(await terminate(bot)).toMatchObject({ code: 0 });
  });

  it('Redis unreachable: /healthz answers, /readyz says why, a command is told nothing changed; Redis comes, then goes; SIGTERM exits 0 within 10 s', async () => {
    const port = await freePort();
    const bot = await listening(env({ REDIS_URL: `redis://127.0.0.1:${port}` }));
    expect(await probe(bot, '/healthz')).toEqual([200, 'ok\n']);
    expect(await probe(bot, '/readyz')).toEqual([503, expect.stringMatching(/^starting: Redis has not answered yet/)]);
    const status = await postToSlackEndpoint(`http://127.0.0.1:${bot.port}/slack/events`, slashCommand({ text: 'status', channel_id: WAR_ROOM, response_url: fake.responseUrl('redis-away') }), { secret: SECRET });
    // Nothing could be kept, so the ack itself says so (a command is acked only once Redis holds it).
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toMatchObject({ response_type: 'ephemeral', text: STORE_DOWN });

    const redis = await startRedisServer({ dir: join(dir, `redis-${port}`), port });
    servers.push(() => redis.stop());
    await bot.logged((e) => e.msg === 'bot ready', 30_000);
    expect(await probe(bot, '/readyz')).toEqual([200, 'ready\n']);

    // Redis goes away under the running bot (its workers blocked on it): the shutdown is bounded.
    await redis.kill();
    expect(await probe(bot, '/readyz')).toEqual([503, 'redis unreachable\n']);
    const { code, ms } = await terminate(bot);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
  });

  it('Redis never reached: SIGTERM still exits 0 within 10 s', async () => {
    const bot = await listening(env({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` }));
    expect((await probe(bot, '/readyz'))[0]).toBe(503);
    const { code, ms } = await terminate(bot);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
  });
});

it('npm start, signalled, takes the bot down with it (the script execs node)', async () => {
  const npm = await listening(env(), true);
  const line = await npm.logged((e) => e.msg === 'listening');
  const botPid = Number(line.pid);
  expect(botPid).toBeGreaterThan(0);
  expect(botPid).not.toBe(npm.pid);
  const { code } = await terminate(npm);
  expect(code).toBe(0);
  // The bot is gone, not left running without its parent.
  expect(() => process.kill(botPid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
});
