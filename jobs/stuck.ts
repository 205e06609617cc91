// An approval that has waited `escalation.stuck_after`: the machine escalates if still waiting.
import type { Job } from 'bullmq';
import type { JobData } from './queues.ts';
import type { Engine } from '../src/runtime/engine.ts';

export function createStuckProcessor(deps: { readonly engine: Pick<Engine, 'apply'> }) {
  return async (job: Job<JobData['stuck']>): Promise<string> => {
    const applied = await deps.engine.apply(job.data.id, { type: 'approval_stuck', phaseSeq: job.data.phaseSeq });
    return applied.ok ? 'escalated' : 'stale';
  };
}
