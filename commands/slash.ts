// The three slash commands. Each listener parses the text and acks at once (with the usage when the
// text is malformed), then hands the request over to a `command` job, which resolves which cutover
// is meant and asks the engine (`runSlash`). Nothing here waits on traffic or a gate.
import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { CutoverState } from '../src/domain/state.ts';
import { statusCard } from '../templates/card.ts';
import { HELP, invalidPlan, plansList, refusal, scheduled, started, unknownPlan, usageReply, wrongChannel, type UsageKey } from '../templates/replies.ts';
import { ephemeral, handOver, outcome, type Asker, type CommandDeps, type ListenerDeps, type Reply } from './common.ts';
import { parseCutover, parsePromote, parseRollback, splitPlanAndReason, type Parsed, type Request } from './parse.ts';
import { planNames, resolveTarget } from './target.ts';
import { resolveT0 } from './when.ts';
import type { Command } from '../src/domain/command.ts';

export function register(app: App, deps: ListenerDeps): void {
  const listen = (name: string, parse: (text: string) => Parsed) =>
    app.command(name, async (args: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
      const { command, ack, respond } = args;
      // `/cutover start` alone opens the start dialog: its trigger_id lives 3 s, so here, not in a job.
      if (deps.startDialog && name === '/cutover' && /^\s*start\s*$/i.test(command.text)) return deps.startDialog(args);
      const parsed = parse(command.text);
      if (!parsed.ok) {
        await ack(ephemeral(usageReply(parsed.problem, parsed.usage)));
        return;
      }
      // Help needs nothing from the store: it is the ack itself, and works even when Redis is away.
      if (parsed.request.kind === 'help') {
        await ack(ephemeral(HELP));
        return;
      }
      await ack();
      const asker: Asker = { user: command.user_id, channel: command.channel_id };
      await handOver(deps, { kind: 'slash', command: name, request: parsed.request, asker }, command.response_url, respond);
    });
  listen('/cutover', parseCutover);
  listen('/promote', parsePromote);
  listen('/rollback', parseRollback);
}

/** The work of a slash command, done by a `command` job. */
export async function runSlash(deps: CommandDeps, request: Request, asker: Asker): Promise<Reply> {
  switch (request.kind) {
    case 'help':
      return HELP;
    case 'plans':
      return listPlans(deps);
    case 'start':
    case 'schedule':
      return start(deps, request, asker);
    case 'status': {
      const target = await resolveTarget(deps, await deps.engine.active(), asker, request.plan, 'status', { finished: true });
      if (!target.ok) return target.reply;
      const plan = await deps.engine.store.loadPlan(target.state.id);
      return plan ? statusCard({ state: target.state, plan }, { buttons: false }) : unknownPlan(target.state.plan);
    }
    case 'resume':
    case 'promote':
      return act(deps, await deps.engine.active(), asker, request.plan, request.kind, { type: request.kind, by: asker.user });
    case 'hold':
    case 'abort':
    case 'rollback':
    case 'close': {
      const active = await deps.engine.active();
      const names = await planNames(deps, active);
      const { plan, reason } = splitPlanAndReason(request.words, (name) => names.has(name));
      return act(deps, active, asker, plan, request.kind, { type: request.kind, by: asker.user, ...(reason ? { reason } : {}) });
    }
  }
}

/** Starts now, or (schedule) with T0 ahead: the time is read in the plan's time zone, so only once the plan is loaded. */
async function start(deps: CommandDeps, request: Extract<Request, { kind: 'start' | 'schedule' }>, asker: Asker): Promise<Reply> {
  const loaded = await deps.catalog.load(request.plan);
  if (!loaded.ok) return 'missing' in loaded ? unknownPlan(request.plan) : invalidPlan(request.plan, loaded.errors);
  const { plan } = loaded;
  if (plan.channel !== asker.channel) return wrongChannel(plan.name, plan.channel);
  const revisions = { ...(request.canary ? { canary: request.canary } : {}), ...(request.stable ? { stable: request.stable } : {}) };
  if (request.kind === 'start') {
    const result = await deps.engine.start(plan, asker.user, revisions);
    return result.ok ? started(result.state) : refusal(result.refusal, result.state, deps.now());
  }
  const t0 = resolveT0(request.when, plan.timezone, deps.now());
  if (!t0.ok) return usageReply(t0.problem, 'schedule');
  const result = await deps.engine.start(plan, asker.user, { ...revisions, t0: t0.t0 });
  if (!result.ok) return refusal(result.refusal, result.state, deps.now());
  // T0 a moment ahead may have arrived while the plan loaded: the engine then started it at once.
  return result.state.phase === 'scheduled' ? scheduled(result.state, plan, t0.note) : started(result.state);
}

/** A command on the cutover the person means; the engine decides whether it may happen. */
async function act(deps: CommandDeps, active: readonly CutoverState[], asker: Asker, plan: string | undefined, usage: UsageKey, command: Command): Promise<Reply> {
  const target = await resolveTarget(deps, active, asker, plan, usage);
  if (!target.ok) return target.reply;
  return outcome(deps, target.state.id, command);
}

async function listPlans(deps: CommandDeps): Promise<Reply> {
  const [files, running] = await Promise.all([deps.catalog.list(), deps.engine.active()]);
  const plans = await Promise.all(
    files.map(async ({ name }) => {
      const loaded = await deps.catalog.load(name);
      return loaded.ok ? { name, plan: loaded.plan, errors: 0 } : { name, plan: null, errors: loaded.errors.length };
    }),
  );
  return plansList(plans, running);
}
