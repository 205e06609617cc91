// The bot's buttons. A click whose value the bot wrote is kept in Redis as a `command` job
// (`runClick`) before it is acked, so an acked click survives this process dying; one Redis did not
// take is acked and answered "nothing was changed". A status-card button's value says which cutover and
// which state of it the card showed, and the engine refuses it when that state has moved on
// (stale), when the person holds no role for it, or when they already approved. A checklist or
// sign-off button names its item; the engine refuses a tick from anyone but the checkpoint's owner.
import type { App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decodeButtonValue, decodeSignOffValue, decodeTickValue } from '../templates/button-value.ts';
import { CARD_ACTIONS, type CardAction } from '../templates/card.ts';
import { SIGN_OFF_ACTION, TICK_ACTION } from '../templates/checklist.ts';
import { BAD_BUTTON, GONE_CUTOVER, wrongChannel } from '../templates/replies.ts';
import { ackClick, answer, keep, outcome, type CommandDeps, type ListenerDeps, type Reply } from './common.ts';
import type { Command } from '../src/domain/command.ts';

/** A click's meaning: the cutover it acts on and the command; null when the bot did not write the value. */
type Meaning = { readonly id: string; readonly command: Command } | null;

/** What a click on each of the bot's buttons means, by action_id. */
function interpret(actionId: string, raw: unknown, by: string): Meaning {
  if (actionId === TICK_ACTION) {
    const value = decodeTickValue(raw);
    return value && { id: value.c, command: { type: 'tick', by, checkpoint: value.k, item: value.i } };
  }
  if (actionId === SIGN_OFF_ACTION) {
    const value = decodeSignOffValue(raw);
    return value && { id: value.c, command: { type: 'sign_off', by, item: value.i } };
  }
  const value = decodeButtonValue(raw);
  return value && { id: value.c, command: cardCommand(actionId as CardAction, by, value.s) };
}

/** One listener for every button the bot draws: the card's, and the checklist and sign-off items in its thread. */
const ACTION_IDS = new RegExp(`^(?:${[...CARD_ACTIONS, TICK_ACTION, SIGN_OFF_ACTION].join('|')})$`);

export function register(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: ACTION_IDS }, async ({ ack, body, action, respond }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>>) => {
    // The value is checked here (pure): a damaged one is refused at once and nothing is kept.
    if (!interpret(action.action_id, action.value, body.user.id)) {
      await ack();
      deps.log.warn({ action: action.action_id, user: body.user.id }, 'refused a click whose value the bot did not write');
      await answer(respond, BAD_BUTTON, deps.log);
      return;
    }
    const kept = await keep(deps, { kind: 'click', action: action.action_id, value: action.value, user: body.user.id, channel: body.channel?.id ?? null }, body.response_url);
    await ackClick(deps, kept, ack, respond);
  });
}

/** The work of a click, done by a `command` job. */
export async function runClick(deps: CommandDeps, action: string, value: unknown, user: string, channel: string | null): Promise<Reply> {
  return click(deps, interpret(action, value, user), action, user, channel ?? undefined);
}

async function click(deps: CommandDeps, meaning: Meaning, action: string, user: string, channel: string | undefined): Promise<Reply> {
  if (!meaning) {
    deps.log.warn({ action, user }, 'refused a click whose value the bot did not write');
    return BAD_BUTTON;
  }
  const state = await deps.engine.store.loadState(meaning.id);
  if (!state) return GONE_CUTOVER;
  if (channel !== state.channel) return wrongChannel(state.plan, state.channel);
  return outcome(deps, meaning.id, meaning.command);
}

/** `expect` is the card's phaseSeq: the engine applies the click only to the state it was drawn for. */
function cardCommand(action: CardAction, by: string, expect: number): Command {
  return action === 'abort' ? { type: action, by, expect, reason: 'cancelled from the status card' } : { type: action, by, expect };
}
