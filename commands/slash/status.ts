// `/cutover status [<plan>]`: the status card, without buttons, of a running or recently finished cutover.
import { statusCard } from '../../templates/card.ts';
import { unknownPlan } from '../../templates/replies.ts';
import { optionalPlan } from '../parse.ts';
import { resolveTarget } from '../target.ts';
import { slashCommand } from './command.ts';

export const status = slashCommand<{ readonly kind: 'status'; readonly plan?: string }>({
  invoked: { command: '/cutover', word: 'status' },
  parse: (words) => optionalPlan('status', words, 'status'),
  run: async (deps, request, asker) => {
    const target = await resolveTarget(deps, await deps.engine.active(), asker, request.plan, 'status', { finished: true });
    if (!target.ok) return target.reply;
    const plan = await deps.engine.store.loadPlan(target.state.id);
    return plan ? statusCard({ state: target.state, plan }, { buttons: false }) : unknownPlan(target.state.plan);
  },
});
