// The fake Slack Web API driven by the real WebClient (the one @slack/bolt ships and uses).
import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordingLogger } from '../support/slack-logger.ts';
import { startFakeSlack, type FakeSlack } from './slack-api.ts';

const { WebClient, WebClientEvent, WebAPIPlatformError, WebAPIHTTPError } = webApi;
type Client = InstanceType<typeof WebClient>;

const CHANNEL = 'C0CUTOVER';
const FAST_RETRIES = { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 };

let fake: FakeSlack;

/** `null`: no token at all. */
function client(token: string | null = fake.token): Client {
  return new WebClient(token ?? undefined, { slackApiUrl: fake.apiUrl, logger: recordingLogger(), retryConfig: FAST_RETRIES });
}

/** The Slack error code of a rejected WebClient call (fails the test if it was not a platform error). */
async function platformError(call: Promise<unknown>): Promise<{ error: string; messages: string[] | undefined }> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof WebAPIPlatformError)) throw new Error(`expected a platform error, got ${String(error)}`);
  return { error: error.data.error, messages: error.data.response_metadata?.messages };
}

beforeAll(async () => {
  fake = await startFakeSlack({ usergroups: { S0ONCALL: ['U0ALICE', 'U0BOB'] } });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});

describe('messages', () => {
  it('posts, edits in place, threads and whispers like Slack', async () => {
    const web = client();
    const card = await web.chat.postMessage({ channel: CHANNEL, text: 'Cutover api-v2: stage 1 🟢' });
    expect(card).toMatchObject({ ok: true, channel: CHANNEL, message: { text: 'Cutover api-v2: stage 1 🟢', user: 'U0BOT', bot_id: 'B1' } });
    const cardTs = card.ts ?? '';
    expect(cardTs).toMatch(/^\d{10}\.\d{6}$/);

    const reply = await web.chat.postMessage({ channel: CHANNEL, thread_ts: cardTs, text: 'gate p99 ok' });
    // A reply to a reply lands in the root's thread, as in Slack.
    const nested = await web.chat.postMessage({ channel: CHANNEL, thread_ts: reply.ts ?? '', text: 'detail' });
    expect(Number(reply.ts)).toBeGreaterThan(Number(cardTs));
    expect(Number(nested.ts)).toBeGreaterThan(Number(reply.ts));

    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Stage 2* 🟡' } }];
    const edited = await web.chat.update({ channel: CHANNEL, ts: cardTs, text: 'Cutover api-v2: stage 2 🟡', blocks });
    expect(edited).toMatchObject({ ok: true, ts: cardTs, text: 'Cutover api-v2: stage 2 🟡' });

    await web.chat.postEphemeral({ channel: CHANNEL, user: 'U0ALICE', text: 'only you can see this' });

    expect(fake.channelMessages(CHANNEL).map((m) => m.ts)).toEqual([cardTs]);
    expect(fake.thread(CHANNEL, cardTs).map((m) => m.text)).toEqual(['gate p99 ok', 'detail']);
    expect(fake.message(CHANNEL, cardTs)).toMatchObject({ text: 'Cutover api-v2: stage 2 🟡', blocks, edits: 1 });
    expect(fake.message(CHANNEL, cardTs)?.history).toEqual([{ text: 'Cutover api-v2: stage 1 🟢', blocks: [], attachments: [] }]);
    expect(fake.ephemerals).toMatchObject([{ channel: CHANNEL, user: 'U0ALICE', text: 'only you can see this' }]);

    // chat.update without blocks keeps them; [] clears them.
    await web.chat.update({ channel: CHANNEL, ts: cardTs, text: 'text only' });
    expect(fake.message(CHANNEL, cardTs)).toMatchObject({ text: 'text only', blocks, edits: 2 });
    await web.chat.update({ channel: CHANNEL, ts: cardTs, text: 'cleared', blocks: [] });
    expect(fake.message(CHANNEL, cardTs)?.blocks).toEqual([]);

    const link = await web.chat.getPermalink({ channel: CHANNEL, message_ts: reply.ts ?? '' });
    expect(link.permalink).toContain(`/archives/${CHANNEL}/p${(reply.ts ?? '').replace('.', '')}?thread_ts=${cardTs}`);
    expect((await web.conversations.info({ channel: CHANNEL })).channel).toMatchObject({ id: CHANNEL, is_member: true });

    expect(await platformError(web.chat.update({ channel: CHANNEL, ts: '1.000000', text: 'x' }))).toMatchObject({ error: 'message_not_found' });
    expect(await platformError(web.chat.postMessage({ channel: CHANNEL } as never))).toMatchObject({ error: 'no_text' });
  });

  it('records each call with its parsed body and the Authorization header apart', async () => {
    await client().chat.postMessage({ channel: CHANNEL, text: 'hi', blocks: [{ type: 'divider' }] });
    const [call] = fake.callsTo('chat.postMessage');
    // The WebClient form-encodes blocks as a JSON string; the fake decodes it.
    expect(call?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(call?.body).toMatchObject({ channel: CHANNEL, text: 'hi', blocks: [{ type: 'divider' }] });
    expect(call?.authorization).toBe(`Bearer ${fake.token}`);
    expect(call?.headers).not.toHaveProperty('authorization');
  });

  it('accepts JSON bodies too', async () => {
    const res = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${fake.token}` },
      body: JSON.stringify({ channel: CHANNEL, text: 'json', blocks: [{ type: 'divider' }] }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: CHANNEL });
    expect(fake.channelMessages(CHANNEL)).toMatchObject([{ text: 'json', blocks: [{ type: 'divider' }] }]);
  });

  it('answers unknown_method for methods it does not model', async () => {
    expect(await platformError(client().apiCall('chat.scheduleMessage', { channel: CHANNEL }))).toMatchObject({ error: 'unknown_method' });
  });
});

describe('auth', () => {
  it('refuses a wrong token (invalid_auth) and a missing one (not_authed), surfaced by the WebClient', async () => {
    expect(await platformError(client('xoxb-wrong').chat.postMessage({ channel: CHANNEL, text: 'x' }))).toMatchObject({ error: 'invalid_auth' });
    expect(await platformError(client(null).auth.test())).toMatchObject({ error: 'not_authed' });
    expect(fake.messages).toHaveLength(0);
    expect(await client().auth.test()).toMatchObject({ ok: true, user_id: 'U0BOT', bot_id: 'B1' });
  });
});

describe('usergroups.users.list', () => {
  it('lists configured members and refuses unknown groups', async () => {
    expect((await client().usergroups.users.list({ usergroup: 'S0ONCALL' })).users).toEqual(['U0ALICE', 'U0BOB']);
    expect(await platformError(client().usergroups.users.list({ usergroup: 'S0NOPE' }))).toMatchObject({ error: 'no_such_subteam' });
  });
});

describe('files.uploadV2', () => {
  it('uploads the bytes and shares the files in the thread', async () => {
    const web = client();
    const card = await web.chat.postMessage({ channel: CHANNEL, text: 'Cutover done 🟢' });
    const evidence = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff, 0x10]); // binary, not text
    const result = await web.files.uploadV2({
      channel_id: CHANNEL,
      thread_ts: card.ts ?? '',
      initial_comment: 'Evidence package',
      file_uploads: [
        { file: evidence, filename: 'evidence.zip', title: 'Evidence' },
        // A `file` string is a PATH to read; text goes in `content`.
        { content: 'stage,result\n1,ok\n', filename: 'summary.csv', title: 'Summary' },
      ],
    });
    expect(result.ok).toBe(true);

    expect(fake.calls.map((c) => c.method)).toEqual([
      'chat.postMessage',
      'files.getUploadURLExternal',
      'files.getUploadURLExternal',
      'upload',
      'upload',
      'files.completeUploadExternal',
    ]);
    const zip = fake.files.find((f) => f.filename === 'evidence.zip');
    const csv = fake.files.find((f) => f.filename === 'summary.csv');
    expect(zip).toMatchObject({ title: 'Evidence', completed: true, channel: CHANNEL, thread_ts: card.ts, length: evidence.length });
    expect(zip?.content?.equals(evidence)).toBe(true);
    expect(csv?.content?.toString('utf8')).toBe('stage,result\n1,ok\n');

    const [share] = fake.thread(CHANNEL, card.ts ?? '');
    expect(share).toMatchObject({ text: 'Evidence package', files: [zip?.id, csv?.id] });
  });
});

describe('Block Kit through the WebClient', () => {
  it('surfaces invalid_blocks as a thrown platform error with Slack-style messages', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3_001) } }];
    const problem = await platformError(client().chat.postMessage({ channel: CHANNEL, text: 'too long', blocks }));
    expect(problem).toEqual({ error: 'invalid_blocks', messages: ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]'] });
    expect(fake.messages).toHaveLength(0);
  });

  it('checks chat.update and chat.postEphemeral too', async () => {
    const web = client();
    const card = await web.chat.postMessage({ channel: CHANNEL, text: 'card' });
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    expect(await platformError(web.chat.update({ channel: CHANNEL, ts: card.ts ?? '', text: 'x', blocks: tooMany }))).toMatchObject({ error: 'invalid_blocks' });
    expect(fake.message(CHANNEL, card.ts ?? '')?.edits).toBe(0);
    const huge = Array.from({ length: 20 }, () => ({ type: 'section', text: { type: 'mrkdwn', text: 'y'.repeat(2_500) } }));
    expect(await platformError(web.chat.postEphemeral({ channel: CHANNEL, user: 'U0ALICE', text: 'x', blocks: huge }))).toMatchObject({ error: 'msg_blocks_too_long' });
  });
});

describe('fault injection', () => {
  it('429 with Retry-After: the WebClient waits that long, retries and succeeds', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const web = client();
    const rateLimited: number[] = [];
    web.on(WebClientEvent.RATE_LIMITED, (seconds: number) => rateLimited.push(seconds));
    const started = performance.now();
    const res = await web.chat.postMessage({ channel: CHANNEL, text: 'after the limit' });
    const elapsed = performance.now() - started;

    expect(res.ok).toBe(true);
    expect(rateLimited).toEqual([1]);
    expect(elapsed).toBeGreaterThanOrEqual(990); // timers may fire a hair early
    const calls = fake.callsTo('chat.postMessage');
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(990);
    expect(fake.channelMessages(CHANNEL)).toHaveLength(1);
  });

  it('HTTP 500: the WebClient retries per retryConfig, then gives up with an HTTP error', async () => {
    fake.failNext('chat.postMessage', { status: 500 }, 2);
    expect((await client().chat.postMessage({ channel: CHANNEL, text: 'third time' })).ok).toBe(true);
    expect(fake.callsTo('chat.postMessage').map((c) => c.status)).toEqual([500, 500, 200]);

    fake.reset();
    fake.failNext('chat.postMessage', { status: 503 }, 3);
    const error: unknown = await client().chat.postMessage({ channel: CHANNEL, text: 'never' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebAPIHTTPError);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(3); // 1 + retries: 2
  });

  it('a Slack error answer is not retried', async () => {
    fake.failNext('chat.update', { error: 'cant_update_message' });
    fake.failNext('*', { error: 'fatal_error' });
    expect(await platformError(client().chat.update({ channel: CHANNEL, ts: '1.0', text: 'x' }))).toMatchObject({ error: 'cant_update_message' });
    expect(await platformError(client().auth.test())).toMatchObject({ error: 'fatal_error' });
    expect(fake.calls.map((c) => c.fault)).toEqual([{ error: 'cant_update_message' }, { error: 'fatal_error' }]);
    expect((await client().auth.test()).ok).toBe(true);
  });

  it('setLatency delays every answer', async () => {
    fake.setLatency(150);
    const started = performance.now();
    await client().auth.test();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('response_url', () => {
  async function reply(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json() };
  }

  it('records replies per id, checks blocks and allows 5 uses', async () => {
    const url = fake.responseUrl('cmd1');
    expect(url).toBe(`${fake.baseUrl}/response/cmd1`);
    expect(await reply(url, { text: 'working…', response_type: 'ephemeral' })).toEqual({ status: 200, json: { ok: true } });
    expect(await reply(url, { text: 'done', replace_original: true })).toMatchObject({ status: 200 });
    expect(fake.responses('cmd1')).toMatchObject([
      { id: 'cmd1', text: 'working…', response_type: 'ephemeral' },
      { id: 'cmd1', text: 'done', replace_original: true },
    ]);

    expect(await reply(url, { blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] })).toMatchObject({
      status: 400,
      json: { ok: false, error: 'invalid_blocks' },
    });
    expect(await reply(url, { response_type: 'ephemeral' })).toMatchObject({ status: 400, json: { error: 'no_text' } });
    await reply(url, { delete_original: true });
    await reply(url, { text: '4' });
    await reply(url, { text: '5' });
    expect(await reply(url, { text: '6' })).toMatchObject({ status: 404, json: { error: 'used_url' } });
    expect(fake.responses('cmd1')).toHaveLength(5);
    expect(fake.responses()).toHaveLength(5);
  });
});

describe('waitFor', () => {
  it('resolves when a later call makes the predicate true, without polling', async () => {
    const web = client();
    const seen = fake.waitFor((f) => f.channelMessages(CHANNEL).find((m) => m.text === 'second'));
    await web.chat.postMessage({ channel: CHANNEL, text: 'first' });
    await web.chat.postMessage({ channel: CHANNEL, text: 'second' });
    expect(await seen).toMatchObject({ text: 'second', channel: CHANNEL });
    // Already true: resolves at once.
    expect(await fake.waitFor((f) => f.messages.length === 2)).toBe(true);
  });

  it('rejects on timeout naming the last calls', async () => {
    await client().chat.postMessage({ channel: CHANNEL, text: 'only this' });
    await expect(fake.waitFor((f) => f.message(CHANNEL, 'nope'), { timeoutMs: 50 })).rejects.toThrow(
      /timed out after 50 ms; last 1 of 1 calls:\n {2}chat\.postMessage → 200 ok .*only this/,
    );
  });

  it('passes predicate errors through', async () => {
    await expect(
      fake.waitFor(() => {
        throw new Error('bad predicate');
      }),
    ).rejects.toThrow('bad predicate');
  });
});
