// Timers (a checkpoint's time, T0, a late checkpoint, the end of hypercare) deliver the event they
// carry; the machine decides whether it still applies. And a checkpoint's own gates, run when it opens.
import type { Job } from 'bullmq';
import type { JobData } from './queues.ts';
import type { Engine } from '../src/runtime/engine.ts';
import { gateRun, type GateRunner } from '../src/runtime/gate-runner.ts';

export function createTimerProcessor(deps: { readonly engine: Pick<Engine, 'apply'> }) {
  return async (job: Job<JobData['timer']>): Promise<string> => {
    const applied = await deps.engine.apply(job.data.id, job.data.event);
    return applied.ok ? `${job.data.event.type}: ${applied.state.phase}` : `${job.data.event.type}: ${applied.refusal.code}`;
  };
}

export interface CheckpointGateDeps {
  readonly engine: Pick<Engine, 'apply' | 'store'>;
  readonly gates: Pick<GateRunner, 'run'>;
  readonly now: () => number;
}

export function createCheckpointGatesProcessor(deps: CheckpointGateDeps) {
  return async (job: Job<JobData['checkpoint-gates']>): Promise<string> => {
    const { id, index, run } = job.data;
    const loaded = await deps.engine.store.load(id);
    const checkpoint = loaded?.state.checkpoints[index];
    if (!loaded || !checkpoint || checkpoint.status !== 'open' || checkpoint.gateRuns !== run) return 'stale';
    const { state, plan } = loaded;
    const now = deps.now();
    const results = await deps.gates.run(plan.timeline[index]?.gates ?? [], gateRun(plan, state, now));
    const applied = await deps.engine.apply(id, { type: 'checkpoint_gates', index, run, results });
    return applied.ok ? 'reported' : `refused: ${applied.refusal.code}`;
  };
}
