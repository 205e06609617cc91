// Who may do what, and when enough people have said yes. Pure.
import type { ApprovalRule } from './plan.ts';
import type { Actor, Approval } from './state.ts';

/** The first role of the rule the actor holds, or null when they hold none. */
export function roleFor(rule: ApprovalRule, actor: Actor): string | null {
  return rule.roles.find((role) => actor.roles.includes(role)) ?? null;
}

export interface Tally {
  readonly satisfied: boolean;
  /** How many more approvals are needed. */
  readonly needed: number;
  /** The two-person rule still wants someone other than the person who started the cutover. */
  readonly othersNeeded: boolean;
}

export function tally(rule: ApprovalRule, approvals: readonly Approval[], startedBy: string): Tally {
  const distinct = new Set(approvals.map((a) => a.by));
  const othersNeeded = rule.twoPerson && ![...distinct].some((by) => by !== startedBy);
  const needed = Math.max(rule.min - distinct.size, othersNeeded ? 1 : 0);
  return { satisfied: needed === 0, needed, othersNeeded };
}
