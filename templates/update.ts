// The facts of seed 003's internal update: Status, Traffic, Key Metrics, Issues, Next checkpoint.
import { formatDuration } from '../src/domain/duration.ts';
import { standsAside } from '../src/domain/gates.ts';
import { describePhase, readingText } from './words.ts';
import type { CutoverView } from '../src/domain/view.ts';
import { trainTrafficWords } from './train.ts';
import { droppedTargets, nextStage } from '../src/domain/train.ts';
import type { Verdict } from '../src/domain/gates.ts';

export interface UpdateFacts {
  /** 'update' during the cutover (seed 003's 30-minute update); 'hypercare' for the daily summary. */
  readonly kind: 'update' | 'hypercare';
  readonly emoji: string;
  readonly status: 'On Track' | 'Issue' | 'Resolved';
  readonly minutes: number;
  readonly traffic: string;
  readonly metrics: string;
  readonly issues: string;
  readonly next: string;
}

/**
 * Verdicts that make the update say "Issue": a gate failing (even inside its `for:` window, before
 * it rolls back) or that cannot be measured. `waiting` is not one: the gate's data is not visible
 * yet (its data lag), which every cohort begins with.
 */
const TROUBLE: ReadonlySet<Verdict> = new Set<Verdict>(['watch', 'fail', 'error', 'errors_exhausted']);

export function updateFacts({ state, plan }: CutoverView, now: number): UpdateFacts {
  const resolved = state.phase === 'rolled_back' || state.phase === 'completed';
  const lines = Object.entries(state.gates).filter(([, t]) => t.last);
  // A judge standing aside at 100 % (nothing to compare with) is not an issue: its guard still watches.
  const troubling = lines.filter(([, t]) => t.last && TROUBLE.has(t.last.verdict) && !standsAside(t.last, state.traffic));
  // A gate listed under Issues is never "On Track": the status and the list come from the same readings.
  // A dropped target is an issue until it is confirmed back on stable.
  const drops = state.dropped ?? [];
  const goingBack = drops.filter((d) => d.backAt === undefined);
  const troubled = state.phase === 'held' || state.phase === 'rolling_back' || state.phase === 'failed' || (!resolved && (troubling.length > 0 || goingBack.length > 0));
  const issues = [
    ...troubling.map(([id, t]) => `${id} ${readingText(t.last ?? undefined)}`),
    ...drops.map((d) => `${plan.train?.targets[d.target]?.id ?? `target ${d.target}`} dropped (${d.reason}): ${d.backAt !== undefined ? 'back on stable' : d.rollbackError ? `NOT back on stable: ${d.rollbackError}` : 'going back to stable'}`),
  ];
  const observations = lines.flatMap(([, t]) => t.last?.observations ?? []);
  // The first name found wins, so a measured 5xx ratio is preferred to an error-budget share.
  const metric = (...names: RegExp[]) => {
    for (const name of names) {
      const found = observations.find((o) => name.test(o.name) && typeof o.value === 'number');
      if (found) return found.value as number;
    }
    return undefined;
  };
  const errorRate = metric(/^5xx_ratio$/, /^canary_5xx_ratio_this_cohort$/, /^canary_5xx_ratio$/, /error_rate/, /error_budget_ratio/);
  const p95 = metric(/^p95_latency_ms$/, /p95/);
  const next =
    state.phase === 'soaking' && state.soak
      ? `soak of ${state.traffic} % ends in ${formatDuration(Math.max(0, state.soak.endsAt - now))}`
      : state.phase === 'awaiting_promotion'
        ? 'waiting for /promote'
        : state.phase === 'hypercare' && state.hypercare
          ? `hypercare ends in ${formatDuration(Math.max(0, state.hypercare.endsAt - now))}`
          : describePhase(state);
  // The cohort /promote moves to, past the waves whose targets were all dropped.
  const promoteTo = plan.stages[nextStage(plan, droppedTargets(state), state.stage) ?? plan.stages.length]?.percent;
  return {
    kind: state.phase === 'hypercare' ? 'hypercare' : 'update',
    emoji: troubled ? '🟡' : resolved ? (state.phase === 'completed' ? '🟢' : '🔴') : '🟢',
    status: troubled ? 'Issue' : resolved ? 'Resolved' : 'On Track',
    minutes: Math.max(0, Math.round((now - state.startedAt) / 60_000)),
    traffic: trainTrafficWords(plan, state) ?? `${state.traffic} % canary / ${100 - state.traffic} % stable`,
    metrics: `Error rate ${Number.isFinite(errorRate) ? `${((errorRate as number) * 100).toFixed(2)}%` : 'n/a'}, P95 latency ${Number.isFinite(p95) ? `${Math.round(p95 as number)}ms` : 'n/a'}`,
    issues: issues.length ? issues.join('; ') : state.held ? state.held.reason : 'None',
    next: promoteTo !== undefined && state.phase === 'awaiting_promotion' ? `promote to ${promoteTo} %` : next,
  };
}
