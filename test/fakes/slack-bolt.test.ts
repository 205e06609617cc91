// A real Bolt 5 App in HTTP mode, fed real signed requests, talking to the fake Slack.
// Proves the fake and the request helpers work together, and pins the Bolt behaviour the
// product relies on (see the notes at the top of test/support/slack-requests.ts).
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import { App, HTTPReceiver, RespondError, type BlockAction, type ButtonAction, type CustomRoute } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordingLogger, type RecordingLogger } from '../support/slack-logger.ts';
import { blockAction, nowSeconds, postToSlackEndpoint, slashCommand } from '../support/slack-requests.ts';
import { startFakeSlack, type FakeSlack } from './slack-api.ts';

const SECRET = 'test-signing-secret';
const CHANNEL = 'C0CUTOVER';
const FAST_RETRIES = { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 };

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(body);
}

const probes: CustomRoute[] = [
  { path: '/healthz', method: ['GET'], handler: (_req, res) => text(res, 200, 'ok') },
  { path: '/readyz', method: 'GET', handler: (_req, res) => text(res, 503, 'not ready') },
];

let fake: FakeSlack;
let app: App;
let logger: RecordingLogger;
let baseUrl: string;
/** What the listeners saw, in order: a barrier for "nothing else was invoked". */
let invoked: string[];
/** Settled by the command listener when respond() throws. */
let respondFailure: PromiseWithResolvers<unknown>;

async function startApp(instance: App): Promise<string> {
  const server = await instance.start(0);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  fake = await startFakeSlack();
  logger = recordingLogger();
  app = new App({
    signingSecret: SECRET,
    token: fake.token,
    // Both ids given: Bolt skips auth.test at start-up.
    botId: 'B1',
    botUserId: 'U0BOT',
    logger,
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: FAST_RETRIES },
    customRoutes: probes,
  });

  app.command('/cutover', async ({ ack, respond, command }) => {
    invoked.push(`command:${command.text}`);
    await ack();
    const reply =
      command.text === 'broken'
        ? { response_type: 'ephemeral' as const, blocks: [{ type: 'header', text: { type: 'plain_text' as const, text: 'h'.repeat(151) } }] }
        : { response_type: 'ephemeral' as const, text: `Starting cutover ${command.text}` };
    try {
      await respond(reply);
    } catch (error) {
      respondFailure.resolve(error);
    }
  });

  app.action<BlockAction<ButtonAction>>('approve', async ({ ack, body, action, client }) => {
    invoked.push(`action:${action.value ?? ''}`);
    await ack();
    const channel = body.channel?.id;
    const ts = body.message?.ts;
    if (channel === undefined || ts === undefined) throw new Error('click without a message');
    await client.chat.update({ channel, ts, text: `Approved by <@${body.user.id}>`, blocks: [] });
  });

  baseUrl = await startApp(app);
});

afterAll(async () => {
  await app.stop();
  await fake.close();
});

beforeEach(() => {
  fake.reset();
  logger.lines.length = 0;
  invoked = [];
  respondFailure = Promise.withResolvers<unknown>();
});

const eventsUrl = (): string => `${baseUrl}/slack/events`;

async function signedCommand(commandText: string, responseId: string): Promise<number> {
  const body = slashCommand({ text: commandText, response_url: fake.responseUrl(responseId) });
  return (await postToSlackEndpoint(eventsUrl(), body, { secret: SECRET })).status;
}

describe('custom routes on the receiver port', () => {
  it('serves GET /healthz and /readyz next to /slack/events; anything else is 404', async () => {
    const health = await fetch(`${baseUrl}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok']);
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(503);
    expect((await fetch(`${baseUrl}/healthz`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${baseUrl}/slack/events`)).status).toBe(404); // GET: not an event
    expect((await fetch(`${baseUrl}/nope`)).status).toBe(404);
  });

  it('works the same on an explicit HTTPReceiver, with path parameters', async () => {
    const receiver = new HTTPReceiver({
      signingSecret: SECRET,
      logger: recordingLogger(),
      customRoutes: [{ path: '/runs/:id', method: ['GET'], handler: (req, res) => text(res, 200, `run ${req.params?.id ?? '?'}`) }],
    });
    const other = new App({ receiver, token: fake.token, botId: 'B1', botUserId: 'U0BOT', logger: recordingLogger(), clientOptions: { slackApiUrl: fake.apiUrl } });
    const url = await startApp(other);
    try {
      const res = await fetch(`${url}/runs/r-42`);
      expect([res.status, await res.text()]).toEqual([200, 'run r-42']);
    } finally {
      await other.stop();
    }
    expect(fake.calls).toHaveLength(0); // botId + botUserId: no auth.test
  });
});

describe('slash command', () => {
  it('acks with 200 and respond() posts the ephemeral reply to response_url', async () => {
    expect(await signedCommand('api-v2', 'cmd1')).toBe(200);
    const [reply] = await fake.waitFor((f) => f.responses('cmd1').length > 0 && f.responses('cmd1'));
    expect(reply).toMatchObject({ response_type: 'ephemeral', text: 'Starting cutover api-v2' });
    expect(fake.callsTo('response_url')[0]?.headers['content-type']).toBe('application/json');
    expect(fake.callsTo('response_url')[0]?.authorization).toBeUndefined(); // respond() sends no token
    expect(invoked).toEqual(['command:api-v2']);
  });

  it('respond() throws RespondError when the response_url refuses the message', async () => {
    expect(await signedCommand('broken', 'cmd2')).toBe(200);
    const error = await respondFailure.promise;
    expect(error).toBeInstanceOf(RespondError);
    expect((error as RespondError).statusCode).toBe(400);
    expect(fake.responses('cmd2')).toHaveLength(0);
  });
});

describe('button click', () => {
  it('reaches the action listener, whose client.chat.update edits the card in the fake', async () => {
    const card = await app.client.chat.postMessage({
      channel: CHANNEL,
      text: 'Go / no-go for api-v2',
      blocks: [{ type: 'actions', block_id: 'decision', elements: [{ type: 'button', action_id: 'approve', value: 'go', text: { type: 'plain_text', text: 'Go' } }] }],
    });
    const ts = card.ts ?? '';
    const body = blockAction({ user: 'U0ALICE', channel: CHANNEL, actionId: 'approve', value: 'go', blockId: 'decision', messageTs: ts, responseUrl: fake.responseUrl() });

    const res = await postToSlackEndpoint(eventsUrl(), body, { secret: SECRET });
    expect(res.status).toBe(200);
    const update = await fake.waitFor((f) => f.callsTo('chat.update')[0]);
    expect(update.authorization).toBe(`Bearer ${fake.token}`);
    expect(fake.message(CHANNEL, ts)).toMatchObject({ text: 'Approved by <@U0ALICE>', blocks: [], edits: 1 });
    expect(invoked).toEqual(['action:go']);
  });
});

describe('request verification', () => {
  // After each refused request a good one is sent and awaited: once its reply is in, Bolt has
  // long finished with the refused one, so "not invoked" is proven without sleeping.
  async function barrier(): Promise<void> {
    expect(await signedCommand('barrier', 'barrier')).toBe(200);
    await fake.waitFor((f) => f.responses('barrier').length > 0);
  }

  it('a bad signature gets 401 with an empty body and reaches no listener', async () => {
    const body = slashCommand({ text: 'forged', response_url: fake.responseUrl('forged') });
    const res = await postToSlackEndpoint(eventsUrl(), body, { secret: SECRET, signature: `v0=${'0'.repeat(64)}` });
    expect([res.status, res.body]).toEqual([401, '']);
    const wrongSecret = await postToSlackEndpoint(eventsUrl(), body, { secret: 'not-the-secret' });
    expect(wrongSecret.status).toBe(401);
    await barrier();
    expect(invoked).toEqual(['command:barrier']);
    expect(logger.lines.some((l) => l.level === 'warn' && l.text.includes('signature mismatch'))).toBe(true);
  });

  it('a timestamp 6 minutes old gets 401 and reaches no listener', async () => {
    const body = blockAction({ user: 'U0ALICE', channel: CHANNEL, actionId: 'approve', value: 'replayed' });
    const res = await postToSlackEndpoint(eventsUrl(), body, { secret: SECRET, timestamp: nowSeconds() - 6 * 60 });
    expect(res.status).toBe(401);
    await barrier();
    expect(invoked).toEqual(['command:barrier']);
    expect(logger.lines.some((l) => l.text.includes('stale'))).toBe(true);
  });

  it('Bolt does not refuse a timestamp in the future (only the past is checked)', async () => {
    expect((await postToSlackEndpoint(eventsUrl(), slashCommand({ text: 'future', response_url: fake.responseUrl('f') }), { secret: SECRET, timestamp: nowSeconds() + 6 * 60 })).status).toBe(200);
    await fake.waitFor((f) => f.responses('f').length > 0);
  });

  it('trap: a charset on the content type passes the signature check but fails parsing (400)', async () => {
    const body = slashCommand({ text: 'charset', response_url: fake.responseUrl('charset') });
    const res = await postToSlackEndpoint(eventsUrl(), body, { secret: SECRET, contentType: 'application/x-www-form-urlencoded;charset=UTF-8' });
    expect(res.status).toBe(400);
    await barrier();
    expect(invoked).toEqual(['command:barrier']);
  });
});
