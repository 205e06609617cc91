// Cutover trains: one cutover across several targets (regions, services). The state machine runs a
// train like any cutover; these rules say what its cohorts mean for each target, which gates are
// in play, and whether the splits the targets serve allow the next shift. Pure.
import type { GateSpec, Plan, Train, TrainTarget } from './plan.ts';
import type { Revisions, Split, TargetReport } from './service.ts';

export type TrainPlan = Plan & { readonly train: Train };

export const isTrain = (plan: Plan): plan is TrainPlan => plan.train !== undefined;

/** The services a cutover moves, each holding its slot (one active cutover per service): a train's every target. */
export const serviceKeysOf = (plan: Plan): string[] => (plan.train ? plan.train.targets.map((t) => t.serviceKey) : [plan.serviceKey]);

/** The wave cohort `stage` moves (0 for lockstep, a single service, or before the first cohort). */
export const waveOf = (plan: Plan, stage: number): number => plan.stages[stage]?.wave ?? 0;

export const revisionsOf = (target: TrainTarget): Revisions => ({ stable: target.service.stable, canary: target.service.canary });

/** The first cohort of its wave: the wave's targets come from 0 %, whatever the previous wave reached. */
const opensWave = (plan: Plan, stage: number): boolean => stage <= 0 || waveOf(plan, stage - 1) !== waveOf(plan, stage);

/**
 * The canary percent each target serves when the train's cohort `stage` serves `percent`: the
 * targets of earlier waves stay at 100 %, later waves' at 0 %, the cohort's wave at `percent`.
 */
export function targetPercents(plan: TrainPlan, stage: number, percent: number): number[] {
  const wave = waveOf(plan, stage);
  return plan.train.targets.map((t) => (t.wave < wave ? 100 : t.wave > wave ? 0 : percent));
}

/** Whether target `t` serves its canary at cohort `stage` (its wave has started), so its gates judge. */
export const targetInPlay = (plan: Plan, t: number, stage: number): boolean => {
  const target = plan.train?.targets[t];
  return target === undefined || (stage >= 0 && target.wave <= waveOf(plan, stage));
};

/** The stage gates judged at cohort `stage`: the whole cutover's, and those of the targets in play. */
export function stageGates(plan: Plan, stage: number): readonly GateSpec[] {
  if (!isTrain(plan) || plan.train.waves.length <= 1) return plan.gates.stage;
  return plan.gates.stage.filter((g) => g.target === undefined || targetInPlay(plan, g.target, stage));
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
 * train holds naming the target. Targets already at their share are left alone.
 */
export function beforeTrainShift(plan: TrainPlan, stage: number, percent: number, lastConfirmed: number, served: readonly Split[]): TrainShiftAction {
  const wave = waveOf(plan, stage);
  const wanted = targetPercents(plan, stage, percent);
  // Entering a wave, its targets start from nothing: the last confirmed percent was the wave before's.
  const left = opensWave(plan, stage) ? 0 : lastConfirmed;
  for (const [t, target] of plan.train.targets.entries()) {
    const split = served[t];
    if (!split) return { do: 'hold', target: t, message: `${targetName(plan, t)}: its split could not be read` };
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

/** The split a train serves as one number: the percent all its targets of `stage`'s wave agree on, or null. */
export function agreedSplit(plan: TrainPlan, stage: number, served: readonly Split[]): Split | null {
  const wave = waveOf(plan, stage);
  const first = served.find((_s, t) => plan.train.targets[t]?.wave === wave);
  if (!first) return null;
  return served.every((s, t) => plan.train.targets[t]?.wave !== wave || (s.canary === first.canary && s.stable === first.stable && s.other === first.other)) ? first : null;
}

/** The per-target facts of the state, with newer reports replacing older ones target by target. */
export function mergeReports(plan: Plan, current: readonly (TargetReport | null)[] | undefined, reports: readonly TargetReport[]): (TargetReport | null)[] {
  const n = plan.train?.targets.length ?? 0;
  const next = Array.from({ length: n }, (_x, t) => current?.[t] ?? null);
  for (const report of reports) if (report.target >= 0 && report.target < n) next[report.target] = report;
  return next;
}
