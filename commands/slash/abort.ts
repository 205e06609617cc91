// `/cutover abort [<plan>] [reason]`: end a cutover before any traffic has moved.
import { withReason } from '../parse.ts';
import { actWithReason } from './act.ts';
import { slashCommand } from './command.ts';

export const abort = slashCommand<{ readonly kind: 'abort'; readonly words: readonly string[] }>({
  invoked: { command: '/cutover', word: 'abort' },
  parse: (words) => withReason('abort', words, 'abort'),
  run: (deps, request, asker) => actWithReason(deps, asker, 'abort', request.words),
});
