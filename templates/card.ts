// The status card: one message per cutover, edited in place on every change. It shows where the
// cutover is and offers only the buttons that fit its phase; each button carries the cutover id
// and the phaseSeq it was drawn for, so a click on an older card is refused as stale.
import type { types } from '@slack/bolt';
import { tally } from '../src/domain/approvals.ts';
import { formatDuration } from '../src/domain/duration.ts';
import type { GateReading, Verdict } from '../src/domain/gates.ts';
import type { ApprovalRule, Plan } from '../src/domain/plan.ts';
import { canaryMayServe, isTerminal, type Approval, type CutoverState, type Phase } from '../src/domain/state.ts';
import { blocking, startsAt } from '../src/domain/timeline.ts';
import { zonedText } from '../src/domain/zone.ts';
import { encodeButtonValue } from './button-value.ts';
import { LIMIT, clip, clipLines, context, escape, fields, header, mention, section, slackDate, type Block, type SlackMessage } from './blocks.ts';
import { HOLD_WORDS, describePhase, readingText } from './words.ts';
import type { CutoverView } from '../src/domain/view.ts';
import { droppedCohortMark, revisionWords, serviceField, trainSection, waveMark } from './train.ts';
import { droppedTargets, isTrain, nextStage, waveLive, waveOf } from '../src/domain/train.ts';

export type CardAction = 'approve' | 'reject' | 'promote' | 'hold' | 'resume' | 'rollback' | 'abort';
export const CARD_ACTIONS: readonly CardAction[] = ['approve', 'reject', 'promote', 'hold', 'resume', 'rollback', 'abort'];

export const VERDICT_EMOJI: Readonly<Record<Verdict, string>> = {
  pass: '✅',
  watch: '👀',
  fail: '❌',
  error: '⚠️',
  errors_exhausted: '⛔',
  waiting: '⏳',
  inconclusive: '❔',
};

/** slack.md: 🟢 on track, 🟡 issue, 🔴 rolled back. */
export function phaseEmoji(phase: Phase): string {
  switch (phase) {
    case 'held':
    case 'rolling_back':
      return '🟡';
    case 'rolled_back':
    case 'failed':
      return '🔴';
    case 'aborted':
      return '⚪';
    default:
      return '🟢';
  }
}

export interface CardOptions {
  /** false: the card without buttons (a /cutover status reply). */
  readonly buttons?: boolean;
}

export function statusCard({ state, plan }: CutoverView, options: CardOptions = {}): SlackMessage {
  const blocks: Block[] = [
    header(`${phaseEmoji(state.phase)} Cutover ${plan.name}: ${describePhase(state)}`),
    fields([
      ['Service', serviceField(plan) ?? `${escape(plan.service.platform)} \`${escape(plan.service.name)}\``],
      ['Revisions', plan.train ? 'per target, in the plan' : `stable \`${escape(state.revisions.stable)}\`\ncanary \`${escape(state.revisions.canary)}\``],
      ['Cohort', cohortText(plan, state)],
      ['Traffic', `${state.traffic} % canary / ${100 - state.traffic} % stable`],
      ['Started by', `${mention(state.startedBy)} ${slackDate(state.startedAt)}`],
      ['Next checkpoint', nextCheckpoint(plan, state)],
    ]),
    section(`*Cohorts* ${cohortTrail(plan, state)}`),
    section(gateSection(plan, state)),
  ];
  // A train: a row per target, its share, the split its platform verified, its gates.
  const train = trainSection(plan, state, VERDICT_EMOJI);
  if (train) blocks.push(section(train));
  const timeline = timelineSection(plan, state);
  if (timeline) blocks.push(section(timeline));
  const situation = situationText(plan, state);
  if (situation) blocks.push(section(situation));
  const buttons = options.buttons === false ? [] : buttonsFor(plan, state);
  if (buttons.length > 0) blocks.push({ type: 'actions', block_id: 'decide', elements: buttons });
  blocks.push(context(`${decisionsText(plan, state)}\nCutover \`${state.id}\` · details in the thread`));
  // The fallback text notifies: a held reason someone typed must not turn into a <!channel> there.
  return { text: clip(`Cutover ${plan.name}: ${escape(describePhase(state))}`, LIMIT.text), blocks };
}

/** The percent `/promote` moves to: the next cohort, past the waves whose targets were all dropped. */
function nextPercent(plan: Plan, state: CutoverState): number | undefined {
  const next = nextStage(plan, droppedTargets(state), state.stage);
  return next === null ? undefined : plan.stages[next]?.percent;
}

function cohortText(plan: Plan, state: CutoverState): string {
  if (state.stage < 0) return `not started (${plan.stages.length} cohorts)`;
  const percent = plan.stages[state.stage]?.percent ?? state.traffic;
  return `${state.stage + 1}/${plan.stages.length} (${percent} %)`;
}

/** `✅ 1 % → ✅ 5 % → ▶️ *10 %* → 25 % → …`: where the cutover is in its cohorts. */
function cohortTrail(plan: Plan, state: CutoverState): string {
  const finishedAll = state.phase === 'completed';
  return plan.stages
    .map((stage, i) => {
      const wave = waveMark(plan, i);
      // A wave whose targets were all dropped: the cohorts it ran, the one it was dropped in, the ones skipped.
      const dropped = droppedCohortMark(plan, state, i);
      if (dropped) return `${wave}${dropped} ${stage.percent} %`;
      if (finishedAll || i < state.stage) return `${wave}✅ ${stage.percent} %`;
      if (i === state.stage) return `${wave}▶️ *${stage.percent} %*`;
      return `${wave}${stage.percent} %`;
    })
    .join(' → ');
}

function nextCheckpoint(plan: Plan, state: CutoverState): string {
  const target = plan.stages[state.stage]?.percent;
  switch (state.phase) {
    case 'scheduled':
      return `T0 ${slackDate(state.t0)}; preflight starts ahead of it`;
    case 'ready':
      return `T0 ${slackDate(state.t0)}: the first cohort then`;
    case 'hypercare':
      return state.hypercare ? `hypercare ends ${slackDate(state.hypercare.endsAt)}` : 'hypercare';
    case 'preflight':
      return 'preflight gates are running';
    case 'awaiting_go_no_go':
      return `go/no-go decision (escalates ${slackDate(state.phaseSince + plan.escalation.stuckAfterMs)})`;
    case 'shifting':
      return `confirming ${target ?? '?'} % on the canary`;
    case 'soaking':
      return state.soak ? `soak of ${state.traffic} % ends ${slackDate(state.soak.endsAt)} (checks every ${formatDuration(plan.checkEveryMs)})` : 'soaking';
    case 'awaiting_promotion': {
      const next = nextPercent(plan, state);
      return next === undefined ? 'completion' : `/promote to ${next} %`;
    }
    case 'held':
      return 'a decision: resume, or roll back';
    case 'rolling_back':
      return `confirming 100 % on stable ${revisionWords(plan, state.revisions.stable, 'stable')}`;
    default:
      return state.endedAt ? `none: ended ${slackDate(state.endedAt)}` : 'none';
  }
}

const readingLine = (id: string, reading: GateReading | null | undefined): string =>
  clip(`${reading ? VERDICT_EMOJI[reading.verdict] : '⏳'} *${escape(id)}* ${escape(readingText(reading ?? undefined))}`, 400);

/** Each gate's last result: the stage gates once traffic moved, the preflight gates before. */
function gateSection(plan: Plan, state: CutoverState): string {
  const preflight = Object.entries(state.preflight);
  if (state.stage >= 0) {
    const passedAll = preflight.length > 0 && preflight.every(([, r]) => r.verdict === 'pass');
    const lines = plan.gates.stage.map((g) => readingLine(g.id, state.gates[g.id]?.last));
    return clip(`*Stage gates*\n${lines.join('\n')}\n_Preflight ${passedAll ? 'passed' : 'did not pass'}: ${escape(preflight.map(([id]) => id).join(', '))}_`, LIMIT.section);
  }
  if (preflight.length === 0) return `*Preflight gates*\n${plan.gates.preflight.map((g) => readingLine(g.id, null)).join('\n')}`;
  return clip(`*Preflight gates*\n${preflight.map(([id, r]) => readingLine(id, r)).join('\n')}`, LIMIT.section);
}

/** Seed 001's timeline as it runs: each checkpoint with its owner and status, and the next one due. */
function timelineSection(plan: Plan, state: CutoverState): string | null {
  if (plan.timeline.length === 0) return null;
  const lines = plan.timeline.map((c, i) => {
    const run = state.checkpoints[i];
    const head = `*${escape(c.label)}* ${escape(clip(c.name, 60))} · _${escape(c.owner)}_`;
    if (!run || run.status === 'pending') return `⏳ ${head}`;
    if (run.status === 'done') return `✅ ${head} · done`;
    const late = run.escalated ? ' · ⏰ escalated' : run.nudged ? ' · ⏰ late' : '';
    return `🟡 ${head} · open ${run.ticks.filter(Boolean).length}/${run.ticks.length}${late}`;
  });
  const next = plan.timeline.findIndex((_c, i) => state.checkpoints[i]?.status === 'pending');
  const nextLine = next >= 0 && !isTerminal(state.phase) ? [`Next: *${escape(plan.timeline[next]!.label)}* ${escape(clip(plan.timeline[next]!.name, 60))} at ${slackDate(state.t0 + plan.timeline[next]!.offsetMs, 'time')}`] : [];
  const signed = state.signoffs.filter(Boolean).length;
  const signOff = plan.signOff.length && (signed > 0 || state.phase === 'hypercare' || isTerminal(state.phase)) ? [`✍️ Sign-off ${signed}/${plan.signOff.length}`] : [];
  return clipLines([`*Runbook timeline* · T0 ${slackDate(state.t0)}`, ...lines, ...nextLine, ...signOff].join('\n'), LIMIT.section, 'the rest in the thread');
}

/** What `what` waits for on the runbook, in words; null when no checkpoint is in the way. */
function waitingFor(plan: Plan, state: CutoverState, what: 'go_no_go' | 'promote'): string | null {
  const index = blocking(plan, state, what);
  if (index === null) return null;
  const c = plan.timeline[index]!;
  const run = state.checkpoints[index];
  const progress =
    run?.status === 'open' ? `${run.ticks.filter(Boolean).length}/${run.ticks.length} ticked in its checklist in the thread` : `it opens ${slackDate(state.t0 + c.offsetMs)}`;
  return `*${escape(c.label)} ${escape(clip(c.name, 100))}* must be done first (owner *${escape(c.owner)}*: ${progress})`;
}

const rolesText = (roles: readonly string[]) => roles.map((r) => `*${escape(r)}*`).join(' or ');
const approversText = (approvals: readonly Approval[]) => approvals.map((a) => `${mention(a.by)} (${escape(a.role)})`).join(', ');

/** How many approvals a rule still needs, in words: "2 more approvals from *a* or *b*; …". */
function stillNeeded(rule: ApprovalRule, approvals: readonly Approval[], startedBy: string): string {
  const t = tally(rule, approvals, startedBy);
  const others = t.othersNeeded ? `; at least one from someone other than ${mention(startedBy)} (two-person rule)` : '';
  const so = approvals.length ? `\nApproved so far: ${approversText(approvals)}` : '';
  return `Needs *${t.needed}* more approval${t.needed === 1 ? '' : 's'} from ${rolesText(rule.roles)}${others}.${so}`;
}

/** What the people in the room are asked, or why the cutover stopped. */
function situationText(plan: Plan, state: CutoverState): string | null {
  switch (state.phase) {
    case 'scheduled': {
      const zone = plan.timezone === 'UTC' ? '' : ` (${escape(zonedText(state.t0, plan.timezone))})`;
      const first = plan.timeline[0];
      const withFirst = first && first.offsetMs < 0 ? ` with *${escape(first.label)} ${escape(clip(first.name, 100))}*` : '';
      return `🗓️ *Scheduled* by ${mention(state.startedBy)}: T0 ${slackDate(state.t0)}${zone}. Preflight starts ${slackDate(startsAt(plan, state.t0, state.startedAt))}${withFirst}; traffic moves at T0 once the go/no-go is given. *Abort* cancels it.`;
    }
    case 'ready':
      return `⏱️ *GO given*: traffic moves to ${plan.stages[0]?.percent ?? 0} % on canary ${revisionWords(plan, state.revisions.canary, 'canary')} at T0 ${slackDate(state.t0)}. *Hold* keeps it from moving.`;
    case 'awaiting_go_no_go': {
      const first = plan.stages[0]?.percent ?? 0;
      const waiting = waitingFor(plan, state, 'go_no_go');
      const ask = waiting ? `${waiting}; Approve and Reject appear here then.` : `Approve to send ${first} % of traffic to canary ${revisionWords(plan, state.revisions.canary, 'canary')}.`;
      return `🗳️ *Go/no-go*: preflight passed. ${ask}\n${stillNeeded(plan.approvals.go_no_go, state.approvals.go_no_go, state.startedBy)}`;
    }
    case 'awaiting_promotion': {
      const next = nextPercent(plan, state);
      const waiting = waitingFor(plan, state, 'promote');
      // The wave in play lost every target (dropped): the promotion starts the next wave.
      const gone = isTrain(plan) && !waveLive(plan, droppedTargets(state), waveOf(plan, state.stage));
      const where = gone ? `Every target of wave ${waveOf(plan, state.stage) + 1} was dropped` : `*Soak clean* at ${state.traffic} %`;
      const to = gone ? `${next ?? '?'} % (wave ${waveOf(plan, nextStage(plan, droppedTargets(state), state.stage) ?? state.stage) + 1})` : `${next ?? '?'} %`;
      if (waiting) return `✅ ${where}. Promotion to ${to} waits: ${waiting}.`;
      return `✅ ${where}. Promote to ${to}?\n${stillNeeded(plan.approvals.promote, state.approvals.promote, state.startedBy)}`;
    }
    case 'hypercare': {
      const care = plan.hypercare;
      const cadence = care ? `: the stage gates run every ${formatDuration(care.checkEveryMs)}, a summary every ${formatDuration(care.summaryEveryMs)}` : '';
      const until = state.hypercare ? ` until ${slackDate(state.hypercare.endsAt)}` : '';
      return `🩺 *Hypercare*${until}${cadence}. *Roll back* if users are affected; \`/cutover close [reason]\` ends hypercare early and keeps the release.`;
    }
    case 'held':
      return state.held ? `⏸️ *Held* (${HOLD_WORDS[state.held.code]}${state.held.by ? ` by ${mention(state.held.by)}` : ''}): ${escape(state.held.reason)}` : null;
    case 'rolling_back':
    case 'rolled_back':
    case 'failed':
      return state.rollback
        ? `⏪ *Rollback* (${state.rollback.trigger === 'gate' ? 'automatic' : `by ${mention(state.rollback.by ?? '')}`}): ${escape(state.rollback.reason)}`
        : null;
    default:
      return null;
  }
}

const DECISION_WORDS: Readonly<Record<CutoverState['decisions'][number]['action'], string>> = {
  start: '🚀 started',
  go_no_go: '👍 go',
  reject: '⛔ no-go',
  promote: '⏫ promote',
  hold: '⏸️ hold',
  resume: '▶️ resume',
  rollback: '⏪ rollback',
  abort: '⚪ abort',
  close: '🏁 close',
};

/** Who decided what, most recent last (the thread has them all). */
function decisionsText(plan: Plan, state: CutoverState): string {
  const shown = state.decisions.slice(-8).map((d) => {
    const at = d.stage >= 0 ? ` at ${plan.stages[d.stage]?.percent ?? '?'} %` : '';
    // A train's target dropped by hand (`/rollback <plan> <target>`) is not a rollback of the train.
    const what = d.target !== undefined ? `⏪ drop ${escape(plan.train?.targets[d.target]?.id ?? `target ${d.target}`)}` : DECISION_WORDS[d.action];
    return `${what} ${mention(d.by)}${at}`;
  });
  const earlier = state.decisions.length > shown.length ? `${state.decisions.length - shown.length} earlier · ` : '';
  return `Decisions: ${earlier}${shown.join(' · ')}`;
}

type ButtonStyle = 'primary' | 'danger' | undefined;

function button(state: CutoverState, action: CardAction, label: string, style?: ButtonStyle, confirm?: types.ConfirmationDialog): types.Button {
  return {
    type: 'button',
    action_id: action,
    text: { type: 'plain_text', text: clip(label, LIMIT.button), emoji: true },
    value: encodeButtonValue({ c: state.id, s: state.phaseSeq }),
    ...(style ? { style } : {}),
    ...(confirm ? { confirm } : {}),
  };
}

function rollbackButton(plan: Plan, state: CutoverState): types.Button {
  // A train that may drop one target's release says how; the button is the whole train's.
  const one = plan.train?.rollback === 'target' ? ` To drop one target only: /rollback ${plan.name} <target>.` : '';
  return button(state, 'rollback', '⏪ Roll back', 'danger', {
    title: { type: 'plain_text', text: 'Roll back the cutover?' },
    text: {
      type: 'mrkdwn',
      // A train (its targets reported in the state) returns every target to its own stable revision.
      text: clip(`All traffic returns to stable ${state.targets ? 'on every target' : `\`${escape(state.revisions.stable)}\``} at once; the canary stops serving. This cannot be undone from Slack.${escape(one)}`, 300),
    },
    confirm: { type: 'plain_text', text: 'Roll back' },
    deny: { type: 'plain_text', text: 'Cancel' },
    style: 'danger',
  });
}

function abortButton(state: CutoverState): types.Button {
  return button(state, 'abort', '⚪ Abort', 'danger', {
    title: { type: 'plain_text', text: 'Cancel the scheduled cutover?' },
    text: { type: 'mrkdwn', text: 'Nothing has run yet and no traffic moves. To run it later, schedule it again.' },
    confirm: { type: 'plain_text', text: 'Abort' },
    deny: { type: 'plain_text', text: 'Keep it' },
    style: 'danger',
  });
}

/** The buttons that fit the phase; none while traffic is moving or once the cutover has ended. */
function buttonsFor(plan: Plan, state: CutoverState): types.Button[] {
  switch (state.phase) {
    case 'scheduled':
      return [abortButton(state)];
    case 'awaiting_go_no_go':
      // A checkpoint that blocks the go/no-go keeps the decision off the card until it is done.
      if (blocking(plan, state, 'go_no_go') !== null) return [];
      return [button(state, 'approve', '✅ Approve', 'primary'), button(state, 'reject', '⛔ Reject', 'danger')];
    case 'soaking':
      return [button(state, 'hold', '⏸️ Hold'), rollbackButton(plan, state)];
    case 'awaiting_promotion': {
      const next = nextPercent(plan, state);
      const promote = blocking(plan, state, 'promote') === null ? [button(state, 'promote', `⏫ Promote to ${next ?? '?'} %`, 'primary')] : [];
      return [...promote, button(state, 'hold', '⏸️ Hold'), rollbackButton(plan, state)];
    }
    case 'held': {
      // With nothing on the canary there is nothing to roll back: /cutover abort ends it.
      return [button(state, 'resume', '▶️ Resume', 'primary'), ...(canaryMayServe(state) ? [rollbackButton(plan, state)] : [])];
    }
    case 'ready':
      return [button(state, 'hold', '⏸️ Hold')];
    case 'hypercare':
      // The release is out and still watched: the one decision left is to take it back.
      return [rollbackButton(plan, state)];
    default:
      return [];
  }
}
