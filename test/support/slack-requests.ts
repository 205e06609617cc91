// Real, signed Slack requests (slash commands, button clicks) for a Bolt HTTP receiver.
//
// What Bolt 5.1 (@slack/bolt 5.1.0, @slack/web-api 8.2) does, read in its source and checked by
// test/fakes/slack-bolt.test.ts:
// - Custom routes: `new App({ signingSecret, token, port, customRoutes: [{ path: '/healthz',
//   method: ['GET'], handler: (req, res) => ... }] })`, or the same `customRoutes` on an explicit
//   `new HTTPReceiver({ signingSecret, customRoutes })` passed as `receiver` (App then ignores its own
//   `customRoutes`, `port` and `signingSecret`). Paths go through path-to-regexp (`/runs/:id` →
//   `req.params.id`). Events are only taken on POST `/slack/events` (`endpoints` to change it); any
//   other unmatched request gets 404, including a known path with the wrong method.
// - `app.start(0)` listens on a free port and resolves with the node http.Server (read the port from
//   `server.address()`); `app.stop()` closes it.
// - Signature or timestamp wrong → HTTP 401 with an empty body, before any middleware or listener;
//   Bolt logs a warning "Failed to verify authenticity: ...". Only timestamps more than 5 min in the
//   PAST are refused: Bolt does not check for timestamps in the future.
// - Content type is compared exactly: `application/x-www-form-urlencoded; charset=UTF-8` (what fetch
//   sends for a URLSearchParams body) passes the signature check, then the body is JSON.parse'd and
//   fails → HTTP 400. Send a string body with the header set by hand, as postToSlackEndpoint does.
// - With `processBeforeResponse: false` (the default) `ack()` writes HTTP 200 at once and the
//   listener carries on; with `true` the reply waits for the listener to finish (serverless only).
//   No ack within 3,001 ms → Bolt answers 404 itself.
// - `respond(x)` is a plain `fetch(response_url, { method: 'POST', headers: { 'Content-Type':
//   'application/json' }, body: JSON.stringify(x) })` (a string becomes `{ text }`), no token, via
//   `clientOptions.fetch` or the global fetch. A non-2xx answer throws RespondError (status in
//   `.statusCode`). So any URL works as response_url in tests: point it at the fake.
// - The listener's `client` is a WebClient built from `clientOptions`, so `slackApiUrl` reaches it.
//   Giving both `botId` and `botUserId` skips `auth.test`; without them Bolt calls it from the App
//   constructor (not from start()), so the API URL must already answer then.
// - The WebClient's files.uploadV2 treats a `file` STRING as a path to read; text goes in `content`.
import { createHmac } from 'node:crypto';

export interface SignedHeaders {
  'X-Slack-Signature': string;
  'X-Slack-Request-Timestamp': string;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Slack's v0 signature: `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{raw body}`). */
export function signSlackRequest(secret: string, body: string, timestamp: number = nowSeconds()): SignedHeaders {
  const digest = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'X-Slack-Signature': `v0=${digest}`, 'X-Slack-Request-Timestamp': String(timestamp) };
}

export interface SlashCommandFields {
  command: string;
  text: string;
  user_id: string;
  user_name: string;
  channel_id: string;
  channel_name: string;
  team_id: string;
  team_domain: string;
  response_url: string;
  trigger_id: string;
  api_app_id: string;
  token: string;
}

let triggerSeq = 0;
function triggerId(): string {
  triggerSeq += 1;
  return `${Date.now()}.${triggerSeq}.fake-trigger`;
}

/** A slash command's form body, as Slack posts it (defaults: `/cutover` by U0USER in C0CUTOVER). */
export function slashCommand(fields: Partial<SlashCommandFields> = {}): string {
  const all: SlashCommandFields = {
    command: '/cutover',
    text: '',
    user_id: 'U0USER',
    user_name: 'alice',
    channel_id: 'C0CUTOVER',
    channel_name: 'cutover',
    team_id: 'T0FAKE',
    team_domain: 'fake-workspace',
    response_url: 'http://127.0.0.1:9/response/unset',
    trigger_id: triggerId(),
    api_app_id: 'A0FAKEAPP',
    token: 'deprecated-verification-token',
    ...fields,
  };
  return new URLSearchParams({ ...all }).toString();
}

export interface BlockActionInput {
  /** Clicking user id. */
  user: string;
  userName?: string;
  /** Channel id of the message holding the button. */
  channel: string;
  channelName?: string;
  actionId: string;
  value: string;
  blockId?: string;
  /** ts of the message holding the button (the fake's ts, to have chat.update find it). */
  messageTs?: string;
  messageText?: string;
  messageBlocks?: unknown[];
  /** Button label. */
  text?: string;
  responseUrl?: string;
  teamId?: string;
}

/** A button click (`block_actions`) as Slack posts it: one form field `payload=<JSON>`. */
export function blockAction(input: BlockActionInput): string {
  const teamId = input.teamId ?? 'T0FAKE';
  const messageTs = input.messageTs ?? '1700000000.000100';
  const blockId = input.blockId ?? 'actions';
  const actionTs = (Date.now() / 1000).toFixed(6);
  const payload = {
    type: 'block_actions',
    user: { id: input.user, username: input.userName ?? 'alice', name: input.userName ?? 'alice', team_id: teamId },
    api_app_id: 'A0FAKEAPP',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: messageTs, channel_id: input.channel, is_ephemeral: false },
    trigger_id: triggerId(),
    team: { id: teamId, domain: 'fake-workspace' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channel, name: input.channelName ?? 'cutover' },
    message: {
      type: 'message',
      ts: messageTs,
      user: 'U0BOT',
      bot_id: 'B1',
      text: input.messageText ?? '',
      blocks: input.messageBlocks ?? [],
    },
    state: { values: {} },
    response_url: input.responseUrl ?? 'http://127.0.0.1:9/response/unset',
    actions: [
      {
        action_id: input.actionId,
        block_id: blockId,
        value: input.value,
        type: 'button',
        action_ts: actionTs,
        text: { type: 'plain_text', text: input.text ?? input.value, emoji: true },
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface PostOptions {
  secret: string;
  /** Seconds; sign with an old one to test staleness. Default now. */
  timestamp?: number;
  /** Replaces the computed signature (to test a bad one). */
  signature?: string;
  /** Default exactly `application/x-www-form-urlencoded` (Bolt compares it strictly). */
  contentType?: string;
}

export interface PostResult {
  status: number;
  body: string;
  elapsedMs: number;
}

/** POSTs `body` as a signed Slack request; the body stays a string so nothing rewrites the content type. */
export async function postToSlackEndpoint(url: string, body: string, options: PostOptions): Promise<PostResult> {
  const signed = signSlackRequest(options.secret, body, options.timestamp);
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': signed['X-Slack-Request-Timestamp'],
      'x-slack-signature': options.signature ?? signed['X-Slack-Signature'],
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text, elapsedMs: performance.now() - started };
}

/** An Events API callback (`app_home_opened`, …) as Slack posts it: JSON, signed like the rest. */
export function eventCallback(event: Record<string, unknown>, teamId = 'T0FAKE'): string {
  return JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: teamId,
    api_app_id: 'A0FAKEAPP',
    event: { event_ts: (Date.now() / 1000).toFixed(6), ...event },
    type: 'event_callback',
    event_id: `Ev${Date.now()}${++triggerSeq}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: teamId, user_id: 'U0BOT', is_bot: true }],
  });
}

/** The view as Slack sends it back with an interaction: its ids, and the values people entered. */
export interface ViewPayload {
  readonly id: string;
  readonly hash?: string;
  readonly callback_id?: string;
  readonly private_metadata?: string;
  readonly blocks?: unknown[];
  /** block_id → action_id → value, as Slack's `view.state.values`. */
  readonly values?: Record<string, Record<string, unknown>>;
}

function viewOf(view: ViewPayload, teamId: string): Record<string, unknown> {
  return {
    id: view.id,
    team_id: teamId,
    type: 'modal',
    callback_id: view.callback_id ?? '',
    private_metadata: view.private_metadata ?? '',
    hash: view.hash ?? `${view.id}.1`,
    blocks: view.blocks ?? [],
    state: { values: view.values ?? {} },
    title: { type: 'plain_text', text: 'view' },
  };
}

/** A modal submitted (`view_submission`): one form field `payload=<JSON>`. */
export function viewSubmission(input: { user: string; view: ViewPayload; teamId?: string }): string {
  const teamId = input.teamId ?? 'T0FAKE';
  const payload = {
    type: 'view_submission',
    team: { id: teamId, domain: 'fake-workspace' },
    user: { id: input.user, username: 'alice', name: 'alice', team_id: teamId },
    api_app_id: 'A0FAKEAPP',
    token: 'deprecated-verification-token',
    trigger_id: triggerId(),
    view: viewOf(input.view, teamId),
    response_urls: [],
    is_enterprise_install: false,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A select changed inside a modal (`block_actions` with a view container). */
export function viewAction(input: { user: string; view: ViewPayload; actionId: string; blockId: string; selected: string; teamId?: string }): string {
  const teamId = input.teamId ?? 'T0FAKE';
  const payload = {
    type: 'block_actions',
    user: { id: input.user, username: 'alice', name: 'alice', team_id: teamId },
    api_app_id: 'A0FAKEAPP',
    token: 'deprecated-verification-token',
    container: { type: 'view', view_id: input.view.id },
    trigger_id: triggerId(),
    team: { id: teamId, domain: 'fake-workspace' },
    is_enterprise_install: false,
    view: viewOf(input.view, teamId),
    actions: [
      {
        type: 'static_select',
        action_id: input.actionId,
        block_id: input.blockId,
        selected_option: { text: { type: 'plain_text', text: input.selected }, value: input.selected },
        action_ts: (Date.now() / 1000).toFixed(6),
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
