// What a slash command is: how Slack delivers it, how its words are read (pure, before the ack)
// and the work it does (in a `command` job, after the ack). Each command is one file in this
// folder, listed once in index.ts; its words for people are in templates/replies.ts.
import type { Asker, CommandDeps, Reply } from '../common.ts';
import type { Parsed } from '../parse.ts';

/** A slash command of its own (`/promote`), or a word after `/cutover`. */
export type Invocation = { readonly command: '/promote' | '/rollback' } | { readonly command: '/cutover'; readonly word: string };

export interface SlashCommand<R extends { readonly kind: string }> {
  readonly invoked: Invocation;
  parse(words: readonly string[]): Parsed<R>;
  run(deps: CommandDeps, request: R, asker: Asker): Promise<Reply>;
}

/** Declares a command, keeping its request type tied to its parser and its work. */
export const slashCommand = <R extends { readonly kind: string }>(command: SlashCommand<R>): SlashCommand<R> => command;
