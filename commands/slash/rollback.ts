// `/rollback [<plan>] [reason]`: all traffic back to stable, verified.
import { withReason } from '../parse.ts';
import { actWithReason } from './act.ts';
import { slashCommand } from './command.ts';

export const rollback = slashCommand<{ readonly kind: 'rollback'; readonly words: readonly string[] }>({
  invoked: { command: '/rollback' },
  parse: (words) => withReason('rollback', words, 'rollback'),
  run: (deps, request, asker) => actWithReason(deps, asker, 'rollback', request.words),
});
