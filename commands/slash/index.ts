// Every slash command, listed once. A new command is a file in this folder, a line here, and its
// words in templates/replies.ts; the listeners, the parsers and the command job take it from here.
import type { Asker, CommandDeps, Reply } from '../common.ts';
import { fail, shown, tokens, type Parsed } from '../parse.ts';
import { abort } from './abort.ts';
import { close } from './close.ts';
import type { SlashCommand } from './command.ts';
import { help } from './help.ts';
import { hold } from './hold.ts';
import { plans } from './plans.ts';
import { promote } from './promote.ts';
import { resume } from './resume.ts';
import { rollback } from './rollback.ts';
import { schedule } from './schedule.ts';
import { start } from './start.ts';
import { status } from './status.ts';

/** In the order `/cutover`'s words are offered to people. */
const COMMANDS = [start, schedule, status, hold, resume, abort, close, plans, help, promote, rollback] as const;

/** What a command's text reads as: one of the commands' requests. */
export type Request = (typeof COMMANDS)[number] extends infer C ? (C extends SlashCommand<infer R> ? R : never) : never;

/** The Slack slash commands the bot registers. */
export const SLASH_COMMANDS = ['/cutover', '/promote', '/rollback'] as const;
export type SlashCommandName = (typeof SLASH_COMMANDS)[number];

const words = COMMANDS.flatMap((c) => (c.invoked.command === '/cutover' ? [c.invoked.word] : []));
const byWord = new Map(COMMANDS.flatMap((c) => (c.invoked.command === '/cutover' ? [[c.invoked.word, c] as const] : [])));
const ownCommand = (name: SlashCommandName) => COMMANDS.find((c) => c.invoked.command === name && !('word' in c.invoked));
const byKind = new Map<string, SlashCommand<any>>(COMMANDS.map((c) => [kindOf(c), c]));

function kindOf(command: SlashCommand<any>): string {
  return 'word' in command.invoked ? command.invoked.word : command.invoked.command.slice(1);
}

/** `/cutover <word> …`: the word picks the command (none: help). */
export function parseCutover(text: string): Parsed<Request> {
  const [word, ...rest] = tokens(text);
  const command = byWord.get((word ?? 'help').toLowerCase());
  if (!command) return fail(`${shown(word ?? '')} is not a /cutover command: use ${words.slice(0, -1).join(', ')} or ${words.at(-1)}.`, 'help');
  return command.parse(rest) as Parsed<Request>;
}

/** The text of one of the bot's slash commands, read. */
export function parseSlash(name: SlashCommandName, text: string): Parsed<Request> {
  if (name === '/cutover') return parseCutover(text);
  return (ownCommand(name) as SlashCommand<Request>).parse(tokens(text));
}

export const parsePromote = (text: string): Parsed<Request> => parseSlash('/promote', text);
export const parseRollback = (text: string): Parsed<Request> => parseSlash('/rollback', text);

/**
 * The work of a slash command, done by a `command` job. The request is the one its command's
 * parser produced before the ack (kept in Redis since), found again by its kind.
 */
export function runSlash(deps: CommandDeps, request: { readonly kind: string }, asker: Asker): Promise<Reply> {
  const command = byKind.get(request.kind);
  if (!command) throw new Error(`no slash command "${request.kind}" in this bot`);
  return command.run(deps, request, asker);
}
