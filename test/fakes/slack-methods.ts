// Web API methods of the fake: each takes the parsed body and answers what Slack would.
// Only the fields a bot reads are returned; the model in slack-model.ts keeps the rest.
import { checkMessage, checkView, type BlockProblem } from './block-kit.ts';
import type { FakeMessage, FakeView, Json, SlackModel } from './slack-model.ts';

export interface MethodContext {
  model: SlackModel;
  botUserId: string;
  botId: string;
  teamId: string;
  usergroups: Readonly<Record<string, readonly string[]>>;
  /** id → name. Undefined: every channel id exists (named after its id). */
  channels: Readonly<Record<string, string>> | undefined;
  /** http://127.0.0.1:PORT, for URLs the fake hands out. */
  baseUrl: string;
}

export type MethodHandler = (body: Json, ctx: MethodContext) => Json;

const APP_ID = 'A0FAKEAPP';

export function fail(error: string, extra: Json = {}): Json {
  return { ok: false, error, ...extra };
}

export function blocked(problem: BlockProblem<string>): Json {
  return fail(problem.error, { response_metadata: { messages: problem.messages } });
}

/** Form bodies carry everything as strings; JSON bodies may carry numbers. */
function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function channelName(ctx: MethodContext, id: string): string | undefined {
  if (ctx.channels === undefined) return id.toLowerCase();
  return ctx.channels[id];
}

function slackMessage(m: FakeMessage, ctx: MethodContext): Json {
  return {
    type: 'message',
    user: m.user,
    bot_id: m.bot_id,
    app_id: APP_ID,
    team: ctx.teamId,
    text: m.text,
    ts: m.ts,
    ...(m.thread_ts !== undefined ? { thread_ts: m.thread_ts } : {}),
    ...(m.blocks.length > 0 ? { blocks: m.blocks } : {}),
    ...(m.attachments.length > 0 ? { attachments: m.attachments } : {}),
    ...(m.files.length > 0 ? { files: m.files.map((id) => ({ id })) } : {}),
  };
}

function postMessage(body: Json, ctx: MethodContext): Json {
  const channel = str(body.channel);
  if (channel === undefined || channelName(ctx, channel) === undefined) return fail('channel_not_found');
  const problem = checkMessage(body);
  if (problem) return blocked(problem);
  const { channel: _c, text, blocks, attachments, thread_ts: threadTs, token: _t, ...args } = body;
  const requestedThread = str(threadTs);
  const message: FakeMessage = {
    channel,
    ts: ctx.model.nextTs(),
    text: str(text) ?? '',
    blocks: list(blocks),
    attachments: list(attachments),
    edits: 0,
    history: [],
    user: ctx.botUserId,
    bot_id: ctx.botId,
    files: [],
    args,
  };
  if (requestedThread !== undefined) message.thread_ts = ctx.model.threadRoot(channel, requestedThread);
  ctx.model.messages.push(message);
  return { ok: true, channel, ts: message.ts, message: slackMessage(message, ctx) };
}

function update(body: Json, ctx: MethodContext): Json {
  const channel = str(body.channel);
  const ts = str(body.ts);
  if (channel === undefined || channelName(ctx, channel) === undefined) return fail('channel_not_found');
  const message = ts === undefined ? undefined : ctx.model.message(channel, ts);
  if (message === undefined) return fail('message_not_found');
  const problem = checkMessage(body);
  if (problem) return blocked(problem);
  message.history.push({ text: message.text, blocks: message.blocks, attachments: message.attachments });
  // Slack keeps fields chat.update omits; an empty array clears blocks/attachments.
  if (body.text !== undefined) message.text = str(body.text) ?? '';
  if (body.blocks !== undefined) message.blocks = list(body.blocks);
  if (body.attachments !== undefined) message.attachments = list(body.attachments);
  message.edits += 1;
  return { ok: true, channel, ts: message.ts, text: message.text, message: slackMessage(message, ctx) };
}

function postEphemeral(body: Json, ctx: MethodContext): Json {
  const channel = str(body.channel);
  const user = str(body.user);
  if (channel === undefined || channelName(ctx, channel) === undefined) return fail('channel_not_found');
  if (user === undefined) return fail('user_not_in_channel');
  const problem = checkMessage(body);
  if (problem) return blocked(problem);
  const messageTs = ctx.model.nextTs();
  const threadTs = str(body.thread_ts);
  ctx.model.ephemerals.push({
    channel,
    user,
    message_ts: messageTs,
    ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
    text: str(body.text) ?? '',
    blocks: list(body.blocks),
  });
  return { ok: true, message_ts: messageTs };
}

function getPermalink(body: Json, ctx: MethodContext): Json {
  const channel = str(body.channel);
  const ts = str(body.message_ts);
  if (channel === undefined || channelName(ctx, channel) === undefined) return fail('channel_not_found');
  const message = ts === undefined ? undefined : ctx.model.message(channel, ts);
  if (message === undefined) return fail('message_not_found');
  const base = `https://fake-workspace.slack.com/archives/${channel}/p${message.ts.replace('.', '')}`;
  const permalink = message.thread_ts === undefined ? base : `${base}?thread_ts=${message.thread_ts}&cid=${channel}`;
  return { ok: true, channel, permalink };
}

function conversationsInfo(body: Json, ctx: MethodContext): Json {
  const id = str(body.channel);
  const name = id === undefined ? undefined : channelName(ctx, id);
  if (id === undefined || name === undefined) return fail('channel_not_found');
  return {
    ok: true,
    channel: { id, name, is_channel: true, is_group: false, is_im: false, is_private: false, is_archived: false, is_member: true },
  };
}

function usergroupUsers(body: Json, ctx: MethodContext): Json {
  const id = str(body.usergroup);
  const users = id === undefined ? undefined : ctx.usergroups[id];
  if (users === undefined) return fail('no_such_subteam');
  return { ok: true, users: [...users] };
}

function getUploadUrl(body: Json, ctx: MethodContext): Json {
  const filename = str(body.filename);
  const length = Number(body.length);
  if (filename === undefined || !Number.isInteger(length) || length <= 0) return fail('invalid_arguments');
  // Slack documents `alt_txt`; @slack/web-api 8 sends `alt_text`. Either is kept; over 1,000 characters is refused.
  const alt = str(body.alt_txt) ?? str(body.alt_text);
  if (alt !== undefined && alt.length > 1000) return fail('alt_txt_too_large');
  const id = ctx.model.nextFileId();
  ctx.model.files.push({ id, filename, length, completed: false, ...(alt !== undefined ? { alt_text: alt } : {}) });
  return { ok: true, upload_url: `${ctx.baseUrl}/upload/${id}`, file_id: id };
}

function completeUpload(body: Json, ctx: MethodContext): Json {
  const entries = list(body.files);
  if (entries.length === 0) return fail('invalid_arguments');
  const channel = str(body.channel_id);
  if (channel !== undefined && channelName(ctx, channel) === undefined) return fail('channel_not_found');
  const targets = [];
  for (const entry of entries) {
    const id = typeof entry === 'object' && entry !== null && 'id' in entry ? str(entry.id) : undefined;
    const file = id === undefined ? undefined : ctx.model.file(id);
    // Slack only completes files whose bytes arrived on the upload URL.
    if (file === undefined || file.content === undefined || file.completed) {
      return fail('file_not_found', { response_metadata: { messages: [`[ERROR] file ${id ?? '?'} unknown, not uploaded or already completed`] } });
    }
    const title = typeof entry === 'object' && entry !== null && 'title' in entry ? str(entry.title) : undefined;
    targets.push({ file, title });
  }
  const threadTs = str(body.thread_ts);
  const comment = str(body.initial_comment);
  let sharedTs: string | undefined;
  if (channel !== undefined) {
    // Sharing posts a message carrying the files, in the channel or the thread.
    const message: FakeMessage = {
      channel,
      ts: ctx.model.nextTs(),
      text: comment ?? '',
      blocks: list(body.blocks),
      attachments: [],
      edits: 0,
      history: [],
      user: ctx.botUserId,
      bot_id: ctx.botId,
      files: targets.map((t) => t.file.id),
      args: {},
    };
    if (threadTs !== undefined) message.thread_ts = ctx.model.threadRoot(channel, threadTs);
    ctx.model.messages.push(message);
    sharedTs = message.ts;
  }
  for (const { file, title } of targets) {
    file.completed = true;
    file.title = title ?? file.filename;
    if (channel !== undefined) file.channel = channel;
    if (threadTs !== undefined) file.thread_ts = threadTs;
    if (comment !== undefined) file.initial_comment = comment;
    if (sharedTs !== undefined) file.shared_ts = sharedTs;
  }
  return {
    ok: true,
    files: targets.map(({ file }) => ({ id: file.id, name: file.filename, title: file.title, size: file.content?.length ?? 0 })),
  };
}

function viewOf(body: Json): Json | BlockProblem<'invalid_arguments'> {
  const raw = typeof body.view === 'string' ? (() => { try { return JSON.parse(body.view as string) as unknown; } catch { return undefined; } })() : body.view;
  const problem = checkView(raw);
  return problem ?? (raw as Json);
}

const isProblem = (v: unknown): v is BlockProblem<'invalid_arguments'> => typeof v === 'object' && v !== null && 'messages' in v && 'error' in v;

function publishView(body: Json, ctx: MethodContext): Json {
  const user = str(body.user_id);
  if (user === undefined) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: user_id'] } });
  const view = viewOf(body);
  if (isProblem(view)) return blocked(view);
  if (view.type !== 'home') return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] views.publish takes a home view [json-pointer:/view/type]'] } });
  ctx.model.homes.set(user, view);
  return { ok: true, view: { id: `VHOME${user}`, ...view } };
}

/** A trigger lives 3 s: the fake's triggers (test/support/slack-requests.ts) start with the ms they were made. */
const TRIGGER_LIFE_MS = 3_000;

function openView(body: Json, ctx: MethodContext): Json {
  const trigger = str(body.trigger_id);
  const made = trigger === undefined ? NaN : Number(trigger.split('.')[0]);
  if (!Number.isFinite(made)) return fail('invalid_trigger_id');
  if (Date.now() - made > TRIGGER_LIFE_MS) return fail('expired_trigger_id');
  const view = viewOf(body);
  if (isProblem(view)) return blocked(view);
  const id = ctx.model.nextViewId();
  const stored: FakeView = { id, hash: `${id}.1`, user: undefined, view, history: [] };
  ctx.model.views.set(id, stored);
  return { ok: true, view: { id, hash: stored.hash, ...view } };
}

function updateView(body: Json, ctx: MethodContext): Json {
  const id = str(body.view_id);
  const stored = id === undefined ? undefined : ctx.model.views.get(id);
  if (stored === undefined) return fail('not_found');
  const hash = str(body.hash);
  if (hash !== undefined && hash !== stored.hash) return fail('hash_conflict');
  const view = viewOf(body);
  if (isProblem(view)) return blocked(view);
  stored.history.push(stored.view);
  stored.view = view;
  stored.hash = `${stored.id}.${stored.history.length + 1}`;
  return { ok: true, view: { id: stored.id, hash: stored.hash, ...view } };
}

function authTest(_body: Json, ctx: MethodContext): Json {
  return {
    ok: true,
    url: 'https://fake-workspace.slack.com/',
    team: 'Fake Workspace',
    user: 'cutover-bot',
    team_id: ctx.teamId,
    user_id: ctx.botUserId,
    bot_id: ctx.botId,
    is_enterprise_install: false,
  };
}

export const METHODS: Readonly<Record<string, MethodHandler>> = {
  'auth.test': authTest,
  'chat.postMessage': postMessage,
  'chat.update': update,
  'chat.postEphemeral': postEphemeral,
  'chat.getPermalink': getPermalink,
  'conversations.info': conversationsInfo,
  'usergroups.users.list': usergroupUsers,
  'files.getUploadURLExternal': getUploadUrl,
  'files.completeUploadExternal': completeUpload,
  'views.publish': publishView,
  'views.open': openView,
  'views.update': updateView,
};
