// `/cutover hold [<plan>] [reason]`: stop moving traffic; the canary keeps being watched.
import { withReason } from '../parse.ts';
import { actWithReason } from './act.ts';
import { slashCommand } from './command.ts';

export const hold = slashCommand<{ readonly kind: 'hold'; readonly words: readonly string[] }>({
  invoked: { command: '/cutover', word: 'hold' },
  parse: (words) => withReason('hold', words, 'hold'),
  run: (deps, request, asker) => actWithReason(deps, asker, 'hold', request.words),
});
