// Rollback: the plan's `rollback.before` steps (route override, flags off), each under a short
// timeout and never in the way, then 100 % to the stable revision, verified. It runs on its own
// queue, ahead of everything else, and only ever moves traffic back to stable.
import type { Job } from 'bullmq';
import { rollbackGivesUp, rollbackNeeded } from '../src/domain/traffic.ts';
import { TrafficError } from '../src/ports.ts';
import type { StepResult } from '../src/domain/state.ts';
import type { Backends } from '../src/runtime/backends.ts';
import type { Engine } from '../src/runtime/engine.ts';
import { gateRun, type GateRunner } from '../src/runtime/gate-runner.ts';
import type { JobData } from './queues.ts';
import type { TrafficLock } from '../src/store/lock.ts';

export interface RollbackDeps {
  readonly engine: Pick<Engine, 'apply' | 'store'>;
  readonly backends: Pick<Backends, 'for'>;
  readonly gates: Pick<GateRunner, 'run'>;
  readonly lock: Pick<TrafficLock, 'acquire'>;
  readonly now: () => number;
}

export function createRollbackProcessor(deps: RollbackDeps) {
  return async (job: Job<JobData['rollback']>): Promise<string> => {
    const { id, phaseSeq } = job.data;
    const loaded = await deps.engine.store.load(id);
    if (!loaded || loaded.state.phase !== 'rolling_back' || loaded.state.phaseSeq !== phaseSeq) return 'stale';
    const { state, plan } = loaded;
    let steps = job.data.steps as StepResult[] | undefined;
    if (!steps) {
      const now = deps.now();
      const results = await deps.gates.run(plan.rollback.before, gateRun(plan, state, now, { stage: null, window: { start: now, end: now } }));
      steps = results.map((r) => ({ step: r.gate, measurement: r.measurement, at: r.at }));
      await job.updateData({ ...job.data, steps });
    }
    // Waits out a shift in flight (or a dead holder's lease), then goes ahead regardless:
    // a rollback must not be blocked, and a shift re-reads the state before it acts. A lease this
    // same rollback held when its process died is taken over at once. A lease it did get and then
    // lost stops it like a transient error (another holder may be moving traffic).
    const lease = await deps.lock.acquire(state.serviceKey, { holder: `rollback:${id}:${phaseSeq}` });
    const signal = lease?.signal;
    try {
      const backend = deps.backends.for(plan);
      const served = await backend.read(state.revisions, signal);
      const split = rollbackNeeded(served) ? await backend.shift(state.revisions, 0, signal) : served;
      signal?.throwIfAborted();
      const applied = await deps.engine.apply(id, { type: 'rollback_done', phaseSeq, percent: split.canary, steps });
      return applied.ok ? 'rolled back' : `refused: ${applied.refusal.code}`;
    } catch (error) {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const lost = signal?.aborted ? (signal.reason as Error) : undefined;
      const code = lost ? 'lease_lost' : error instanceof TrafficError ? error.code : undefined;
      // Retried like a transient error; on the last attempt escalated, never left to fail silently.
      if (code !== undefined && rollbackGivesUp(code, lastAttempt)) {
        const message = (lost ?? (error as TrafficError)).message;
        const failed = await deps.engine.apply(id, { type: 'rollback_failed', phaseSeq, code, message, steps });
        return failed.ok ? `failed: ${code}` : `refused: ${failed.refusal.code}`;
      }
      throw lost ?? error; // transient: BullMQ retries with capped back-off
    } finally {
      await lease?.release();
    }
  };
}
