// The war room's other messages: thread detail from notices, seed 003's escalation, 30-minute
// update and status-page draft, and the closing message. Pure: (view model) -> Block Kit.
import { formatDuration } from '../src/domain/duration.ts';
import type { Escalation, EscalationCode, Notice } from '../src/domain/state.ts';
import { LIMIT, clip, clipLines, context, escape, header, markdown, mention, section, type SlackMessage } from './blocks.ts';
import { phaseEmoji } from './card.ts';
import { updateFacts } from './update.ts';
import { describePhase, ESCALATION_WORDS, isoMinute, noticeText } from './words.ts';
import type { CutoverView } from '../src/domain/view.ts';
import { revisionWords } from './train.ts';

const NOTICE_EMOJI: Readonly<Record<Notice['kind'], string>> = {
  started: '🚀',
  preflight: '🔎',
  go_no_go_requested: '🗳️',
  approved: '👍',
  go: '🟢',
  rejected: '⛔',
  shifting: '↗️',
  traffic_confirmed: '🔀',
  gate_check: '🔎',
  soak_clean: '✅',
  promoted: '⏫',
  held: '⏸️',
  resumed: '▶️',
  rollback_started: '⏪',
  rolled_back: '🔴',
  rollback_failed: '🚨',
  traffic_failed: '⚠️',
  completed: '🟢',
  aborted: '⚪',
  scheduled: '🗓️',
  ready: '⏱️',
  checkpoint_opened: '📋',
  checkpoint_ticked: '☑️',
  checkpoint_gates: '🔎',
  checkpoint_done: '✅',
  checkpoint_nudged: '🔔',
  hypercare_started: '🩺',
  hypercare_alert: '⚠️',
  hypercare_ended: '🏁',
  signoff_requested: '✍️',
  signed_off: '✍️',
  signoff_complete: '✅',
  target_dropped: '⏪',
  target_back: '✅',
  target_rollback_failed: '🚨',
};

function noticeEmoji(notice: Notice): string {
  if (notice.kind === 'preflight' || notice.kind === 'checkpoint_gates') return notice.passed ? '✅' : '❌';
  if (notice.kind === 'gate_check') {
    if (notice.gates.some((g) => g.verdict === 'fail')) return '❌';
    return notice.gates.every((g) => g.verdict === 'pass') ? '✅' : '⚠️';
  }
  return NOTICE_EMOJI[notice.kind];
}

// Placeholders survive escaping; the user ids they stand for come back as real mentions.
const MARK = '\u0001';

/**
 * One line of the card's thread. The words are the rehearsal's (`noticeText`); people become
 * mentions, and everything else (reasons people typed, gate output) is escaped, so a reason
 * containing `<!channel>` pings nobody.
 */
export function threadNotice(notice: Notice, { plan }: CutoverView): SlackMessage {
  const ids: string[] = [];
  const marked = (id: string) => `${MARK}${ids.push(id) - 1}${MARK}`;
  const copy: Record<string, unknown> = { ...notice };
  if (typeof copy.by === 'string') copy.by = marked(copy.by);
  if (Array.isArray(copy.approvers)) copy.approvers = (copy.approvers as string[]).map(marked);
  const words = escape(noticeText(copy as Notice, plan)).replace(new RegExp(`${MARK}(\\d+)${MARK}`, 'g'), (_, i: string) => mention(ids[Number(i)] ?? ''));
  return { text: clip(`${noticeEmoji(notice)} ${words}`, LIMIT.text), blocks: [] };
}

const mentions = (ids: readonly string[]) => ids.map(mention).join(' ');

interface EscalationWords {
  readonly impact: string;
  readonly action: string;
  readonly eta: string;
}

/** Impact, Action and ETA of seed 003's escalation, from what the state says now. */
function escalationWords(code: EscalationCode, { state, plan }: CutoverView): EscalationWords {
  const stable = revisionWords(plan, state.revisions.stable, 'stable');
  const canary = revisionWords(plan, state.revisions.canary, 'canary');
  const cohort = state.stage >= 0 ? (plan.stages[state.stage]?.percent ?? state.traffic) : 0;
  const held = { action: 'Cutover held. Decide on the status card: resume, or roll back (`/rollback`).', eta: 'When someone decides; traffic stays where it is until then.' };
  switch (code) {
    case 'gate_failed':
      return {
        impact: `Users served by canary ${canary} (up to ${cohort} % of traffic) may have seen errors or slow responses.`,
        action: `Automatic rollback in progress: 100 % back to stable ${stable}.`,
        eta: 'Minutes: the status card says when stable serves all traffic again.',
      };
    case 'rollback':
      return {
        impact: `Up to ${cohort} % of traffic was on canary ${canary}.`,
        action: `Rollback${state.rollback?.by ? ` requested by ${mention(state.rollback.by)}` : ''} in progress: 100 % back to stable ${stable}.`,
        eta: 'Minutes: the status card says when stable serves all traffic again.',
      };
    case 'gate_errors':
      return { impact: `Canary ${canary} keeps ${state.traffic} % of traffic and is still watched, but its gates cannot be measured.`, ...held };
    case 'traffic_failed':
      return { impact: `The traffic split could not be confirmed; last confirmed ${state.traffic} % on canary ${canary}.`, ...held };
    case 'preflight_failed':
      return { impact: 'None yet: no traffic has moved.', ...held };
    case 'approval_stuck': {
      const roles = (state.phase === 'awaiting_promotion' ? plan.approvals.promote : plan.approvals.go_no_go).roles.join(' or ');
      return {
        impact: state.traffic > 0 ? `Canary ${canary} keeps ${state.traffic} % of traffic while it waits.` : 'None yet: no traffic moves until someone approves.',
        action: `Waiting for ${escape(roles)}: decide on the status card.`,
        eta: 'When the approvers act.',
      };
    }
    case 'rollback_failed':
      return {
        impact: `Canary ${canary} may still serve traffic: the return to stable could not be confirmed.`,
        action: `Act by hand now: set 100 % on stable ${stable} and verify the served split.`,
        eta: 'Unknown: this needs a person now.',
      };
    case 'rollback_target_failed':
      return {
        impact: 'Part of the train may still serve its canary: the targets named above could not be moved back to stable yet; the others are back.',
        action: 'The bot keeps retrying them. If their platform stays down, set 100 % on their stable revision by hand and verify the served split.',
        eta: 'Minutes if the platform answers again; the status card shows each target when it is back on stable.',
      };
    case 'target_dropped':
      return {
        impact: `The dropped target's users were served by its canary (its share named above); the other targets of the train are not affected.`,
        action: `That target alone goes back to its stable revision now (its own rollback steps first); the rest of the train carries on. Roll back the whole train with \`/rollback\` if the problem is not that target's alone.`,
        eta: 'Seconds to minutes: the status card shows the target back on stable.',
      };
    case 'target_rollback_failed':
      return {
        impact: 'The dropped target named above may still serve its canary: it could not be moved back to stable yet. The rest of the train is not affected.',
        action: 'The bot keeps retrying it. If its platform stays down, set 100 % on its stable revision by hand and verify the served split.',
        eta: 'Minutes if the platform answers again; the status card shows the target when it is back on stable.',
      };
    case 'target_rollback_not_confirmed':
      return {
        impact: 'The dropped target named above may still serve its canary: the bot could not move it back to stable and has stopped trying.',
        action: 'Act by hand now: set 100 % on that target’s stable revision and verify the served split. The rest of the train is not affected.',
        eta: 'Unknown: this needs a person now.',
      };
    case 'checkpoint_missed':
      return {
        impact: 'The runbook is behind: a checkpoint its owner must confirm is not done, and the cutover may wait on it.',
        action: 'The owner named above ticks its checklist in the status card’s thread; if they cannot, someone else with that role takes it over.',
        eta: 'When the owner confirms the checkpoint.',
      };
    case 'checkpoint_gates_failed':
      return {
        impact: `A checkpoint's own checks did not pass; ${state.traffic > 0 ? `canary ${canary} serves ${state.traffic} %` : 'no traffic has moved'}.`,
        action: 'Look at the failing gates in the status card’s thread and fix what they check: they run again once the checklist is complete, then every check interval until they pass. Or abort (`/cutover abort`) or roll back (`/rollback`).',
        eta: 'When the checks pass, or someone decides.',
      };
    case 'hypercare_gate_failed':
      return {
        impact: `The release (canary ${canary}) serves ${state.traffic} % and a gate fails during hypercare.`,
        action: `Decide now: roll back to stable ${stable} (*Roll back* on the status card, or \`/rollback\`), or accept it and keep watching. Nothing rolls back by itself after 100 %.`,
        eta: 'When someone decides.',
      };
  }
}

/** Seed 003's escalation template, in the channel, mentioning `escalation.mention`. */
export function escalationMessage(escalation: Escalation, view: CutoverView): SlackMessage {
  const { plan } = view;
  const title = ESCALATION_WORDS[escalation.code];
  const words = escalationWords(escalation.code, view);
  const who = mentions(plan.escalation.mention);
  const lines = [
    `🚨 *${escape(plan.name)} Cutover Issue*: ${title}`,
    `*Problem:* ${escape(escalation.detail)}`,
    `*Impact:* ${words.impact}`,
    `*Action:* ${words.action}`,
    `*ETA:* ${words.eta}`,
    `*War room:* ${mention(plan.channel)}`,
  ];
  return {
    text: clip(`${who ? `${who} ` : ''}🚨 ${plan.name} cutover issue: ${title}`, LIMIT.text),
    blocks: [section(lines.join('\n')), ...(who ? [context(`Escalated to ${who}`)] : [])],
  };
}

const DAY_MS = 86_400_000;

/** Seed 003's 30-minute internal update; in hypercare, its daily summary (at the plan's summary_every). */
export function updateMessage(view: CutoverView, now: number): SlackMessage {
  const f = updateFacts(view, now);
  const { state, plan } = view;
  const hypercare = f.kind === 'hypercare' && state.hypercare ? state.hypercare : null;
  const every = hypercare ? (plan.hypercare?.summaryEveryMs ?? DAY_MS) : plan.updates.everyMs;
  // Hypercare runs for days: "T+1d2h" reads better there than thousands of minutes.
  const title = hypercare
    ? `${f.emoji} ${plan.name} Hypercare ${every === DAY_MS ? 'Daily ' : ''}Summary [T+${formatDuration(Math.max(0, Math.round((now - state.startedAt) / 60_000)) * 60_000)}]`
    : `${f.emoji} ${plan.name} Cutover Update [T+${f.minutes}min]`;
  const footer = hypercare
    ? `Cutover \`${state.id}\` · hypercare until ${isoMinute(hypercare.endsAt)} · a summary every ${formatDuration(every)}`
    : `Cutover \`${state.id}\` · an update every ${formatDuration(every)}`;
  const lines = [
    `*${escape(title)}*`,
    `*Status:* ${f.status}`,
    `*Traffic:* ${f.traffic}`,
    `*Key Metrics:* ${escape(f.metrics)}`,
    `*Issues:* ${escape(f.issues)}`,
    `*Next checkpoint:* ${escape(f.next)}`,
  ];
  return { text: `${title}: ${f.status}`, blocks: [section(lines.join('\n')), context(footer)] };
}

/**
 * Seed 003's external status-page text, for someone to copy: at the start, with the expected
 * completion if every soak runs clean; on a rollback, saying the previous version is coming back.
 */
export function statusPageDraft(moment: 'start' | 'rollback', { state, plan }: CutoverView): SlackMessage {
  const finish = state.startedAt + plan.stages.reduce((sum, s) => sum + s.soakMs, 0);
  const draft =
    moment === 'start'
      ? [
          'We are currently deploying new features to improve performance and capabilities.',
          'Users may experience brief loading delays during this maintenance window.',
          `Expected completion: ${isoMinute(finish)}`,
        ]
      : [
          'We have reverted a deployment after detecting an issue.',
          'Service is returning to its previous version; some users may have seen errors or delays.',
          'Expected completion: within minutes. We will update this page once service is fully restored.',
        ];
  const why = moment === 'start' ? 'if customers need to know about the maintenance' : 'customers may have noticed the problem';
  return {
    text: `Status page draft (${moment === 'start' ? 'start' : 'rollback'}) for ${plan.name}`,
    blocks: [section(`📝 *Status page draft*: copy it ${why}.\n\`\`\`${draft.join('\n')}\`\`\``)],
  };
}

const OUTCOME_WORDS = {
  completed: 'completed: the canary serves 100 %',
  rolled_back: 'rolled back: all traffic is on stable',
  aborted: 'aborted before traffic moved',
  failed: 'FAILED: the rollback could not be confirmed',
} as const;

/** The outcome, SUMMARY.md (clipped to what one message may hold) and where the files are. */
export function closingMessage(view: CutoverView, summaryMarkdown: string, evidence: { readonly path: string; readonly files: number }): SlackMessage {
  const { state, plan } = view;
  const dropped = state.outcome === 'completed' && state.dropped?.length ? state.dropped : null;
  // A train that dropped targets completed with the others: say how many, and which went back.
  const outcome = dropped
    ? `${describePhase(state)}: the canary serves 100 % on the others; ${dropped.map((d) => plan.train?.targets[d.target]?.id ?? `target ${d.target}`).join(', ')} back to stable`
    : state.outcome
      ? OUTCOME_WORDS[state.outcome]
      : 'ended';
  const took = state.endedAt ? ` after ${formatDuration(state.endedAt - state.startedAt)}` : '';
  return {
    text: `${phaseEmoji(state.phase)} Cutover ${plan.name} ${outcome}`,
    blocks: [
      header(`${phaseEmoji(state.phase)} Cutover ${plan.name} ${outcome}`),
      section(`Final traffic ${state.traffic} % canary / ${100 - state.traffic} % stable${took}. Started by ${mention(state.startedBy)}.`),
      markdown(clipLines(summaryMarkdown, LIMIT.markdown, 'cut here to fit Slack: the whole SUMMARY.md is in the thread')),
      context(`Evidence package: ${evidence.files} files in the status card's thread · on the bot host: \`${escape(evidence.path)}\``),
    ],
  };
}
