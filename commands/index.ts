// Every Slack listener of the bot, registered on one Bolt app.
import type { App } from '@slack/bolt';
import { register as registerButtons } from './buttons.ts';
import type { ListenerDeps } from './common.ts';
import { register as registerSlash } from './slash/listen.ts';
import { Home, register as registerHome } from './home.ts';
import { StartDialog, register as registerStartDialog } from './start-dialog.ts';

export type { CommandDeps, ListenerDeps, Work } from './common.ts';
export { perform } from './work.ts';
export { Home, StartDialog };

/** Listeners that need more than a hand-over: the App Home and the start dialog. */
export interface Surfaces {
  /** What publishes a person's Home view when they open it. */
  readonly home?: Pick<Home, 'opened'>;
  readonly startDialog?: StartDialog;
}

export function register(app: App, deps: ListenerDeps, surfaces: Surfaces = {}): void {
  const dialog = surfaces.startDialog;
  registerSlash(app, dialog ? { ...deps, startDialog: (args) => dialog.open(args) } : deps);
  registerButtons(app, deps);
  if (surfaces.home) registerHome(app, surfaces.home, deps.log);
  if (dialog) registerStartDialog(app, dialog, deps.log);
}
