// A person's command as the drivers hand it to the engine, and the engine's refusals: the machine's
// own refusals plus the two only the engine can know (no such cutover; the service is taken).
import type { CommandEvent, Refusal } from './state.ts';

export type EngineRefusal =
  | Refusal
  | { readonly code: 'no_cutover'; readonly action: string }
  /** `service`: the service key whose slot the running cutover holds (a train's may be any of its targets). */
  | { readonly code: 'already_running'; readonly action: 'start'; readonly running: string; readonly service?: string };

/** A person's command, before their roles are known. */
export type Command = { readonly [K in CommandEvent['type']]: Omit<Extract<CommandEvent, { type: K }>, 'actor'> & { readonly by: string } }[CommandEvent['type']];

