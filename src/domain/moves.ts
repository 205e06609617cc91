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
 * The next stage-gate check, at a fixed rate: check k of a cadence is due at `anchor + k × every`,
 * whatever the checks before it took. The anchor is the soak's start (hypercare's start in
 * hypercare; otherwise the cadence already running, or now). While a soak runs, a check also lands
 * exactly on its end so a clean soak advances without waiting a whole interval. A slot that is
 * already past when the next check is scheduled is skipped and counted, never bunched: the check
 * after a slow one waits for the next slot still ahead. With `keep`, an already scheduled check is
 * reused.
 */
export function scheduleCheck(
  plan: Plan,
  state: CutoverState,
  now: number,
  keep: CutoverState['monitor'] = null,
): { patch: Patch; effect: Effect; fresh: boolean } {
  if (keep) return { patch: { monitor: keep }, effect: { type: 'schedule_check', seq: keep.seq, at: keep.nextAt }, fresh: false };
  const hypercare = state.phase === 'hypercare' && plan.hypercare && state.hypercare;
  const every = hypercare ? plan.hypercare!.checkEveryMs : plan.checkEveryMs;
  // Without a soak (awaiting promotion, held) the running cadence goes on; a state stored before
  // the anchor existed continues from its last slot.
  const anchor = hypercare ? state.hypercare!.startedAt : state.soak ? state.soak.startedAt : (state.monitor?.anchor ?? state.monitor?.nextAt ?? now);
  const slot = nextSlot(anchor, every, state.monitor?.nextAt ?? null, now);
  let at = slot.at;
  if (state.soak && now < state.soak.endsAt) at = Math.min(at, state.soak.endsAt);
  const seq = state.checkSeq + 1;
  return {
    patch: { monitor: { seq, nextAt: at, anchor }, checkSeq: seq, ...(slot.skipped > 0 ? { checksSkipped: (state.checksSkipped ?? 0) + slot.skipped } : {}) },
    effect: { type: 'schedule_check', seq, at },
    fresh: true,
  };
}

/**
 * The first slot of the cadence `anchor + k × every` (k ≥ 1) after the slot last checked, `last`,
 * and after `now`; `skipped` counts the slots in between, which came due while the previous check
 * ran (or while no worker could take it) and are not run late. A cadence that starts (no `last`)
 * has missed nothing.
 */
export function nextSlot(anchor: number, every: number, last: number | null, now: number): { at: number; skipped: number } {
  const ahead = Math.max(1, Math.floor((now - anchor) / every) + 1);
  if (last === null) return { at: anchor + ahead * every, skipped: 0 };
  // Slots at or before `last` are done (or belong to an earlier cadence): the next one follows it.
  const k = Math.floor((Math.max(anchor, last) - anchor) / every) + 1;
  if (anchor + k * every > now) return { at: anchor + k * every, skipped: 0 };
  return { at: anchor + ahead * every, skipped: ahead - k };
}

/**
 * When a check ends a soak, the soak's slots after the one it was due at, up to the soak's end, are
 * skipped: that check ran late (or long) and judged the soak whole. A soak of `d` has ⌈d / every⌉
 * slots (the grid before its end, and its end), each either checked or skipped.
 */
export function soakSlotsLeft(plan: Plan, state: CutoverState): number {
  if (!state.soak || !state.monitor || state.monitor.nextAt >= state.soak.endsAt) return 0;
  const { startedAt, endsAt } = state.soak;
  const every = plan.checkEveryMs;
  const first = Math.floor((Math.max(state.monitor.nextAt, startedAt) - startedAt) / every) + 1;
  // The last grid slot before the end; the end itself is a slot of its own.
  const last = Math.ceil((endsAt - startedAt) / every) - 1;
  return Math.max(0, last - first + 1) + 1;
}
