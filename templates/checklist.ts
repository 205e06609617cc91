// The runbook in the card's thread: one message per checkpoint with its checklist (a Tick button
// per item), the sign-off message (a Sign off button per item), and the nudge of a late owner.
// The checklist and sign-off messages are edited in place as items are ticked. Pure.
//
// Buttons, not Block Kit checkboxes: a checkboxes element keeps its ticks in the reader's client,
// so a box ticked by someone without the role would look ticked until the next edit, and unticking
// (which a checkboxes click also sends) means nothing to the engine. A button per item is one
// command per click, and the message shows who ticked what from the stored state alone.
import type { types } from '@slack/bolt';
import { formatDuration } from '../src/domain/duration.ts';
import type { Plan } from '../src/domain/plan.ts';
import { isTerminal, type CheckpointState, type CutoverState } from '../src/domain/state.ts';
import { encodeSignOffValue, encodeTickValue } from './button-value.ts';
import { LIMIT, clip, context, escape, mention, section, slackDate, type Block, type SlackMessage } from './blocks.ts';
import { VERDICT_EMOJI } from './card.ts';
import { PHASE_WORDS, VERDICT_WORDS } from './words.ts';
import type { CutoverView } from '../src/domain/view.ts';

export const TICK_ACTION = 'tick';
export const SIGN_OFF_ACTION = 'sign_off';

/** Everyone who holds `role` in the plan, as mentions (people and user groups). */
function roleMentions(plan: Plan, role: string): string {
  return (plan.roles[role] ?? []).map(mention).join(' ');
}

const itemText = (text: string) => escape(clip(text, 600));
const signedBy = (tick: { readonly by: string; readonly at: number }) => `_${mention(tick.by)} · ${slackDate(tick.at)}_`;

function itemBlock(blockId: string, text: string, done: { by: string; at: number } | null, button: types.Button | null): Block {
  const body = done ? `✅ ${text}\n${signedBy(done)}` : `⬜ ${text}`;
  return {
    type: 'section',
    block_id: blockId,
    text: { type: 'mrkdwn', text: clip(body, LIMIT.section) },
    ...(button && !done ? { accessory: button } : {}),
  };
}

function itemButton(actionId: string, label: string, value: string): types.Button {
  return { type: 'button', action_id: actionId, text: { type: 'plain_text', text: label, emoji: true }, value };
}

const BLOCKS_WORDS = { go_no_go: '🚧 The go/no-go waits for this checkpoint.', promote: '🚧 Promotion waits for this checkpoint.' } as const;

function checkpointStatus(run: CheckpointState, state: CutoverState): string {
  if (run.status === 'done') return `✅ done ${run.doneAt ? slackDate(run.doneAt) : ''}`.trim();
  if (isTerminal(state.phase)) return `not done: the cutover is ${PHASE_WORDS[state.phase]}`;
  // Lateness is on the status card and in the nudge below this message, not here: no entry edits it then.
  return `${run.ticks.filter(Boolean).length}/${run.ticks.length} ticked`;
}

/** A checkpoint's checklist, as it stands in `view`: posted when it opens, edited on every tick. */
export function checklistMessage({ state, plan }: CutoverView, index: number): SlackMessage {
  const c = plan.timeline[index];
  const run = state.checkpoints[index];
  if (!c || !run) return { text: `Checkpoint ${index + 1} is not in the plan`, blocks: [] };
  const owners = roleMentions(plan, c.owner);
  // A tick after the end is refused ("finished"): no button should invite one.
  const open = run.status === 'open' && !isTerminal(state.phase);
  const emoji = run.status === 'done' ? '✅' : isTerminal(state.phase) ? '⛔' : '📋';
  const head = [
    `${emoji} *${escape(c.label)} ${escape(clip(c.name, 150))}* · owner *${escape(c.owner)}* ${owners}`,
    `Due ${slackDate(state.t0 + c.offsetMs)} · ${checkpointStatus(run, state)}`,
    ...(c.blocks && run.status !== 'done' ? [BLOCKS_WORDS[c.blocks]] : []),
  ].join('\n');
  const items = c.checklist.map((item, i) =>
    itemBlock(`cp${index}.item${i}`, itemText(item), run.ticks[i] ?? null, open ? itemButton(TICK_ACTION, '☑️ Tick', encodeTickValue({ c: state.id, k: index, i })) : null),
  );
  const gate = (id: string) => {
    const reading = run.gates?.[id];
    return reading ? `${VERDICT_EMOJI[reading.verdict]} ${escape(id)} ${VERDICT_WORDS[reading.verdict]}` : `⏳ ${escape(id)} running`;
  };
  const gates = c.gates.length ? [context(`Checkpoint gates: ${c.gates.map((g) => gate(g.id)).join(' · ')}`)] : [];
  const plain = `${escape(c.label)} ${escape(clip(c.name, 150))}`;
  const text =
    run.status === 'done'
      ? `✅ ${plain}: done`
      : open
        ? `📋 ${plain}: ${owners} please tick ${c.checklist.length} item${c.checklist.length === 1 ? '' : 's'}`
        : `${emoji} ${plain}: ${checkpointStatus(run, state)}`;
  return {
    text: clip(text, LIMIT.text),
    blocks: [
      section(head),
      ...items,
      ...gates,
      context(`Only *${escape(c.owner)}* may tick these (grace ${formatDuration(c.graceMs)}, then a nudge, then an escalation) · cutover \`${state.id}\``),
    ],
  };
}

/** The sign-off of seed 001 section 5: one Sign off button per item, for its role. */
export function signOffMessage({ state, plan }: CutoverView): SlackMessage {
  const signed = state.signoffs.filter(Boolean).length;
  const complete = signed === plan.signOff.length;
  const roles = [...new Set(plan.signOff.map((s) => s.role))];
  const who = roles.map((r) => roleMentions(plan, r)).filter(Boolean).join(' ');
  const head = complete
    ? `✅ *Sign-off complete*: ${signed}/${plan.signOff.length} confirmed.`
    : `✍️ *Sign-off*: each role confirms its item (${signed}/${plan.signOff.length} so far). ${who}`;
  const items = plan.signOff.map((s, i) =>
    itemBlock(`signoff.item${i}`, `*${escape(s.role)}*: ${itemText(s.item)}`, state.signoffs[i] ?? null, itemButton(SIGN_OFF_ACTION, '✍️ Sign off', encodeSignOffValue({ c: state.id, i }))),
  );
  const text = complete ? `✅ Sign-off complete for ${escape(plan.name)}` : `✍️ Sign-off for ${escape(plan.name)}: ${who} please confirm your items`;
  return {
    text: clip(text, LIMIT.text),
    blocks: [section(head), ...items, context(`Only the role named on an item may sign it · recorded in the evidence package · cutover \`${state.id}\``)],
  };
}

/** A late checkpoint: its owner is reminded once in the thread; the escalation comes a grace period later. */
export function nudgeMessage({ state, plan }: CutoverView, index: number): SlackMessage {
  const c = plan.timeline[index];
  const run = state.checkpoints[index];
  if (!c || !run) return { text: `Checkpoint ${index + 1} is late`, blocks: [] };
  const open = run.ticks.filter((t) => !t).length;
  const owners = roleMentions(plan, c.owner) || `*${escape(c.owner)}*`;
  const words = `🔔 ${owners} *${escape(c.label)} ${escape(clip(c.name, 150))}* is past its grace period: ${open} of ${c.checklist.length} item${c.checklist.length === 1 ? '' : 's'} still open. Please tick them in its checklist above; in ${formatDuration(c.graceMs)} it escalates.`;
  return { text: clip(words, LIMIT.text), blocks: [] };
}
