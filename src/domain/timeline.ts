// The runbook timeline (seeds 001 and 003): checkpoints relative to T0, each opened at its time,
// ticked item by item by its owner, nudged once when late, then escalated. Pure.
import { judgeOnce } from './gates.ts';
import type { Plan } from './plan.ts';
import type { CheckpointState, CutoverState, Effect, GateLine, GateResult, GateRecord, RefusalCode } from './state.ts';

const PENDING: CheckpointState = { status: 'pending', openedAt: null, doneAt: null, ticks: [], gates: null, gateRuns: 0, nudged: false, escalated: false };

export interface Step {
  readonly checkpoints: readonly CheckpointState[];
  readonly effects: Effect[];
  readonly records: GateRecord[];
}

export const initialCheckpoints = (plan: Plan): CheckpointState[] => plan.timeline.map((c) => ({ ...PENDING, ticks: c.checklist.map(() => null) }));

const dueAt = (plan: Plan, t0: number, index: number): number => t0 + (plan.timeline[index]?.offsetMs ?? 0);

/** When a cutover scheduled at `scheduledAt` starts its preflight: with its first checkpoint (T-60 in seed 001), or at T0; never before it was scheduled. */
export const startsAt = (plan: Plan, t0: number, scheduledAt: number): number => Math.max(scheduledAt, t0 + Math.min(0, ...plan.timeline.map((c) => c.offsetMs)));

/**
 * Timers for every checkpoint due after `now`, and the opening, in order, of every one already
 * due (a start without a schedule runs its pre-T0 checkpoints at once).
 */
export function startTimeline(plan: Plan, checkpoints: readonly CheckpointState[], t0: number, now: number): Step {
  const dueNow = plan.timeline.map((_c, i) => i).filter((i) => dueAt(plan, t0, i) <= now);
  const opened = dueNow.length > 0 ? openUpTo(plan, checkpoints, Math.max(...dueNow), now) : { checkpoints, effects: [], records: [] };
  const timers: Effect[] = plan.timeline.flatMap((_c, index): Effect[] =>
    dueAt(plan, t0, index) > now ? [{ type: 'schedule', key: `cp${index}`, at: dueAt(plan, t0, index), event: { type: 'checkpoint_due', index } }] : [],
  );
  return { ...opened, effects: [...opened.effects, ...timers] };
}

/** Opens every pending checkpoint up to `index`, in timeline order. */
export function openUpTo(plan: Plan, checkpoints: readonly CheckpointState[], index: number, now: number): Step {
  const next = [...checkpoints];
  const effects: Effect[] = [];
  for (let i = 0; i <= index && i < next.length; i++) {
    if (next[i]!.status !== 'pending') continue;
    const spec = plan.timeline[i]!;
    next[i] = { ...next[i]!, status: 'open', openedAt: now };
    effects.push({ type: 'announce', notice: { kind: 'checkpoint_opened', index: i } });
    effects.push({ type: 'schedule', key: `cp${i}.late1`, at: now + spec.graceMs, event: { type: 'checkpoint_overdue', index: i, level: 1 } });
    if (spec.gates.length > 0) {
      next[i] = { ...next[i]!, gateRuns: 1 };
      effects.push({ type: 'run_checkpoint_gates', index: i, run: 1 });
    }
  }
  return { checkpoints: next, effects, records: [] };
}

const gatesPassed = (c: CheckpointState, plan: Plan, index: number): boolean =>
  plan.timeline[index]!.gates.length === 0 || (c.gates !== null && Object.values(c.gates).every((g) => g.verdict === 'pass'));

const allTicked = (c: CheckpointState): boolean => c.ticks.every((t) => t !== null);

/**
 * A checkpoint is done when every item is ticked and its gates (if any) passed at their last run.
 * With `rerun` (the tick that completes the checklist), gates that did not pass run again at once.
 */
function settle(plan: Plan, checkpoints: CheckpointState[], index: number, now: number, effects: Effect[], rerun: boolean): void {
  const c = checkpoints[index]!;
  if (c.status !== 'open' || !allTicked(c)) return;
  if (gatesPassed(c, plan, index)) {
    checkpoints[index] = { ...c, status: 'done', doneAt: now };
    effects.push({ type: 'announce', notice: { kind: 'checkpoint_done', index } });
  } else if (c.gates !== null && rerun) {
    // The checklist is complete but the gates did not pass: finishing the checklist runs them again.
    checkpoints[index] = { ...c, gates: null, gateRuns: c.gateRuns + 1 };
    effects.push({ type: 'run_checkpoint_gates', index, run: c.gateRuns + 1 });
  }
}

export function tick(plan: Plan, state: CutoverState, index: number, item: number, by: string, roles: readonly string[], now: number): Step | RefusalCode {
  const spec = plan.timeline[index];
  const c = state.checkpoints[index];
  if (!spec || !c || item < 0 || item >= spec.checklist.length) return 'checkpoint_not_open';
  if (!roles.includes(spec.owner)) return 'not_authorized';
  if (c.status === 'pending') return 'checkpoint_not_open';
  if (c.status === 'done' || c.ticks[item]) return 'already_ticked';
  const checkpoints = [...state.checkpoints];
  checkpoints[index] = { ...c, ticks: c.ticks.map((t, i) => (i === item ? { by, at: now } : t)) };
  const effects: Effect[] = [{ type: 'announce', notice: { kind: 'checkpoint_ticked', index, item, by } }];
  settle(plan, checkpoints, index, now, effects, true);
  return { checkpoints, effects, records: [] };
}

export function gatesReported(plan: Plan, state: CutoverState, index: number, run: number, results: readonly GateResult[], now: number): Step | null {
  const spec = plan.timeline[index];
  const c = state.checkpoints[index];
  if (!spec || !c || c.status !== 'open' || c.gateRuns !== run) return null;
  const readings = Object.fromEntries(spec.gates.map((g) => {
    const result = results.find((r) => r.gate === g.id);
    return [g.id, judgeOnce(result?.measurement ?? { outcome: 'error', error: 'not measured' }, result?.at ?? now)];
  }));
  const lines: GateLine[] = spec.gates.map((g) => ({ gate: g.id, verdict: readings[g.id]!.verdict, reading: readings[g.id]! }));
  const passed = lines.every((l) => l.verdict === 'pass');
  const checkpoints = [...state.checkpoints];
  checkpoints[index] = { ...c, gates: readings };
  const effects: Effect[] = [{ type: 'announce', notice: { kind: 'checkpoint_gates', index, passed, gates: lines } }];
  if (!passed) {
    const failing = lines.filter((l) => l.verdict !== 'pass').map((l) => l.gate);
    // A retry that fails again is no news: the room heard at the first failure.
    const retry = c.gates !== null && Object.values(c.gates).some((g) => g.verdict !== 'pass');
    if (!retry) effects.push({ type: 'escalate', escalation: { code: 'checkpoint_gates_failed', detail: `${spec.label} ${spec.name}: ${failing.join(', ')} did not pass`, gates: failing } });
    // With the checklist complete no tick is left to run them again: retry at the plan's check cadence
    // (never at once, which would run and escalate in a loop as long as the gate fails).
    if (allTicked(c)) effects.push({ type: 'schedule', key: `cp${index}.gates${run + 1}`, at: now + plan.checkEveryMs, event: { type: 'checkpoint_gates_due', index, run: run + 1 } });
  }
  settle(plan, checkpoints, index, now, effects, false);
  const records: GateRecord[] = lines.map((l) => ({
    at: l.reading.at,
    // Its own phase: these run at their checkpoint's time, not in the preflight, and the evidence tells them apart.
    phase: 'checkpoint',
    stage: -1,
    percent: state.traffic,
    gate: `${spec.label}/${l.gate}`,
    verdict: l.verdict,
    measurement: results.find((r) => r.gate === l.gate)?.measurement ?? { outcome: 'error', error: 'not measured' },
  }));
  return { checkpoints, effects, records };
}

/** A retry of a checkpoint's failed gates comes due: it runs unless a tick or an earlier retry ran them since. */
export function gatesDue(plan: Plan, state: CutoverState, index: number, run: number): Step | null {
  const c = state.checkpoints[index];
  if (!plan.timeline[index] || !c || c.status !== 'open' || c.gateRuns !== run - 1) return null;
  const checkpoints = [...state.checkpoints];
  // The failing readings stay until the new run reports, so the card keeps showing why.
  checkpoints[index] = { ...c, gateRuns: run };
  return { checkpoints, effects: [{ type: 'run_checkpoint_gates', index, run }], records: [] };
}

/** Late: the first time, nudge the owner and give one more grace period; the second, escalate. */
export function overdue(plan: Plan, state: CutoverState, index: number, level: 1 | 2, now: number): Step | null {
  const spec = plan.timeline[index];
  const c = state.checkpoints[index];
  if (!spec || !c || c.status !== 'open') return null;
  const checkpoints = [...state.checkpoints];
  if (level === 1 && !c.nudged) {
    checkpoints[index] = { ...c, nudged: true };
    return {
      checkpoints,
      records: [],
      effects: [
        { type: 'announce', notice: { kind: 'checkpoint_nudged', index } },
        { type: 'schedule', key: `cp${index}.late2`, at: now + spec.graceMs, event: { type: 'checkpoint_overdue', index, level: 2 } },
      ],
    };
  }
  if (level === 2 && !c.escalated) {
    checkpoints[index] = { ...c, escalated: true };
    const open = spec.checklist.filter((_item, i) => !c.ticks[i]).length;
    return {
      checkpoints,
      records: [],
      effects: [{ type: 'escalate', escalation: { code: 'checkpoint_missed', detail: `${spec.label} ${spec.name} (owner ${spec.owner}) is still open: ${open} of ${spec.checklist.length} items not ticked` } }],
    };
  }
  return null;
}

/** The first checkpoint that must be done before `what` may happen, and is not. */
export function blocking(plan: Plan, state: CutoverState, what: 'go_no_go' | 'promote'): number | null {
  const index = plan.timeline.findIndex((c, i) => c.blocks === what && state.checkpoints[i]?.status !== 'done');
  return index >= 0 ? index : null;
}
