// `/cutover resume [<plan>]`: a held cutover goes on from where it was held.
import { optionalPlan } from '../parse.ts';
import { act } from './act.ts';
import { slashCommand } from './command.ts';

export const resume = slashCommand<{ readonly kind: 'resume'; readonly plan?: string }>({
  invoked: { command: '/cutover', word: 'resume' },
  parse: (words) => optionalPlan('resume', words, 'resume'),
  run: async (deps, request, asker) => act(deps, await deps.engine.active(), asker, request.plan, 'resume', { type: 'resume', by: asker.user }),
});
