// How a rehearsal compresses a plan: every duration divided by `speed`, so a 30-minute soak takes
// seconds. Only rehearsals and tests run compressed plans.
import { deepFreeze, mapGates, type GateSpec, type Plan } from '../../domain/plan.ts';

/** Every duration divided by `speed`: how a rehearsal compresses a 30-minute soak into seconds. */
export function compressPlan(plan: Plan, speed: number): Plan {
  if (speed === 1) return plan;
  const scale = (ms: number) => Math.max(1, Math.round(ms / speed));
  const gate = (g: GateSpec): GateSpec => ({ ...g, forMs: g.forMs === 0 ? 0 : scale(g.forMs), dataLagMs: g.dataLagMs === 0 ? 0 : scale(g.dataLagMs) });
  const gated = mapGates(plan, gate);
  return deepFreeze({
    ...gated,
    stages: plan.stages.map((s) => ({ ...s, soakMs: s.soakMs === 0 ? 0 : scale(s.soakMs) })),
    checkEveryMs: scale(plan.checkEveryMs),
    escalation: { ...plan.escalation, stuckAfterMs: scale(plan.escalation.stuckAfterMs) },
    updates: { everyMs: scale(plan.updates.everyMs), chartGapMs: plan.updates.chartGapMs === 0 ? 0 : scale(plan.updates.chartGapMs) },
    timeline: gated.timeline.map((c) => ({ ...c, offsetMs: Math.sign(c.offsetMs) * scale(Math.abs(c.offsetMs)), graceMs: scale(c.graceMs) })),
    hypercare: plan.hypercare
      ? { durationMs: scale(plan.hypercare.durationMs), checkEveryMs: scale(plan.hypercare.checkEveryMs), summaryEveryMs: scale(plan.hypercare.summaryEveryMs) }
      : null,
  });
}
