// The moves transitions share: entering a phase, shifting to a cohort, holding, rolling back,
// scheduling the next gate check, finishing. Pure.
import { tally } from './approvals.ts';
import type { Plan, Stage } from './plan.ts';
import type { CutoverEvent, CutoverState, Effect, GateRecord, Outcome, Phase, Refusal, RefusalCode, Transition } from './state.ts';

export type Patch = Partial<Omit<CutoverState, 'id' | 'version'>>;

/** An accepted transition: the patch applied and the version bumped, so the store's commit can compare it. */
export const committed = (state: CutoverState, patch: Patch, effects: Effect[], gateResults: GateRecord[] = []): Transition => ({
  ok: true,
  state: { ...state, ...patch, version: state.version + 1 },
  effects,
  gateResults,
});

export const refuse = (state: CutoverState, event: CutoverEvent, code: RefusalCode, extra: Partial<Refusal> = {}): Transition => ({
  ok: false,
  refusal: { code, action: event.type, phase: state.phase, ...extra },
});

/** A patch that enters `phase`: a new phaseSeq makes every older job and button stale. */
export const enter = (state: CutoverState, phase: Phase, now: number): Patch => ({ phase, phaseSeq: state.phaseSeq + 1, phaseSince: now });

export const stageAt = (plan: Plan, index: number): Stage => plan.stages[index] as Stage;

export function askGoNoGo(plan: Plan, state: CutoverState, now: number): Effect[] {
  const t = tally(plan.approvals.go_no_go, [], state.startedBy);
  return [
    { type: 'announce', notice: { kind: 'go_no_go_requested', roles: plan.approvals.go_no_go.roles, needed: t.needed } },
    { type: 'schedule_stuck_check', phaseSeq: state.phaseSeq + 1, at: now + plan.escalation.stuckAfterMs },
  ];
}

export function shiftTo(plan: Plan, state: CutoverState, stage: number, now: number, patch: Patch, effects: Effect[], records: GateRecord[] = []): Transition {
  const percent = stageAt(plan, stage).percent;
  return committed(
    state,
    { ...patch, ...enter(state, 'shifting', now), stage, soak: null, monitor: null },
    [...effects, { type: 'announce', notice: { kind: 'shifting', stage, percent, from: state.traffic } }, { type: 'shift_traffic', phaseSeq: state.phaseSeq + 1, stage, percent }],
    records,
  );
}

/** After a go: traffic moves now, or at T0 when T0 is still ahead (a scheduled cutover). */
export function goLive(plan: Plan, state: CutoverState, now: number, patch: Patch, effects: Effect[]): Transition {
  if (now >= state.t0) return shiftTo(plan, state, 0, now, patch, effects);
  const next = enter(state, 'ready', now);
  return committed(state, { ...patch, ...next }, [
    ...effects,
    { type: 'announce', notice: { kind: 'ready', t0: state.t0 } },
    { type: 'schedule', key: `t0.${next.phaseSeq}`, at: state.t0, event: { type: 't0_due' } },
  ]);
}

export interface HoldOptions {
  /** Effects announced before the hold itself. */
  readonly effects?: Effect[];
  readonly records?: GateRecord[];
  /** Reuse the already scheduled gate check (default); false when the check that led here is spent. */
  readonly keepMonitor?: boolean;
}

export function hold(
  plan: Plan,
  state: CutoverState,
  now: number,
  why: { code: NonNullable<CutoverState['held']>['code']; reason: string; by: string | null },
  patch: Patch,
  { effects = [], records = [], keepMonitor = true }: HoldOptions = {},
): Transition {
  // A held canary that still serves traffic keeps being watched: a failing gate rolls it back.
  const watching = state.traffic > 0 ? scheduleCheck(plan, { ...state, soak: null }, now, keepMonitor ? state.monitor : null) : null;
  return committed(
    state,
    {
      ...patch,
      ...enter(state, 'held', now),
      held: { from: state.phase, code: why.code, reason: why.reason, by: why.by, at: now },
      ...(watching ? watching.patch : { monitor: null }),
    },
    [...effects, { type: 'announce', notice: { kind: 'held', by: why.by, code: why.code, reason: why.reason } }, ...(watching?.fresh ? [watching.effect] : [])],
    records,
  );
}

export function rollBack(
  state: CutoverState,
  now: number,
  why: Omit<NonNullable<CutoverState['rollback']>, 'at'>,
  patch: Patch,
  effects: Effect[] = [],
  records: GateRecord[] = [],
): Transition {
  return committed(
    state,
    { ...patch, ...enter(state, 'rolling_back', now), rollback: { ...why, at: now }, monitor: null, soak: null, held: null },
    [
      ...effects,
      { type: 'roll_back', phaseSeq: state.phaseSeq + 1 },
      { type: 'announce', notice: { kind: 'rollback_started', trigger: why.trigger, by: why.by, reason: why.reason, gates: why.gates, from: state.traffic } },
      { type: 'escalate', escalation: { code: why.trigger === 'gate' ? 'gate_failed' : 'rollback', detail: why.reason, gates: why.gates } },
    ],
    records,
  );
}

/** Effects of reaching an outcome: stop the updates, write the evidence, ask for sign-off. */
export function finishing(plan: Plan, from: Phase): Effect[] {
  const askSignOff = plan.signOff.length > 0 && from !== 'hypercare';
  return [{ type: 'stop_updates' }, { type: 'write_evidence' }, ...(askSignOff ? [{ type: 'announce' as const, notice: { kind: 'signoff_requested' as const } }] : [])];
}

export function finish(plan: Plan, state: CutoverState, outcome: Outcome, now: number, patch: Patch, effects: Effect[], records: GateRecord[] = []): Transition {
  const phase: Phase = outcome === 'completed' ? 'completed' : outcome;
  return committed(state, { ...patch, ...enter(state, phase, now), outcome, endedAt: now, monitor: null, soak: null }, [...effects, ...finishing(plan, state.phase)], records);
}

/**
 * The next stage-gate check. While a soak runs, a check lands exactly on its end so a clean soak
 * advances without waiting a whole interval; hypercare checks at its own slower cadence. With
 * `keep`, an already scheduled check is reused.
 */
export function scheduleCheck(
  plan: Plan,
  state: CutoverState,
  now: number,
  keep: CutoverState['monitor'] = null,
): { patch: Patch; effect: Effect; fresh: boolean } {
  if (keep) return { patch: { monitor: keep }, effect: { type: 'schedule_check', seq: keep.seq, at: keep.nextAt }, fresh: false };
  const every = state.phase === 'hypercare' && plan.hypercare ? plan.hypercare.checkEveryMs : plan.checkEveryMs;
  let at = now + every;
  if (state.soak && now < state.soak.endsAt) at = Math.min(at, state.soak.endsAt);
  const seq = state.checkSeq + 1;
  return { patch: { monitor: { seq, nextAt: at }, checkSeq: seq }, effect: { type: 'schedule_check', seq, at }, fresh: true };
}
