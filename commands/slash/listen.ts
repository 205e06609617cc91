// The three slash commands' listeners. Each parses the text (pure: a malformed one, and help, are
// answered in the ack with nothing kept), keeps the request in Redis as a `command` job, and only
// then acks: an ack means the command survives this process dying. If Redis does not take it, the
// ack itself says nothing was changed. The job resolves which cutover is meant and asks the engine
// (`runSlash`). Nothing here waits on traffic or a gate.
import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { HELP, usageReply } from '../../templates/replies.ts';
import { ephemeral, keep, type Asker, type ListenerDeps } from '../common.ts';
import { parseSlash, SLASH_COMMANDS } from './index.ts';

export function register(app: App, deps: ListenerDeps): void {
  for (const name of SLASH_COMMANDS) {
    app.command(name, async (args: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
      const { command, ack } = args;
      // `/cutover start` alone opens the start dialog: its trigger_id lives 3 s, so here, not in a job.
      if (deps.startDialog && name === '/cutover' && /^\s*start\s*$/i.test(command.text ?? '')) return deps.startDialog(args);
      const parsed = parseSlash(name, command.text);
      if (!parsed.ok) {
        await ack(ephemeral(usageReply(parsed.problem, parsed.usage)));
        return;
      }
      // Help needs nothing from the store: it is the ack itself, and works even when Redis is away.
      if (parsed.request.kind === 'help') {
        await ack(ephemeral(HELP));
        return;
      }
      const asker: Asker = { user: command.user_id, channel: command.channel_id };
      const kept = await keep(deps, { kind: 'slash', command: name, request: parsed.request, asker }, command.response_url);
      await ack(kept.ok ? undefined : ephemeral(kept.reply));
    });
  }
}
