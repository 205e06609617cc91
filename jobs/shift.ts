// Moving traffic to a cohort. Under the service's traffic lease it re-reads the cutover and the
// split actually served, and only changes what differs: a crash between "shift" and "record"
// neither shifts twice nor skips a cohort. A lease lost half-way stops the job where it is: it
// throws, and BullMQ's retry starts over from that re-read.
import type { Job } from 'bullmq';
import type { JobData } from './queues.ts';
import { beforeShift } from '../src/domain/traffic.ts';
import { TrafficError } from '../src/ports.ts';
import type { Backends } from '../src/runtime/backends.ts';
import type { Engine } from '../src/runtime/engine.ts';
import type { TrafficLock } from '../src/store/lock.ts';

export interface ShiftDeps {
  readonly engine: Pick<Engine, 'apply' | 'store'>;
  readonly backends: Pick<Backends, 'for'>;
  readonly lock: Pick<TrafficLock, 'acquire'>;
}

export function createShiftProcessor(deps: ShiftDeps) {
  return async (job: Job<JobData['shift']>): Promise<string> => {
    const { id, phaseSeq, percent } = job.data;
    const current = async () => {
      const loaded = await deps.engine.store.load(id);
      return loaded && loaded.state.phase === 'shifting' && loaded.state.phaseSeq === phaseSeq ? loaded : null;
    };
    const before = await current();
    if (!before) return 'stale';
    const lease = await deps.lock.acquire(before.state.serviceKey);
    if (!lease) throw new Error(`traffic lease for ${before.state.serviceKey} is busy`);
    const { signal } = lease;
    try {
      // A rollback or a hold may have landed while we waited for the lease.
      const loaded = await current();
      if (!loaded) return 'stale';
      const backend = deps.backends.for(loaded.plan);
      let confirmed: number;
      try {
        const served = await backend.read(loaded.state.revisions, signal);
        const action = beforeShift(served, percent, loaded.state.traffic);
        if (action.do === 'hold') {
          // What was read under a lease since lost may be another holder's move half-way: not a
          // drift to hold the cutover on. Every engine event below is guarded the same way.
          signal.throwIfAborted();
          const held = await deps.engine.apply(id, { type: 'traffic_failed', phaseSeq, code: 'drift', message: action.message, served: served.canary });
          return held.ok ? 'held: drift' : `refused: ${held.refusal.code}`;
        }
        confirmed = action.do === 'confirm' ? served.canary : (await backend.shift(loaded.state.revisions, percent, signal)).canary;
      } catch (error) {
        // Lease lost: the backend made no further call; retry rather than hold on its error.
        signal.throwIfAborted();
        if (!(error instanceof TrafficError)) throw error;
        const failed = await deps.engine.apply(id, { type: 'traffic_failed', phaseSeq, code: error.code, message: error.message });
        return failed.ok ? `held: ${error.code}` : `refused: ${failed.refusal.code}`;
      }
      signal.throwIfAborted();
      const applied = await deps.engine.apply(id, { type: 'traffic_confirmed', phaseSeq, percent: confirmed });
      return applied.ok ? `${confirmed}%` : `refused: ${applied.refusal.code}`;
    } finally {
      await lease.release();
    }
  };
}
