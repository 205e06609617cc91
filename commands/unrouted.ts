// What none of the bot's listeners takes still gets its answer at once, never Bolt's 404 after 3 s:
// a click on a button an older version of the bot drew (the everyday case after an upgrade), a
// slash command not in the form Slack sends, a payload shaped like nothing Slack sends. The App
// (src/app/unanswered.ts) asks `unreadable` before its listeners see a request, and calls
// `turnAway` for one they could not read or did not ack. Each is logged once, at warn, by its
// shape: never the payload itself, which carries a response_url (a key to post into the channel for
// half an hour) and a verification token.
import type { webApi } from '@slack/bolt';
import type { Logger } from '../src/log.ts';
import { STALE_BUTTON, UNREADABLE_COMMAND } from '../templates/replies.ts';
import { answer, ephemeral } from './common.ts';
import { postResponse } from './respond.ts';

type Fields = Readonly<Record<string, unknown>>;

const kind = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
// Bodies parsed from a form have no prototype: only typeof and Object.keys are used on them.
const isObject = (value: unknown): value is Fields => kind(value) === 'object';
const clip = (text: string, max = 80): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const named = (value: unknown): string => (typeof value === 'string' ? clip(value) : `(${kind(value)})`);

/**
 * What a log line may say about a request: its kind, the names of its fields, and of the values
 * only the command, the payload's type and the action_id (what the person used, never what it carried).
 */
export function shapeOf(body: unknown): Record<string, unknown> {
  if (!isObject(body)) return { body: kind(body) };
  const keys = Object.keys(body)
    .slice(0, 20)
    .map((key) => clip(key, 40));
  if (body.command !== undefined) return { body: 'command', command: named(body.command), text: kind(body.text), keys };
  const { actions } = body;
  const first: unknown = Array.isArray(actions) ? actions[0] : undefined;
  return {
    body: 'payload',
    type: named(body.type),
    ...(actions === undefined ? {} : { actions: Array.isArray(actions) ? actions.length : kind(actions) }),
    ...(isObject(first) ? { action_id: named(first.action_id) } : {}),
    keys,
  };
}

/** The fields a slash command's listener reads: Slack always sends each, once. */
const COMMAND_FIELDS = ['command', 'text', 'user_id', 'channel_id', 'response_url'] as const;

/**
 * Why the bot's listeners could not read this request (it is not in the form Slack sends), or null.
 * A slash command with no `text` or two of them, a click whose `actions` holds no action: Slack
 * never sends these, and a listener would fail on them before it could ack.
 */
export function unreadable(body: unknown): string | null {
  if (!isObject(body)) return 'not a JSON object';
  if (body.command !== undefined) {
    const missing = COMMAND_FIELDS.find((field) => typeof body[field] !== 'string');
    return missing ? `${missing} is not one string` : null;
  }
  if (body.actions !== undefined) {
    const first: unknown = Array.isArray(body.actions) ? body.actions[0] : undefined;
    if (!isObject(first)) return 'actions holds no action';
    if (first.action_id !== undefined && typeof first.action_id !== 'string') return 'action_id is not a string';
    if (!isObject(body.user)) return 'no user';
  }
  return null;
}

export interface TurnAwayDeps {
  readonly log: Logger;
  /** For a click with no response_url: chat.postEphemeral. */
  readonly client: webApi.WebClient;
}

/**
 * Acks a request no listener takes (a slash command with a sentence saying so), logs it once, and
 * tells the person who clicked a button that it is no longer valid.
 */
export async function turnAway(body: unknown, ack: (response?: unknown) => Promise<void>, why: string, deps: TurnAwayDeps): Promise<void> {
  const fields: Fields = isObject(body) ? body : {};
  deps.log.warn({ ...shapeOf(body), why }, 'turned away a request no listener takes');
  await ack(fields.command !== undefined ? ephemeral(UNREADABLE_COMMAND) : undefined);
  if (fields.type === 'block_actions' || fields.type === 'interactive_message') await tellClicker(fields, deps);
}

const idOf = (value: unknown): string | undefined => (isObject(value) && typeof value.id === 'string' ? value.id : undefined);

async function tellClicker(body: Fields, deps: TurnAwayDeps): Promise<void> {
  const url = body.response_url;
  if (typeof url === 'string') return answer((message) => postResponse(url, message), STALE_BUTTON, deps.log);
  const channel = idOf(body.channel);
  const user = idOf(body.user);
  if (channel && user) return answer((message) => deps.client.chat.postEphemeral({ channel, user, text: message.text }), STALE_BUTTON, deps.log);
}
