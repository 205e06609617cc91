import type { ServiceBase } from './service.ts';
// A cutover plan, as the engine sees it once validated: a frozen, typed object in camelCase, with
// durations in milliseconds. The YAML schema that produces it lives in src/plans/schema.ts.

export type Promotion = 'manual' | 'auto';

export interface Stage {
  readonly percent: number;
  readonly soakMs: number;
  readonly promotion: Promotion;
  /** A train in waves: the wave this cohort moves (earlier waves serve the canary at 100 %, later ones none). */
  readonly wave?: number;
}

/** A gate, or a rollback step: one kind key with its settings, plus how to judge it. */
export interface GateSpec {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly settings: unknown;
  /** 0: one failure fails the gate; otherwise it must fail continuously this long. */
  readonly forMs: number;
  readonly maxErrors: number;
  readonly timeoutMs: number;
  /** The data of the last `dataLagMs` is not visible yet: windows end that long ago. */
  readonly dataLagMs: number;
  /** In a train: the target this gate is scoped to (its service, revisions, percent); absent: the whole cutover. */
  readonly target?: number;
  /** A judge gate (canary against stable): how the domain's judge weighs its counts. */
  readonly judge?: JudgeRule;
}

/**
 * A judge gate's rule, fixed when the plan is parsed. The plan's judges share one false-rollback
 * budget: each gets its share `alpha` of it (see src/domain/judge/alpha.ts).
 */
export interface JudgeRule {
  readonly metric: 'error_rate' | 'latency';
  /** error_rate: a ratio of error odds (2 = twice stable's); latency: a fraction (0.2 = 20 % slower). */
  readonly worseBy: number;
  /** The cutover's false-rollback budget the plan's judges share: the smallest `false_rollback` any of them names. */
  readonly falseRollback: number;
  /** This judge's share of that budget: it rolls back when its evidence reaches 1/alpha. */
  readonly alpha: number;
  /** latency: the stable percentile the slow threshold sits at (0.95). */
  readonly quantile: number;
  /** The guard beside the test: the canary's 5xx ratio (0..1) or its `quantile` latency (ms) over the cohort so far; null: none. */
  readonly max: number | null;
}

export interface ApprovalRule {
  readonly roles: readonly string[];
  readonly min: number;
  /** At least one approver must be someone other than the person who started the cutover. */
  readonly twoPerson: boolean;
}

export type ApprovalAction = 'start' | 'go_no_go' | 'promote' | 'rollback' | 'hold' | 'resume' | 'abort' | 'close';

/** A runbook checkpoint relative to T0 (seed 001's T-60 … T+30, seed 003's T+60 … T+180). */
export interface Checkpoint {
  /** Milliseconds relative to T0, e.g. -3 600 000 for T-60. */
  readonly offsetMs: number;
  /** As written in the plan: "T-60", "T+30", "T0". */
  readonly label: string;
  readonly name: string;
  /** The role that owns it: only its holders may tick. */
  readonly owner: string;
  readonly checklist: readonly string[];
  readonly gates: readonly GateSpec[];
  readonly blocks: 'go_no_go' | 'promote' | null;
  /** Open longer than this: nudge the owner; twice as long: escalate. */
  readonly graceMs: number;
}

export interface SignOffItem {
  readonly role: string;
  readonly item: string;
}

export interface Hypercare {
  readonly durationMs: number;
  readonly checkEveryMs: number;
  readonly summaryEveryMs: number;
}

/** One service a train moves: a `targets:` entry (the `service:` block, when given, is target 0). */
export interface TrainTarget {
  /** Short name used in gate ids, the card and the evidence: `api-us-central1` unless the plan names it. */
  readonly id: string;
  readonly service: ServiceBase & Readonly<Record<string, unknown>>;
  /** One active cutover per service key: a train claims the key of every target. */
  readonly serviceKey: string;
  /** The wave the target moves in (0 in lockstep). */
  readonly wave: number;
}

/**
 * A cutover across several services or regions. `lockstep`: every target at each cohort's
 * percent together. `waves`: the targets of wave 0 go through every cohort, then wave 1's, …; the
 * plan's stages are expanded per wave (each carries its wave), so the state machine is unchanged.
 */
export interface Train {
  readonly strategy: 'lockstep' | 'waves';
  readonly targets: readonly TrainTarget[];
  /** Target indexes per wave, in order; lockstep is one wave of every target. */
  readonly waves: readonly (readonly number[])[];
  /**
   * What a failure rolls back. `train` (the default): every target, the whole cutover. `target`
   * (waves only): a per-target gate's failure, or `/rollback <plan> <target>`, drops that target's
   * release alone (back to stable) while the others carry on.
   */
  readonly rollback: 'train' | 'target';
}

export interface Plan {
  readonly name: string;
  readonly service: ServiceBase & Readonly<Record<string, unknown>>;
  /** One active cutover per service key. */
  readonly serviceKey: string;
  readonly channel: string;
  readonly stages: readonly Stage[];
  readonly checkEveryMs: number;
  readonly gates: {
    readonly preflight: readonly GateSpec[];
    readonly stage: readonly GateSpec[];
    readonly rollbackDrill: GateSpec | null;
  };
  readonly approvals: Readonly<Record<ApprovalAction, ApprovalRule>>;
  readonly roles: Readonly<Record<string, readonly string[]>>;
  readonly escalation: { readonly mention: readonly string[]; readonly stuckAfterMs: number };
  /**
   * `chartGapMs`: the least time between two charts of a cutover in the war room (0: a chart at
   * every moment); the final chart always comes.
   */
  readonly updates: { readonly everyMs: number; readonly chartGapMs: number };
  readonly rollback: { readonly before: readonly GateSpec[] };
  /** IANA time zone for `/cutover schedule … at HH:MM`. */
  readonly timezone: string;
  readonly timeline: readonly Checkpoint[];
  readonly signOff: readonly SignOffItem[];
  readonly hypercare: Hypercare | null;
  /** Several targets moved as one cutover; absent for a single service. */
  readonly train?: Train;
}


export const PLAN_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** A train target's id (`api-eu`): lowercase letters, digits and "-", at most 40. */
export const TARGET_ID = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
/** "T-60", "T+30", "T0", "T+1h", "T-90m": minutes by default. */
export function parseOffset(label: string): number | null {
  const m = /^T(?:0|([+-])(\d+)(m|h)?)$/.exec(label.trim());
  if (!m) return null;
  if (!m[1]) return 0;
  const amount = Number(m[2]) * (m[3] === 'h' ? 3_600_000 : 60_000);
  return m[1] === '-' ? -amount : amount;
}

/** Freezes a parsed value and everything in it, so nothing downstream can change a plan. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}


/** Every gate and rollback step of a plan: preflight, stage, the rollback drill, rollback steps, checkpoint gates. */
export function everyGate(plan: Plan): GateSpec[] {
  return [
    ...plan.gates.preflight,
    ...plan.gates.stage,
    ...(plan.gates.rollbackDrill ? [plan.gates.rollbackDrill] : []),
    ...plan.rollback.before,
    ...plan.timeline.flatMap((c) => c.gates),
  ];
}

/** The plan with `fn` applied to every gate and rollback step (the ones `everyGate` lists). */
export function mapGates(plan: Plan, fn: (gate: GateSpec) => GateSpec): Plan {
  return {
    ...plan,
    gates: { preflight: plan.gates.preflight.map(fn), stage: plan.gates.stage.map(fn), rollbackDrill: plan.gates.rollbackDrill ? fn(plan.gates.rollbackDrill) : null },
    rollback: { before: plan.rollback.before.map(fn) },
    timeline: plan.timeline.map((c) => ({ ...c, gates: c.gates.map(fn) })),
  };
}

