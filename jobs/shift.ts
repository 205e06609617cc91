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
import { beforeTrainShift, droppedTargets, isTrain, type TrainPlan } from '../src/domain/train.ts';
import type { TargetReport } from '../src/domain/service.ts';
import type { CutoverState } from '../src/domain/state.ts';
import { isTrainTraffic, type TrainTraffic } from '../src/runtime/train-traffic.ts';
import { TrainTrafficError } from '../src/ports.ts';

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
      if (isTrain(loaded.plan) && isTrainTraffic(backend)) return await shiftTrain(deps, loaded.plan, loaded.state, backend, job.data, signal);
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

/**
 * A train's shift: every target read (each on its own platform), the domain decides from the
 * splits they serve, and the targets not yet at their share of the cohort move in parallel. A
 * target that cannot be read or moved holds the train naming it; the others stay where they got
 * to (the card shows each), and a resume moves only what is still behind.
 */
async function shiftTrain(deps: ShiftDeps, plan: TrainPlan, state: CutoverState, backend: TrainTraffic, data: JobData['shift'], signal: AbortSignal): Promise<string> {
  const { id, phaseSeq, stage, percent } = data;
  const failed = async (code: string, message: string, targets?: readonly TargetReport[]) => {
    // What was read or moved under a lease since lost is not a fact to hold the train on.
    signal.throwIfAborted();
    const held = await deps.engine.apply(id, { type: 'traffic_failed', phaseSeq, code, message, ...(targets ? { targets } : {}) });
    return held.ok ? `held: ${code}` : `refused: ${held.refusal.code}`;
  };
  let reports: TargetReport[];
  try {
    const served = await backend.readTargets(signal);
    const at = Date.now();
    const read = served.map((split, target): TargetReport => ({ target, at, split }));
    const action = beforeTrainShift(plan, stage, percent, state.traffic, served, droppedTargets(state));
    if (action.do === 'hold') return await failed('drift', action.message, read);
    reports = action.do === 'confirm' ? read : await backend.shiftTargets(action.percents, signal, served);
  } catch (error) {
    signal.throwIfAborted();
    if (error instanceof TrainTrafficError) return failed(error.code, error.message, error.reports);
    if (error instanceof TrafficError) return failed(error.code, error.message);
    throw error;
  }
  signal.throwIfAborted();
  const applied = await deps.engine.apply(id, { type: 'traffic_confirmed', phaseSeq, percent, targets: reports });
  return applied.ok ? `${percent}% on ${reports.length} targets` : `refused: ${applied.refusal.code}`;
}
