// The bot's App Home: what runs (plan, service, phase, canary share, who started it, a link to its
// status card), the last finished cutovers with their outcome and when, the plans in PLANS_DIR with
// their problems, and the viewer's roles in each. Pure: (view model) -> a Home view, held to Block
// Kit's 100 blocks however many plans and cutovers there are.
import type { types } from '@slack/bolt';
import type { Plan } from '../src/domain/plan.ts';
import type { CutoverState, Outcome } from '../src/domain/state.ts';
import { LIMIT, clip, context, escape, header, mention, section, slackDate, type Block } from './blocks.ts';
import { phaseEmoji } from './card.ts';
import { describePhase } from './words.ts';

/** Slack's limit for a Home view. */
export const HOME_BLOCKS = 100;
/** Finished cutovers shown. */
export const FINISHED_SHOWN = 10;

export interface HomeCutover {
  readonly state: CutoverState;
  readonly plan: Plan | null;
  /** The status card's permalink (chat.getPermalink), when the card is posted. */
  readonly permalink: string | null;
}

export interface HomePlan {
  readonly name: string;
  readonly plan: Plan | null;
  /** Validation problems; empty for a valid plan. */
  readonly problems: readonly string[];
  /** The plan roles the viewer holds in it. */
  readonly roles: readonly string[];
}

export interface HomeModel {
  readonly viewer: string;
  readonly running: readonly HomeCutover[];
  /** Most recent first; more than FINISHED_SHOWN are cut. */
  readonly finished: readonly HomeCutover[];
  readonly plans: readonly HomePlan[];
  readonly now: number;
}

const OUTCOME_WORDS: Readonly<Record<Outcome, string>> = {
  completed: 'completed',
  rolled_back: 'rolled back',
  aborted: 'aborted',
  failed: 'FAILED',
};

const PROBLEMS_SHOWN = 5;

function runningLine({ state, plan, permalink }: HomeCutover): string {
  const name = escape(state.plan);
  const title = permalink ? `<${permalink}|${name}>` : name;
  const service = plan ? ` · ${escape(plan.service.platform)} \`${escape(plan.service.name)}\`` : '';
  return [
    `${phaseEmoji(state.phase)} *${title}*${service}`,
    `${escape(describePhase(state))} · canary *${state.traffic} %* · started by ${mention(state.startedBy)} ${slackDate(state.startedAt)}`,
  ].join('\n');
}

function finishedLine({ state, permalink }: HomeCutover): string {
  const name = permalink ? `<${permalink}|${escape(state.plan)}>` : escape(state.plan);
  const outcome = state.outcome ? OUTCOME_WORDS[state.outcome] : state.phase;
  return `${phaseEmoji(state.phase)} *${name}* ${outcome} ${slackDate(state.endedAt ?? state.phaseSince)}${state.rollback ? `: ${escape(clip(state.rollback.reason, 120))}` : ''}`;
}

function planLines(p: HomePlan): string[] {
  if (p.problems.length > 0) {
    const shown = p.problems.slice(0, PROBLEMS_SHOWN).map((problem) => `      – ${escape(clip(problem, 200))}`);
    const more = p.problems.length > PROBLEMS_SHOWN ? [`      – and ${p.problems.length - PROBLEMS_SHOWN} more`] : [];
    return [`⚠️ *${escape(p.name)}*: ${p.problems.length} problem${p.problems.length === 1 ? '' : 's'}, cannot be started`, ...shown, ...more];
  }
  const service = p.plan ? ` · ${escape(p.plan.service.platform)} \`${escape(p.plan.service.name)}\` · ${mention(p.plan.channel)}` : '';
  const roles = p.roles.length ? `your roles: ${p.roles.map(escape).join(', ')}` : 'no role of yours';
  return [`✅ *${escape(p.name)}*${service} · ${roles}`];
}

/** Lines packed into as few sections as the section limit allows; a line longer than that is clipped. */
function pack(lines: readonly string[], max = LIMIT.section - 100): string[] {
  const sections: string[] = [];
  let current = '';
  for (const line of lines.map((l) => clip(l, max))) {
    if (current && current.length + 1 + line.length > max) {
      sections.push(current);
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) sections.push(current);
  return sections;
}

export function homeView(model: HomeModel): types.HomeView {
  const blocks: Block[] = [header('Cutovers')];
  const footer = context(`Updated ${slackDate(model.now)} · \`/cutover start\` opens the start dialog · \`/cutover help\` lists the commands`);
  // What comes after the running cutovers, reserved first so the plans always get some room.
  const finished = model.finished.slice(0, FINISHED_SHOWN);
  const finishedBlocks = [header(`Last ${finished.length || ''} finished`.replace('  ', ' ')), section(finished.length ? finished.map(finishedLine).join('\n') : '_None yet._')];

  blocks.push(section(`*Running* (${model.running.length})`));
  // Room for running cutovers: all but what the finished list, the plans' header, at least one
  // plan section, the footer and a "more" line need.
  const runningRoom = HOME_BLOCKS - blocks.length - finishedBlocks.length - 4 - 1;
  const runningSections = model.running.length ? model.running.map(runningLine) : ['_Nothing is running._'];
  const runningShown = runningSections.slice(0, Math.min(runningSections.length, Math.max(1, Math.floor(runningRoom / 2))));
  blocks.push(...runningShown.map(section));
  if (runningShown.length < runningSections.length) {
    blocks.push(context(`…and ${runningSections.length - runningShown.length} more running: \`/cutover plans\` lists them all.`));
  }
  blocks.push({ type: 'divider' }, ...finishedBlocks, { type: 'divider' });

  const invalid = model.plans.filter((p) => p.problems.length > 0).length;
  blocks.push(header(`Plans (${model.plans.length}${invalid ? `, ${invalid} with problems` : ''})`));
  // Plans with problems first: they are what needs someone's attention.
  const ordered = [...model.plans].sort((a, b) => Number(b.problems.length > 0) - Number(a.problems.length > 0) || a.name.localeCompare(b.name));
  const planSections = pack(ordered.length ? ordered.flatMap(planLines) : ['_No plans in PLANS_DIR._']);
  const planRoom = HOME_BLOCKS - blocks.length - 1;
  if (planSections.length <= planRoom) {
    blocks.push(...planSections.map(section));
  } else {
    const shown = planSections.slice(0, planRoom - 1);
    const listed = shown.join('\n').split('\n').filter((l) => /^(✅|⚠️) \*/.test(l)).length;
    blocks.push(...shown.map(section), context(`…and ${ordered.length - listed} more plans: \`/cutover plans\` lists them all.`));
  }
  blocks.push(footer);
  return { type: 'home', blocks };
}
