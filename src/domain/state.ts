// The stored state of one cutover, the events that change it and the effects a change asks for.
// Plain data: serialisable, versioned, free of Slack and Google words.
import type { GateReading, GateTrack, Verdict } from './gates.ts';
import type { JudgeReading } from './judge/gate.ts';
import type { Measurement } from './measurement.ts';
import type { ApprovalAction } from './plan.ts';
import type { Split, TargetReport } from './service.ts';

export const PHASES = [
  'scheduled',
  'preflight',
  'awaiting_go_no_go',
  'ready',
  'shifting',
  'soaking',
  'awaiting_promotion',
  'hypercare',
  'held',
  'rolling_back',
  'rolled_back',
  'completed',
  'aborted',
  'failed',
] as const;
export type Phase = (typeof PHASES)[number];

const TERMINAL_PHASES: readonly Phase[] = ['rolled_back', 'completed', 'aborted', 'failed'];
export const isTerminal = (phase: Phase): boolean => TERMINAL_PHASES.includes(phase);

/**
 * Whether the canary may be serving traffic: it was given some, or a shift may be in flight. Then
 * the way out is a rollback, never an abort (and a held card offers Roll back).
 */
export function canaryMayServe(state: Pick<CutoverState, 'traffic' | 'phase' | 'held'>): boolean {
  return state.traffic > 0 || state.phase === 'shifting' || state.held?.from === 'shifting';
}

export type Outcome = 'completed' | 'rolled_back' | 'aborted' | 'failed';

export type HoldCode = 'manual' | 'preflight_failed' | 'no_go' | 'gate_errors' | 'traffic_failed';

export interface Decision {
  readonly action: ApprovalAction | 'reject';
  readonly by: string;
  readonly role: string | null;
  readonly at: number;
  /** Cohort index the decision was taken at (-1 before the first shift). */
  readonly stage: number;
  readonly reason?: string;
  /** A train: the target a decision was about (`/rollback <plan> <target>` drops that one). */
  readonly target?: number;
}

/**
 * A train with `rollback: target`: one target whose release was dropped, rolled back to stable on
 * its own while the rest of the train carries on. Whether it is back on stable now is in the
 * target's report (`CutoverState.targets`).
 */
export interface TargetDrop {
  /** Its index in the plan's train. */
  readonly target: number;
  /** A per-target gate failed (`gates`), or someone typed `/rollback <plan> <target>`. */
  readonly trigger: 'gate' | 'manual';
  readonly by: string | null;
  readonly reason: string;
  readonly at: number;
  readonly gates: readonly string[];
  /** The train's cohort when it was dropped: its wave's later cohorts are skipped if no target of it is left. */
  readonly stage: number;
  /** When its rollback confirmed it back on stable. */
  readonly backAt?: number;
  /** Why its rollback gave up (retries spent, or an error no retry cures): people must move it by hand. */
  readonly rollbackError?: string;
}

/** A timeline checkpoint as it runs: opened at its time, ticked by its owner, done. */
export interface CheckpointState {
  readonly status: 'pending' | 'open' | 'done';
  readonly openedAt: number | null;
  readonly doneAt: number | null;
  /** One per checklist item: who ticked it and when. */
  readonly ticks: readonly ({ readonly by: string; readonly at: number } | null)[];
  /** The checkpoint's own gates, last run; null when it has none or they have not reported yet. */
  readonly gates: Readonly<Record<string, GateReading>> | null;
  readonly gateRuns: number;
  readonly nudged: boolean;
  readonly escalated: boolean;
}

export interface Approval {
  readonly by: string;
  readonly role: string;
  readonly at: number;
}

export interface CutoverState {
  readonly id: string;
  readonly plan: string;
  readonly serviceKey: string;
  readonly channel: string;
  /** Bumped by every committed change; commits compare it (optimistic concurrency). */
  readonly version: number;
  readonly phase: Phase;
  /** Bumped on every phase entry; job ids and buttons carry it so stale ones are refused. */
  readonly phaseSeq: number;
  readonly phaseSince: number;
  readonly startedBy: string;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly revisions: { readonly stable: string; readonly canary: string };
  /** Index of the current (or target, while shifting) cohort; -1 before the first shift. */
  readonly stage: number;
  /** Canary percent last confirmed on the traffic backend. */
  readonly traffic: number;
  readonly soak: { readonly startedAt: number; readonly endsAt: number } | null;
  /**
   * Stage gates are checked while the canary serves traffic; `seq` names the next check, due at
   * `nextAt`, a slot of the fixed-rate cadence that started at `anchor` (absent in states stored
   * before it existed).
   */
  readonly monitor: { readonly seq: number; readonly nextAt: number; readonly anchor?: number } | null;
  /** Checks ever scheduled: a new check always gets a new seq, so a job id is never reused. */
  readonly checkSeq: number;
  /** Check slots skipped because they were already past when the check before them ended (absent: none). */
  readonly checksSkipped?: number;
  readonly gates: Readonly<Record<string, GateTrack>>;
  readonly preflight: Readonly<Record<string, GateReading>>;
  readonly approvals: { readonly go_no_go: readonly Approval[]; readonly promote: readonly Approval[]; readonly rollback: readonly Approval[] };
  readonly decisions: readonly Decision[];
  readonly held: { readonly from: Phase; readonly code: HoldCode; readonly reason: string; readonly by: string | null; readonly at: number } | null;
  readonly rollback: { readonly trigger: 'gate' | 'manual'; readonly reason: string; readonly by: string | null; readonly at: number; readonly gates: readonly string[] } | null;
  readonly outcome: Outcome | null;
  /** T0 of the runbook timeline: the scheduled time, or the start when not scheduled. */
  readonly t0: number;
  readonly checkpoints: readonly CheckpointState[];
  /** One per plan sign-off item: who confirmed it and when. */
  readonly signoffs: readonly ({ readonly by: string; readonly at: number } | null)[];
  readonly hypercare: { readonly startedAt: number; readonly endsAt: number } | null;
  /** A train: what each target was last found serving (verified on its platform), or why not; by target index. */
  readonly targets?: readonly (TargetReport | null)[];
  /** A train with `rollback: target`: the targets whose release was dropped, in the order they were (absent: none). */
  readonly dropped?: readonly TargetDrop[];
}

/** Whoever acts, with the plan roles they hold (resolved before the event reaches the machine). */
export interface Actor {
  readonly id: string;
  readonly roles: readonly string[];
}

export interface GateResult {
  readonly gate: string;
  readonly measurement: Measurement;
  readonly at: number;
  /** The gate's data for this window is not visible yet (its data lag): nothing was judged. */
  readonly waiting?: true;
}

export interface StepResult {
  readonly step: string;
  readonly measurement: Measurement;
  readonly at: number;
}

/** `expect` carries the phaseSeq a button was rendered for: a click on an older card is stale. */
export type CommandEvent =
  | { readonly type: 'approve'; readonly actor: Actor; readonly expect?: number }
  | { readonly type: 'reject'; readonly actor: Actor; readonly reason?: string; readonly expect?: number }
  | { readonly type: 'promote'; readonly actor: Actor; readonly expect?: number }
  | { readonly type: 'hold'; readonly actor: Actor; readonly reason?: string; readonly expect?: number }
  | { readonly type: 'resume'; readonly actor: Actor; readonly expect?: number }
  /** `target`: a train with `rollback: target` drops that target's release alone (`/rollback <plan> <target>`). */
  | { readonly type: 'rollback'; readonly actor: Actor; readonly reason?: string; readonly expect?: number; readonly target?: number }
  /**
   * `served`: the split the service was found serving just before (the engine reads it once the
   * bot may have moved traffic), or why it could not be read. The state alone cannot tell: a store
   * that lost its latest writes can say 0 % while the canary serves.
   */
  | { readonly type: 'abort'; readonly actor: Actor; readonly reason?: string; readonly expect?: number; readonly served?: Split | { readonly error: string } }
  | { readonly type: 'tick'; readonly actor: Actor; readonly checkpoint: number; readonly item: number }
  | { readonly type: 'sign_off'; readonly actor: Actor; readonly item: number }
  | { readonly type: 'close'; readonly actor: Actor; readonly reason?: string };

/** A train's traffic events carry what each target serves (or why it could not be moved), for the card. */
interface TargetFacts {
  readonly targets?: readonly TargetReport[];
}

export type JobEvent =
  | { readonly type: 'preflight_done'; readonly phaseSeq: number; readonly results: readonly GateResult[] }
  | ({ readonly type: 'traffic_confirmed'; readonly phaseSeq: number; readonly percent: number } & TargetFacts)
  /**
   * `served`: the canary percent the backend was found serving, when it is neither the cohort nor
   * what the cutover last confirmed (traffic moved outside the cutover, or the store lost writes).
   */
  | ({ readonly type: 'traffic_failed'; readonly phaseSeq: number; readonly code: string; readonly message: string; readonly served?: number } & TargetFacts)
  | { readonly type: 'gate_check'; readonly seq: number; readonly results: readonly GateResult[] }
  | ({ readonly type: 'rollback_done'; readonly phaseSeq: number; readonly percent: number; readonly steps: readonly StepResult[] } & TargetFacts)
  | ({ readonly type: 'rollback_failed'; readonly phaseSeq: number; readonly code: string; readonly message: string; readonly steps: readonly StepResult[] } & TargetFacts)
  /** A train's rollback could not move some targets yet (the others are back): escalated at once, and retried. */
  | ({ readonly type: 'rollback_target_failed'; readonly phaseSeq: number; readonly failed: readonly number[]; readonly message: string } & TargetFacts)
  /** A dropped target is back on stable, verified (its `rollback.before` steps for it run first). */
  | ({ readonly type: 'target_rolled_back'; readonly target: number; readonly steps: readonly StepResult[] } & TargetFacts)
  /** A dropped target could not be moved back yet (`final`: and never will be by the bot; retries spent or hopeless). */
  | ({ readonly type: 'target_rollback_failed'; readonly target: number; readonly code: string; readonly message: string; readonly final: boolean } & TargetFacts)
  | { readonly type: 'approval_stuck'; readonly phaseSeq: number }
  | { readonly type: 'start_due' }
  | { readonly type: 't0_due' }
  | { readonly type: 'checkpoint_due'; readonly index: number }
  | { readonly type: 'checkpoint_overdue'; readonly index: number; readonly level: 1 | 2 }
  | { readonly type: 'checkpoint_gates'; readonly index: number; readonly run: number; readonly results: readonly GateResult[] }
  /** A checkpoint's gates failed with its checklist complete: run them again. */
  | { readonly type: 'checkpoint_gates_due'; readonly index: number; readonly run: number }
  | { readonly type: 'hypercare_end' };

export type CutoverEvent = CommandEvent | JobEvent;

export interface GateLine {
  readonly gate: string;
  readonly verdict: Verdict;
  readonly reading: GateReading;
}

/**
 * A train's traffic notices carry what each target was found serving (the event's reports), so the
 * audit trail keeps every target's history: the state keeps only the latest (the chart per target
 * draws from these).
 */
interface TargetHistory {
  readonly targets?: readonly TargetReport[];
}

/** Facts for the war room and the audit trail; templates turn them into words. */
export type Notice =
  | { readonly kind: 'started'; readonly by: string; readonly revisions: CutoverState['revisions'] }
  | { readonly kind: 'preflight'; readonly passed: boolean; readonly gates: readonly GateLine[] }
  | { readonly kind: 'go_no_go_requested'; readonly roles: readonly string[]; readonly needed: number }
  | { readonly kind: 'approved'; readonly action: 'go_no_go' | 'promote' | 'rollback'; readonly by: string; readonly role: string; readonly needed: number; readonly othersNeeded: boolean }
  | { readonly kind: 'go'; readonly approvers: readonly string[] }
  | { readonly kind: 'rejected'; readonly by: string; readonly reason: string }
  | { readonly kind: 'shifting'; readonly stage: number; readonly percent: number; readonly from: number }
  | ({ readonly kind: 'traffic_confirmed'; readonly stage: number; readonly percent: number } & TargetHistory)
  | { readonly kind: 'gate_check'; readonly stage: number; readonly percent: number; readonly seq: number; readonly gates: readonly GateLine[] }
  | { readonly kind: 'soak_clean'; readonly stage: number; readonly percent: number; readonly next: 'promotion' | 'auto' | 'complete' | 'hypercare' }
  | { readonly kind: 'promoted'; readonly by: string; readonly from: number; readonly to: number }
  | { readonly kind: 'held'; readonly by: string | null; readonly code: HoldCode; readonly reason: string }
  | { readonly kind: 'resumed'; readonly by: string; readonly to: Phase }
  | { readonly kind: 'rollback_started'; readonly trigger: 'gate' | 'manual'; readonly by: string | null; readonly reason: string; readonly gates: readonly string[]; readonly from: number }
  | ({ readonly kind: 'rolled_back'; readonly percent: number; readonly steps: readonly StepResult[] } & TargetHistory)
  | ({ readonly kind: 'rollback_failed'; readonly reason: string; readonly steps: readonly StepResult[] } & TargetHistory)
  | ({ readonly kind: 'traffic_failed'; readonly percent: number; readonly code: string; readonly message: string } & TargetHistory)
  /** `dropped`: a train's targets whose release was dropped; the others serve the canary at 100 %. */
  | { readonly kind: 'completed'; readonly dropped?: readonly number[] }
  | { readonly kind: 'target_dropped'; readonly target: number; readonly trigger: 'gate' | 'manual'; readonly by: string | null; readonly reason: string; readonly gates: readonly string[] }
  | ({ readonly kind: 'target_back'; readonly target: number; readonly steps: readonly StepResult[] } & TargetHistory)
  | ({ readonly kind: 'target_rollback_failed'; readonly target: number; readonly reason: string } & TargetHistory)
  /** `unverified`: why the served split could not be read before the abort. */
  | { readonly kind: 'aborted'; readonly by: string; readonly reason: string; readonly unverified?: string }
  | { readonly kind: 'scheduled'; readonly by: string; readonly t0: number; readonly startsAt: number }
  | { readonly kind: 'ready'; readonly t0: number }
  | { readonly kind: 'checkpoint_opened'; readonly index: number }
  | { readonly kind: 'checkpoint_ticked'; readonly index: number; readonly item: number; readonly by: string }
  | { readonly kind: 'checkpoint_gates'; readonly index: number; readonly passed: boolean; readonly gates: readonly GateLine[] }
  | { readonly kind: 'checkpoint_done'; readonly index: number }
  | { readonly kind: 'checkpoint_nudged'; readonly index: number }
  | { readonly kind: 'hypercare_started'; readonly endsAt: number }
  | { readonly kind: 'hypercare_alert'; readonly gates: readonly GateLine[] }
  | { readonly kind: 'hypercare_ended'; readonly by: string | null; readonly reason: string }
  | { readonly kind: 'signoff_requested' }
  | { readonly kind: 'signed_off'; readonly item: number; readonly by: string }
  | { readonly kind: 'signoff_complete' };

export type EscalationCode =
  | 'rollback'
  | 'gate_failed'
  | 'gate_errors'
  | 'approval_stuck'
  | 'traffic_failed'
  | 'rollback_failed'
  | 'rollback_target_failed'
  | 'target_dropped'
  | 'target_rollback_failed'
  | 'target_rollback_not_confirmed'
  | 'preflight_failed'
  | 'checkpoint_missed'
  | 'checkpoint_gates_failed'
  | 'hypercare_gate_failed';

export interface Escalation {
  readonly code: EscalationCode;
  readonly detail: string;
  readonly gates?: readonly string[];
}

export type Effect =
  | { readonly type: 'run_preflight'; readonly phaseSeq: number }
  | { readonly type: 'shift_traffic'; readonly phaseSeq: number; readonly stage: number; readonly percent: number }
  | { readonly type: 'schedule_check'; readonly seq: number; readonly at: number }
  | { readonly type: 'roll_back'; readonly phaseSeq: number }
  /** A dropped target back to stable. No phaseSeq: a drop does not change the phase; the job checks the target is still dropped and not yet back. */
  | { readonly type: 'roll_back_target'; readonly target: number }
  | { readonly type: 'schedule_stuck_check'; readonly phaseSeq: number; readonly at: number }
  | { readonly type: 'announce'; readonly notice: Notice }
  | { readonly type: 'escalate'; readonly escalation: Escalation }
  | { readonly type: 'start_updates'; readonly everyMs: number }
  | { readonly type: 'stop_updates' }
  | { readonly type: 'write_evidence' }
  /** A timer: `event` is applied at `at`; `key` names it uniquely within the cutover. */
  | { readonly type: 'schedule'; readonly key: string; readonly at: number; readonly event: JobEvent }
  | { readonly type: 'run_checkpoint_gates'; readonly index: number; readonly run: number };

export type RefusalCode =
  | 'stale'
  | 'wrong_phase'
  | 'not_authorized'
  | 'already_approved'
  | 'finished'
  | 'soak_in_progress'
  | 'shift_in_progress'
  | 'gates_not_clean'
  | 'not_held'
  | 'already_held'
  | 'already_rolling_back'
  | 'traffic_on_canary'
  | 'checkpoint_blocking'
  | 'checkpoint_not_open'
  | 'already_ticked'
  | 'already_signed'
  | 'no_sign_off'
  /** `/rollback <plan> <target>` on a plan whose failures roll back the whole train (or that is not a train). */
  | 'target_rollback_not_allowed'
  | 'unknown_target'
  | 'target_already_dropped'
  /** Dropping that target would leave no target with the release: roll back the whole train instead. */
  | 'last_live_target';

export interface Refusal {
  readonly code: RefusalCode;
  readonly action: CutoverEvent['type'] | 'start';
  readonly phase: Phase;
  /** Roles that would have been allowed, for `not_authorized`. */
  readonly roles?: readonly string[];
  /** When the current soak ends, for `soak_in_progress`. */
  readonly until?: number;
  readonly gates?: readonly string[];
  /** The checkpoint a refusal is about (timeline index). */
  readonly checkpoint?: number;
  /** The canary percent the service was found serving, for `traffic_on_canary`. */
  readonly served?: number;
  /** The train's target a refusal is about (index). */
  readonly target?: number;
}

export type Transition =
  | { readonly ok: true; readonly state: CutoverState; readonly effects: readonly Effect[]; readonly gateResults: readonly GateRecord[] }
  | { readonly ok: false; readonly refusal: Refusal };

/** One line of gate-results.jsonl. */
export interface GateRecord {
  readonly at: number;
  /** Which gates ran: the preflight, a timeline checkpoint's own (gate named `label/id`), or a cohort's stage gates. */
  readonly phase: 'preflight' | 'checkpoint' | 'stage';
  readonly stage: number;
  readonly percent: number;
  readonly gate: string;
  readonly verdict: Verdict;
  readonly measurement: Measurement;
  readonly seq?: number;
  /** A judge gate's decision at this check: its trajectory, check by check, is in the evidence. */
  readonly judge?: JudgeReading;
}
