// A train on the status card: one row per target (its share of the cohort, the split its own
// platform last verified, its gates), and the few words the card says differently for a train.
// Pure: (plan, state) -> mrkdwn.
import type { Verdict } from '../src/domain/gates.ts';
import type { Plan } from '../src/domain/plan.ts';
import type { CutoverState } from '../src/domain/state.ts';
import { droppedTargets, isTrain, targetInPlay, targetPercents, waveLive, waveOf, type TrainPlan } from '../src/domain/train.ts';
import { LIMIT, clipLines, escape, mention } from './blocks.ts';

const WORST: readonly Verdict[] = ['fail', 'errors_exhausted', 'error', 'watch', 'waiting', 'pass'];

/** Where a target is: `Cloud Run europe-west1 api`, `simulated api`, `http-flag pags`. */
export function targetWhere(service: Plan['service']): string {
  const region = (service as { region?: unknown }).region;
  const platform = service.platform === 'cloud-run' ? 'Cloud Run' : service.platform;
  return `${platform}${typeof region === 'string' ? ` ${region}` : ''} \`${escape(service.name)}\``;
}

/** The card's Service field: a train names its targets' count and strategy. */
export function serviceField(plan: Plan): string | null {
  if (!isTrain(plan)) return null;
  const waves = plan.train.waves.length;
  return `train of ${plan.train.targets.length} (${plan.train.strategy === 'lockstep' ? 'lockstep' : `${waves} waves`}): per target below`;
}

/** The share of traffic each target's canary should serve now: at the cohort confirmed last, or (rolling back) none. */
function intended(plan: TrainPlan, state: CutoverState): number[] {
  if (state.phase === 'rolling_back' || state.phase === 'rolled_back' || state.stage < 0) return plan.train.targets.map(() => 0);
  return targetPercents(plan, state.stage, state.traffic, droppedTargets(state));
}

const onStable = (split: { canary: number; other: number } | null | undefined): boolean => split !== null && split !== undefined && split.canary === 0 && split.other === 0;

/** A dropped target's row after its name: why it was dropped, and whether it is back on stable. */
function droppedRow(state: CutoverState, t: number): { mark: string; text: string } | null {
  const drop = state.dropped?.find((d) => d.target === t);
  if (!drop) return null;
  const report = state.targets?.[t] ?? null;
  const why = `dropped${drop.trigger === 'manual' && drop.by ? ` by ${mention(drop.by)}` : ''}: ${escape(drop.reason)}`;
  if (onStable(report?.split)) return { mark: '↩️', text: `${why} · back on stable, verified` };
  if (drop.rollbackError) return { mark: '⚠️', text: `${why} · NOT back on stable: ${escape(drop.rollbackError)}` };
  if (report?.error) return { mark: '⚠️', text: `${why} · not back on stable yet: ${escape(report.error)}` };
  return { mark: '⏪', text: `${why} · going back to stable${report?.split ? ` (verified ${report.split.canary} % canary)` : ''}` };
}

function gateState(plan: TrainPlan, state: CutoverState, t: number, emoji: Readonly<Record<Verdict, string>>): string {
  const gates = plan.gates.stage.filter((g) => g.target === t);
  if (gates.length === 0) return '';
  if (state.stage < 0) return ' · gates not run yet';
  if (!targetInPlay(plan, t, state.stage)) return ` · gates wait for wave ${plan.train.targets[t]!.wave + 1}`;
  const verdicts = gates.map((g) => state.gates[g.id]?.last?.verdict ?? 'waiting');
  const worst = WORST.find((v) => verdicts.includes(v)) ?? 'waiting';
  const failing = gates.filter((g) => state.gates[g.id]?.last?.verdict === 'fail').map((g) => g.id);
  return ` · gates ${emoji[worst]}${failing.length ? ` ${escape(failing.join(', '))}` : ''}`;
}

/** One row per target: `✅ *api-us-central1* Cloud Run us-central1 \`api\` · 50 % · verified 50 % · gates ✅`. */
export function trainSection(plan: Plan, state: CutoverState, emoji: Readonly<Record<Verdict, string>>): string | null {
  if (!isTrain(plan)) return null;
  const shares = intended(plan, state);
  const wave = state.stage >= 0 ? waveOf(plan, state.stage) : 0;
  const rollingBack = state.phase === 'rolling_back' || state.phase === 'rolled_back' || state.phase === 'failed';
  const rows = plan.train.targets.map((target, t) => {
    const waveNote = plan.train.waves.length > 1 ? ` · wave ${target.wave + 1}` : '';
    // A dropped target: why, and whether its own rollback has it back on stable yet.
    const dropped = rollingBack ? null : droppedRow(state, t);
    if (dropped) return `${dropped.mark} *${escape(target.id)}* ${targetWhere(target.service)}${waveNote} · ${dropped.text}`;
    const report = state.targets?.[t] ?? null;
    const split = report?.split ?? null;
    const share = shares[t] ?? 0;
    let mark: string;
    let verified: string;
    if (report?.error) {
      mark = '⚠️';
      verified = `not moved: ${escape(report.error)}`;
    } else if (!split) {
      mark = state.stage < 0 ? '⏳' : '·';
      verified = state.stage < 0 ? 'not started' : 'not verified yet';
    } else {
      const onStable = split.canary === 0 && split.other === 0;
      mark = rollingBack ? (onStable ? '✅' : '⏪') : split.canary === share ? '✅' : '🔀';
      verified = rollingBack && onStable ? 'back on stable, verified' : `verified ${split.canary} % canary${split.other ? `, ${split.other} % other` : ''}`;
    }
    const shareText = rollingBack ? '' : ` · ${share} %`;
    const earlier = rollingBack && state.dropped?.some((d) => d.target === t) ? ' · dropped earlier' : '';
    return `${mark} *${escape(target.id)}* ${targetWhere(target.service)}${waveNote}${shareText} · ${verified}${earlier}${gateState(plan, state, t, emoji)}`;
  });
  const drops = state.dropped?.length ?? 0;
  const dropNote = drops > 0 ? `, ${drops} of ${plan.train.targets.length} targets dropped` : '';
  const head =
    plan.train.strategy === 'lockstep'
      ? `*Train* · lockstep, ${plan.train.targets.length} targets`
      : `*Train* · waves${state.stage >= 0 ? `, wave ${wave + 1} of ${plan.train.waves.length}` : ` (${plan.train.waves.length})`}${dropNote}`;
  return clipLines([head, ...rows].join('\n'), LIMIT.section, 'the rest in the thread');
}

/**
 * How the cohort trail marks cohort `index` of a wave whose targets were all dropped: those it ran
 * done, the one it was dropped in ⏪, the rest skipped (⏭️); null for a cohort of a wave still carrying the release.
 */
export function droppedCohortMark(plan: Plan, state: CutoverState, index: number): string | null {
  if (!isTrain(plan)) return null;
  const dropped = droppedTargets(state);
  const wave = waveOf(plan, index);
  if (waveLive(plan, dropped, wave)) return null;
  const at = Math.max(...(state.dropped ?? []).filter((d) => plan.train.targets[d.target]?.wave === wave).map((d) => d.stage));
  const diedHere = waveOf(plan, at) === wave;
  if (diedHere && index < at) return '✅';
  if (diedHere && index === at) return '⏪';
  return '⏭️';
}

/** `W2 ` before the first cohort of each wave after the first, on the cohort trail. */
export function waveMark(plan: Plan, index: number): string {
  if (!isTrain(plan) || plan.train.waves.length <= 1) return '';
  const wave = plan.stages[index]?.wave ?? 0;
  return index === 0 || plan.stages[index - 1]?.wave !== wave ? `*W${wave + 1}* ` : '';
}

/** Plain lines, one per target, for the terminal: `api-europe-west1 (cloud-run europe-west1 api): 25 % canary, verified`. */
export function targetLines(plan: Plan, state: CutoverState): string[] {
  if (!isTrain(plan)) return [];
  return plan.train.targets.map((target, t) => {
    const region = (target.service as { region?: unknown }).region;
    const where = `${target.service.platform}${typeof region === 'string' ? ` ${region}` : ''} ${target.service.name}`;
    const report = state.targets?.[t] ?? null;
    const split = report?.split;
    const drop = state.dropped?.find((d) => d.target === t);
    const dropped = drop ? `DROPPED (${drop.reason}), ` : '';
    const what = report?.error
      ? `NOT MOVED: ${report.error}`
      : split
        ? split.canary === 0 && split.other === 0
          ? 'stable 100 %, verified'
          : `${split.canary} % canary, verified`
        : 'not moved yet';
    return `${target.id} (${where}${plan.train.waves.length > 1 ? `, wave ${target.wave + 1}` : ''}): ${dropped}${what}`;
  });
}

/**
 * How the card names a side's revision: `` `api-00011-def` ``, or for a train (whose revisions are
 * per target) `the canaries of its 3 targets`.
 */
export function revisionWords(plan: Plan, revision: string, side: 'stable' | 'canary'): string {
  if (!isTrain(plan)) return `\`${escape(revision)}\``;
  return `${side === 'stable' ? 'the stable revisions' : 'the canaries'} of its ${plan.train.targets.length} targets`;
}

/** The 30-minute update's traffic for a train: each target's verified canary share, `api-us-central1 25 %, …`. */
export function trainTrafficWords(plan: Plan, state: CutoverState): string | null {
  if (!isTrain(plan)) return null;
  const shares = intended(plan, state);
  const each = plan.train.targets.map((t, i) => {
    const split = state.targets?.[i]?.split;
    return `${t.id} ${split ? split.canary : (shares[i] ?? 0)} %`;
  });
  return `canary per target: ${each.join(', ')}`;
}
