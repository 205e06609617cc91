// The issue "The first hour": clicks and payloads the bot does not know got no answer. A click on a
// button an older version of the bot drew waited 3 s for Bolt's 404; a payload that is a JSON number
// or string, `actions: []`, an interactive_message or a `__proto__` key likewise; a slash command
// with no `text`, or two, failed in the listener (HTTP 500); `payload=null` was never answered.
//
// Every request here is signed with the real secret, as only Slack (or a holder of the secret)
// could send it, over real HTTP to the whole bot. For each: the status is 200 or 400, never a 5xx
// and never Bolt's 404 at its 3 s ack deadline, and it comes well within 3 s; a click on a button
// the bot no longer has tells the clicker so; each request the bot turns away or refuses is logged
// once, at warn, and no log line carries the payload's token or response_url. Afterwards the bot
// still serves (/cutover status works) and no cutover's state has changed.
//
// A named case for each shape in the issue, then fast-check over signed requests of those shapes.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import type { CutoverState } from '../../src/domain/state.ts';
import { CARD_ACTIONS } from '../../templates/card.ts';
import { SIGN_OFF_ACTION, TICK_ACTION } from '../../templates/checklist.ts';
import { STALE_BUTTON, UNREADABLE_COMMAND } from '../../templates/replies.ts';
import { blockAction, nowSeconds, postToSlackEndpoint, signSlackRequest, slashCommand } from '../support/slack-requests.ts';
import { ELSEWHERE, NOBODY, SECRET, WAR_ROOM, openRoom, quickPlan, startedId, waitForButton, type Room } from '../slack/harness.ts';

/** In every payload here: no log line may carry it. */
const TOKEN = 'fuzz-verification-token-7c1e';
/** Slack's answer time; a request nobody acked gets Bolt's 404 at 3,001 ms. Generous, for a loaded CI box. */
const FAST_MS = 2_500;

// ---- the bot's log, kept ------------------------------------------------------------------------

interface Line {
  readonly level: number;
  readonly msg: string;
  readonly component?: string;
  readonly raw: string;
}
const lines: Line[] = [];
const log = createLogger({
  level: 'info',
  // pino writes each line synchronously to a destination with a write method.
  destination: {
    write(chunk: string) {
      for (const raw of chunk.split('\n').filter(Boolean)) {
        const parsed = JSON.parse(raw) as { level: number; msg: string; component?: string };
        lines.push({ level: parsed.level, msg: parsed.msg, ...(parsed.component ? { component: parsed.component } : {}), raw });
      }
      return true;
    },
  } as unknown as NodeJS.WritableStream,
});
const WARN = 40;
const ERROR = 50;
/** The bot's lines for a request it turned away or refused (src/app/unanswered.ts). */
const REFUSALS = new Set(['turned away a request no listener takes', 'refused a request Bolt cannot read', 'refused a request the bot failed on before its ack']);

// ---- the world ----------------------------------------------------------------------------------

let room: Room;
let alpha: string;
/** The phaseSeq the card's buttons carry. */
let phaseSeq: number;
let n = 0;

async function states(): Promise<CutoverState[]> {
  const active = await room.bot.runtime.engine.active();
  return Promise.all(active.map(async (s) => (await room.bot.runtime.store.loadState(s.id))!));
}

beforeAll(async () => {
  room = await openRoom({ alpha: quickPlan('alpha') }, { log });
  alpha = startedId(await room.slash('/cutover', 'start alpha'));
  // Waiting for its go/no-go: it stays there until someone with a role decides.
  phaseSeq = (await waitForButton(room.fake, alpha, 'approve')).seq;
});

afterAll(async () => {
  await room?.close();
});

// ---- requests -----------------------------------------------------------------------------------

interface Request {
  readonly body: string;
  /** The response_url's id in the fake, when the payload has one. */
  readonly id?: string;
}

const form = (fields: Iterable<[string, string]>): string => new URLSearchParams([...fields]).toString();
const payload = (json: string): string => form([['payload', json]]);

/**
 * A click as Slack posts it, by someone holding no role, on a button that is not one of the bot's
 * today ('approve_v0': the Approve of an older version), its value what a card of this cutover
 * carries; `edit` damages the payload, `text` rewrites its JSON.
 */
function click(edit: (p: Record<string, any>) => void = () => undefined, text: (json: string) => string = (json) => json): Request {
  const id = `click${++n}`;
  const body = blockAction({ user: NOBODY, channel: WAR_ROOM, actionId: 'approve_v0', value: JSON.stringify({ c: alpha, s: phaseSeq }), responseUrl: room.fake.responseUrl(id) });
  const p = JSON.parse(new URLSearchParams(body).get('payload')!) as Record<string, any>;
  p.token = TOKEN;
  edit(p);
  return { body: payload(text(JSON.stringify(p))), id };
}

/** A slash command's form fields, as Slack posts them, with `edit` applied to the list of fields. */
function slash(edit: (fields: Array<[string, string]>) => Array<[string, string]>): Request {
  const id = `slash${++n}`;
  const fields = [...new URLSearchParams(slashCommand({ command: '/cutover', text: 'status', user_id: NOBODY, channel_id: WAR_ROOM, response_url: room.fake.responseUrl(id), token: TOKEN }))];
  return { body: form(edit(fields)), id };
}

const without = (name: string) => (fields: Array<[string, string]>) => fields.filter(([key]) => key !== name);

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly ms: number;
  /** Where the bot's log stood when the request was sent. */
  readonly from: number;
  /** The bot's log lines written while the request was answered. */
  readonly said: readonly Line[];
}

async function send(request: Request): Promise<Answer> {
  const signed = signSlackRequest(SECRET, request.body);
  const from = lines.length;
  const started = performance.now();
  const response = await fetch(`${room.url}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-signature': signed['X-Slack-Signature'], 'x-slack-request-timestamp': signed['X-Slack-Request-Timestamp'] },
    body: request.body,
    // Unanswered (Bolt 5.1 on `payload=null`): fail here rather than hang the file.
    signal: AbortSignal.timeout(6_000),
  });
  const text = await response.text();
  return { status: response.status, text, ms: performance.now() - started, from, said: lines.slice(from) };
}

/** The ephemeral reply at the request's response_url. */
async function replyTo(request: Request): Promise<{ text?: string; response_type?: string }> {
  return room.fake.waitFor((f) => f.responses(request.id)[0], { timeoutMs: 10_000 });
}

function expectNoSecrets(said: readonly Line[]): void {
  for (const line of said) {
    expect(line.raw).not.toContain(TOKEN);
    expect(line.raw).not.toContain('/response/');
  }
}

// ---- each shape in the issue --------------------------------------------------------------------

interface Expected {
  readonly status: 200 | 400;
  /** The ephemeral text in the HTTP answer itself (a slash command's ack). */
  readonly ack?: string;
  /** The ephemeral reply at the payload's response_url. */
  readonly reply?: string | RegExp;
}

const stale = { status: 200, reply: STALE_BUTTON } as const;

const CASES: Array<[string, () => Request, Expected]> = [
  ['a click on a button an older version of the bot drew', () => click(), stale],
  ['payload a JSON number', () => ({ body: payload('42') }), { status: 400 }],
  ['payload a JSON string', () => ({ body: payload('"approve"') }), { status: 400 }],
  ['payload=null', () => ({ body: payload('null') }), { status: 400 }],
  ['actions: []', () => click((p) => (p.actions = [])), stale],
  ['actions a string', () => click((p) => (p.actions = 'approve')), stale],
  ['an action that is a number', () => click((p) => (p.actions = [7])), stale],
  ['an action_id that is a number', () => click((p) => (p.actions[0].action_id = 7)), stale],
  ['channel: null', () => click((p) => (p.channel = null)), { status: 400 }],
  ["a hold click whose value is not the bot's", () => click((p) => Object.assign(p.actions[0], { action_id: 'hold', value: '{"c":"payments","s":"x"}' })), { status: 200, reply: /not made by this bot/ }],
  [
    'an interactive_message (a legacy attachment button)',
    () => click((p) => Object.assign(p, { type: 'interactive_message', callback_id: 'cutover', actions: [{ name: 'approve', type: 'button', value: 'yes' }] })),
    stale,
  ],
  ['a payload that is only a __proto__ key', () => ({ body: payload(`{"__proto__":{"type":"block_actions","actions":[{"action_id":"approve"}]}}`) }), { status: 200 }],
  [
    'an action whose fields sit under __proto__',
    () => click(undefined, (json) => json.replace(/"actions":\[.*\]\}$/, '"actions":[{"__proto__":{"action_id":"approve","value":"x"}}]}')),
    stale,
  ],
  ['a slash command with no text', () => slash(without('text')), { status: 200, ack: UNREADABLE_COMMAND }],
  ['a slash command with its text twice', () => slash((fields) => [...fields, ['text', 'help']]), { status: 200, ack: UNREADABLE_COMMAND }],
  ['a slash command with __proto__ fields and no text', () => slash((fields) => [['__proto__', 'x'], ...without('text')(fields), ['constructor', 'y']]), { status: 200, ack: UNREADABLE_COMMAND }],
];

describe('each shape in the issue: answered at once, logged once, the clicker told', () => {
  let before: CutoverState[];
  beforeAll(async () => {
    before = await states();
  });

  for (const [what, make, expected] of CASES) {
    it(what, async () => {
      const request = make();
      const answer = await send(request);
      expect(answer.status, answer.text).toBe(expected.status);
      expect(answer.ms).toBeLessThan(FAST_MS);
      if (expected.ack) expect(JSON.parse(answer.text)).toMatchObject({ response_type: 'ephemeral', text: expected.ack });
      let said = answer.said;
      if (expected.reply) {
        const reply = await replyTo(request);
        expect(reply.response_type).toBe('ephemeral');
        expect(reply.text).toMatch(expected.reply);
        said = lines.slice(answer.from);
      }
      // Once, at warn; nothing from Bolt itself (its lines would say nothing of the request).
      expect(said.filter((l) => l.level >= WARN).map((l) => [l.level, l.msg])).toEqual([[WARN, expect.any(String)]]);
      expect(said.filter((l) => l.component === 'slack' && l.level >= WARN)).toEqual([]);
      expectNoSecrets(said);
    });
  }

  it("Bolt's signature check still comes first: unsigned, or signed too long ago, even payload=null gets its 401", async () => {
    for (const options of [{ signature: `v0=${'0'.repeat(64)}` }, { timestamp: nowSeconds() - 600 }, { secret: 'not-the-secret' }]) {
      const from = lines.length;
      expect((await postToSlackEndpoint(`${room.url}/slack/events`, payload('null'), { secret: SECRET, ...options })).status).toBe(401);
      expect(lines.slice(from).filter((l) => REFUSALS.has(l.msg))).toEqual([]);
    }
  });

  it('afterwards the bot still serves, and no cutover changed', async () => {
    expect((await room.slash('/cutover', 'status alpha', { user: NOBODY })).text).toContain('alpha');
    expect(await states()).toEqual(before);
  });
});

// ---- fuzzed --------------------------------------------------------------------------------------

const OURS = new Set<string>([...CARD_ACTIONS, TICK_ACTION, SIGN_OFF_ACTION]);
const hostile = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, [], {}, '', 0, -1, true, [null], [{}], ['approve'], { id: null }, JSON.parse('{"__proto__":null}'), 'a'.repeat(5_000)) },
);
const KEYS = ['type', 'event', 'command', 'actions', 'name', 'view', 'user', 'channel', 'team', 'response_url', 'text', 'ssl_check', '__proto__', 'constructor'];

interface Fuzzed extends Request {
  readonly kind: string;
  readonly statuses: readonly number[];
  readonly reply?: string;
}

const fuzzed = (): fc.Arbitrary<Fuzzed> =>
  fc.oneof(
    // Not a JSON object at all.
    fc.oneof(fc.constant(null), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.string(), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })).map((value) => ({
      kind: 'not an object',
      body: payload(JSON.stringify(value)),
      statuses: [400],
    })),
    // A well-formed click on a button the bot does not have.
    fc.string({ minLength: 1, maxLength: 60 }).filter((actionId) => !OURS.has(actionId)).map((actionId) => ({
      kind: 'unknown action_id',
      ...click((p) => (p.actions[0].action_id = actionId)),
      statuses: [200],
      reply: STALE_BUTTON,
    })),
    // A click with one field damaged; its action_id the bot's or not.
    fc.tuple(fc.constantFrom('actions', 'user', 'channel', 'type', 'response_url', 'message', 'container', 'team', 'action', 'value'), hostile, fc.constantFrom('approve_v0', 'hold', 'approve', 'tick')).map(([field, value, actionId]) => ({
      kind: `damaged ${field}`,
      ...click((p) => {
        p.actions[0].action_id = actionId;
        if (field === 'action') p.actions[0] = value;
        else if (field === 'value') p.actions[0].value = value;
        else p[field] = value;
      }),
      statuses: [200, 400],
    })),
    // A __proto__ (or constructor) key somewhere in a click.
    fc.tuple(fc.constantFrom('{', '"user":{', '"channel":{', '"actions":[{'), fc.constantFrom('__proto__', 'constructor'), fc.jsonValue({ maxDepth: 2 })).map(([where, key, value]) => ({
      kind: `${key} in ${where}`,
      ...click(undefined, (json) => json.replace(where, `${where}${JSON.stringify(key)}:${JSON.stringify(value)},`)),
      statuses: [200, 400],
    })),
    // A slash command's fields missing, doubled, or joined by prototype keys.
    fc
      .tuple(
        fc.constantFrom('keep', 'drop', 'twice', 'array-like'),
        fc.constantFrom('keep', 'drop', 'twice'),
        fc.constantFrom('/cutover', '/promote', '/rollback', '/deploy', ''),
        fc.constantFrom('status', 'help', '', 'plans', 'hold', 'status alpha'),
        fc.subarray(['__proto__', 'constructor', 'toString', 'hasOwnProperty']),
        fc.constantFrom(WAR_ROOM, ELSEWHERE),
      )
      .map(([text, command, name, words, extra, channel]) => ({
        kind: `slash text ${text}, command ${command}`,
        ...slash((fields) => {
          const edited = fields
            .map(([key, value]): [string, string] => [key, key === 'command' ? name : key === 'text' ? words : key === 'channel_id' ? channel : value])
            .filter(([key]) => !(key === 'text' && text === 'drop') && !(key === 'command' && command === 'drop'));
          if (text === 'twice') edited.push(['text', 'help']);
          if (text === 'array-like') edited.push(['text[]', 'help']);
          if (command === 'twice') edited.push(['command', '/cutover']);
          return [...extra.map((key): [string, string] => [key, 'x']), ...edited];
        }),
        statuses: [200],
      })),
    // An object Bolt may or may not know what to make of.
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })), hostile, { maxKeys: 4 }).map((fields) => ({
      kind: `object with ${Object.keys(fields).join(',')}`,
      body: payload(JSON.stringify({ ...fields, token: TOKEN })),
      statuses: [200, 400],
    })),
  );

describe('fuzzed: signed requests of those shapes', () => {
  it('each answered with 200 or 400 well within 3 s, logged at most once, the unknown-button clicker told; the bot serves on, nothing changed', async () => {
    const before = await states();
    const from = lines.length;
    const kinds = new Map<string, number>();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fuzzed(), async (request) => {
        runs++;
        const answer = await send(request);
        const family = request.kind.split(' ')[0]!;
        kinds.set(family, (kinds.get(family) ?? 0) + 1);
        expect(request.statuses, `${request.kind}: ${answer.status} ${answer.text}`).toContain(answer.status);
        expect(answer.ms, request.kind).toBeLessThan(FAST_MS);
        const refusals = answer.said.filter((l) => REFUSALS.has(l.msg));
        expect(refusals.length, request.kind).toBeLessThanOrEqual(1);
        if (answer.status === 400) expect(refusals.map((l) => l.level), request.kind).toEqual([WARN]);
        expect(answer.said.filter((l) => l.level >= ERROR || (l.component === 'slack' && l.level >= WARN)).map((l) => l.raw)).toEqual([]);
        if (request.reply) expect((await replyTo(request)).text).toBe(request.reply);
      }),
      { numRuns: 250 },
    );
    expect(runs).toBe(250);
    // Every family was tried.
    expect([...kinds.keys()].sort()).toEqual(expect.arrayContaining(['damaged', 'not', 'object', 'slash', 'unknown']));
    // Jobs handed over by requests that reached a listener have answered by now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const said = lines.slice(from);
    expectNoSecrets(said);
    expect(said.filter((l) => l.level >= ERROR).map((l) => l.raw)).toEqual([]);
    expect((await room.slash('/cutover', 'status alpha', { user: NOBODY })).text).toContain('alpha');
    expect(await states()).toEqual(before);
  });
});
