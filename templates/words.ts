// Words for the engine's facts: notices, refusals, gate readings, phases. Pure functions of
// domain data; the Slack templates and the rehearsal's terminal output both speak through them.
import type { GateReading, Verdict } from '../src/domain/gates.ts';
import { count, percent } from '../src/domain/judge/decision.ts';
import type { JudgeReading } from '../src/domain/judge/gate.ts';
import { formatDuration } from '../src/domain/duration.ts';
import type { Observation } from '../src/domain/measurement.ts';
import type { Plan } from '../src/domain/plan.ts';
import type { CutoverState, EscalationCode, GateLine, HoldCode, Notice, Phase, RefusalCode } from '../src/domain/state.ts';
import { zonedText } from '../src/domain/zone.ts';

export const PHASE_WORDS: Readonly<Record<Phase, string>> = {
  scheduled: 'scheduled',
  preflight: 'running preflight gates',
  awaiting_go_no_go: 'waiting for the go/no-go',
  ready: 'GO given; waiting for T0',
  shifting: 'shifting traffic',
  soaking: 'soaking',
  awaiting_promotion: 'waiting for /promote',
  hypercare: 'in hypercare',
  held: 'HELD',
  rolling_back: 'ROLLING BACK',
  rolled_back: 'rolled back',
  completed: 'completed',
  aborted: 'aborted',
  failed: 'FAILED',
};

export const VERDICT_WORDS: Readonly<Record<Verdict, string>> = {
  pass: 'pass',
  watch: 'failing (within its for: window)',
  fail: 'FAIL',
  error: 'error',
  errors_exhausted: 'ERROR (too many in a row)',
  waiting: 'waiting for data',
  inconclusive: 'inconclusive (not a pass)',
};

export const HOLD_WORDS: Readonly<Record<HoldCode, string>> = {
  manual: 'held by hand',
  preflight_failed: 'preflight did not pass',
  no_go: 'no-go decision',
  gate_errors: 'gates could not be measured',
  traffic_failed: 'traffic change could not be confirmed',
};

export const ESCALATION_WORDS: Readonly<Record<EscalationCode, string>> = {
  rollback: 'Rollback requested',
  gate_failed: 'Gate failed: automatic rollback',
  gate_errors: 'Gates cannot be measured: cutover held',
  approval_stuck: 'Approval waiting too long',
  traffic_failed: 'Traffic change failed: cutover held',
  rollback_failed: 'ROLLBACK NOT CONFIRMED: act by hand',
  rollback_target_failed: 'Rollback stuck on a target: retrying',
  target_dropped: "One target's release dropped: it goes back to stable, the train carries on",
  target_rollback_failed: 'Dropped target not back on stable yet: retrying',
  target_rollback_not_confirmed: 'DROPPED TARGET NOT BACK ON STABLE: act by hand',
  preflight_failed: 'Preflight failed: cutover held',
  checkpoint_missed: 'Runbook checkpoint missed',
  checkpoint_gates_failed: 'Checkpoint gates did not pass',
  hypercare_gate_failed: 'Gate failed during hypercare: decide on rollback',
};

/** Why a command was refused, and what to do instead. */
export function refusalWords(
  code: RefusalCode | 'no_cutover' | 'already_running',
  state: CutoverState | null,
  extra: { roles?: readonly string[]; until?: number; gates?: readonly string[]; now?: number; checkpoint?: number; plan?: Plan; action?: string; served?: number; service?: string; target?: number } = {},
): string {
  const target = extra.target === undefined ? 'that target' : (extra.plan?.train?.targets[extra.target]?.id ?? `target ${extra.target}`);
  const checkpoint = extra.checkpoint !== undefined ? extra.plan?.timeline[extra.checkpoint] : undefined;
  const named = checkpoint ? `${checkpoint.label} ${checkpoint.name}` : 'the checkpoint';
  const where = state ? ` (${describePhase(state)})` : '';
  const allowed = (extra.roles ?? []).join(', ') || 'nobody';
  switch (code) {
    case 'stale':
      return `That button is from an earlier state of the cutover; nothing was changed${where}. Use the buttons on the current card, or the slash command.`;
    case 'wrong_phase':
      if (extra.action === 'close') return `Only hypercare can be closed early, and the cutover is not in hypercare${where}. Nothing was changed.`;
      if (extra.action === 'sign_off') return `Sign-off opens once the rollout's outcome is known: in hypercare or at the end${where}. Nothing was changed.`;
      return `That does not apply now${where}.`;
    case 'not_authorized':
      if (extra.action === 'tick') return `Only the checkpoint's owner (${allowed}) may tick ${named}. Nothing was changed.`;
      if (extra.action === 'sign_off') return `Only ${allowed} may sign off that item. Nothing was changed.`;
      return `You do not hold a role allowed to do that (allowed: ${allowed}). Nothing was changed.`;
    case 'already_approved':
      return `You have already approved this; your approval counts once.`;
    case 'finished':
      return `That cutover has ended${where}; start a new one with /cutover start.`;
    case 'soak_in_progress':
      return `The soak is still running${extra.until ? `: it ends in ${formatDuration(Math.max(0, extra.until - (extra.now ?? Date.now())))}` : ''}. Promotion opens once it is clean.`;
    case 'shift_in_progress':
      return `Traffic is being shifted right now; wait for it to be confirmed.`;
    case 'gates_not_clean':
      return `Gates are not clean (${(extra.gates ?? []).join(', ')}): promotion needs every stage gate passing.`;
    case 'not_held':
      return `The cutover is not held${where}.`;
    case 'already_held':
      return `The cutover is already held${where}.`;
    case 'already_rolling_back':
      return `A rollback is already under way.`;
    case 'traffic_on_canary':
      if (extra.served !== undefined) {
        return `The service serves ${extra.served} % on the canary, though this cutover recorded none: traffic was moved outside the cutover, or the state store lost its latest writes. Abort would leave it there, so nothing was changed. Use /rollback to return all traffic to stable.`;
      }
      return `The canary serves traffic (or a shift was under way): abort would leave it there. Use /rollback to return all traffic to stable.`;
    case 'no_cutover':
      return `There is no such cutover.`;
    case 'already_running': {
      // Name the cutover that holds it, and (a train holds several) which service it holds.
      const holder = state ? ` ${state.plan} (${state.id})` : '';
      const service = extra.service ? ` holds ${extra.service}` : ' holds it';
      return `A cutover of this service is already running:${holder}${service}${where}. Finish, roll back or abort it first.`;
    }
    case 'checkpoint_blocking':
      return `${named} must be done first (owner: ${checkpoint?.owner ?? 'see the plan'}): tick its checklist, then try again.`;
    case 'checkpoint_not_open':
      return `${named} is not open yet; it opens at its time in the timeline.`;
    case 'already_ticked':
      return `That item is already ticked.`;
    case 'already_signed':
      return `That sign-off is already recorded.`;
    case 'no_sign_off':
      return `This plan has no such sign-off item.`;
    case 'target_rollback_not_allowed':
      return extra.plan?.train
        ? `${extra.plan.name} rolls back the whole train on any failure: dropping one target's release needs rollback: target in the plan (and strategy: waves). Nothing was changed. To roll back every target, /rollback ${extra.plan.name} with a reason that does not start with a target's id.`
        : `This cutover moves one service, not a train of targets: there is no target to drop. Nothing was changed. /rollback with a reason rolls it back.`;
    case 'unknown_target':
      return `The train has no such target${extra.plan?.train ? ` (its targets: ${extra.plan.train.targets.map((t, i) => `${t.id} (${i})`).join(', ')})` : ''}. Nothing was changed.`;
    case 'target_already_dropped':
      return `${target} is already dropped: its release is going (or has gone) back to stable. Nothing was changed.`;
    case 'last_live_target':
      return `${target} is the last target still carrying the release: dropping it would roll back everything. Nothing was changed. To roll back the whole train, /rollback${extra.plan ? ` ${extra.plan.name}` : ''} with a reason.`;
  }
}

export function describePhase(state: CutoverState): string {
  const cohort = state.stage >= 0 ? ` cohort ${state.stage + 1}` : '';
  switch (state.phase) {
    case 'soaking':
    case 'awaiting_promotion':
      return `${PHASE_WORDS[state.phase]} at${cohort} (${state.traffic} % canary)`;
    case 'shifting':
      return `shifting traffic to${cohort}`;
    case 'held':
      return `held: ${state.held?.reason ?? ''} (${state.traffic} % canary)`;
    case 'completed':
      return completedWords(state);
    default:
      return PHASE_WORDS[state.phase];
  }
}

function observationText(o: Observation): string {
  const value = typeof o.value === 'number' ? Number(o.value.toFixed(4)) : o.value;
  return `${o.name} ${value}${o.threshold ? ` (${o.threshold})` : ''}`;
}

/** The guard beside a judge: "guard max 5 %: canary 0.4 % this cohort (1,200 requests)". */
function guardText(judge: JudgeReading): string {
  const g = judge.guard;
  if (!g) return '';
  const value = judge.metric === 'error_rate' ? percent(g.value) : `${count(g.value)} ms`;
  const max = judge.metric === 'error_rate' ? percent(g.max) : `${count(g.max)} ms`;
  const what = judge.metric === 'error_rate' ? `canary ${value}` : `canary p${Math.round((g.quantile ?? 0.95) * 1000) / 10} ${value}`;
  return `; guard max ${max}: ${what} this cohort (${count(g.requests)} requests)${g.ok ? '' : ', OVER the guard'}`;
}

/**
 * A judge's reading in words: its own summary ("errors: canary 2.4 % (12 of 500) vs stable 0.5 %
 * (48 of 9,500): evidence 37 of the 100 needed to roll back"), its guard, and what the verdict means.
 */
export function judgeText(reading: GateReading, judge: JudgeReading): string {
  const lead = reading.verdict === 'fail' ? 'FAIL: ' : '';
  let tail = '';
  if (reading.verdict === 'inconclusive') {
    tail = judge.reason === 'no_stable_traffic' ? ' (not a pass; at 100 % the judge stands aside: the other gates and the guards decide this cohort)' : ' (not a pass)';
  }
  return `${lead}${judge.summary}${guardText(judge)}${tail}`;
}

export function readingText(reading: GateReading | undefined): string {
  if (!reading) return 'not yet measured';
  if (reading.judge) return `${judgeText(reading, reading.judge)}${reading.note ? ` [${reading.note}]` : ''}`;
  const parts = reading.observations.map(observationText);
  if (reading.error) parts.push(reading.error);
  const note = reading.note ? ` [${reading.note}]` : '';
  return `${VERDICT_WORDS[reading.verdict]}${parts.length ? `: ${parts.join(', ')}` : ''}${note}`;
}

const gateLineText = (line: GateLine): string => `${line.gate} ${readingText(line.reading)}`;

const cohortLabel = (plan: Plan, index: number): string => {
  // A train in waves runs the cohorts once per wave: say which.
  const waves = plan.train?.waves.length ?? 1;
  return `cohort ${index + 1}/${plan.stages.length}${waves > 1 ? ` (wave ${(plan.stages[index]?.wave ?? 0) + 1} of ${waves})` : ''}`;
};

/** How words name a train's target: its id. */
const targetId = (plan: Plan, t: number): string => plan.train?.targets[t]?.id ?? `target ${t}`;

/** `completed (1 of 3 targets dropped)`: how a train that dropped targets says it completed. */
export function completedWords(state: CutoverState): string {
  const dropped = state.dropped?.length ?? 0;
  const total = state.targets?.length ?? 0;
  if (dropped === 0) return PHASE_WORDS.completed;
  return `${PHASE_WORDS.completed} (${total ? `${dropped} of ${total} targets` : `${dropped} target${dropped === 1 ? '' : 's'}`} dropped)`;
}

/** One line per notice: the thread of the status card, and the rehearsal's timeline. */
export function noticeText(notice: Notice, plan: Plan): string {
  switch (notice.kind) {
    case 'started':
      return `Cutover started by ${notice.by}: stable ${notice.revisions.stable}, canary ${notice.revisions.canary}`;
    case 'preflight':
      return `Preflight ${notice.passed ? 'passed' : 'DID NOT PASS'}: ${notice.gates.map(gateLineText).join('; ')}`;
    case 'go_no_go_requested':
      return `Go/no-go requested: ${notice.needed} approval${notice.needed === 1 ? '' : 's'} from ${notice.roles.join(' or ')}`;
    case 'approved': {
      const what = notice.action === 'go_no_go' ? 'go/no-go' : notice.action;
      const rest = notice.needed > 0 ? `; ${notice.needed} more needed${notice.othersNeeded ? ', from someone other than the person who started the cutover' : ''}` : '';
      return `${notice.by} (${notice.role}) approved ${what}${rest}`;
    }
    case 'go':
      return `GO: approved by ${notice.approvers.join(', ')}`;
    case 'rejected':
      return `NO-GO by ${notice.by}: ${notice.reason}`;
    case 'shifting':
      return `${cohortLabel(plan, notice.stage)}: shifting traffic ${notice.from} % → ${notice.percent} % canary`;
    case 'traffic_confirmed':
      return notice.stage >= 0
        ? `${cohortLabel(plan, notice.stage)}: traffic confirmed ${notice.percent} % canary / ${100 - notice.percent} % stable`
        : `Traffic confirmed ${notice.percent} % canary / ${100 - notice.percent} % stable`;
    case 'gate_check':
      return `${cohortLabel(plan, notice.stage)} check ${notice.seq}: ${notice.gates.map(gateLineText).join('; ')}`;
    case 'soak_clean': {
      const next = notice.next === 'complete' ? 'final cohort done' : notice.next === 'hypercare' ? 'entering hypercare' : notice.next === 'auto' ? 'promoting automatically' : 'waiting for /promote';
      return `${cohortLabel(plan, notice.stage)}: soak clean at ${notice.percent} % (${formatDuration(plan.stages[notice.stage]?.soakMs ?? 0)}); ${next}`;
    }
    case 'promoted':
      return `Promoted by ${notice.by}: ${notice.from} % → ${notice.to} %`;
    case 'held':
      return `HELD (${HOLD_WORDS[notice.code]})${notice.by ? ` by ${notice.by}` : ''}: ${notice.reason}`;
    case 'resumed':
      return `Resumed by ${notice.by}: ${PHASE_WORDS[notice.to]}`;
    case 'rollback_started':
      return `ROLLBACK ${notice.trigger === 'gate' ? '(automatic)' : `by ${notice.by}`} from ${notice.from} %: ${notice.reason}`;
    case 'rolled_back': {
      const steps = notice.steps.length ? ` (before-steps: ${notice.steps.map((s) => `${s.step} ${s.measurement.outcome}`).join(', ')})` : '';
      return `Rolled back: ${100 - notice.percent} % on stable, verified${steps}`;
    }
    case 'rollback_failed':
      return `ROLLBACK NOT CONFIRMED: ${notice.reason}`;
    case 'traffic_failed':
      return `Traffic change to ${notice.percent} % not confirmed (${notice.code}): ${notice.message}`;
    case 'completed': {
      if (!notice.dropped?.length) return `Completed: the canary serves 100 %`;
      const total = plan.train?.targets.length ?? notice.dropped.length;
      return `Completed with ${total - notice.dropped.length} of ${total} targets: the canary serves 100 % there; dropped (back to stable): ${notice.dropped.map((t) => targetId(plan, t)).join(', ')}`;
    }
    case 'target_dropped':
      return `${targetId(plan, notice.target)} DROPPED ${notice.trigger === 'gate' ? '(automatic)' : `by ${notice.by}`}: ${notice.reason}. Its release goes back to stable; the rest of the train carries on`;
    case 'target_back': {
      const steps = notice.steps.length ? ` (before-steps: ${notice.steps.map((s) => `${s.step} ${s.measurement.outcome}`).join(', ')})` : '';
      return `${targetId(plan, notice.target)} is back on stable, verified${steps}`;
    }
    case 'target_rollback_failed':
      return `DROPPED TARGET NOT BACK ON STABLE: ${notice.reason}`;
    case 'aborted': {
      const unverified = notice.unverified ? ` (the split served could not be read: ${notice.unverified}; check that the canary serves nothing)` : '';
      return `Aborted by ${notice.by}: ${notice.reason}${unverified}`;
    }
    case 'scheduled':
      return `Cutover scheduled by ${notice.by}: T0 at ${isoMinute(notice.t0)}, preflight from ${isoMinute(notice.startsAt)}`;
    case 'ready':
      return `GO given; traffic moves at T0 (${isoMinute(notice.t0)})`;
    case 'checkpoint_opened': {
      const c = plan.timeline[notice.index];
      return c ? `${c.label} ${c.name} (owner: ${c.owner}): ${c.checklist.length} item${c.checklist.length === 1 ? '' : 's'} to tick` : `checkpoint ${notice.index + 1} opened`;
    }
    case 'checkpoint_ticked': {
      const c = plan.timeline[notice.index];
      return `${c?.label ?? ''} ticked by ${notice.by}: ${c?.checklist[notice.item] ?? `item ${notice.item + 1}`}`;
    }
    case 'checkpoint_gates':
      return `${plan.timeline[notice.index]?.label ?? ''} gates ${notice.passed ? 'passed' : 'DID NOT PASS'}: ${notice.gates.map(gateLineText).join('; ')}`;
    case 'checkpoint_done': {
      const c = plan.timeline[notice.index];
      return `${c?.label ?? ''} ${c?.name ?? ''} done`;
    }
    case 'checkpoint_nudged': {
      const c = plan.timeline[notice.index];
      return `${c?.label ?? ''} ${c?.name ?? ''} is past its grace period: ${c?.owner ?? 'owner'}, please tick the open items`;
    }
    case 'hypercare_started':
      return `Hypercare started: stage gates keep running until ${isoMinute(notice.endsAt)}; /cutover close ends it early`;
    case 'hypercare_alert':
      return `Hypercare alert: ${notice.gates.map(gateLineText).join('; ')}. Roll back if users are affected.`;
    case 'hypercare_ended':
      return `Hypercare ended${notice.by ? ` by ${notice.by}` : ''}: ${notice.reason}`;
    case 'signoff_requested':
      return `Sign-off requested: ${plan.signOff.map((s) => s.role).join(', ')}`;
    case 'signed_off':
      return `Signed off by ${notice.by} (${plan.signOff[notice.item]?.role ?? ''}): ${plan.signOff[notice.item]?.item ?? ''}`;
    case 'signoff_complete':
      return `Sign-off complete`;
  }
}

/** "2026-11-23 16:00 UTC": for text read outside Slack's date tokens (copied out, fallbacks, the terminal). */
export const isoMinute = (ms: number): string => zonedText(ms, 'UTC');
