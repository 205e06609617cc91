// The start dialog's listeners. `/cutover start` with no plan: ack, then views.open with the
// command's trigger_id at once (it lives 3 s), showing only the plans, a directory listing away.
// Picking a plan (a block action) fills in the rest by views.update, which has no deadline: the
// revisions come from the traffic backend (Cloud Run's ListRevisions may take seconds and retries),
// and an external select's options request would have to answer within 3 s and cannot preselect
// stable from a list it has not read yet. Submitting turns the dialog into the typed command's text
// and runs the same parser and the same checks: a problem goes back into the modal
// (`response_action: errors`); otherwise the same work is handed over, and answered the same way,
// through the command's response_url.
import type { App, SlackCommandMiddlewareArgs, webApi } from '@slack/bolt';
import { z } from 'zod';
import type { Plan } from '../src/domain/plan.ts';
import type { RevisionChoice } from '../src/domain/service.ts';
import type { Logger } from '../src/log.ts';
import type { PlanCatalog } from '../src/plans/catalog.ts';
import { START_DIALOG, startDialog, type ChosenPlan, type DialogContext } from '../templates/start-dialog.ts';
import type { ListenerDeps } from './common.ts';
import { parseCutover, type Request } from './slash/index.ts';
import { resolveT0 } from './when.ts';

export interface StartDialogDeps {
  readonly catalog: Pick<PlanCatalog, 'list' | 'load'>;
  /** The revisions people may pick for the plan's service; null when its platform cannot list them. */
  readonly revisions: (plan: Plan) => Promise<readonly RevisionChoice[] | null>;
  readonly handOver: ListenerDeps['handOver'];
  readonly log: Logger;
  readonly now: () => number;
}

type Views = Pick<webApi.WebClient['views'], 'open' | 'update'>;

const contextSchema = z.object({
  channel: z.string().regex(/^[CGD][A-Z0-9]+$/),
  user: z.string().regex(/^[UW][A-Z0-9]+$/),
  responseUrl: z.url(),
});

/** What Slack sends back of the modal: the values people chose or typed. */
const selected = z.object({ selected_option: z.object({ value: z.string().max(150) }).nullish() }).loose();
const typed = z.object({ value: z.string().max(200).nullish() }).loose();
const stateSchema = z.object({
  plan: z.object({ [START_DIALOG.planAction]: selected }).partial().optional(),
  canary: z.object({ [START_DIALOG.actions.canary]: z.union([selected, typed]) }).partial().optional(),
  stable: z.object({ [START_DIALOG.actions.stable]: z.union([selected, typed]) }).partial().optional(),
  t0: z.object({ [START_DIALOG.actions.t0]: typed }).partial().optional(),
});

type Field = keyof typeof START_DIALOG.blocks;

const valueOf = (entry: unknown): string | undefined => {
  const e = entry as { selected_option?: { value?: string } | null; value?: string | null } | undefined;
  const v = e?.selected_option?.value ?? e?.value ?? undefined;
  return v === null || v === undefined || v.trim() === '' ? undefined : v.trim();
};

/** Which field a problem of the typed command's parser is about. */
function fieldOf(problem: string): Field {
  if (/^(canary=|canary= and stable=)/.test(problem)) return 'canary';
  if (/^stable=/.test(problem)) return 'stable';
  if (/plan name|Name the plan/i.test(problem)) return 'plan';
  return 't0';
}

export class StartDialog {
  readonly #deps: StartDialogDeps;

  constructor(deps: StartDialogDeps) {
    this.#deps = deps;
  }

  /** `/cutover start` alone: acks, then opens the dialog with the command's trigger_id. */
  async open({ command, ack, client, respond }: Pick<SlackCommandMiddlewareArgs, 'command' | 'ack' | 'respond'> & { client: { views: Views } }): Promise<void> {
    await ack();
    const context: DialogContext = { channel: command.channel_id, user: command.user_id, responseUrl: command.response_url };
    try {
      const plans = (await this.#deps.catalog.list()).map((p) => p.name);
      await client.views.open({ trigger_id: command.trigger_id, view: startDialog({ context, plans }) });
    } catch (error) {
      this.#deps.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'start dialog not opened');
      await respond({ response_type: 'ephemeral', text: 'The start dialog could not be opened; type `/cutover start <plan>` instead (`/cutover plans` lists them).' }).catch(() => undefined);
    }
  }

  /** A plan was picked: its revisions, T0 and summary, filled in by views.update. */
  async planPicked(view: { id: string; hash: string; private_metadata: string }, name: string, client: { views: Views }): Promise<void> {
    const context = contextSchema.safeParse(this.#metadata(view.private_metadata));
    if (!context.success) return;
    const plans = (await this.#deps.catalog.list()).map((p) => p.name);
    const chosen = await this.#chosen(name);
    try {
      await client.views.update({ view_id: view.id, hash: view.hash, view: startDialog({ context: context.data, plans, chosen }) });
    } catch (error) {
      // A later pick already replaced this view (hash_conflict): that pick's update wins.
      this.#deps.log.info({ err: error instanceof Error ? error.message : String(error) }, 'start dialog not updated');
    }
  }

  async #chosen(name: string): Promise<ChosenPlan> {
    const loaded = await this.#deps.catalog.load(name);
    if (!loaded.ok) return { name, plan: null, problems: loaded.errors, revisions: null };
    try {
      const revisions = await this.#deps.revisions(loaded.plan);
      return { name, plan: loaded.plan, problems: [], revisions };
    } catch (error) {
      return { name, plan: loaded.plan, problems: [], revisions: null, revisionsError: error instanceof Error ? error.message : String(error) };
    }
  }

  #metadata(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  }

  /**
   * The dialog submitted: the same request the typed command would make, checked the same way.
   * Returns the errors to show in the modal, or null once the work is handed over.
   */
  async submitted(user: string, view: { private_metadata: string; state: { values: unknown } }): Promise<Partial<Record<Field, string>> | null> {
    const context = contextSchema.safeParse(this.#metadata(view.private_metadata));
    const state = stateSchema.safeParse(view.state.values);
    if (!context.success || !state.success) return { plan: 'This dialog could not be read: close it and type /cutover start again.' };
    const values = state.data;
    const plan = valueOf(values.plan?.[START_DIALOG.planAction]);
    if (!plan) return { plan: 'Pick a plan.' };
    const canary = valueOf(values.canary?.[START_DIALOG.actions.canary]);
    const stable = valueOf(values.stable?.[START_DIALOG.actions.stable]);
    const t0 = valueOf(values.t0?.[START_DIALOG.actions.t0]);
    if (!canary && !stable && values.canary === undefined) return { plan: 'Pick the plan again: its revisions have not been shown yet.' };
    for (const [field, value] of [['plan', plan], ['canary', canary], ['stable', stable], ['t0', t0]] as const) {
      if (value && /\s/.test(value)) return { [field]: 'One word, no spaces.' };
    }
    // The typed command's own text, read by its own parser: the dialog can ask for nothing it could not.
    const options = `${canary ? ` canary=${canary}` : ''}${stable ? ` stable=${stable}` : ''}`;
    const parsed = parseCutover(t0 ? `schedule ${plan} at ${t0}${options}` : `start ${plan}${options}`);
    if (!parsed.ok) return { [fieldOf(parsed.problem)]: parsed.problem };
    const request = parsed.request as Extract<Request, { kind: 'start' | 'schedule' }>;
    // The checks the command's work makes first, here too, so their refusals land in the modal.
    const loaded = await this.#deps.catalog.load(request.plan);
    if (!loaded.ok) return { plan: 'missing' in loaded ? `There is no plan ${request.plan}.` : `${request.plan} is not valid: ${loaded.errors.slice(0, 3).join('; ')}` };
    if (loaded.plan.channel !== context.data.channel) return { plan: `${request.plan} runs in another channel (${loaded.plan.channel}): start it there.` };
    if (request.kind === 'schedule') {
      const when = resolveT0(request.when, loaded.plan.timezone, this.#deps.now());
      if (!when.ok) return { t0: when.problem };
    }
    try {
      await this.#deps.handOver({ kind: 'slash', command: '/cutover', request, asker: { user, channel: context.data.channel } }, context.data.responseUrl);
    } catch (error) {
      this.#deps.log.error({ err: error instanceof Error ? error.message : String(error) }, 'start dialog: could not hand the work over');
      return { plan: 'The bot cannot reach its state store right now: nothing was started. Try again in a moment.' };
    }
    return null;
  }
}

/** Slack's limit on an error shown under a field. */
const clipError = (text: string) => (text.length <= 2_000 ? text : `${text.slice(0, 1_999)}…`);

export function register(app: App, dialog: StartDialog, log: Logger): void {
  app.action({ action_id: START_DIALOG.planAction }, async ({ ack, body, client }) => {
    await ack();
    const view = (body as { view?: { id: string; hash: string; private_metadata: string } }).view;
    const name = (body as { actions?: Array<{ selected_option?: { value?: string } }> }).actions?.[0]?.selected_option?.value;
    if (!view || !name) return;
    await dialog.planPicked(view, name, client).catch((error: unknown) => log.warn({ err: error instanceof Error ? error.message : String(error) }, 'start dialog: plan pick failed'));
  });
  app.view(START_DIALOG.callbackId, async ({ ack, body, view }) => {
    let errors: Partial<Record<Field, string>> | null;
    try {
      errors = await dialog.submitted(body.user.id, view);
    } catch (error) {
      log.error({ err: error instanceof Error ? error.message : String(error) }, 'start dialog submission failed');
      errors = { plan: 'Something went wrong; nothing was started. Try again, or type /cutover start <plan>.' };
    }
    if (!errors) return ack();
    return ack({ response_action: 'errors', errors: Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, clipError(v)])) });
  });
}
