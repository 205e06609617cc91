// Configuration from the environment: one clear line per problem, never a secret in any of them,
// and `npm start` refusing to run on a bad one.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startFakeSlack, type FakeSlack } from './fakes/slack-api.ts';
import { runBotToExit } from './support/child-bot.ts';

const GOOD = { SLACK_BOT_TOKEN: 'xoxb-1111-2222-abcdef', SLACK_SIGNING_SECRET: '8f14e45fceea167a5a36dedd4bea2543' };

describe('loadConfig', () => {
  it('defaults everything but the two Slack secrets, and freezes the result', () => {
    const result = loadConfig(GOOD);
    expect(result).toEqual({
      ok: true,
      config: {
        slack: { botToken: GOOD.SLACK_BOT_TOKEN, signingSecret: GOOD.SLACK_SIGNING_SECRET, appToken: null, apiUrl: null },
        redisUrl: null,
        redisPrefix: 'cutover',
        plansDir: './plans',
        evidenceDir: './evidence',
        port: 3000,
        logLevel: 'info',
        role: 'all',
        commandTtlMs: 30_000,
        admin: null,
      },
    });
    expect(result.ok && Object.isFrozen(result.config) && Object.isFrozen(result.config.slack)).toBe(true);
  });

  it('reads every variable; blank ones count as unset; the API URL gets its trailing slash', () => {
    const result = loadConfig({
      ...GOOD,
      SLACK_APP_TOKEN: 'xapp-1-A0-123-abc',
      SLACK_API_URL: 'http://127.0.0.1:4000/api',
      REDIS_URL: 'redis://127.0.0.1:6390',
      REDIS_PREFIX: 'bot-a',
      PLANS_DIR: '/etc/cutover/plans',
      EVIDENCE_DIR: ' ',
      PORT: '0',
      LOG_LEVEL: 'debug',
      ROLE: 'worker',
      COMMAND_TTL: '2m',
      ADMIN_PASSWORD: 'correct horse battery',
      ADMIN_QUEUES_WRITE: 'true',
    });
    expect(result.ok && result.config).toMatchObject({
      role: 'worker',
      commandTtlMs: 120_000,
      admin: { password: 'correct horse battery', write: true },
      slack: { appToken: 'xapp-1-A0-123-abc', apiUrl: 'http://127.0.0.1:4000/api/' },
      redisUrl: 'redis://127.0.0.1:6390',
      redisPrefix: 'bot-a',
      plansDir: '/etc/cutover/plans',
      evidenceDir: './evidence',
      port: 0,
      logLevel: 'debug',
    });
  });

  it('reports each problem on a line of its own, naming the variable and never its value', () => {
    const env = {
      SLACK_BOT_TOKEN: 'xoxp-user-token-not-a-bot-token',
      SLACK_SIGNING_SECRET: 'a secret with spaces',
      SLACK_APP_TOKEN: 'xoxb-wrong-kind',
      SLACK_API_URL: 'ftp://slack.example',
      REDIS_URL: 'http://user:hunter2hunter2@redis.internal',
      PORT: '70000',
      LOG_LEVEL: 'chatty',
      ROLE: 'everything',
      COMMAND_TTL: '45 seconds',
      ADMIN_PASSWORD: 'short-pw',
      ADMIN_QUEUES_WRITE: 'yes',
    };
    const result = loadConfig(env);
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.map((p) => p.split(':')[0])).toEqual(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'SLACK_API_URL', 'REDIS_URL', 'PORT', 'LOG_LEVEL', 'ROLE', 'COMMAND_TTL', 'ADMIN_PASSWORD', 'ADMIN_QUEUES_WRITE']);
    for (const value of Object.values(env)) expect(problems.join('\n')).not.toContain(value);
    expect(loadConfig({ ...GOOD, COMMAND_TTL: '45m' })).toEqual({ ok: false, problems: ['COMMAND_TTL: must be from 1s to 30m (a reply can reach the person for 30 minutes)'] });
    // The dashboard stays off without a password; asking for writes alone does not turn it on.
    expect(loadConfig({ ...GOOD, ADMIN_QUEUES_WRITE: 'true' })).toMatchObject({ ok: true, config: { admin: null } });
    expect(loadConfig({})).toEqual({
      ok: false,
      problems: [
        "SLACK_BOT_TOKEN: is required: the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page",
        "SLACK_SIGNING_SECRET: is required: the Signing Secret from the app's Basic Information page",
      ],
    });
  });
});

describe.concurrent('npm start with a configuration it cannot run on', () => {
  let fake: FakeSlack;

  beforeAll(async () => {
    fake = await startFakeSlack();
  });

  afterAll(async () => {
    await fake?.close();
  });

  it('prints one line per problem, no secret, and exits 2', async () => {
    const { code, stdout, stderr } = await runBotToExit({ SLACK_BOT_TOKEN: 'xoxp-leaked-user-token-77', SLACK_SIGNING_SECRET: 'x', PORT: 'http' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toEqual([
      'config: SLACK_BOT_TOKEN: must be a bot token starting with xoxb- (OAuth & Permissions)',
      'config: SLACK_SIGNING_SECRET: must be the Signing Secret from Basic Information (no spaces, at least 8 characters)',
      'config: PORT: must be a port number',
    ]);
  });

  it('says in one line that Slack refused the token, without printing it', async () => {
    const token = 'xoxb-revoked-0000-ffff';
    // PORT 0: the HTTP side listens before Slack answers, and these run side by side.
    const { code, stderr } = await runBotToExit({ SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: GOOD.SLACK_SIGNING_SECRET, SLACK_API_URL: fake.apiUrl, LOG_LEVEL: 'error', PORT: '0' });
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toEqual(['cutover-bot: Slack did not accept SLACK_BOT_TOKEN: An API error occurred: invalid_auth']);
    expect(stderr).not.toContain(token);
  });

  it('says in one line that its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const { code, stderr } = await runBotToExit({ ...GOOD, SLACK_BOT_TOKEN: fake.token, SLACK_API_URL: fake.apiUrl, LOG_LEVEL: 'error', PORT: String(port) });
      expect(code).toBe(1);
      expect(stderr).toBe(`cutover-bot: cannot listen on PORT ${port}: something else listens there\n`);
    } finally {
      taken.close();
    }
  });

  it('says in one line that there is no Redis to use', async () => {
    const { code, stderr } = await runBotToExit({ ...GOOD, SLACK_BOT_TOKEN: fake.token, SLACK_API_URL: fake.apiUrl, PATH: '/nonexistent', LOG_LEVEL: 'error', PORT: '0' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^cutover-bot: cannot start the embedded Redis: no redis-server on PATH.*\n$/);
  });
});
