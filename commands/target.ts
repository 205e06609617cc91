// Which cutover a command means: the named plan's, or the only one running in the channel; and
// the refusals that come before the engine: a wrong channel, an unknown plan, nothing running.
import type { CutoverState } from '../src/domain/state.ts';
import { nothingRunningHere, notRunning, severalRunning, unknownPlan, wrongChannel, type UsageKey } from '../templates/replies.ts';
import type { Asker, CommandDeps } from './common.ts';

export type Target = { readonly ok: true; readonly state: CutoverState } | { readonly ok: false; readonly reply: string };

/** How far back `/cutover status <plan>` looks for a finished cutover of the plan. */
const RECENT = 50;

/** `active` is the engine's running cutovers, read once per request. */
export async function resolveTarget(
  deps: CommandDeps,
  active: readonly CutoverState[],
  asker: Asker,
  plan: string | undefined,
  usage: UsageKey,
  options: { finished?: boolean } = {},
): Promise<Target> {
  if (plan === undefined) {
    const here = active.filter((s) => s.channel === asker.channel);
    const [only] = here;
    if (only && here.length === 1) return { ok: true, state: only };
    return { ok: false, reply: here.length === 0 ? nothingRunningHere(usage) : severalRunning(here, usage) };
  }
  const found = active.find((s) => s.plan === plan) ?? (options.finished ? await lastOf(deps, plan) : null);
  if (found) return found.channel === asker.channel ? { ok: true, state: found } : { ok: false, reply: wrongChannel(plan, found.channel) };
  const loaded = await deps.catalog.load(plan);
  if (!loaded.ok && 'missing' in loaded) return { ok: false, reply: unknownPlan(plan) };
  if (loaded.ok && loaded.plan.channel !== asker.channel) return { ok: false, reply: wrongChannel(plan, loaded.plan.channel) };
  return { ok: false, reply: notRunning(plan) };
}

/** The most recent cutover of a plan, finished or not. */
async function lastOf(deps: CommandDeps, plan: string): Promise<CutoverState | null> {
  for (const id of await deps.engine.store.recentIds(RECENT)) {
    const state = await deps.engine.store.loadState(id);
    if (state?.plan === plan) return state;
  }
  return null;
}

/** Names a first word could be meant as: plan files and running cutovers (`active`). */
export async function planNames(deps: CommandDeps, active: readonly CutoverState[]): Promise<Set<string>> {
  const files = await deps.catalog.list();
  return new Set([...files.map((f) => f.name), ...active.map((s) => s.plan)]);
}
