// `/promote [<plan>]`: on to the next cohort, once the soak is clean.
import { optionalPlan } from '../parse.ts';
import { act } from './act.ts';
import { slashCommand } from './command.ts';

export const promote = slashCommand<{ readonly kind: 'promote'; readonly plan?: string }>({
  invoked: { command: '/promote' },
  parse: (words) => optionalPlan('promote', words, 'promote'),
  run: async (deps, request, asker) => act(deps, await deps.engine.active(), asker, request.plan, 'promote', { type: 'promote', by: asker.user }),
});
