// Issue 5: secrets never leak. A whole cutover (start, go/no-go, a soak, a rollback, evidence)
// through the bot as production runs it, a child process started from its environment with
// LOG_LEVEL=debug, everything it prints captured. Its gates and rollback steps use a token from
// the environment: an http gate and step with `token_env` against a local server, and command
// gates handed the token with `pass_env` that print it (as scripts do). The bot token, the signing
// secret and the gate token must appear nowhere: not in the logs (stdout and stderr), not in any
// request the fake Slack recorded (bodies, files, replies; only the Authorization header Slack
// needs carries the bot token), not in the evidence files on disk, not in any Redis value.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CutoverStore } from '../../src/store/cutover-store.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.ts';
import { waitForAudit } from '../support/engine.ts';
import { botEnv } from '../support/child-bot.ts';
import { connect, uniquePrefix } from '../support/redis.ts';
import { blockAction, postToSlackEndpoint, slashCommand } from '../support/slack-requests.ts';
import { ONCALL, RM1, USERGROUPS, WAR_ROOM, awaitReply, quickPlan, startedId, waitForButton } from '../slack/harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BOT_TOKEN = `xoxb-${randomBytes(12).toString('hex')}`;
const SIGNING_SECRET = `signing-${randomBytes(12).toString('hex')}`;
const GATE_TOKEN = `gate-${randomBytes(12).toString('hex')}`;
const SECRETS = { BOT_TOKEN, SIGNING_SECRET, GATE_TOKEN };

let fake: FakeSlack;
let gateServer: Server;
const gateRequests: Array<{ path: string; authorization: string | undefined }> = [];
let dir: string;
let prefix: string;
let redis: Redis;
let child: ChildProcess;
let output = '';
let port: number;

beforeAll(async () => {
  fake = await startFakeSlack({ token: BOT_TOKEN, usergroups: USERGROUPS });
  gateServer = createServer((req: IncomingMessage, res) => {
    gateRequests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    res.writeHead(req.headers.authorization === `Bearer ${GATE_TOKEN}` ? 200 : 401).end();
  });
  gateServer.listen(0, '127.0.0.1');
  await once(gateServer, 'listening');
  const gateUrl = `http://127.0.0.1:${(gateServer.address() as AddressInfo).port}`;

  dir = await mkdtemp(join(tmpdir(), 'cutover-secrets-'));
  await mkdir(join(dir, 'plans'));
  await writeFile(
    join(dir, 'plans', 'vault.yaml'),
    quickPlan('vault', (doc) => {
      doc.service.gates = 'real';
      doc.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
      doc.soak = '30s';
      doc.gates = {
        preflight: [
          { id: 'control-plane', http: { url: `${gateUrl}/healthz`, token_env: 'GATE_TOKEN' } },
          // A script that prints the token it was given, plainly and as a header.
          { id: 'prints-token', command: { run: ['printenv', 'GATE_TOKEN'], pass_env: ['GATE_TOKEN'] } },
          { id: 'prints-header', command: { run: ['bash', '-c', 'echo "Authorization: Bearer $GATE_TOKEN"'], pass_env: ['GATE_TOKEN'] } },
        ],
        stage: [{ id: 'cohort-probe', http: { method: 'POST', url: `${gateUrl}/probe`, json: { cohort: '{percent}' }, token_env: 'GATE_TOKEN' } }],
      };
      doc.rollback = {
        before: [
          { id: 'route-override', http: { method: 'POST', url: `${gateUrl}/override`, token_env: 'GATE_TOKEN' } },
          { id: 'flags-off', command: { run: ['printenv', 'GATE_TOKEN'], pass_env: ['GATE_TOKEN'] } },
        ],
      };
    }),
  );
  prefix = uniquePrefix('secrets');
  redis = connect();
  child = spawn(process.execPath, ['src/app/main.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      ...botEnv({ token: BOT_TOKEN, secret: SIGNING_SECRET, apiUrl: fake.apiUrl, prefix, dir }),
      LOG_LEVEL: 'debug',
      GATE_TOKEN,
    },
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  port = await new Promise<number>((resolvePort, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      if (line.includes('"bot ready"')) resolvePort(Number((JSON.parse(line) as { port: number }).port));
    });
    child.once('exit', (code) => reject(new Error(`bot exited (${code}) before it was ready:\n${output}`)));
  });
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  redis?.disconnect();
  gateServer?.close();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function filesUnder(root: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push([join(entry.parentPath, entry.name), await readFile(join(entry.parentPath, entry.name), 'utf8')]);
  }
  return out;
}

/** Every value under the bot's prefix in Redis, BullMQ's jobs included. */
async function redisValues(): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string' ? await redis.get(key)
        : type === 'hash' ? await redis.hgetall(key)
        : type === 'list' ? await redis.lrange(key, 0, -1)
        : type === 'set' ? await redis.smembers(key)
        : type === 'zset' ? await redis.zrange(key, '0', '-1')
        : type === 'stream' ? await redis.xrange(key, '-', '+')
        : type;
      out.push([key, JSON.stringify(value)]);
    }
  } while (cursor !== '0');
  return out;
}

function expectNoSecret(where: string, text: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) expect(text.includes(secret), `${name} in ${where}`).toBe(false);
}

it('a whole cutover at LOG_LEVEL=debug: no token or signing secret in logs, Slack requests, evidence or Redis', async () => {
  // Signed with this bot's own signing secret, as Slack would.
  let n = 0;
  const events = `http://127.0.0.1:${port}/slack/events`;
  const signed = {
    slash: async (command: '/cutover' | '/rollback', text: string, as: { user?: string } = {}) => {
      const id = `s${++n}`;
      const body = slashCommand({ command, text, user_id: as.user ?? RM1, channel_id: WAR_ROOM, response_url: fake.responseUrl(id) });
      return awaitReply(fake, await postToSlackEndpoint(events, body, { secret: SIGNING_SECRET }), id);
    },
    click: async (actionId: string, value: string) => {
      const id = `c${++n}`;
      const body = blockAction({ user: RM1, channel: WAR_ROOM, actionId, value, responseUrl: fake.responseUrl(id) });
      return awaitReply(fake, await postToSlackEndpoint(events, body, { secret: SIGNING_SECRET }), id);
    },
  };

  const store = new CutoverStore(redis, prefix);
  const id = startedId(await signed.slash('/cutover', 'start vault'));
  const approve = await waitForButton(fake, id, 'approve', 0, 20_000);
  expect((await signed.click('approve', approve.value)).text).toMatch(/^✅ Done/);
  await waitForAudit(store, id, (e) => e.type === 'notice' && e.notice.kind === 'gate_check', 20_000);
  expect((await signed.slash('/rollback', 'vault support tickets', { user: ONCALL })).text).toMatch(/^✅ Done/);
  await waitForAudit(store, id, (e) => e.type === 'evidence', 20_000);
  await fake.waitFor((f) => f.files.some((file) => file.completed && file.title === 'logs/gate-logs.txt'), { timeoutMs: 20_000 });
  const state = await store.loadState(id);
  expect([state?.phase, state?.traffic]).toEqual(['rolled_back', 0]);

  // The secrets were really in use: the gate server got the token, Slack got the bot token...
  expect(new Set(gateRequests.map((r) => r.path))).toEqual(new Set(['/healthz', '/probe', '/override']));
  expect(gateRequests.every((r) => r.authorization === `Bearer ${GATE_TOKEN}`)).toBe(true);
  expect(fake.calls.length).toBeGreaterThan(10);
  expect(fake.calls.filter((c) => c.method !== 'upload' && c.method !== 'response_url').every((c) => c.authorization === `Bearer ${BOT_TOKEN}`)).toBe(true);
  // ...the scripts printed it, and the bot logged at debug level.
  const records = await store.gateRecords(id);
  expect(records.find((r) => r.gate === 'prints-token')?.measurement.log).toBe('[redacted]\n');
  expect(records.find((r) => r.gate === 'prints-header')?.measurement.log).toBe('Authorization: Bearer [redacted]\n');
  expect(output).toMatch(/"level":20/);
  expect(output).toContain('http request url');

  // ...and they are nowhere else.
  expectNoSecret('the logs', output);
  for (const call of fake.calls) expectNoSecret(`${call.method} body`, JSON.stringify({ body: call.body, headers: call.headers, response: call.response }));
  for (const file of fake.files) expectNoSecret(`uploaded ${file.title}`, file.content?.toString('utf8') ?? '');
  for (const message of fake.messages) expectNoSecret('a message', JSON.stringify(message));
  for (const reply of fake.responses()) expectNoSecret('an ephemeral reply', JSON.stringify(reply));
  const evidence = await filesUnder(join(dir, 'evidence'));
  expect(evidence.length).toBeGreaterThan(5);
  for (const [path, text] of evidence) expectNoSecret(path, text);
  const values = await redisValues();
  expect(values.some(([key]) => key.includes(':bull:'))).toBe(true);
  for (const [key, value] of values) expectNoSecret(key, value);

  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(0);
  expectNoSecret('the logs, to the end', output);
});
