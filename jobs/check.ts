// One stage-gate check of a soak: measure every stage gate over the soak window, let the machine
// judge. The next check is a new delayed job the machine schedules: nothing sleeps through a soak.
import type { Job } from 'bullmq';
import type { JobData } from './queues.ts';
import { checkWindow } from '../src/domain/traffic.ts';
import { stageGates } from '../src/domain/train.ts';
import type { Engine } from '../src/runtime/engine.ts';
import { gateRun, type GateRunner } from '../src/runtime/gate-runner.ts';

export interface CheckDeps {
  readonly engine: Pick<Engine, 'apply' | 'store'>;
  readonly gates: Pick<GateRunner, 'run'>;
  readonly now: () => number;
  /** Observes how late each check started against its schedule (benchmarks read it). */
  readonly onLag?: (lagMs: number) => void;
}

export function createCheckProcessor(deps: CheckDeps) {
  return async (job: Job<JobData['check']>): Promise<string> => {
    const started = deps.now();
    const loaded = await deps.engine.store.load(job.data.id);
    if (!loaded || loaded.state.monitor?.seq !== job.data.seq) return 'stale';
    deps.onLag?.(started - job.data.at);
    const { state, plan } = loaded;
    const stage = plan.stages[state.stage];
    const results = await deps.gates.run(
      stageGates(plan, state.stage),
      gateRun(plan, state, started, { stage: stage ? { index: state.stage, percent: state.traffic } : null, window: checkWindow(plan, state, started) }),
    );
    const applied = await deps.engine.apply(state.id, { type: 'gate_check', seq: job.data.seq, results });
    return applied.ok ? applied.state.phase : `refused: ${applied.refusal.code}`;
  };
}
