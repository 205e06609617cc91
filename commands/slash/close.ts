// `/cutover close [<plan>] [reason]`: end hypercare early, keeping the release.
import { withReason } from '../parse.ts';
import { actWithReason } from './act.ts';
import { slashCommand } from './command.ts';

export const close = slashCommand<{ readonly kind: 'close'; readonly words: readonly string[] }>({
  invoked: { command: '/cutover', word: 'close' },
  parse: (words) => withReason('close', words, 'close'),
  run: (deps, request, asker) => actWithReason(deps, asker, 'close', request.words),
});
