// `/cutover help` (and `/cutover` alone): what the bot can do.
import { HELP } from '../../templates/replies.ts';
import { fail } from '../parse.ts';
import { slashCommand } from './command.ts';

export const help = slashCommand<{ readonly kind: 'help' }>({
  invoked: { command: '/cutover', word: 'help' },
  parse: (words) => (words.length ? fail('/cutover help takes nothing after it.', 'help') : { ok: true, request: { kind: 'help' } }),
  run: async () => HELP,
});
