// Dropping one target of a train (`rollback: target`, waves only): a per-target gate's failure,
// or `/rollback <plan> <target>`, rolls back that target's release alone while the rest of the
// train carries on. The drop records the target, stops judging its gates, has a job move it back
// to stable (its own `rollback.before` steps first), and, when its wave has no target left, moves
// the train past that wave. It never changes the phase by itself: the soak, the checks and the
// approvals of the targets still carrying the release go on. Pure.
import { committed, enter, finish, scheduleCheck, shiftTo, stageAt, type Patch } from './moves.ts';
import type { Plan } from './plan.ts';
import type { CutoverState, Effect, GateRecord, Notice, TargetDrop, Transition } from './state.ts';
import { droppedTargets, isTrain, lastOfWave, liveTargets, nextStage, targetName, waveLive, waveOf } from './train.ts';

export type DropOrder = Omit<TargetDrop, 'at' | 'stage' | 'backAt' | 'rollbackError'>;

/** A dropped target's record, while its own rollback may still report on it (a whole rollback since covers it). */
export function ongoingDrop(state: CutoverState, target: number): TargetDrop | undefined {
  if (state.phase === 'rolling_back' || state.phase === 'rolled_back' || state.phase === 'failed') return undefined;
  return state.dropped?.find((d) => d.target === target);
}

/** A dropped target whose own rollback is still wanted: not back on stable, not given up. */
export function pendingDrop(state: CutoverState, target: number): TargetDrop | undefined {
  const drop = ongoingDrop(state, target);
  return drop && drop.backAt === undefined && drop.rollbackError === undefined ? drop : undefined;
}

/** The `completed` notice: a train that dropped targets names them. */
export function completedNotice(state: Pick<CutoverState, 'dropped'>): Notice {
  const dropped = droppedTargets(state);
  return dropped.length > 0 ? { kind: 'completed', dropped } : { kind: 'completed' };
}

/**
 * The targets a gate failure drops instead of rolling back the whole train, or null for a whole
 * rollback: only in a train with `rollback: target`, only when every failed gate is a per-target
 * gate (a `scope: once` gate speaks for the whole train), and only while a target would still
 * carry the release afterwards.
 */
export function dropsFor(plan: Plan, state: CutoverState, failed: readonly string[]): number[] | null {
  if (!isTrain(plan) || plan.train.rollback !== 'target' || failed.length === 0) return null;
  const targets = new Set<number>();
  for (const id of failed) {
    const target = plan.gates.stage.find((g) => g.id === id)?.target;
    if (target === undefined) return null;
    targets.add(target);
  }
  const dropped = [...droppedTargets(state), ...targets];
  return liveTargets(plan, dropped).length > 0 ? [...targets].sort((a, b) => a - b) : null;
}

/**
 * Drops `orders`' targets: records them, forgets their gates' tracks, announces and escalates
 * each, and has each moved back to stable by its own job. `spent`: the gate check that led here
 * has run (a fresh one is scheduled); a drop by hand keeps the check already scheduled. When the
 * wave in play has no target left, the train moves on past it: to the next wave's first cohort
 * (at once if the wave's promotion is automatic, else after `/promote`), or, with no wave left, it
 * completes with the targets that went out.
 */
export function dropTargets(
  plan: Plan,
  state: CutoverState,
  now: number,
  orders: readonly DropOrder[],
  { patch = {}, effects = [], records = [], spent }: { patch?: Patch; effects?: Effect[]; records?: GateRecord[]; spent: boolean },
): Transition {
  const gone = new Set(orders.map((o) => o.target));
  const dropped: TargetDrop[] = [...(state.dropped ?? []), ...orders.map((o) => ({ ...o, at: now, stage: state.stage }))];
  const ids = dropped.map((d) => d.target);
  // A dropped target's gates no longer judge: promotion and clean soaks are about the others.
  const gates = Object.fromEntries(
    Object.entries(patch.gates ?? state.gates).filter(([id]) => {
      const target = plan.gates.stage.find((g) => g.id === id)?.target;
      return target === undefined || !gone.has(target);
    }),
  );
  const dropping: Effect[] = orders.flatMap((o): Effect[] => [
    { type: 'announce', notice: { kind: 'target_dropped', target: o.target, trigger: o.trigger, by: o.by, reason: o.reason, gates: o.gates } },
    {
      type: 'escalate',
      escalation: {
        code: 'target_dropped',
        detail: `${targetName(plan, o.target)} dropped ${o.trigger === 'gate' ? '(automatic)' : 'by hand'}: ${o.reason}; its release goes back to stable, the rest of the train carries on`,
        ...(o.gates.length ? { gates: o.gates } : {}),
      },
    },
    { type: 'roll_back_target', target: o.target },
  ]);
  const base: Patch = { ...patch, dropped, gates };
  const all = [...effects, ...dropping];
  const next = nextStage(plan, ids, state.stage);
  const moving = state.phase === 'soaking' || state.phase === 'awaiting_promotion';
  let carry = base;
  if (moving && !waveLive(plan, ids, waveOf(plan, state.stage))) {
    // The targets still carrying the release are those of the waves before, at 100 %.
    if (next === null) return finish(plan, state, 'completed', now, { ...base, traffic: 100 }, [...all, { type: 'announce', notice: completedNotice({ dropped }) }], records);
    if (state.phase === 'soaking') return intoNextWave(plan, state, now, ids, next, base, all, records, spent ? null : state.monitor);
    // Awaiting promotion already: `/promote` now starts the next wave.
    carry = { ...base, traffic: servedBefore(plan, ids, state.stage) };
  } else if (state.phase === 'awaiting_promotion' && next === null) {
    // The soak was clean and nothing is left to promote to: the later waves were all dropped.
    return finish(plan, state, 'completed', now, { ...base, traffic: 100 }, [...all, { type: 'announce', notice: completedNotice({ dropped }) }], records);
  }
  // The cutover carries on where it is; a check that just ran is followed by the next one.
  if (!spent || !state.monitor) return committed(state, carry, all, records);
  const check = scheduleCheck(plan, { ...state, ...carry }, now);
  return committed(state, { ...carry, ...check.patch }, [...all, check.effect], records);
}

/** What a train serves once the wave of `stage` has no target left: its earlier waves' live targets at 100 %, or nothing. */
const servedBefore = (plan: Plan, dropped: readonly number[], stage: number): number =>
  plan.train?.targets.some((t, i) => !dropped.includes(i) && t.wave < waveOf(plan, stage)) ? 100 : 0;

/**
 * Past a wave left with no target, into the next one (`next`) as the plan's promotion says: at once
 * when the dead wave's last cohort promotes automatically, else awaiting `/promote` (starting a
 * wave stays a person's call when the plan says so). `keep`: the check already scheduled, if any.
 */
function intoNextWave(plan: Plan, state: CutoverState, now: number, dropped: readonly number[], next: number, patch: Patch, effects: Effect[], records: GateRecord[], keep: CutoverState['monitor']): Transition {
  if (stageAt(plan, lastOfWave(plan, state.stage)).promotion === 'auto') return shiftTo(plan, state, next, now, patch, effects, records);
  const traffic = servedBefore(plan, dropped, state.stage);
  const waiting: CutoverState = { ...state, ...patch, ...enter(state, 'awaiting_promotion', now), soak: null, held: null, traffic };
  const check = scheduleCheck(plan, waiting, now, keep);
  return committed(
    state,
    { ...patch, ...enter(state, 'awaiting_promotion', now), soak: null, held: null, traffic, approvals: { ...state.approvals, promote: [] }, ...check.patch },
    [...effects, ...(check.fresh ? [check.effect] : []), { type: 'schedule_stuck_check', phaseSeq: state.phaseSeq + 1, at: now + plan.escalation.stuckAfterMs }],
    records,
  );
}

/**
 * Where a held train goes when its wave in play has no target left and people let it go on (a
 * resume): into the next wave as its promotion says, or to completion with the targets that went
 * out. Null when the wave still has a target.
 */
export function pastDroppedWave(plan: Plan, state: CutoverState, now: number, by: string, patch: Patch): Transition | null {
  const dropped = droppedTargets(state);
  if (state.stage < 0 || waveLive(plan, dropped, waveOf(plan, state.stage))) return null;
  const next = nextStage(plan, dropped, state.stage);
  const resumed = (to: CutoverState['phase']): Effect => ({ type: 'announce', notice: { kind: 'resumed', by, to } });
  if (next === null) return finish(plan, state, 'completed', now, { ...patch, traffic: 100 }, [resumed('completed'), { type: 'announce', notice: completedNotice(state) }]);
  const auto = stageAt(plan, lastOfWave(plan, state.stage)).promotion === 'auto';
  return intoNextWave(plan, state, now, dropped, next, patch, [resumed(auto ? 'shifting' : 'awaiting_promotion')], [], state.monitor);
}
