// The commands that act on a running cutover: find the one the person means, let the engine decide.
import type { Command } from '../../src/domain/command.ts';
import type { CutoverState } from '../../src/domain/state.ts';
import type { UsageKey } from '../../templates/replies.ts';
import { outcome, type Asker, type CommandDeps, type Reply } from '../common.ts';
import { splitPlanAndReason } from '../parse.ts';
import { planNames, resolveTarget } from '../target.ts';

/** A command on the cutover the person means; the engine decides whether it may happen. */
export async function act(deps: CommandDeps, active: readonly CutoverState[], asker: Asker, plan: string | undefined, usage: UsageKey, command: Command): Promise<Reply> {
  const before = await deps.actedOn?.();
  if (before) return outcome(deps, before, command);
  const target = await resolveTarget(deps, active, asker, plan, usage);
  if (!target.ok) return target.reply;
  return outcome(deps, target.state.id, command);
}

/** `hold`, `abort`, `rollback`, `close`: the first word may name a plan, the rest is the reason. */
export async function actWithReason(deps: CommandDeps, asker: Asker, kind: 'hold' | 'abort' | 'rollback' | 'close', words: readonly string[]): Promise<Reply> {
  const active = await deps.engine.active();
  const names = await planNames(deps, active);
  const { plan, reason } = splitPlanAndReason(words, (name) => names.has(name));
  return act(deps, active, asker, plan, kind, { type: kind, by: asker.user, ...(reason ? { reason } : {}) });
}
