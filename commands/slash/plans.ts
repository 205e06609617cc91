// `/cutover plans`: the plans in the plans folder, valid or not, and which are running.
import { plansList } from '../../templates/replies.ts';
import { fail } from '../parse.ts';
import { slashCommand } from './command.ts';

export const plans = slashCommand<{ readonly kind: 'plans' }>({
  invoked: { command: '/cutover', word: 'plans' },
  parse: (words) => (words.length ? fail('/cutover plans takes nothing after it.', 'plans') : { ok: true, request: { kind: 'plans' } }),
  run: async (deps) => {
    const [files, running, folder] = await Promise.all([deps.catalog.list(), deps.engine.active(), deps.catalog.folder()]);
    const listed = await Promise.all(
      files.map(async ({ name }) => {
        const loaded = await deps.catalog.load(name);
        return loaded.ok ? { name, plan: loaded.plan, errors: 0 } : { name, plan: null, errors: loaded.errors.length };
      }),
    );
    return plansList(listed, running, folder);
  },
});
