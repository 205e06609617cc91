// What every listener shares: what it hands over after its ack, how it answers the person (always
// ephemerally), and how a failure of the state store becomes a plain sentence instead of a crash.
import type { AllMiddlewareArgs, RespondFn, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Logger } from '../src/log.ts';
import type { PlanCatalog } from '../src/plans/catalog.ts';
import type { Engine } from '../src/runtime/engine.ts';
import type { SlackMessage } from '../templates/blocks.ts';
import { BOT_FAILED, STORE_DOWN, accepted, refusal } from '../templates/replies.ts';
import type { Request } from './parse.ts';
import type { Command } from '../src/domain/command.ts';

/**
 * The work a listener hands over once it has acked: a `command` job does it, on any replica, and
 * replies through the request's response_url. Nothing heavier than this hand-over runs before the
 * next request is acked.
 */
export type Work =
  | { readonly kind: 'slash'; readonly command: string; readonly request: Request; readonly asker: Asker }
  | { readonly kind: 'click'; readonly action: string; readonly value: unknown; readonly user: string; readonly channel: string | null };

/** What the listeners need: a place to hand work over to, and a log. */
export interface ListenerDeps {
  /** Enqueues the work; throws at once when the state store cannot be reached. */
  readonly handOver: (work: Work, responseUrl: string) => Promise<void>;
  readonly log: Logger;
  /** `/cutover start` with no plan: acks and opens the start dialog (commands/start-dialog.ts); absent, the usage is shown. */
  readonly startDialog?: (args: SlackCommandMiddlewareArgs & Pick<AllMiddlewareArgs, 'client'>) => Promise<void>;
}

/** Hands the work over; if that is impossible, tells the person nothing was changed. */
export async function handOver(deps: ListenerDeps, work: Work, responseUrl: string, respond: RespondFn): Promise<void> {
  try {
    await deps.handOver(work, responseUrl);
  } catch (error) {
    deps.log.error({ err: error instanceof Error ? error.message : String(error), work: work.kind }, 'could not hand the work over');
    await answer(respond, STORE_DOWN, deps.log);
  }
}

/** What the work needs: the engine and the plans. */
export interface CommandDeps {
  readonly engine: Pick<Engine, 'start' | 'command' | 'active' | 'store'>;
  readonly catalog: Pick<PlanCatalog, 'load' | 'list'>;
  readonly log: Logger;
  readonly now: () => number;
}

/** Who asked, from where: Slack's user and channel ids. */
export interface Asker {
  readonly user: string;
  readonly channel: string;
}

export type Reply = string | SlackMessage;

export const ephemeral = (content: Reply) =>
  typeof content === 'string'
    ? { response_type: 'ephemeral' as const, replace_original: false, text: content }
    : { response_type: 'ephemeral' as const, replace_original: false, text: content.text, blocks: [...content.blocks] };

export type Ephemeral = ReturnType<typeof ephemeral>;

/** Sends the reply to the person (with `send`: Bolt's respond, or a post to the response_url); a reply that cannot be delivered is logged, never thrown. */
export async function answer(send: (message: Ephemeral) => Promise<unknown>, content: Reply, log: Logger): Promise<void> {
  try {
    await send(ephemeral(content));
  } catch (error) {
    log.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not send the ephemeral reply');
  }
}

const CONNECTION_TROUBLE = /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|max retries per request/i;

/** The store's client fails fast when Redis is away: say so rather than guess. */
function isStoreTrouble(error: unknown, deps: CommandDeps): boolean {
  if (!deps.engine.store.healthy()) return true;
  const message = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  return CONNECTION_TROUBLE.test(message);
}

/** Runs the work of a command or click; any failure becomes a reply that says what it means. */
export async function guarded(deps: CommandDeps, what: string, work: () => Promise<Reply>): Promise<Reply> {
  try {
    return await work();
  } catch (error) {
    const storeTrouble = isStoreTrouble(error, deps);
    deps.log.error({ err: error instanceof Error ? error.message : String(error), what, storeTrouble }, 'command failed');
    return storeTrouble ? STORE_DOWN : BOT_FAILED;
  }
}

/** Runs a command and words the result: a refusal (naming the checkpoint in the way, if one is), an approval still short, or done. */
export async function outcome(deps: CommandDeps, id: string, command: Command): Promise<Reply> {
  const result = await deps.engine.command(id, command);
  const plan = await deps.engine.store.loadPlan(id);
  if (!result.ok) return refusal(result.refusal, result.state, deps.now(), plan);
  return plan ? accepted(command, result.state, plan) : refusal({ code: 'no_cutover', action: command.type }, null, deps.now());
}
