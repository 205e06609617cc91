// Cutover trains: one cutover across several targets (regions, services). The state machine runs a
// train like any cutover; these rules say what its cohorts mean for each target, which gates are
// in play, and whether the splits the targets serve allow the next shift. Pure.
import type { GateSpec, Plan, Train, TrainTarget } from './plan.ts';
import type { Revisions, Split, TargetReport } from './service.ts';
import type { CutoverState } from './state.ts';

export type TrainPlan = Plan & { readonly train: Train };

export const isTrain = (plan: Plan): plan is TrainPlan => plan.train !== undefined;

/** The services a cutover moves, each holding its slot (one active cutover per service): a train's every target. */
export const serviceKeysOf = (plan: Plan): string[] => (plan.train ? plan.train.targets.map((t) => t.serviceKey) : [plan.serviceKey]);

/**
 * The targets a cutover has dropped (their release rolled back alone, `rollback: target`), by
 * index. Every rule below takes them: a dropped target wants 0 % and its gates no longer judge.
 */
export const droppedTargets = (state: Pick<CutoverState, 'dropped'>): number[] => state.dropped?.map((d) => d.target) ?? [];

/** The targets still carrying the release. */
export const liveTargets = (plan: Plan, dropped: readonly number[]): number[] =>
  plan.train ? plan.train.targets.flatMap((_t, i) => (dropped.includes(i) ? [] : [i])) : [];

/** Whether wave `wave` still has a target with the release (always, for a single service or no drops). */
export const waveLive = (plan: Plan, dropped: readonly number[], wave: number): boolean =>
  !plan.train || dropped.length === 0 || (plan.train.waves[wave] ?? []).some((t) => !dropped.includes(t));

/** The wave cohort `stage` moves (0 for lockstep, a single service, or before the first cohort). */
export const waveOf = (plan: Plan, stage: number): number => plan.stages[stage]?.wave ?? 0;

export const revisionsOf = (target: TrainTarget): Revisions => ({ stable: target.service.stable, canary: target.service.canary });

/** The first cohort of its wave: the wave's targets come from 0 %, whatever the previous wave reached. */
const opensWave = (plan: Plan, stage: number): boolean => stage <= 0 || waveOf(plan, stage - 1) !== waveOf(plan, stage);

/**
 * The canary percent each target serves when the train's cohort `stage` serves `percent`: the
 * targets of earlier waves stay at 100 %, later waves' at 0 %, the cohort's wave at `percent`; a
 * dropped target at 0 %, whatever its wave.
 */
export function targetPercents(plan: TrainPlan, stage: number, percent: number, dropped: readonly number[] = []): number[] {
  const wave = waveOf(plan, stage);
  return plan.train.targets.map((t, i) => (dropped.includes(i) ? 0 : t.wave < wave ? 100 : t.wave > wave ? 0 : percent));
}

/**
 * The cohort after `stage`, skipping the cohorts of every wave whose targets have all been
 * dropped; null when none is left (the train is done with the targets that went out).
 */
export function nextStage(plan: Plan, dropped: readonly number[], stage: number): number | null {
  for (let next = stage + 1; next < plan.stages.length; next++) if (waveLive(plan, dropped, waveOf(plan, next))) return next;
  return null;
}

/** The last cohort of `stage`'s wave: the one whose promotion leads into the next wave. */
export function lastOfWave(plan: Plan, stage: number): number {
  const wave = waveOf(plan, stage);
  let last = Math.max(0, stage);
  while (last + 1 < plan.stages.length && waveOf(plan, last + 1) === wave) last++;
  return last;
}

/** Whether target `t` serves its canary at cohort `stage` (its wave has started), so its gates judge. */
export const targetInPlay = (plan: Plan, t: number, stage: number): boolean => {
  const target = plan.train?.targets[t];
  return target === undefined || (stage >= 0 && target.wave <= waveOf(plan, stage));
};

/** The stage gates judged at cohort `stage`: the whole cutover's, and those of the targets in play and not dropped. */
export function stageGates(plan: Plan, stage: number, dropped: readonly number[] = []): readonly GateSpec[] {
  if (!isTrain(plan) || (plan.train.waves.length <= 1 && dropped.length === 0)) return plan.gates.stage;
  return plan.gates.stage.filter((g) => g.target === undefined || (targetInPlay(plan, g.target, stage) && !dropped.includes(g.target)));
}

/** `api-us-central1 (target 2)`: how messages name a target. */
export const targetName = (plan: Plan, t: number): string => {
  const target = plan.train?.targets[t];
  return target ? `${target.id} (target ${t})` : `target ${t}`;
};

export type TrainShiftAction =
  | { readonly do: 'confirm' }
  | { readonly do: 'shift'; readonly percents: readonly number[] }
  | { readonly do: 'hold'; readonly target: number; readonly message: string };

const serves = (split: Split, percent: number): boolean => split.canary === percent && split.stable === 100 - percent && split.other === 0;

/**
 * Before moving a train to cohort `stage` at `percent`, from the splits its targets serve (index
 * by index) and the percent the cutover last confirmed: each target must serve either its share of
 * the cohort or where the cutover left it (a crash or a failure may have moved some targets and
 * not others); anything else was moved outside the cutover (or the store lost writes), and the
 * train holds naming the target. Targets already at their share are left alone. A dropped target
 * is never held on (its own rollback may be moving it right now): it wants 0 %, and a shift takes
 * it there if it still serves anything.
 */
export function beforeTrainShift(plan: TrainPlan, stage: number, percent: number, lastConfirmed: number, served: readonly Split[], dropped: readonly number[] = []): TrainShiftAction {
  const wave = waveOf(plan, stage);
  const wanted = targetPercents(plan, stage, percent, dropped);
  // Entering a wave, its targets start from nothing: the last confirmed percent was the wave before's.
  const left = opensWave(plan, stage) ? 0 : lastConfirmed;
  for (const [t, target] of plan.train.targets.entries()) {
    const split = served[t];
    if (!split) return { do: 'hold', target: t, message: `${targetName(plan, t)}: its split could not be read` };
    if (dropped.includes(t)) continue;
    const ok = target.wave === wave ? serves(split, wanted[t]!) || serves(split, left) : serves(split, wanted[t]!);
    if (!ok) {
      const expected = target.wave === wave && left !== wanted[t] ? `${left} % or ${wanted[t]} %` : `${wanted[t]} %`;
      return {
        do: 'hold',
        target: t,
        message: `${targetName(plan, t)} serves ${describe(split)}, not the ${expected} on the canary this cutover expects there: traffic was moved outside the cutover, or the state store lost its latest writes; nothing was changed`,
      };
    }
  }
  return served.every((split, t) => serves(split, wanted[t]!)) ? { do: 'confirm' } : { do: 'shift', percents: wanted };
}

const describe = (split: Split): string => `${split.canary} % on the canary${split.other ? ` and ${split.other} % on other revisions` : ''}`;

/** The split a train serves as one number: the percent all its live targets of `stage`'s wave agree on, or null. */
export function agreedSplit(plan: TrainPlan, stage: number, served: readonly Split[], dropped: readonly number[] = []): Split | null {
  const wave = waveOf(plan, stage);
  const counts = (t: number) => plan.train.targets[t]?.wave === wave && !dropped.includes(t);
  const first = served.find((_s, t) => counts(t));
  if (!first) return null;
  return served.every((s, t) => !counts(t) || (s.canary === first.canary && s.stable === first.stable && s.other === first.other)) ? first : null;
}

/** The per-target facts of the state, with newer reports replacing older ones target by target. */
export function mergeReports(plan: Plan, current: readonly (TargetReport | null)[] | undefined, reports: readonly TargetReport[]): (TargetReport | null)[] {
  const n = plan.train?.targets.length ?? 0;
  const next = Array.from({ length: n }, (_x, t) => current?.[t] ?? null);
  for (const report of reports) if (report.target >= 0 && report.target < n) next[report.target] = report;
  return next;
}
