// The cutover state machine: (plan, state, event, now) -> (state, effects) or a refusal.
// Pure: no I/O, no clock. Every rule of the runbooks that decides what happens next lives here
// (with the shared moves in moves.ts and the runbook timeline in timeline.ts).
import { roleFor, tally } from './approvals.ts';
import { formatDuration } from './duration.ts';
import { judge, judgeOnce, NEW_TRACK, nextCohortTrack, standsAside, type GateTrack, type Verdict } from './gates.ts';
import { askGoNoGo, committed, enter, finish, goLive, hold, refuse, rollBack, scheduleCheck, shiftTo, soakSlotsLeft, stageAt, type Patch } from './moves.ts';
import type { ApprovalAction, Plan } from './plan.ts';
import {
  canaryMayServe,
  isTerminal,
  type Actor,
  type Approval,
  type CommandEvent,
  type CutoverEvent,
  type CutoverState,
  type Decision,
  type Effect,
  type GateLine,
  type GateRecord,
  type JobEvent,
  type Notice,
  type Phase,
  type Transition,
} from './state.ts';
import { rollbackNeeded } from './traffic.ts';
import { droppedTargets, isTrain, liveTargets, mergeReports, nextStage, stageGates, targetName, targetPercents } from './train.ts';
import { completedNotice, dropsFor, dropTargets, ongoingDrop, pastDroppedWave, pendingDrop } from './drops.ts';
import { blocking, gatesDue, gatesReported, initialCheckpoints, openUpTo, overdue, startsAt, startTimeline, tick } from './timeline.ts';

export interface OpenInput {
  readonly id: string;
  readonly plan: Plan;
  readonly actor: Actor;
  readonly revisions: { readonly stable: string; readonly canary: string };
  readonly now: number;
  /** A scheduled T0 ahead of now (`/cutover schedule`); without it T0 is now. */
  readonly t0?: number;
}

/** Starting (or scheduling) a cutover: the first state and its effects, or a refusal. */
export function openCutover(input: OpenInput): Transition {
  const { plan, actor, now } = input;
  const scheduled = input.t0 !== undefined && input.t0 > now;
  const t0 = scheduled ? (input.t0 as number) : now;
  const role = roleFor(plan.approvals.start, actor);
  const phase: Phase = scheduled ? 'scheduled' : 'preflight';
  if (!role) return { ok: false, refusal: { code: 'not_authorized', action: 'start', phase, roles: plan.approvals.start.roles } };
  const timeline = startTimeline(plan, initialCheckpoints(plan), t0, now);
  const state: CutoverState = {
    id: input.id,
    plan: plan.name,
    serviceKey: plan.serviceKey,
    channel: plan.channel,
    version: 1,
    phase,
    phaseSeq: 1,
    phaseSince: now,
    startedBy: actor.id,
    startedAt: now,
    endedAt: null,
    revisions: input.revisions,
    stage: -1,
    traffic: 0,
    soak: null,
    monitor: null,
    checkSeq: 0,
    checksSkipped: 0,
    gates: {},
    preflight: {},
    approvals: { go_no_go: [], promote: [], rollback: [] },
    decisions: [{ action: 'start', by: actor.id, role, at: now, stage: -1 }],
    held: null,
    rollback: null,
    outcome: null,
    t0,
    checkpoints: timeline.checkpoints,
    signoffs: plan.signOff.map(() => null),
    hypercare: null,
  };
  const start = startsAt(plan, t0, now);
  const effects: Effect[] = scheduled
    ? [
        { type: 'announce', notice: { kind: 'scheduled', by: actor.id, t0, startsAt: start } },
        { type: 'schedule', key: 'start', at: start, event: { type: 'start_due' } },
        ...timeline.effects,
      ]
    : [
        { type: 'announce', notice: { kind: 'started', by: actor.id, revisions: input.revisions } },
        { type: 'start_updates', everyMs: plan.updates.everyMs },
        ...timeline.effects,
        { type: 'run_preflight', phaseSeq: 1 },
      ];
  return { ok: true, state, effects, gateResults: [] };
}

/** Whether an event is a command from a person: every command type has a handler in the table. */
const isCommand = (event: CutoverEvent): event is CommandEvent => Object.hasOwn(COMMAND_HANDLERS, event.type);

export function step(plan: Plan, state: CutoverState, event: CutoverEvent, now: number): Transition {
  // Sign-off is the one thing that happens after the end (seed 001's closeout); and a train that
  // completed with a target dropped hears when that target is back on stable (or cannot be).
  const late = event.type === 'sign_off' || (state.phase === 'completed' && (event.type === 'target_rolled_back' || event.type === 'target_rollback_failed'));
  if (isTerminal(state.phase) && !late) return refuse(state, event, 'finished');
  const transition = isCommand(event) ? command(plan, state, event, now) : jobEvent(plan, state, event, now);
  // A train's per-target facts ride along with whatever the event decided: into the state (the
  // latest), and onto the traffic notices it announces (the history, in the audit trail).
  if (!transition.ok || !('targets' in event) || !event.targets) return transition;
  const targets = event.targets;
  const effects = transition.effects.map((e): Effect => (e.type === 'announce' && REPORTED.has(e.notice.kind) ? { ...e, notice: { ...e.notice, targets } as Notice } : e));
  return { ...transition, effects, state: { ...transition.state, targets: mergeReports(plan, state.targets, targets) } };
}

/** The notices that say where traffic went: a train's reports are recorded with them. */
const REPORTED: ReadonlySet<Notice['kind']> = new Set(['traffic_confirmed', 'traffic_failed', 'rolled_back', 'rollback_failed', 'target_back', 'target_rollback_failed']);

// ---------------------------------------------------------------------------------------------
// Commands from people

/** What every command handler shares, built once per command after the stale check. */
interface CommandContext {
  readonly plan: Plan;
  readonly state: CutoverState;
  readonly now: number;
  /** The actor's role under the plan's rule for `action`, or the not_authorized refusal. */
  readonly authorise: (action: ApprovalAction) => string | Transition;
  /** The decision list with this actor's decision appended. */
  readonly decision: (action: Decision['action'], role: string | null, reason?: string) => CutoverState['decisions'];
  /** The checkpoint_blocking refusal while a timeline checkpoint must be done before `what`. */
  readonly blockedBy: (what: 'go_no_go' | 'promote') => Transition | null;
}

type CommandHandler<K extends CommandEvent['type']> = (ctx: CommandContext, event: Extract<CommandEvent, { type: K }>) => Transition;

function command(plan: Plan, state: CutoverState, event: CommandEvent, now: number): Transition {
  if ('expect' in event && event.expect !== undefined && event.expect !== state.phaseSeq) return refuse(state, event, 'stale');
  const ctx: CommandContext = {
    plan,
    state,
    now,
    authorise: (action) => {
      const rule = plan.approvals[action];
      return roleFor(rule, event.actor) ?? refuse(state, event, 'not_authorized', { roles: rule.roles });
    },
    decision: (action, role, reason) => [...state.decisions, { action, by: event.actor.id, role, at: now, stage: state.stage, ...(reason ? { reason } : {}) }],
    blockedBy: (what) => {
      const index = blocking(plan, state, what);
      return index === null ? null : refuse(state, event, 'checkpoint_blocking', { checkpoint: index });
    },
  };
  // The table is keyed by type, so the handler found always takes this event; TS cannot correlate the two.
  const handler = COMMAND_HANDLERS[event.type] as CommandHandler<CommandEvent['type']>;
  return handler(ctx, event);
}

/**
 * One more approval towards a go/no-go, a promotion or a manual rollback: authorise, run the
 * refusals that come after authorisation (`check`), refuse a second approval by the same person,
 * record it with its decision and tally. Short of the rule it is announced with what is still
 * needed; once the rule is satisfied, `satisfied` moves the cutover on.
 */
function collectApproval(
  ctx: CommandContext,
  event: CommandEvent,
  action: keyof CutoverState['approvals'],
  satisfied: (patch: Patch, approved: Effect, approvals: readonly Approval[]) => Transition,
  { check, reason }: { check?: () => Transition | null; reason?: string } = {},
): Transition {
  const { plan, state, now } = ctx;
  const role = ctx.authorise(action);
  if (typeof role !== 'string') return role;
  const refused = check?.();
  if (refused) return refused;
  if (state.approvals[action].some((a) => a.by === event.actor.id)) return refuse(state, event, 'already_approved');
  const approvals = [...state.approvals[action], { by: event.actor.id, role, at: now }];
  const t = tally(plan.approvals[action], approvals, state.startedBy);
  const patch: Patch = { approvals: { ...state.approvals, [action]: approvals }, decisions: ctx.decision(action, role, reason) };
  const approved: Effect = { type: 'announce', notice: { kind: 'approved', action, by: event.actor.id, role, needed: t.needed, othersNeeded: t.othersNeeded } };
  return t.satisfied ? satisfied(patch, approved, approvals) : committed(state, patch, [approved]);
}

const COMMAND_HANDLERS: { readonly [K in CommandEvent['type']]: CommandHandler<K> } = {
  approve: (ctx, event) => {
    const { plan, state, now } = ctx;
    if (state.phase !== 'awaiting_go_no_go') return refuse(state, event, 'wrong_phase');
    // The approval that completes the go/no-go is announced too, before the go itself.
    return collectApproval(
      ctx,
      event,
      'go_no_go',
      (patch, approved, approvals) => goLive(plan, state, now, patch, [approved, { type: 'announce', notice: { kind: 'go', approvers: approvals.map((a) => a.by) } }]),
      { check: () => ctx.blockedBy('go_no_go') },
    );
  },
  reject: ({ state, now, authorise, decision }, event) => {
    if (state.phase !== 'awaiting_go_no_go') return refuse(state, event, 'wrong_phase');
    const role = authorise('go_no_go');
    if (typeof role !== 'string') return role;
    const reason = event.reason?.trim() || 'no-go';
    // Seed 001: a no-go returns the cutover to HOLD; resume asks for the go/no-go afresh.
    return committed(
      state,
      {
        ...enter(state, 'held', now),
        held: { from: 'awaiting_go_no_go', code: 'no_go', reason, by: event.actor.id, at: now },
        approvals: { ...state.approvals, go_no_go: [] },
        decisions: decision('reject', role, reason),
      },
      [
        { type: 'announce', notice: { kind: 'rejected', by: event.actor.id, reason } },
        { type: 'announce', notice: { kind: 'held', by: event.actor.id, code: 'no_go', reason } },
      ],
    );
  },
  promote: (ctx, event) => {
    const { plan, state, now } = ctx;
    if (state.phase === 'soaking') return refuse(state, event, 'soak_in_progress', state.soak ? { until: state.soak.endsAt } : {});
    if (state.phase === 'shifting') return refuse(state, event, 'shift_in_progress');
    if (state.phase !== 'awaiting_promotion') return refuse(state, event, 'wrong_phase');
    const uncleanGates = (): Transition | null => {
      const unclean = Object.entries(state.gates)
        .filter(([, track]) => track.last?.verdict !== 'pass')
        .map(([gate]) => gate);
      return unclean.length > 0 ? refuse(state, event, 'gates_not_clean', { gates: unclean }) : null;
    };
    // The promotion that satisfies the rule is announced by the shift it starts, not as an approval.
    return collectApproval(
      ctx,
      event,
      'promote',
      (patch) => {
        // The cohorts of a wave whose targets were all dropped are skipped.
        const next = nextStage(plan, droppedTargets(state), state.stage) ?? state.stage + 1;
        return shiftTo(plan, state, next, now, patch, [{ type: 'announce', notice: { kind: 'promoted', by: event.actor.id, from: state.traffic, to: stageAt(plan, next).percent } }]);
      },
      { check: () => ctx.blockedBy('promote') ?? uncleanGates() },
    );
  },
  hold: ({ plan, state, now, authorise, decision }, event) => {
    if (state.phase === 'held') return refuse(state, event, 'already_held');
    if (state.phase === 'rolling_back') return refuse(state, event, 'already_rolling_back');
    // Before the start there is nothing to hold (abort it instead); in hypercare the release is out.
    if (state.phase === 'scheduled' || state.phase === 'hypercare') return refuse(state, event, 'wrong_phase');
    const role = authorise('hold');
    if (typeof role !== 'string') return role;
    const reason = event.reason?.trim() || 'held by hand';
    return hold(plan, state, now, { code: 'manual', reason, by: event.actor.id }, { decisions: decision('hold', role, reason) });
  },
  resume: ({ plan, state, now, authorise, decision }, event) => {
    if (state.phase !== 'held' || !state.held) return refuse(state, event, 'not_held');
    const role = authorise('resume');
    if (typeof role !== 'string') return role;
    return resume(plan, state, now, event.actor.id, decision('resume', role));
  },
  rollback: (ctx, event) => {
    const { state, now } = ctx;
    if (event.target !== undefined) return dropByHand(ctx, event, event.target);
    if (state.phase === 'rolling_back') return refuse(state, event, 'already_rolling_back');
    const reason = event.reason?.trim() || 'rollback requested';
    // Like a promotion, the approval that satisfies the rule is announced by the rollback it starts.
    return collectApproval(ctx, event, 'rollback', (patch) => rollBack(state, now, { trigger: 'manual', reason, by: event.actor.id, gates: [] }, patch), { reason });
  },
  abort: ({ plan, state, now, authorise, decision }, event) => {
    if (state.phase === 'rolling_back') return refuse(state, event, 'already_rolling_back');
    // Abort never leaves traffic half-way: once the canary may serve anything, the way out is a rollback.
    if (canaryMayServe(state) || state.phase === 'soaking' || state.phase === 'awaiting_promotion' || state.phase === 'hypercare') {
      return refuse(state, event, 'traffic_on_canary');
    }
    const role = authorise('abort');
    if (typeof role !== 'string') return role;
    // The state says no canary traffic, but the service is the truth: if it serves the canary
    // anyway (moved by hand, or writes the store lost), abort would leave it there.
    const served = event.served;
    if (served && 'canary' in served && rollbackNeeded(served)) return refuse(state, event, 'traffic_on_canary', { served: served.canary });
    const reason = event.reason?.trim() || 'aborted';
    const unverified = served && 'error' in served ? { unverified: served.error } : {};
    return finish(plan, state, 'aborted', now, { decisions: decision('abort', role, reason) }, [{ type: 'announce', notice: { kind: 'aborted', by: event.actor.id, reason, ...unverified } }]);
  },
  tick: ({ plan, state, now }, event) => {
    const result = tick(plan, state, event.checkpoint, event.item, event.actor.id, event.actor.roles, now);
    if (typeof result === 'string') {
      const owner = plan.timeline[event.checkpoint]?.owner;
      return refuse(state, event, result, { checkpoint: event.checkpoint, ...(result === 'not_authorized' && owner ? { roles: [owner] } : {}) });
    }
    return committed(state, { checkpoints: result.checkpoints }, result.effects);
  },
  sign_off: ({ plan, state, now }, event) => {
    const item = plan.signOff[event.item];
    if (plan.signOff.length === 0 || !item) return refuse(state, event, 'no_sign_off');
    // Sign-off opens when the rollout's outcome is known.
    if (!isTerminal(state.phase) && state.phase !== 'hypercare') return refuse(state, event, 'wrong_phase');
    if (!event.actor.roles.includes(item.role)) return refuse(state, event, 'not_authorized', { roles: [item.role] });
    if (state.signoffs[event.item]) return refuse(state, event, 'already_signed');
    const signoffs = state.signoffs.map((s, i) => (i === event.item ? { by: event.actor.id, at: now } : s));
    const effects: Effect[] = [{ type: 'announce', notice: { kind: 'signed_off', item: event.item, by: event.actor.id } }];
    if (signoffs.every(Boolean)) effects.push({ type: 'announce', notice: { kind: 'signoff_complete' } });
    // After the end, the evidence package is written again with the new sign-off in it.
    if (isTerminal(state.phase)) effects.push({ type: 'write_evidence' });
    return committed(state, { signoffs }, effects);
  },
  close: ({ plan, state, now, authorise, decision }, event) => {
    if (state.phase !== 'hypercare') return refuse(state, event, 'wrong_phase');
    const role = authorise('close');
    if (typeof role !== 'string') return role;
    const reason = event.reason?.trim() || 'hypercare closed early';
    return finish(plan, state, 'completed', now, { decisions: decision('close', role, reason) }, [
      { type: 'announce', notice: { kind: 'hypercare_ended', by: event.actor.id, reason } },
      { type: 'announce', notice: completedNotice(state) },
    ]);
  },
};

/**
 * `/rollback <plan> <target>`: that target's release alone back to stable, the rest of the train
 * carrying on. Only in a train whose plan says `rollback: target`, once traffic has moved, never
 * while a shift is in flight, never the last target carrying the release (that is a rollback of
 * the whole train). One person holding a rollback role suffices, whatever `min` the whole
 * rollback needs: it only ever moves traffic back to stable.
 */
function dropByHand(ctx: CommandContext, event: Extract<CommandEvent, { type: 'rollback' }>, target: number): Transition {
  const { plan, state, now } = ctx;
  if (!isTrain(plan) || plan.train.rollback !== 'target') return refuse(state, event, 'target_rollback_not_allowed', { target });
  if (state.phase === 'rolling_back') return refuse(state, event, 'already_rolling_back');
  if (state.phase === 'shifting') return refuse(state, event, 'shift_in_progress');
  if (state.stage < 0) return refuse(state, event, 'wrong_phase');
  if (!Number.isInteger(target) || target < 0 || target >= plan.train.targets.length) return refuse(state, event, 'unknown_target', { target });
  const dropped = droppedTargets(state);
  if (dropped.includes(target)) return refuse(state, event, 'target_already_dropped', { target });
  if (liveTargets(plan, [...dropped, target]).length === 0) return refuse(state, event, 'last_live_target', { target });
  const role = ctx.authorise('rollback');
  if (typeof role !== 'string') return role;
  const reason = event.reason?.trim() || 'dropped by hand';
  const decisions = [...state.decisions, { action: 'rollback' as const, by: event.actor.id, role, at: now, stage: state.stage, reason, target }];
  return dropTargets(plan, state, now, [{ target, trigger: 'manual', by: event.actor.id, reason, gates: [] }], { patch: { decisions }, spent: false });
}

function resume(plan: Plan, state: CutoverState, now: number, by: string, decisions: CutoverState['decisions']): Transition {
  const from = state.held!.from;
  const resumed = (to: Phase): Effect => ({ type: 'announce', notice: { kind: 'resumed', by, to } });
  const patch: Patch = { held: null, decisions };
  // Held on a wave whose targets were all dropped since: on past it, to the next wave (or the end).
  if (from === 'shifting' || from === 'soaking' || from === 'awaiting_promotion') {
    const past = pastDroppedWave(plan, state, now, by, patch);
    if (past) return past;
  }
  switch (from) {
    case 'preflight':
      return committed(state, { ...patch, ...enter(state, 'preflight', now), monitor: null }, [resumed('preflight'), { type: 'run_preflight', phaseSeq: state.phaseSeq + 1 }]);
    case 'awaiting_go_no_go':
      // After a hold the go/no-go is asked afresh: approvals given before it do not carry over.
      return committed(state, { ...patch, ...enter(state, 'awaiting_go_no_go', now), approvals: { ...state.approvals, go_no_go: [] } }, [resumed('awaiting_go_no_go'), ...askGoNoGo(plan, state, now)]);
    case 'ready':
      return goLive(plan, state, now, patch, [resumed(now >= state.t0 ? 'shifting' : 'ready')]);
    case 'shifting':
      return shiftTo(plan, state, state.stage, now, patch, [resumed('shifting')]);
    default: {
      // Soaking or awaiting promotion: the cohort earns a fresh, clean soak before it may advance,
      // at the cohort's own split (re-applied if it drifted while held).
      const stage = stageAt(plan, state.stage);
      if (state.traffic !== stage.percent) return shiftTo(plan, state, state.stage, now, patch, [resumed('shifting')]);
      const soak = { startedAt: now, endsAt: now + stage.soakMs };
      const check = scheduleCheck(plan, { ...state, soak }, now, state.monitor);
      return committed(state, { ...patch, ...enter(state, 'soaking', now), soak, ...check.patch }, [resumed('soaking'), ...(check.fresh ? [check.effect] : [])]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Results reported by jobs, and timers

function jobEvent(plan: Plan, state: CutoverState, event: JobEvent, now: number): Transition {
  switch (event.type) {
    case 'preflight_done': {
      if (state.phase !== 'preflight' || event.phaseSeq !== state.phaseSeq) return refuse(state, event, 'stale');
      const readings = Object.fromEntries(event.results.map((r) => [r.gate, judgeOnce(r.measurement, r.at)]));
      const expected = [...plan.gates.preflight.map((g) => g.id), ...(plan.gates.rollbackDrill ? [plan.gates.rollbackDrill.id] : [])];
      const lines: GateLine[] = event.results.map((r) => ({ gate: r.gate, verdict: readings[r.gate]!.verdict, reading: readings[r.gate]! }));
      const records: GateRecord[] = event.results.map((r) => ({ at: r.at, phase: 'preflight', stage: -1, percent: 0, gate: r.gate, verdict: readings[r.gate]!.verdict, measurement: r.measurement }));
      const unmeasured = expected.filter((id) => !readings[id]);
      const failing = [...lines.filter((l) => l.verdict !== 'pass').map((l) => l.gate), ...unmeasured];
      const passed = failing.length === 0;
      const notice: Effect = { type: 'announce', notice: { kind: 'preflight', passed, gates: lines } };
      if (!passed) {
        const reason = `preflight gate${failing.length > 1 ? 's' : ''} ${failing.join(', ')} did not pass`;
        return committed(
          state,
          { ...enter(state, 'held', now), preflight: readings, held: { from: 'preflight', code: 'preflight_failed', reason, by: null, at: now } },
          [
            notice,
            { type: 'announce', notice: { kind: 'held', by: null, code: 'preflight_failed', reason } },
            { type: 'escalate', escalation: { code: 'preflight_failed', detail: reason, gates: failing } },
          ],
          records,
        );
      }
      return committed(state, { ...enter(state, 'awaiting_go_no_go', now), preflight: readings, approvals: { ...state.approvals, go_no_go: [] } }, [notice, ...askGoNoGo(plan, state, now)], records);
    }
    case 'traffic_confirmed':
      return trafficConfirmed(plan, state, event, now);
    case 'traffic_failed': {
      if (state.phase !== 'shifting' || event.phaseSeq !== state.phaseSeq) return refuse(state, event, 'stale');
      const percent = stageAt(plan, state.stage).percent;
      const reason = `could not confirm ${percent} % on the canary: ${event.message}`;
      // A split the backend was found serving is a fact: recorded, and watched while the canary serves any.
      const served = event.served !== undefined && event.served !== state.traffic ? event.served : null;
      const fact: Effect[] = served === null ? [] : [{ type: 'announce', notice: { kind: 'traffic_confirmed', stage: state.stage, percent: served } }];
      return hold(plan, served === null ? state : { ...state, traffic: served }, now, { code: 'traffic_failed', reason, by: null }, served === null ? {} : { traffic: served }, {
        effects: [
          ...fact,
          { type: 'announce', notice: { kind: 'traffic_failed', percent, code: event.code, message: event.message } },
          { type: 'escalate', escalation: { code: 'traffic_failed', detail: reason } },
        ],
      });
    }
    case 'gate_check':
      return gateCheck(plan, state, event, now);
    case 'rollback_done': {
      if (state.phase !== 'rolling_back' || event.phaseSeq !== state.phaseSeq) return refuse(state, event, 'stale');
      return finish(plan, state, 'rolled_back', now, { traffic: event.percent }, [{ type: 'announce', notice: { kind: 'rolled_back', percent: event.percent, steps: event.steps } }]);
    }
    case 'rollback_target_failed': {
      // The targets that are back stay back; these are retried, and people must know now.
      if (state.phase !== 'rolling_back' || event.phaseSeq !== state.phaseSeq) return refuse(state, event, 'stale');
      return committed(state, {}, [{ type: 'escalate', escalation: { code: 'rollback_target_failed', detail: event.message } }]);
    }
    case 'rollback_failed': {
      if (state.phase !== 'rolling_back' || event.phaseSeq !== state.phaseSeq) return refuse(state, event, 'stale');
      const reason = `rollback could not be confirmed: ${event.message}`;
      return finish(plan, state, 'failed', now, {}, [
        { type: 'announce', notice: { kind: 'rollback_failed', reason, steps: event.steps } },
        { type: 'escalate', escalation: { code: 'rollback_failed', detail: reason } },
      ]);
    }
    case 'approval_stuck': {
      if (event.phaseSeq !== state.phaseSeq || (state.phase !== 'awaiting_go_no_go' && state.phase !== 'awaiting_promotion')) {
        return refuse(state, event, 'stale');
      }
      const what = state.phase === 'awaiting_go_no_go' ? 'the go/no-go approval' : `promotion past ${state.traffic} %`;
      return committed(state, {}, [{ type: 'escalate', escalation: { code: 'approval_stuck', detail: `${what} has waited ${formatDuration(now - state.phaseSince)}` } }]);
    }
    case 'start_due': {
      if (state.phase !== 'scheduled') return refuse(state, event, 'stale');
      return committed(state, enter(state, 'preflight', now), [
        { type: 'announce', notice: { kind: 'started', by: state.startedBy, revisions: state.revisions } },
        { type: 'start_updates', everyMs: plan.updates.everyMs },
        { type: 'run_preflight', phaseSeq: state.phaseSeq + 1 },
      ]);
    }
    case 't0_due': {
      if (state.phase !== 'ready') return refuse(state, event, 'stale');
      return shiftTo(plan, state, 0, now, {}, []);
    }
    case 'checkpoint_due': {
      const opened = openUpTo(plan, state.checkpoints, event.index, now);
      if (opened.effects.length === 0) return refuse(state, event, 'stale');
      return committed(state, { checkpoints: opened.checkpoints }, opened.effects);
    }
    case 'checkpoint_overdue': {
      const late = overdue(plan, state, event.index, event.level, now);
      return late ? committed(state, { checkpoints: late.checkpoints }, late.effects) : refuse(state, event, 'stale');
    }
    case 'checkpoint_gates': {
      const reported = gatesReported(plan, state, event.index, event.run, event.results, now);
      return reported ? committed(state, { checkpoints: reported.checkpoints }, reported.effects, reported.records) : refuse(state, event, 'stale');
    }
    case 'checkpoint_gates_due': {
      const due = gatesDue(plan, state, event.index, event.run);
      return due ? committed(state, { checkpoints: due.checkpoints }, due.effects) : refuse(state, event, 'stale');
    }
    case 'hypercare_end': {
      if (state.phase !== 'hypercare') return refuse(state, event, 'stale');
      return finish(plan, state, 'completed', now, {}, [
        { type: 'announce', notice: { kind: 'hypercare_ended', by: null, reason: 'hypercare period over' } },
        { type: 'announce', notice: completedNotice(state) },
      ]);
    }
    case 'target_rolled_back': {
      const drop = ongoingDrop(state, event.target);
      if (!drop || drop.backAt !== undefined) return refuse(state, event, 'stale');
      const dropped = state.dropped!.map((d) => (d === drop ? { ...d, backAt: now } : d));
      // Back after the train completed: the evidence package is written again with it.
      return committed(state, { dropped }, [
        { type: 'announce', notice: { kind: 'target_back', target: event.target, steps: event.steps } },
        ...(isTerminal(state.phase) ? [{ type: 'write_evidence' as const }] : []),
      ]);
    }
    case 'target_rollback_failed': {
      const drop = pendingDrop(state, event.target);
      if (!drop) return refuse(state, event, 'stale');
      if (!event.final) {
        // Retried by its job; people must know now that a target still serves its canary.
        return committed(state, {}, [{ type: 'escalate', escalation: { code: 'target_rollback_failed', detail: `${targetName(plan, event.target)} could not be moved back to stable yet; retrying: ${event.message}` } }]);
      }
      const reason = `${targetName(plan, event.target)} could not be moved back to stable: ${event.message}`;
      const dropped = state.dropped!.map((d) => (d === drop ? { ...d, rollbackError: event.message } : d));
      return committed(state, { dropped }, [
        { type: 'announce', notice: { kind: 'target_rollback_failed', target: event.target, reason } },
        { type: 'escalate', escalation: { code: 'target_rollback_not_confirmed', detail: reason } },
        ...(isTerminal(state.phase) ? [{ type: 'write_evidence' as const }] : []),
      ]);
    }
  }
}

function trafficConfirmed(plan: Plan, state: CutoverState, event: Extract<JobEvent, { type: 'traffic_confirmed' }>, now: number): Transition {
  // The split is a fact about the world: record it whatever the phase.
  const fact: Effect = { type: 'announce', notice: { kind: 'traffic_confirmed', stage: state.stage, percent: event.percent } };
  const target = state.stage >= 0 ? stageAt(plan, state.stage).percent : 0;
  if (state.phase !== 'shifting' || event.phaseSeq !== state.phaseSeq || event.percent !== target) {
    if (event.percent === state.traffic) return refuse(state, event, 'stale');
    // Whatever the phase, a canary that serves traffic is watched, and one that serves none is not.
    const watchable = state.phase === 'held' || state.phase === 'soaking' || state.phase === 'awaiting_promotion' || state.phase === 'hypercare';
    if (event.percent === 0 || !watchable) return committed(state, { traffic: event.percent, monitor: null }, [fact]);
    if (state.phase !== 'held' && event.percent !== target) {
      // The served split moved away from the cohort outside the cutover: stop and tell people.
      const reason = `the served split changed to ${event.percent} % outside the cutover (cohort is ${target} %)`;
      return hold(plan, { ...state, traffic: event.percent }, now, { code: 'traffic_failed', reason, by: null }, { traffic: event.percent }, {
        effects: [fact, { type: 'escalate', escalation: { code: 'traffic_failed', detail: reason } }],
      });
    }
    const check = scheduleCheck(plan, { ...state, traffic: event.percent }, now, state.monitor);
    return committed(state, { traffic: event.percent, ...check.patch }, [fact, ...(check.fresh ? [check.effect] : [])]);
  }
  const stage = stageAt(plan, state.stage);
  const soak = { startedAt: now, endsAt: now + stage.soakMs };
  // A new cohort starts every gate's streaks afresh; a judge's test runs on over the whole cutover.
  const gates: Record<string, GateTrack> = Object.fromEntries(stageGates(plan, state.stage, droppedTargets(state)).map((g) => [g.id, nextCohortTrack(state.gates[g.id])]));
  const check = scheduleCheck(plan, { ...state, soak }, now);
  return committed(state, { ...enter(state, 'soaking', now), traffic: event.percent, soak, gates, approvals: { ...state.approvals, promote: [] }, ...check.patch }, [fact, check.effect]);
}

function gateCheck(plan: Plan, state: CutoverState, event: Extract<JobEvent, { type: 'gate_check' }>, now: number): Transition {
  const monitoring = state.phase === 'soaking' || state.phase === 'awaiting_promotion' || state.phase === 'held' || state.phase === 'hypercare';
  if (!monitoring || !state.monitor || state.monitor.seq !== event.seq) return refuse(state, event, 'stale');
  const gates: Record<string, GateTrack> = { ...state.gates };
  const lines: GateLine[] = [];
  const records: GateRecord[] = [];
  for (const spec of stageGates(plan, state.stage, droppedTargets(state))) {
    const result = event.results.find((r) => r.gate === spec.id);
    const measurement = result?.measurement ?? { outcome: 'error' as const, error: 'not measured' };
    if (result?.waiting) {
      // Not judged: the track keeps its streaks, and the gate is not clean until it has data.
      const track = gates[spec.id] ?? NEW_TRACK;
      const reading = { verdict: 'waiting' as const, at: result.at, observations: [], note: measurement.outcome === 'error' ? measurement.error : 'waiting for data' };
      gates[spec.id] = { ...track, last: reading };
      lines.push({ gate: spec.id, verdict: 'waiting', reading });
      continue;
    }
    const judged = judge(gates[spec.id] ?? NEW_TRACK, measurement, result?.at ?? now, spec);
    gates[spec.id] = judged.track;
    const reading = judged.track.last!;
    lines.push({ gate: spec.id, verdict: judged.verdict, reading });
    records.push({
      at: result?.at ?? now,
      phase: 'stage',
      stage: state.stage,
      percent: state.traffic,
      gate: spec.id,
      verdict: judged.verdict,
      measurement,
      seq: event.seq,
      ...(reading.judge ? { judge: reading.judge } : {}),
    });
  }
  const report: Effect = { type: 'announce', notice: { kind: 'gate_check', stage: state.stage, percent: state.traffic, seq: event.seq, gates: lines } };
  const withVerdict = (v: Verdict) => lines.filter((l) => l.verdict === v).map((l) => l.gate);
  const failed = withVerdict('fail');
  const base: CutoverState = { ...state, gates };
  const exhausted = withVerdict('errors_exhausted');

  if (state.phase === 'hypercare') {
    // After 100 % the release is out: a failure escalates and offers rollback, people decide.
    const newlyFailed = failed.filter((g) => state.gates[g]?.last?.verdict !== 'fail');
    const newlyExhausted = exhausted.filter((g) => state.gates[g]?.last?.verdict !== 'errors_exhausted');
    const alerts: Effect[] = [];
    if (newlyFailed.length > 0) {
      alerts.push({ type: 'announce', notice: { kind: 'hypercare_alert', gates: lines.filter((l) => newlyFailed.includes(l.gate)) } });
      alerts.push({ type: 'escalate', escalation: { code: 'hypercare_gate_failed', detail: `gate${newlyFailed.length > 1 ? 's' : ''} ${newlyFailed.join(', ')} failed during hypercare`, gates: newlyFailed } });
    }
    if (newlyExhausted.length > 0) {
      alerts.push({ type: 'escalate', escalation: { code: 'gate_errors', detail: `gate${newlyExhausted.length > 1 ? 's' : ''} ${newlyExhausted.join(', ')} cannot be measured during hypercare`, gates: newlyExhausted } });
    }
    const check = scheduleCheck(plan, base, now);
    return committed(base, { gates, ...check.patch }, [report, ...alerts, check.effect], records);
  }
  if (failed.length > 0) {
    // A judge's rollback names the figures that decided it.
    const figures = lines.filter((l) => failed.includes(l.gate) && l.reading.judge).map((l) => judgeGrounds(l.reading.judge!));
    const reason = `gate${failed.length > 1 ? 's' : ''} ${failed.join(', ')} failed at ${state.traffic} %${figures.length ? `: ${figures.join('; ')}` : ''}`;
    // A train with `rollback: target`: a target's own gates failing drops that target alone.
    const drops = dropsFor(plan, state, failed);
    if (drops) return dropTargets(plan, base, now, drops.map((target) => dropOrder(plan, state, lines, failed, target)), { patch: { gates }, effects: [report], records, spent: true });
    return rollBack(base, now, { trigger: 'gate', reason, by: null, gates: failed }, { gates }, [report], records);
  }
  if (exhausted.length > 0 && state.phase !== 'held') {
    const reason = `gate${exhausted.length > 1 ? 's' : ''} ${exhausted.join(', ')} could not be measured ${plan.gates.stage.find((g) => g.id === exhausted[0])?.maxErrors ?? ''} times in a row`;
    // The check that just ran is spent: the hold schedules a fresh one.
    return hold(plan, base, now, { code: 'gate_errors', reason, by: null }, { gates }, {
      effects: [report, { type: 'escalate', escalation: { code: 'gate_errors', detail: reason, gates: exhausted } }],
      records,
      keepMonitor: false,
    });
  }
  const clean = lines.every((l) => l.verdict === 'pass' || standsAside(l.reading, state.traffic));
  if (state.phase === 'soaking' && clean && state.soak && now >= state.soak.endsAt) return soakClean(plan, base, now, report, records);
  const check = scheduleCheck(plan, base, now);
  return committed(base, { gates, ...check.patch }, [report, check.effect], records);
}

/** A target dropped by its own failing gates, with why in the words a whole rollback would use. */
function dropOrder(plan: Plan, state: CutoverState, lines: readonly GateLine[], failed: readonly string[], target: number) {
  const own = failed.filter((id) => plan.gates.stage.find((g) => g.id === id)?.target === target);
  const figures = lines.filter((l) => own.includes(l.gate) && l.reading.judge).map((l) => judgeGrounds(l.reading.judge!));
  const percent = isTrain(plan) ? (targetPercents(plan, state.stage, state.traffic, droppedTargets(state))[target] ?? state.traffic) : state.traffic;
  const reason = `gate${own.length > 1 ? 's' : ''} ${own.join(', ')} failed at ${percent} %${figures.length ? `: ${figures.join('; ')}` : ''}`;
  return { target, trigger: 'gate' as const, by: null, reason, gates: own };
}

/** Why a judge rolled back, in its own figures (or its guard's). */
function judgeGrounds(reading: NonNullable<GateLine['reading']['judge']>): string {
  if (reading.decision === 'rollback' || !reading.guard) return reading.summary;
  const what = reading.metric === 'error_rate' ? '5xx ratio' : 'latency';
  return `the canary's ${what} this cohort ${reading.guard.value} is above the guard's max ${reading.guard.max} (${reading.guard.requests} requests); ${reading.summary}`;
}

function soakClean(plan: Plan, state: CutoverState, now: number, report: Effect, records: GateRecord[]): Transition {
  const stage = stageAt(plan, state.stage);
  // Slots of this soak the ending check overtook are counted; a cadence that goes on starts after the end.
  const left = soakSlotsLeft(plan, state);
  const skipped: Patch = left > 0 ? { checksSkipped: (state.checksSkipped ?? 0) + left } : {};
  const ended: CutoverState = left > 0 ? { ...state, ...skipped, monitor: { ...state.monitor!, nextAt: state.soak!.endsAt } } : state;
  // The last cohort left: those of waves whose targets were all dropped are skipped.
  const next = nextStage(plan, droppedTargets(state), state.stage);
  const last = next === null;
  const clean = (next: 'promotion' | 'auto' | 'complete' | 'hypercare'): Effect => ({ type: 'announce', notice: { kind: 'soak_clean', stage: state.stage, percent: state.traffic, next } });
  if (last && plan.hypercare) {
    // Seed 003's T+180: the stage gates keep running, slower, for the hypercare period.
    const hypercare = { startedAt: now, endsAt: now + plan.hypercare.durationMs };
    const entered: CutoverState = { ...ended, ...enter(state, 'hypercare', now), soak: null, hypercare };
    const check = scheduleCheck(plan, entered, now);
    return committed(state, { ...skipped, ...enter(state, 'hypercare', now), soak: null, hypercare, ...check.patch }, [
      report,
      clean('hypercare'),
      { type: 'announce', notice: { kind: 'hypercare_started', endsAt: hypercare.endsAt } },
      check.effect,
      { type: 'start_updates', everyMs: plan.hypercare.summaryEveryMs },
      { type: 'schedule', key: 'hypercare.end', at: hypercare.endsAt, event: { type: 'hypercare_end' } },
      ...(plan.signOff.length > 0 ? [{ type: 'announce' as const, notice: { kind: 'signoff_requested' as const } }] : []),
    ], records);
  }
  if (last) return finish(plan, state, 'completed', now, skipped, [report, clean('complete'), { type: 'announce', notice: completedNotice(state) }], records);
  if (stage.promotion === 'auto') return shiftTo(plan, state, next, now, skipped, [report, clean('auto')], records);
  const check = scheduleCheck(plan, { ...ended, soak: null }, now);
  return committed(
    state,
    { ...skipped, ...enter(state, 'awaiting_promotion', now), approvals: { ...state.approvals, promote: [] }, ...check.patch },
    [report, clean('promotion'), check.effect, { type: 'schedule_stuck_check', phaseSeq: state.phaseSeq + 1, at: now + plan.escalation.stuckAfterMs }],
    records,
  );
}
