// One stage-gate check of a soak: measure every stage gate over the soak window, let the machine
// judge. The next check is a new delayed job the machine schedules at its slot of the soak's
// fixed-rate cadence: nothing sleeps through a soak.
import type { Job } from 'bullmq';
import type { JobData } from './queues.ts';
import type { Verdict } from '../src/domain/gates.ts';
import { checkWindow } from '../src/domain/traffic.ts';
import { droppedTargets, stageGates } from '../src/domain/train.ts';
import type { Engine } from '../src/runtime/engine.ts';
import { gateRun, type GateRunner } from '../src/runtime/gate-runner.ts';

/** What one check did, for whoever watches (metrics). */
export interface CheckReport {
  /** Started minus the slot it was due at. */
  readonly lagMs: number;
  /** From its start to the machine's judgement. */
  readonly durationMs: number;
  /** Slots of the cadence the machine skipped when it scheduled the next check. */
  readonly skipped: number;
  readonly gates: ReadonlyArray<{ readonly id: string; readonly kind: string; readonly verdict: Verdict }>;
}

export interface CheckDeps {
  readonly engine: Pick<Engine, 'apply' | 'store'>;
  readonly gates: Pick<GateRunner, 'run'>;
  readonly now: () => number;
  /** Observes how late each check started against its schedule (benchmarks read it). */
  readonly onLag?: (lagMs: number) => void;
  /** Observes each check that was judged. */
  readonly onCheck?: (report: CheckReport) => void;
}

export function createCheckProcessor(deps: CheckDeps) {
  return async (job: Job<JobData['check']>): Promise<string> => {
    const started = deps.now();
    const loaded = await deps.engine.store.load(job.data.id);
    if (!loaded || loaded.state.monitor?.seq !== job.data.seq) return 'stale';
    const lagMs = started - job.data.at;
    deps.onLag?.(lagMs);
    const { state, plan } = loaded;
    const stage = plan.stages[state.stage];
    const results = await deps.gates.run(
      // A dropped target's gates no longer judge (its release is going back to stable).
      stageGates(plan, state.stage, droppedTargets(state)),
      gateRun(plan, state, started, { stage: stage ? { index: state.stage, percent: state.traffic } : null, window: checkWindow(plan, state, started) }),
    );
    const applied = await deps.engine.apply(state.id, { type: 'gate_check', seq: job.data.seq, results });
    if (!applied.ok) return `refused: ${applied.refusal.code}`;
    const after = applied.state;
    deps.onCheck?.({
      lagMs,
      durationMs: deps.now() - started,
      skipped: Math.max(0, (after.checksSkipped ?? 0) - (state.checksSkipped ?? 0)),
      gates: plan.gates.stage.flatMap((spec) => {
        const verdict = after.gates[spec.id]?.last?.verdict;
        return verdict ? [{ id: spec.id, kind: spec.kind, verdict }] : [];
      }),
    });
    return after.phase;
  };
}
