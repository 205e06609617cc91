// `/cutover start <plan> [canary=…] [stable=…]`: a cutover starts now (T0 is now).
import type { Plan } from '../../src/domain/plan.ts';
import { invalidPlan, refusal, started, unknownPlan, usageReply, wrongChannel } from '../../templates/replies.ts';
import type { Asker, CommandDeps, Reply } from '../common.ts';
import { fail, notPlanName, planName, revisionOptions, type Revisions } from '../parse.ts';
import { slashCommand } from './command.ts';

export type StartRequest = { readonly kind: 'start'; readonly plan: string } & Revisions;

/** The plan to start, loaded and in this channel; or the reply that says why not. */
export async function planHere(deps: CommandDeps, name: string, asker: Asker): Promise<{ ok: true; plan: Plan } | { ok: false; reply: Reply }> {
  const loaded = await deps.catalog.load(name);
  if (!loaded.ok) return { ok: false, reply: 'missing' in loaded ? unknownPlan(name) : invalidPlan(name, loaded.errors) };
  if (loaded.plan.channel !== asker.channel) return { ok: false, reply: wrongChannel(loaded.plan.name, loaded.plan.channel) };
  return { ok: true, plan: loaded.plan };
}

export const revisionsOf = (request: Revisions): Revisions => ({ ...(request.canary ? { canary: request.canary } : {}), ...(request.stable ? { stable: request.stable } : {}) });

/** A train's revisions are per target, in its plan: one canary= could not say which. */
export function trainRefusesRevisions(plan: Plan, request: Revisions, usage: 'start' | 'schedule'): Reply | null {
  if (!plan.train || !(request.canary || request.stable)) return null;
  return usageReply(`${plan.name} is a train of ${plan.train.targets.length} targets: its revisions are set per target in the plan, so canary= and stable= do not apply.`, usage);
}

export const start = slashCommand<StartRequest>({
  invoked: { command: '/cutover', word: 'start' },
  parse: (words) => {
    const [plan, ...options] = words;
    if (plan === undefined) return fail('Name the plan to start.', 'start');
    if (!planName.safeParse(plan).success) return notPlanName(plan, 'start');
    const revisions = revisionOptions(options, 'start', 'the plan name');
    if (!revisions.ok) return revisions;
    return { ok: true, request: { kind: 'start', plan, ...revisions.revisions } };
  },
  run: async (deps, request, asker) => {
    const here = await planHere(deps, request.plan, asker);
    if (!here.ok) return here.reply;
    const refused = trainRefusesRevisions(here.plan, request, 'start');
    if (refused) return refused;
    const result = await deps.engine.start(here.plan, asker.user, revisionsOf(request));
    return result.ok ? started(result.state) : refusal(result.refusal, result.state, deps.now());
  },
});
