// The start dialog: `/cutover start` with no plan opens it. First a select of the plans; once one is
// picked, its canary and stable revisions as selects filled from the traffic backend (the one
// serving 100 % preselected as stable), an optional T0, and what will apply: cohorts, gates and who
// approves. Pure: (view model) -> a modal. Submitting it does what the typed command does.
import type { types } from '@slack/bolt';
import { formatDuration } from '../src/domain/duration.ts';
import type { ApprovalRule, Plan } from '../src/domain/plan.ts';
import type { RevisionChoice } from '../src/domain/service.ts';
import { clip, context, escape, mention, section, type Block } from './blocks.ts';

export const START_DIALOG = {
  callbackId: 'start_dialog',
  /** The plan select: picking one fills the rest in (views.update). */
  planAction: 'start_plan',
  blocks: { plan: 'plan', canary: 'canary', stable: 'stable', t0: 't0' },
  actions: { canary: 'canary', stable: 'stable', t0: 't0' },
} as const;

/** Slack's limit on a select's options. */
const MAX_OPTIONS = 100;

/** What the dialog carries between its steps, in `private_metadata`: where the command was typed and how to answer. */
export interface DialogContext {
  readonly channel: string;
  readonly user: string;
  readonly responseUrl: string;
}

export interface ChosenPlan {
  readonly name: string;
  readonly plan: Plan | null;
  /** Why the plan cannot be started as it is (validation problems); empty when it can. */
  readonly problems: readonly string[];
  /** The backend's revisions, newest first; null when it cannot list them (then: text fields). */
  readonly revisions: readonly RevisionChoice[] | null;
  /** Why the revisions could not be listed, if they could not. */
  readonly revisionsError?: string;
}

export interface StartDialogModel {
  readonly context: DialogContext;
  /** Plan names in PLANS_DIR. */
  readonly plans: readonly string[];
  readonly chosen?: ChosenPlan;
}

const plain = (text: string, emoji = false) => ({ type: 'plain_text' as const, text: clip(text, 75), ...(emoji ? { emoji: true } : {}) });
const option = (text: string, value: string) => ({ text: plain(text), value });

/** Defaults: stable is what serves 100 % (else the plan's stable); canary the plan's canary if offered, else the newest other one. */
export function defaultRevisions(plan: Plan, choices: readonly RevisionChoice[]): { stable: string | null; canary: string | null } {
  const names = choices.map((c) => c.name);
  const stable = choices.find((c) => c.percent === 100)?.name ?? (names.includes(plan.service.stable) ? plan.service.stable : (names[1] ?? names[0] ?? null));
  const canary = names.includes(plan.service.canary) && plan.service.canary !== stable ? plan.service.canary : (names.find((n) => n !== stable) ?? null);
  return { stable, canary };
}

function revisionLabel(c: RevisionChoice, newest: boolean): string {
  const serving = c.percent > 0 ? ` · serves ${c.percent} %` : '';
  const created = c.createdAt ? ` · ${new Date(c.createdAt).toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
  return `${c.name}${serving}${created}${newest ? ' · newest' : ''}`;
}

function revisionInput(which: 'canary' | 'stable', plan: Plan, chosen: ChosenPlan): Block {
  const label = which === 'canary' ? 'Canary revision (the new one)' : 'Stable revision (the one to return to)';
  const fallback = plan.service[which];
  if (!chosen.revisions || chosen.revisions.length === 0) {
    return {
      type: 'input',
      block_id: START_DIALOG.blocks[which],
      label: plain(label),
      hint: plain(`The plan's default: ${fallback}`),
      element: { type: 'plain_text_input', action_id: START_DIALOG.actions[which], initial_value: fallback, max_length: 63 },
    } as Block;
  }
  const offered = chosen.revisions.slice(0, MAX_OPTIONS);
  const defaults = defaultRevisions(plan, offered);
  const initial = defaults[which];
  const options = offered.map((c, i) => option(revisionLabel(c, i === 0), c.name));
  return {
    type: 'input',
    block_id: START_DIALOG.blocks[which],
    label: plain(label),
    element: {
      type: 'static_select',
      action_id: START_DIALOG.actions[which],
      placeholder: plain('Pick a revision'),
      options,
      ...(initial ? { initial_option: options[offered.findIndex((c) => c.name === initial)] } : {}),
    },
  } as Block;
}

const rule = (name: string, r: ApprovalRule) => `${name}: ${r.min} of ${r.roles.map((x) => `*${escape(x)}*`).join(' or ') || 'anyone'}${r.twoPerson ? ' (two-person rule)' : ''}`;

/** Cohorts, gates and who approves: what will apply once it starts. */
export function planSummary(plan: Plan): string {
  const gates = (list: Plan['gates']['stage']) => list.map((g) => `\`${escape(g.id)}\` (${escape(g.kind)}${g.forMs ? `, for ${formatDuration(g.forMs)}` : ''})`).join(', ') || 'none';
  const people = (role: string) => (plan.roles[role] ?? []).map(mention).join(' ');
  const roles = Object.keys(plan.roles)
    .map((role) => `*${escape(role)}*: ${people(role) || 'nobody'}`)
    .join(' · ');
  return clip(
    [
      `*Service:* ${escape(plan.service.platform)} \`${escape(plan.service.name)}\` · war room ${mention(plan.channel)}`,
      `*Cohorts:* ${plan.stages.map((s) => `${s.percent} %`).join(' → ')}, soak ${formatDuration(plan.stages[0]?.soakMs ?? 0)} each, ${plan.stages[0]?.promotion ?? 'manual'} promotion`,
      `*Preflight gates:* ${gates(plan.gates.preflight)}${plan.gates.rollbackDrill ? `; rollback drill \`${escape(plan.gates.rollbackDrill.id)}\`` : ''}`,
      `*Stage gates* (every ${formatDuration(plan.checkEveryMs)}): ${gates(plan.gates.stage)}`,
      `*Approvals:* ${rule('go/no-go', plan.approvals.go_no_go)}; ${rule('promote', plan.approvals.promote)}; ${rule('rollback', plan.approvals.rollback)}`,
      `*Roles:* ${roles}`,
      ...(plan.timeline.length ? [`*Runbook timeline:* ${plan.timeline.map((c) => `${escape(c.label)} ${escape(c.name)}`).join(', ')}`] : []),
    ].join('\n'),
    2_900,
  );
}

export function startDialog(model: StartDialogModel): types.ModalView {
  const { chosen } = model;
  const planOptions = model.plans.slice(0, MAX_OPTIONS).map((name) => option(name, name));
  const blocks: Block[] = [];
  if (planOptions.length === 0) {
    blocks.push(section('No plans in PLANS_DIR: add one (see the README’s plan reference), then try again.'));
  } else {
    // An input (so a refusal can be shown under it) that reports its choice at once (dispatch_action).
    blocks.push({
      type: 'input',
      block_id: START_DIALOG.blocks.plan,
      dispatch_action: true,
      label: plain('Plan'),
      element: {
        type: 'static_select',
        action_id: START_DIALOG.planAction,
        placeholder: plain('Pick a plan'),
        options: planOptions,
        ...(chosen && planOptions.some((o) => o.value === chosen.name) ? { initial_option: option(chosen.name, chosen.name) } : {}),
      },
    } as Block);
    if (model.plans.length > MAX_OPTIONS) blocks.push(context(`${model.plans.length - MAX_OPTIONS} more plans are not listed (a select holds 100): type \`/cutover start <plan>\` for those.`));
  }
  const ready = chosen?.plan && chosen.problems.length === 0 ? chosen.plan : null;
  if (!chosen) {
    blocks.push(context('Pick a plan: its revisions, the gates and who approves appear here.'));
  } else if (!ready) {
    blocks.push(section(`⚠️ *${escape(chosen.name)}* cannot be started:\n${chosen.problems.slice(0, 10).map((p) => `• ${escape(clip(p, 280))}`).join('\n')}`));
  } else {
    if (ready.channel !== model.context.channel) {
      blocks.push(section(`⚠️ This plan runs in ${mention(ready.channel)}: start it there (or open this dialog there).`));
    }
    blocks.push(revisionInput('canary', ready, chosen), revisionInput('stable', ready, chosen));
    if (chosen.revisions === null || chosen.revisionsError) {
      blocks.push(context(escape(clip(chosen.revisionsError ? `The revisions could not be listed (${chosen.revisionsError}): type them.` : `${ready.service.platform} has no revisions to list: the plan's defaults are filled in.`, 1_000))));
    }
    blocks.push({
      type: 'input',
      block_id: START_DIALOG.blocks.t0,
      optional: true,
      label: plain('Scheduled T0 (leave empty to start now)'),
      hint: plain(`HH:MM in ${ready.timezone}, or 2026-11-24T14:00Z, or with an offset`),
      element: { type: 'plain_text_input', action_id: START_DIALOG.actions.t0, placeholder: plain('14:00'), max_length: 40 },
    } as Block);
    blocks.push({ type: 'divider' }, section(planSummary(ready)));
  }
  return {
    type: 'modal',
    callback_id: START_DIALOG.callbackId,
    title: plain('Start a cutover'),
    // A modal with an input needs a submit button; without a startable plan, submitting says why not.
    submit: plain(ready ? 'Start' : 'Check'),
    close: plain('Cancel'),
    private_metadata: JSON.stringify(model.context),
    blocks,
  };
}
