// `/rollback [<plan>] [<target>] [reason]`: all traffic back to stable, verified. In a train whose
// plan says `rollback: target`, naming a target (its exact id right after the plan, or
// `target=<id or index>`) drops that target's release alone, and the rest of the train carries on.
import { isTrain, type TrainPlan } from '../../src/domain/train.ts';
import type { Command } from '../../src/domain/command.ts';
import type { Plan } from '../../src/domain/plan.ts';
import { refusal, unknownTarget } from '../../templates/replies.ts';
import { outcome, type Asker, type CommandDeps, type Reply } from '../common.ts';
import { rollbackWords, splitPlanAndReason } from '../parse.ts';
import { planNames, resolveTarget } from '../target.ts';
import { slashCommand } from './command.ts';

type RollbackRequest = { readonly kind: 'rollback'; readonly words: readonly string[]; readonly target?: string };

export const rollback = slashCommand<RollbackRequest>({
  invoked: { command: '/rollback' },
  parse: rollbackWords,
  run: rollBackOrDrop,
});

async function rollBackOrDrop(deps: CommandDeps, request: RollbackRequest, asker: Asker): Promise<Reply> {
  const active = await deps.engine.active();
  const names = await planNames(deps, active);
  const { plan: named, reason } = splitPlanAndReason(request.words, (name) => names.has(name));
  // A run of this request that died after acting goes to the same cutover (the engine answers it as done).
  const before = await deps.actedOn?.();
  let id = before;
  if (!id) {
    const found = await resolveTarget(deps, active, asker, named, 'rollback');
    if (!found.ok) return found.reply;
    id = found.state.id;
  }
  const plan = await deps.engine.store.loadPlan(id);
  const picked = pickTarget(plan, request.target, reason);
  if ('reply' in picked) return picked.reply(deps, await deps.engine.store.loadState(id));
  const command: Command = { type: 'rollback', by: asker.user, ...(picked.reason ? { reason: picked.reason } : {}), ...(picked.target !== undefined ? { target: picked.target } : {}) };
  return outcome(deps, id, command);
}

type Picked =
  | { readonly target?: number; readonly reason?: string }
  | { readonly reply: (deps: CommandDeps, state: Parameters<typeof refusal>[1]) => Reply };

/**
 * Which target, if any, the words name. `target=<id or index>` always names one; otherwise the
 * first word of the reason names one when it is exactly a target's id (in any train, so that a
 * person who meant one target never rolls back the whole train by mistake: a plan that does not
 * drop single targets refuses it and changes nothing). Anything else is the reason.
 */
function pickTarget(plan: Plan | null, given: string | undefined, reason: string | undefined): Picked {
  if (given !== undefined) {
    if (!plan || !isTrain(plan)) return { reply: (deps, state) => refusal({ code: 'target_rollback_not_allowed', action: 'rollback', phase: state?.phase ?? 'completed' }, state, deps.now(), plan) };
    const target = indexOf(plan, given);
    if (target === null) return { reply: () => unknownTarget(plan, given) };
    return { target, ...(reason ? { reason } : {}) };
  }
  if (!plan || !isTrain(plan) || !reason) return reason ? { reason } : {};
  const [first, ...rest] = reason.split(' ');
  const target = plan.train.targets.findIndex((t) => t.id === first);
  if (target < 0) return { reason };
  return { target, ...(rest.length ? { reason: rest.join(' ') } : {}) };
}

/** A target by its id, or by its index in the plan's `targets:` (the `service:` block first). */
function indexOf(plan: TrainPlan, given: string): number | null {
  const byId = plan.train.targets.findIndex((t) => t.id === given);
  if (byId >= 0) return byId;
  if (/^\d+$/.test(given) && Number(given) < plan.train.targets.length) return Number(given);
  return null;
}
