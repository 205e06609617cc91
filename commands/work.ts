// The work of a command or a click, once handed over: guarded, so a failure becomes a reply that
// says what it means (the state store is away; something went wrong, nothing was changed).
import { guarded, type CommandDeps, type Reply, type Work } from './common.ts';
import { runClick } from './buttons.ts';
import { runSlash } from './slash/index.ts';

export async function perform(deps: CommandDeps, work: Work): Promise<Reply> {
  if (work.kind === 'slash') {
    deps.log.info({ command: work.command, kind: work.request.kind, user: work.asker.user, channel: work.asker.channel }, 'slash command');
    return guarded(deps, `${work.command} ${work.request.kind}`, () => runSlash(deps, work.request, work.asker));
  }
  deps.log.info({ action: work.action, user: work.user, channel: work.channel }, 'button click');
  return guarded(deps, `click ${work.action}`, () => runClick(deps, work.action, work.value, work.user, work.channel));
}
