// Ports: the narrow interfaces the engine needs from the world, in the runbook's terms.
// Adapters (Cloud Run, HTTP flags, simulation, Slack, console) implement them and hold no policy.
import type { z } from 'zod';
import type { AuditEntry } from './domain/audit.ts';
import type { Measurement } from './domain/measurement.ts';
import type { JudgeRule, Plan } from './domain/plan.ts';
import type { CutoverView } from './domain/view.ts';
import type { RevisionChoice, Revisions, ServiceBase, Split, TargetReport } from './domain/service.ts';

/**
 * Why a traffic operation could not be confirmed. `transient` errors were already retried by the
 * adapter up to its bound; the engine never retries them again blindly: it holds and escalates.
 */
export type TrafficErrorCode = 'transient' | 'permission_denied' | 'not_found' | 'conflict' | 'unconfirmed' | 'invalid';

export class TrafficError extends Error {
  readonly code: TrafficErrorCode;
  constructor(code: TrafficErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrafficError';
    this.code = code;
  }
}

/** One target of a train that could not be read, shifted or rolled back, and why. */
export interface TargetFailure {
  readonly target: number;
  readonly code: TrafficErrorCode;
  readonly message: string;
}

/**
 * A train's traffic operation that failed on some of its targets (the others went ahead): which,
 * why, and what every target was found serving, for the card. Its code is the first failure's.
 */
export class TrainTrafficError extends TrafficError {
  readonly failures: readonly TargetFailure[];
  readonly reports: readonly TargetReport[];
  constructor(message: string, failures: readonly TargetFailure[], reports: readonly TargetReport[]) {
    super(failures[0]?.code ?? 'unconfirmed', message);
    this.name = 'TrainTrafficError';
    this.failures = failures;
    this.reports = reports;
  }
}

/**
 * Where the cutover moves traffic: Cloud Run revisions, a feature flag, or the simulation.
 * `signal` (the traffic lease's) is checked before every call to the platform; once it aborted,
 * the operation makes no further call and throws `signal.reason`, never a TrafficError.
 */
export interface TrafficBackend {
  /** Says what is being driven, e.g. "Cloud Run projects/p/locations/r/services/s". */
  readonly label: string;
  /** Before the cutover starts: are the service and both revisions there and ready? */
  preflight(revisions: Revisions, signal?: AbortSignal): Promise<Measurement>;
  /** The split actually served now. Throws TrafficError. */
  read(revisions: Revisions, signal?: AbortSignal): Promise<Split>;
  /**
   * Serve `canaryPercent` % on the canary and the rest on stable, then confirm the served split.
   * Resolves with the confirmed split; throws TrafficError when it cannot confirm it.
   * `shift(revisions, 0)` is the rollback: 100 % on stable.
   */
  shift(revisions: Revisions, canaryPercent: number, signal?: AbortSignal): Promise<Split>;
  /**
   * Optional: the revisions people may choose from when they start a cutover (the start dialog):
   * ready ones only, newest first, each with the share it serves now. A platform without the notion
   * (a feature flag) leaves it out. Throws TrafficError.
   */
  revisions?(signal?: AbortSignal): Promise<RevisionChoice[]>;
}

/** A traffic platform plug-in: the schema of its `service:` block and how to drive it. */
export interface TrafficPlatform<Spec extends ServiceBase = ServiceBase> {
  readonly platform: string;
  readonly schema: z.ZodType<Spec>;
  /** Identity of the service: one active cutover per key. */
  serviceKey(spec: Spec): string;
  create(spec: Spec): TrafficBackend;
}

/** What the simulation says the canary and the stable revision are doing right now. */
export interface CanarySignals {
  /** Canary 5xx ratio, 0..1. */
  readonly errorRate: number;
  readonly stableErrorRate: number;
  readonly p95LatencyMs: number;
  readonly stableP95LatencyMs: number;
  /** Share of the error budget consumed, 0..1. */
  readonly errorBudgetRatio: number;
  /** Requests the canary served in the window. */
  readonly requestCount: number;
  /** Canary share of traffic, 0..100. */
  readonly canaryPercent: number;
  /**
   * What the simulated service served so far, request by request (random, from the scenario's
   * seed): running counters per revision, as a Prometheus endpoint would give them. The judge
   * reads these; the other kinds judge the deterministic figures above.
   */
  readonly served?: ServedCounters;
}

export interface ServedCounters {
  /** Finite latency bucket bounds (ms); each revision's `latency` has one more count. */
  readonly bounds: readonly number[];
  readonly canary: { readonly requests: number; readonly errors: number; readonly latency: readonly number[] };
  readonly stable: { readonly requests: number; readonly errors: number; readonly latency: readonly number[] };
}

export interface GateContext {
  readonly cutoverId: string;
  readonly planName: string;
  /** The cohort being soaked; null during preflight. */
  readonly stage: { readonly index: number; readonly percent: number } | null;
  readonly revisions: Revisions;
  readonly service: ServiceBase & Readonly<Record<string, unknown>>;
  /** The service's identity (one active cutover per key): where a simulation keeps its state. */
  readonly serviceKey: string;
  /** The time window to judge, ms since epoch: the current soak so far (or a lookback in preflight). */
  readonly window: { readonly start: number; readonly end: number };
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Environment for `token_env` lookups. Secrets are read here, never written into plans. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * A judge gate: the end of the data its judge has taken in so far (from the stored cutover), so
   * a source that counts entry by entry (Cloud Logging) reads only what is new.
   */
  readonly judgedThrough?: number;
}

/**
 * A gate kind plug-in: the YAML key that names it (`http`, `command`, `slo_snapshot`,
 * `cloud_logging`, …), the schema of its settings, how to measure it for real, and how it judges
 * simulated signals (src/sim's wrapper calls that instead of measuring, in a rehearsal).
 */
export interface GateKind<Spec = unknown> {
  readonly key: string;
  readonly schema: z.ZodType<Spec>;
  readonly defaultTimeoutMs: number;
  /** How long after the fact this kind's data becomes visible (Cloud Monitoring: up to 3 min). */
  readonly defaultDataLagMs?: number;
  /** How late the data is for this context, given the plan's `data_lag` (default: that, unchanged). */
  dataLagMs?(planned: number, ctx: GateContext): number;
  /** The default data lag for these settings, when it depends on them (a judge's source); else `defaultDataLagMs`. */
  dataLagFor?(spec: Spec): number;
  /**
   * A kind that judges canary against stable (the judge) says how, so that the plan can share its
   * false-rollback budget among its judges (`alpha` is set by the plan).
   */
  judgeRule?(spec: Spec): Omit<JudgeRule, 'alpha'>;
  measure(spec: Spec, ctx: GateContext): Promise<Measurement>;
  /** The same judgement from simulated signals: how a rehearsal or a simulated service answers it. */
  simulate(spec: Spec, ctx: GateContext, signals: CanarySignals): Measurement;
}

/** Lets heterogeneous kinds share one registry without losing each one's own typing. */
export type AnyGateKind = GateKind<any>;

/** Where the room keeps its own handle on a cutover (the status card's message, say). Opaque. */
export type RoomRef = Readonly<Record<string, string>>;

/** When the war room shows the chart: with the periodic update, at a promotion or a hold, at the end. */
export type ChartMoment = 'update' | 'promotion' | 'hold' | 'final';

/**
 * The war room: Slack in production, the terminal in a rehearsal. It presents; it decides
 * nothing. Entries arrive in audit order, once each (at least once after a crash).
 */
export interface WarRoom {
  /** Posts the status card and returns the handle to keep. */
  open(view: CutoverView): Promise<RoomRef>;
  /** Edits the status card in place to show the current state. */
  refresh(ref: RoomRef, view: CutoverView): Promise<void>;
  /** One audit entry: a detail in the card's thread, an escalation, the closing message. */
  post(ref: RoomRef, entry: AuditEntry, view: CutoverView): Promise<void>;
  /** The periodic internal update (seed 003's 30-minute template). */
  update(ref: RoomRef, view: CutoverView, now: number): Promise<void>;
  /**
   * Optional: the chart, drawn from the records as of `now`, for `moment`. Run as its own job, asked
   * for by the room itself, so a picture never holds up the entries after it (an escalation above all).
   */
  chart?(ref: RoomRef, view: CutoverView, moment: ChartMoment, now: number): Promise<void>;
}

/** Who holds which plan role: Slack users and user groups in production, a fixed list in a rehearsal. */
export interface RoleDirectory {
  /** The plan roles `userId` holds (directly, or through a user group). */
  rolesOf(plan: Plan, userId: string): Promise<readonly string[]>;
}
