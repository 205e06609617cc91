// The ephemeral replies a person gets to a command or a click: refusals in words with the correct
// usage, and short confirmations. Pure; the handlers only choose which one to send.
import { tally } from '../src/domain/approvals.ts';
import type { ApprovalAction, Plan } from '../src/domain/plan.ts';
import type { CutoverState } from '../src/domain/state.ts';
import { startsAt } from '../src/domain/timeline.ts';
import { zonedText } from '../src/domain/zone.ts';
import { LIMIT, clip, escape, mention, section, type SlackMessage } from './blocks.ts';
import { formatDuration } from '../src/domain/duration.ts';
import { describePhase, isoMinute, refusalWords } from './words.ts';
import type { Command, EngineRefusal } from '../src/domain/command.ts';

export const USAGE = {
  start: '/cutover start <plan> [canary=<revision>] [stable=<revision>]',
  schedule: '/cutover schedule <plan> at <time> [canary=<revision>] [stable=<revision>]',
  status: '/cutover status [<plan>]',
  hold: '/cutover hold [<plan>] [reason…]',
  resume: '/cutover resume [<plan>]',
  abort: '/cutover abort [<plan>] [reason…]',
  close: '/cutover close [<plan>] [reason…]',
  plans: '/cutover plans',
  help: '/cutover help',
  promote: '/promote [<plan>]',
  rollback: '/rollback [<plan>] [<target>] [reason…]',
} as const;

export type UsageKey = keyof typeof USAGE;

export const HELP = [
  '*Cutover bot*: runs a production cutover in this channel: preflight gates, a go/no-go, cohorts with gated soaks, promotion and rollback.',
  `• \`${USAGE.start}\`: start a cutover of a plan now, T0 now (revisions default to the plan's)`,
  `• \`${USAGE.schedule}\`: set T0 ahead; <time> is UTC like 2026-11-24T14:00Z (or with an offset, +01:00), or HH:MM in the plan's time zone. The runbook's checkpoints open at their times`,
  `• \`${USAGE.status}\`: where the cutover is`,
  `• \`${USAGE.hold}\` / \`${USAGE.resume}\`: pause it, carry on`,
  `• \`${USAGE.abort}\`: end it before any traffic has moved (or cancel a scheduled one)`,
  `• \`${USAGE.close}\`: end hypercare early, keeping the release`,
  `• \`${USAGE.promote}\`: advance to the next cohort once the soak is clean`,
  `• \`${USAGE.rollback}\`: at once, 100 % back to the stable revision. In a train whose plan says \`rollback: target\`, a target's id (or \`target=<id or index>\`) right after the plan drops that target's release alone; the rest of the train carries on`,
  `• \`${USAGE.plans}\`: the plans and any running cutover · \`${USAGE.help}\`: this`,
  'Leave out `<plan>` when only one cutover runs in the channel. Approve, Reject, Promote, Hold, Resume and Roll back are also buttons on the status card; checklists and sign-off are ticked with the buttons in its thread.',
].join('\n');

/** Exactly what issue 5 asks for when Redis does not answer. */
export const STORE_DOWN = '⚠️ cannot reach the state store; nothing was changed. Try again in a moment.';

/** The store did not answer before Slack's deadline: the write may still land, so claim neither way. */
export const STORE_SLOW = '⚠️ The state store is slow to answer: this may or may not have been kept. Check the status card before trying again.';

/** A request whose command was carried out by a run the bot's restart cut short: it was applied once, not again. */
export const doneBefore = (state: CutoverState): string => `✅ Done, once (the bot restarted while answering): the cutover is ${escape(describePhase(state))}.`;

export const BOT_FAILED = '⚠️ The bot hit an error handling that. Check the status card before trying again.';

/** A command or click whose job started past its time to live: not run, and why. */
export const expiredCommand = (what: string, ageMs: number, ttlMs: number): string =>
  `⏱️ ${what} was not run: it reached the bot's workers ${formatDuration(ageMs)} after you sent it, and a command is kept ${formatDuration(ttlMs)} ` +
  '(the bot was restarting, or could not reach its Redis). Nothing was changed. Check the status card, then send it again if it is still wanted.';

/** Said before the answer to a command run past its time to live (a rollback, or a question). */
export const lateNote = (what: string, ageMs: number, ttlMs: number, rollback: boolean): string =>
  rollback
    ? `⏱️ ${what} reached the bot's workers ${formatDuration(ageMs)} after you sent it (a command is kept ${formatDuration(ttlMs)}); a rollback is carried out however late, so it was.`
    : `⏱️ This answers ${what} ${formatDuration(ageMs)} after you sent it: the bot could not answer sooner.`;

/** A reply with a note before it. */
export function withNote(note: string, reply: string | SlackMessage): string | SlackMessage {
  if (typeof reply === 'string') return `${note}\n${reply}`;
  return { text: `${note}\n${reply.text}`, blocks: [section(note), ...reply.blocks].slice(0, LIMIT.blocks) };
}

export const BAD_BUTTON = 'That button was not made by this bot (or is damaged), so nothing was changed. Use the buttons on the current status card.';

/**
 * A click on a button no listener of this bot takes: most often one an older version of the bot
 * drew, still in the channel after an upgrade.
 */
export const STALE_BUTTON =
  "That button is no longer valid (it was drawn by an older version of the bot), so nothing was changed. Use the buttons on the cutover's current status card, or `/cutover status` to see where it stands.";

/** A slash command the bot cannot take: not one of its commands, or not in the form Slack sends. */
export const UNREADABLE_COMMAND = `The bot could not read that command, so nothing was changed. Try it again; \`${USAGE.help}\` lists the commands.`;

export const usageReply = (problem: string, usage: UsageKey): string => `${escape(problem)}\nUsage: \`${USAGE[usage]}\` (\`/cutover help\` lists every command)`;

export const wrongChannel = (plan: string, channel: string): string =>
  `Plan *${escape(plan)}* runs in ${mention(channel)}; its commands are only taken there. Nothing was changed.`;

export const unknownPlan = (name: string): string => `There is no plan *${escape(clip(name, 80))}* in the plans folder. \`${USAGE.plans}\` lists them.`;

export function invalidPlan(name: string, errors: readonly string[]): string {
  const shown = errors.slice(0, 15).map((e) => `• ${escape(clip(e, 300))}`);
  const more = errors.length > shown.length ? `\n… and ${errors.length - shown.length} more` : '';
  return clip(`Plan *${escape(name)}* is not valid, so it cannot start. Fix the file and try again:\n${shown.join('\n')}${more}`, LIMIT.text);
}

export const nothingRunningHere = (usage: UsageKey): string =>
  `No cutover is running in this channel. Name a plan, or start one: \`${USAGE.start}\`. (\`${USAGE[usage]}\`)`;

export const notRunning = (plan: string): string => `No cutover of *${escape(plan)}* is running. Start one with \`/cutover start ${escape(plan)}\`.`;

export const severalRunning = (states: readonly CutoverState[], usage: UsageKey): string =>
  `Several cutovers run in this channel (${states.map((s) => `*${escape(s.plan)}*`).join(', ')}): say which one. Usage: \`${USAGE[usage]}\``;

/** `/rollback <plan> target=<x>` naming no target of the running train. */
export const unknownTarget = (plan: Plan, given: string): string =>
  `*${escape(plan.name)}* has no target ${escape(clip(given, 60))}: its targets are ${(plan.train?.targets ?? []).map((t, i) => `\`${escape(t.id)}\` (${i})`).join(', ')}. Nothing was changed.`;

export const GONE_CUTOVER = 'That cutover no longer exists, so nothing was changed.';

/**
 * An engine refusal in words (templates/words.ts), with what to do instead; with the plan, a
 * checkpoint is named. Always escaped: the words may quote what people typed (a held reason).
 */
export function refusal(refused: EngineRefusal, state: CutoverState | null, now: number, plan?: Plan | null): string {
  if (refused.code === 'no_cutover') return escape(refusalWords(refused.code, state));
  if (refused.code === 'already_running') return escape(refusalWords(refused.code, state, refused.service ? { service: refused.service } : {}));
  return escape(
    refusalWords(refused.code, state, {
      ...(refused.roles ? { roles: refused.roles } : {}),
      ...(refused.until ? { until: refused.until } : {}),
      ...(refused.gates ? { gates: refused.gates } : {}),
      ...(refused.checkpoint !== undefined ? { checkpoint: refused.checkpoint } : {}),
      ...(refused.served !== undefined ? { served: refused.served } : {}),
      ...(refused.target !== undefined ? { target: refused.target } : {}),
      ...(plan ? { plan } : {}),
      action: refused.action,
      now,
    }),
  );
}

/** Reply to `/cutover schedule`: T0 in UTC and in the plan's zone, and when the room comes alive. */
export function scheduled(state: CutoverState, plan: Plan, note?: string): string {
  const first = plan.timeline[0];
  const start = startsAt(plan, state.t0, state.startedAt);
  const zone = plan.timezone === 'UTC' ? '' : ` (${zonedText(state.t0, plan.timezone)})`;
  const begins =
    first && first.offsetMs < 0
      ? start > state.startedAt
        ? `Preflight and *${escape(first.label)} ${escape(first.name)}* start at ${isoMinute(start)}`
        : `*${escape(first.label)} ${escape(first.name)}* is already due: preflight and the checkpoints that are due start now`
      : `Preflight starts at T0`;
  return [
    `🗓️ Scheduled cutover \`${state.id}\` of *${escape(plan.name)}*: T0 is *${isoMinute(state.t0)}*${escape(zone)}.`,
    ...(note ? [escape(note)] : []),
    `${begins}; traffic moves at T0 once the go/no-go is given. The status card is in ${mention(state.channel)}; \`/cutover abort\` cancels it.`,
  ].join('\n');
}

export const started = (state: CutoverState): string =>
  // A train's key says it is one (src/plans/train-schema.ts): its revisions are per target.
  `🚀 Started cutover \`${state.id}\` of *${escape(state.plan)}* (${state.serviceKey.startsWith('train:') ? 'a train: revisions per target, on the card' : `stable \`${escape(state.revisions.stable)}\`, canary \`${escape(state.revisions.canary)}\``}): preflight gates are running. The status card is in ${mention(state.channel)}.`;

/** Commands that need approvals, and the rule they follow. */
const APPROVAL_RULES: Readonly<Partial<Record<Command['type'], ApprovalAction & keyof CutoverState['approvals']>>> = {
  approve: 'go_no_go',
  promote: 'promote',
  rollback: 'rollback',
};

/** A command or click that went through: done, or an approval recorded that is not yet enough. */
export function accepted(command: Command, state: CutoverState, plan: Plan): string {
  if (command.type === 'tick') {
    const c = plan.timeline[command.checkpoint];
    const run = state.checkpoints[command.checkpoint];
    const item = escape(clip(c?.checklist[command.item] ?? '', 200));
    const where = `*${escape(c?.label ?? '')} ${escape(c?.name ?? '')}*`;
    return run?.status === 'done' ? `✅ Ticked “${item}”: ${where} is done.` : `☑️ Ticked “${item}” (${where}: ${run?.ticks.filter(Boolean).length ?? 0}/${c?.checklist.length ?? 0}).`;
  }
  if (command.type === 'sign_off') {
    const complete = state.signoffs.every(Boolean);
    return `✍️ Signed off “${escape(clip(plan.signOff[command.item]?.item ?? '', 200))}”.${complete ? ' Sign-off is complete.' : ''}`;
  }
  if (command.type === 'close') return `🏁 Hypercare closed: the cutover is ${escape(describePhase(state))}.`;
  if (command.type === 'rollback' && command.target !== undefined) {
    const id = plan.train?.targets[command.target]?.id ?? `target ${command.target}`;
    return `⏪ Dropped *${escape(id)}*: its release goes back to stable now; the rest of the train carries on. The cutover is ${escape(describePhase(state))}.`;
  }
  const { by, type: action } = command;
  // The engine returns the state its command produced: approvals that met the rule are still there.
  const rule = APPROVAL_RULES[action];
  if (rule) {
    const t = tally(plan.approvals[rule], state.approvals[rule], state.startedBy);
    if (!t.satisfied) {
      const others = t.othersNeeded ? `, from someone other than ${by === state.startedBy ? 'you' : mention(state.startedBy)}: the two-person rule wants a second person` : '';
      return `👍 Your approval is recorded. *${t.needed}* more needed${others}. Roles: ${plan.approvals[rule].roles.map(escape).join(', ')}.`;
    }
  }
  return `✅ Done: the cutover is ${escape(describePhase(state))}.`;
}

/** `/cutover plans`: every plan file, whether it is valid, and what runs; the folder it read them from. */
export function plansList(
  plans: ReadonlyArray<{ readonly name: string; readonly plan: Plan | null; readonly errors: number }>,
  running: readonly CutoverState[],
  folder: { readonly dir: string; readonly problem: 'missing' | 'not_a_folder' | 'unreadable' | null },
): string {
  const runningOf = (name: string) => running.find((s) => s.plan === name);
  const lines = plans.map(({ name, plan, errors }) => {
    const run = runningOf(name);
    const what = plan
      ? `${escape(plan.service.platform)} \`${escape(plan.service.name)}\` in ${mention(plan.channel)}, cohorts ${plan.stages.map((s) => `${s.percent} %`).join(' → ')}`
      : `not valid (${errors} problem${errors === 1 ? '' : 's'}: \`/cutover start ${escape(name)}\` shows them)`;
    return `• *${escape(name)}*: ${what}${run ? `\n    ▶️ running \`${run.id}\`: ${escape(describePhase(run))}` : ''}`;
  });
  const orphans = running.filter((s) => !plans.some((p) => p.name === s.plan)).map((s) => `• *${escape(s.plan)}* (plan file gone) ▶️ running \`${s.id}\`: ${escape(describePhase(s))}`);
  const all = [...lines, ...orphans];
  const dir = `\`${escape(folder.dir)}\``;
  const missing =
    folder.problem === 'missing' ? 'does not exist' : folder.problem === 'not_a_folder' ? 'is not a folder' : folder.problem === 'unreadable' ? 'cannot be read' : null;
  const none = missing
    ? `The plans folder ${dir} ${missing}, so the bot has no plans. Whoever runs the bot: create it, or point PLANS_DIR at the plans (the repository's \`plans/\` has one to try).`
    : `No plans in ${dir} yet. Add a YAML plan there (see examples/plans/); \`npm run plans -- check\` validates it before anyone starts it.`;
  const head = missing ? `⚠️ The plans folder ${dir} ${missing}: these cutovers run on plan snapshots.` : `*Plans* in ${dir}`;
  return clip(all.length ? `${head}\n${all.join('\n')}` : none, LIMIT.text);
}
