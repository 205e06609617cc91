// Every Slack listener of the bot, registered on one Bolt app.
import type { App } from '@slack/bolt';
import { register as registerButtons } from './buttons.ts';
import type { ListenerDeps } from './common.ts';
import { register as registerSlash } from './slash.ts';
import { Home, register as registerHome } from './home.ts';

export type { CommandDeps, ListenerDeps, Work } from './common.ts';
export { perform } from './work.ts';
export { Home };

/** Listeners that need more than a hand-over: the App Home. */
export interface Surfaces {
  readonly home?: Home;
}

export function register(app: App, deps: ListenerDeps, surfaces: Surfaces = {}): void {
  registerSlash(app, deps);
  registerButtons(app, deps);
  if (surfaces.home) registerHome(app, surfaces.home, deps.log);
}
