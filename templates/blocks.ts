// Small Block Kit builders shared by the Slack templates, and the text hygiene Slack needs:
// escaping, mentions, dates, and clipping to the limits Slack enforces (a message over a limit is
// refused whole with `invalid_blocks`, so every piece of free text is clipped on the way in).
import type { types } from '@slack/bolt';
import { isoMinute } from './words.ts';

export type Block = types.KnownBlock;

/** A message as the Web API takes it: `text` is the notification and screen-reader fallback. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly Block[];
}

/** Slack's limits that the templates work against (docs/slack notes; the test fake checks them). */
export const LIMIT = {
  blocks: 50,
  header: 150,
  section: 3_000,
  field: 2_000,
  context: 2_000,
  button: 75,
  /** A markdown block may hold 12,000 characters, but messages fail near 13k of blocks in all. */
  markdown: 10_000,
  /** Plain message text is allowed 40,000; past ~4,000 Slack folds it away. */
  text: 3_000,
} as const;

/** Slack's three control characters; anything a person or a gate wrote goes through this. */
export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * `text` cut to at most `max` UTF-16 units, ending in "…" when cut. Never splits a surrogate pair
 * or an escaped entity, so the result is still valid text for Slack.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.replace(/&[a-z]{0,4}$/, '');
  return `${cut}…`;
}

/** Like clip, but cuts at a line boundary and says where the rest is. */
export function clipLines(text: string, max: number, rest: string): string {
  if (text.length <= max) return text;
  const note = `\n… ${rest}`;
  const head = text.slice(0, Math.max(0, max - note.length));
  const lastBreak = head.lastIndexOf('\n');
  return `${lastBreak > 0 ? head.slice(0, lastBreak) : head}${note}`;
}

/** `<@U…>` for people, `<!subteam^S…>` for user groups, `<#C…>` for channels. */
export function mention(id: string): string {
  if (/^[UW][A-Z0-9]+$/.test(id)) return `<@${id}>`;
  if (/^S[A-Z0-9]+$/.test(id)) return `<!subteam^${id}>`;
  if (/^[CG][A-Z0-9]+$/.test(id)) return `<#${id}>`;
  return escape(id);
}

/**
 * A date Slack renders in each reader's own time zone; the fallback is UTC. `time` shows the
 * time of day alone ("15:47 UTC" as fallback).
 */
export function slackDate(ms: number, format: 'full' | 'time' = 'full'): string {
  const text = isoMinute(ms);
  const [token, fallback] = format === 'time' ? ['{time}', text.slice(text.indexOf(' ') + 1)] : ['{date_short_pretty} {time_secs}', text];
  return `<!date^${Math.floor(ms / 1000)}^${token}|${fallback}>`;
}

export const header = (text: string): Block => ({ type: 'header', text: { type: 'plain_text', text: clip(text, LIMIT.header), emoji: true } });

export const section = (mrkdwn: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text: clip(mrkdwn, LIMIT.section) } });

export const fields = (pairs: ReadonlyArray<readonly [string, string]>): Block => ({
  type: 'section',
  fields: pairs.slice(0, 10).map(([name, value]) => ({ type: 'mrkdwn', text: clip(`*${name}*\n${value}`, LIMIT.field) })),
});

export const context = (mrkdwn: string): Block => ({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(mrkdwn, LIMIT.context) }] });

export const markdown = (text: string): Block => ({ type: 'markdown', text });

