// Every Slack listener of the bot, registered on one Bolt app.
import type { App } from '@slack/bolt';
import { register as registerButtons } from './buttons.ts';
import type { ListenerDeps } from './common.ts';
import { register as registerSlash } from './slash/listen.ts';

export type { CommandDeps, ListenerDeps, Work } from './common.ts';
export { perform } from './work.ts';

export function register(app: App, deps: ListenerDeps): void {
  registerSlash(app, deps);
  registerButtons(app, deps);
}
