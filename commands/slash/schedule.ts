// `/cutover schedule <plan> at <time> [canary=…] [stable=…]`: T0 set ahead. The time is read in the
// plan's time zone, so only once the plan is loaded.
import { refusal, scheduled, started, usageReply } from '../../templates/replies.ts';
import { fail, notPlanName, planName, revisionOptions, type Revisions } from '../parse.ts';
import { parseWhen, resolveT0, type When } from '../when.ts';
import { slashCommand } from './command.ts';
import { planHere, revisionsOf, trainRefusesRevisions } from './start.ts';

/** `when` is resolved against the plan's time zone once the plan is loaded. */
export type ScheduleRequest = { readonly kind: 'schedule'; readonly plan: string; readonly when: When } & Revisions;

export const schedule = slashCommand<ScheduleRequest>({
  invoked: { command: '/cutover', word: 'schedule' },
  parse: (words) => {
    const [plan, at, time, ...options] = words;
    if (plan === undefined) return fail('Name the plan to schedule.', 'schedule');
    if (!planName.safeParse(plan).success) return notPlanName(plan, 'schedule');
    if (at?.toLowerCase() !== 'at' || time === undefined) return fail('Say when T0 is: /cutover schedule <plan> at <time>.', 'schedule');
    const when = parseWhen(time);
    if (!when.ok) return fail(when.problem, 'schedule');
    const revisions = revisionOptions(options, 'schedule', 'the time');
    if (!revisions.ok) return revisions;
    return { ok: true, request: { kind: 'schedule', plan, when: when.when, ...revisions.revisions } };
  },
  run: async (deps, request, asker) => {
    const here = await planHere(deps, request.plan, asker);
    if (!here.ok) return here.reply;
    const refused = trainRefusesRevisions(here.plan, request, 'schedule');
    if (refused) return refused;
    const t0 = resolveT0(request.when, here.plan.timezone, deps.now());
    if (!t0.ok) return usageReply(t0.problem, 'schedule');
    const result = await deps.engine.start(here.plan, asker.user, { ...revisionsOf(request), t0: t0.t0 });
    if (!result.ok) return refusal(result.refusal, result.state, deps.now());
    // T0 a moment ahead may have arrived while the plan loaded: the engine then started it at once.
    return result.state.phase === 'scheduled' ? scheduled(result.state, here.plan, t0.note) : started(result.state);
  },
});
