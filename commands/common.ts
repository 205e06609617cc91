// What every listener shares: how it keeps a request in Redis before acking it, how it answers the
// person (always ephemerally), and how a failure of the state store becomes a plain sentence
// instead of a crash.
import type { AllMiddlewareArgs, RespondFn, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Logger } from '../src/log.ts';
import type { PlanCatalog } from '../src/plans/catalog.ts';
import type { Engine } from '../src/runtime/engine.ts';
import type { SlackMessage } from '../templates/blocks.ts';
import { BOT_FAILED, STORE_DOWN, STORE_SLOW, accepted, doneBefore, refusal } from '../templates/replies.ts';
import type { Command } from '../src/domain/command.ts';

/**
 * The work a listener keeps before it acks: a `command` job does it, on any replica, and replies
 * through the request's response_url. Nothing heavier than this hand-over runs before the ack.
 */
export type Work =
  /** `request` is what one of the commands in commands/slash/ parsed; its `kind` names the command. */
  | { readonly kind: 'slash'; readonly command: string; readonly request: { readonly kind: string; readonly [field: string]: unknown }; readonly asker: Asker }
  | { readonly kind: 'click'; readonly action: string; readonly value: unknown; readonly user: string; readonly channel: string | null };

/** What the listeners need: a place to hand work over to, and a log. */
export interface ListenerDeps {
  /** Enqueues the work in Redis; resolves once Redis has it, throws at once when the state store cannot be reached. */
  readonly handOver: (work: Work, responseUrl: string) => Promise<void>;
  readonly log: Logger;
  /** How long the ack waits for Redis to take the work (default KEEP_WITHIN_MS): Slack wants the ack within 3 s. */
  readonly keepWithinMs?: number;
  /** `/cutover start` with no plan: acks and opens the start dialog (commands/start-dialog.ts); absent, the usage is shown. */
  readonly startDialog?: (args: SlackCommandMiddlewareArgs & Pick<AllMiddlewareArgs, 'client'>) => Promise<void>;
}

/** Slack shows an error when a request is not acked within 3 s: leave room for the ack itself. */
export const KEEP_WITHIN_MS = 2_000;

/** Whether the work is in Redis; if not, the one reply the ack (or the answer right after it) gives. */
export type Kept = { readonly ok: true } | { readonly ok: false; readonly reply: string };

/**
 * Keeps the work in Redis before anything tells the person it was received: once this resolves
 * `ok`, a crash of this process loses nothing (another replica, or this one restarted, does it).
 * A store that refuses says "nothing was changed"; one too slow to answer before Slack's deadline
 * may still take the write later, so that reply says it may or may not have been kept.
 */
export async function keep(deps: ListenerDeps, work: Work, responseUrl: string): Promise<Kept> {
  deps.log.debug({ work: work.kind, what: work.kind === 'slash' ? `${work.command} ${work.request.kind}` : work.action }, 'keeping the request');
  const withinMs = deps.keepWithinMs ?? KEEP_WITHIN_MS;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), withinMs);
  });
  try {
    const handed = deps.handOver(work, responseUrl);
    const kept = await Promise.race([handed.then(() => 'kept' as const), late]);
    if (kept === 'kept') return { ok: true };
    deps.log.error({ work: work.kind, withinMs }, 'the state store did not take the work in time');
    handed.then(
      () => deps.log.warn({ work: work.kind }, 'the state store took the work after its ack: it will be done'),
      () => undefined,
    );
    return { ok: false, reply: STORE_SLOW };
  } catch (error) {
    deps.log.error({ err: error instanceof Error ? error.message : String(error), work: work.kind }, 'could not hand the work over');
    return { ok: false, reply: STORE_DOWN };
  } finally {
    clearTimeout(timer);
  }
}

/** A click's ack carries no message: ack, then say what became of it if it was not kept. */
export async function ackClick(deps: ListenerDeps, kept: Kept, ack: () => Promise<void>, respond: RespondFn): Promise<void> {
  await ack();
  if (!kept.ok) await answer(respond, kept.reply, deps.log);
}

/** What the work needs: the engine and the plans. */
export interface CommandDeps {
  readonly engine: Pick<Engine, 'start' | 'command' | 'active' | 'store'>;
  readonly catalog: Pick<PlanCatalog, 'load' | 'list' | 'folder'>;
  readonly log: Logger;
  readonly now: () => number;
  /**
   * The cutover an earlier run of this same request already acted on (its process died before it
   * could say so), or null. Such a request goes to that cutover again, where the engine answers it
   * as done, instead of being resolved anew (the cutover may have ended since).
   */
  readonly actedOn?: () => Promise<string | null>;
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
  // The state now, not the one the command produced: word it as done, without tallies.
  if (result.ok && result.repeated) return doneBefore(result.state);
  const plan = await deps.engine.store.loadPlan(id);
  if (!result.ok) return refusal(result.refusal, result.state, deps.now(), plan);
  return plan ? accepted(command, result.state, plan) : refusal({ code: 'no_cutover', action: command.type }, null, deps.now());
}
