// A dropped target back to stable (a train with `rollback: target`): the target's own
// `rollback.before` steps (the per-target ones, `scope: target`), then that target alone to 100 %
// stable, verified on its own platform, under the train's traffic lease like any rollback. It runs
// on the rollback queue, ahead of everything else. The drop did not change the phase, so the job
// knows it is still wanted by the state itself: the target is dropped, and not yet reported back.
// It only ever moves traffic back to stable, and moves nothing that already is.
import type { Job } from 'bullmq';
import { pendingDrop } from '../src/domain/drops.ts';
import { isTerminal } from '../src/domain/state.ts';
import { isTrain, targetName } from '../src/domain/train.ts';
import { TrainTrafficError } from '../src/ports.ts';
import { isTrainTraffic } from '../src/runtime/train-traffic.ts';
import type { JobData } from './queues.ts';
import { rollbackFailure, stepsOnce, type RollbackDeps } from './rollback.ts';

/** What a whole rollback needs, no more. */
export type RollbackTargetDeps = RollbackDeps;

export function createRollbackTargetProcessor(deps: RollbackTargetDeps) {
  return async (job: Job<JobData['rollback-target']>): Promise<string> => {
    const { id, target } = job.data;
    const loaded = await deps.engine.store.load(id);
    if (!loaded) return 'stale';
    const { state, plan } = loaded;
    const backend = deps.backends.for(plan);
    if (!pendingDrop(state, target) || !isTrain(plan) || !isTrainTraffic(backend)) return 'stale';
    // Only this target's own steps: a whole-train step (route everything to legacy, say) is not this drop's to take.
    const steps = await stepsOnce(deps, job, plan, state, plan.rollback.before.filter((s) => s.target === target));
    // As the whole rollback does: waits out a shift in flight (or a dead holder's lease), then goes
    // ahead regardless; a run of this same job takes back a lease its dead run held.
    const holder = `rollback-target:${id}:${target}`;
    const lease = await deps.lock.acquire(state.serviceKey, { holder });
    const signal = lease?.signal;
    // A train that completed has let go of its services: this one may belong to another cutover by
    // now. Its own lease keeps that cutover's shifts away while this looks at who holds the service.
    const serviceKey = plan.train.targets[target]!.serviceKey;
    const serviceLease = isTerminal(state.phase) ? await deps.lock.acquire(serviceKey, { holder }) : null;
    try {
      const other = isTerminal(state.phase) ? await deps.engine.store.activeForService(serviceKey) : null;
      if (other && other !== id) {
        const message = `cutover ${other} has started on this service since the train completed: not moved, so as not to undo that cutover's traffic; check the service by hand`;
        const failed = await deps.engine.apply(id, { type: 'target_rollback_failed', target, code: 'service_taken', message, final: true });
        return failed.ok ? 'not moved: the service is another cutover’s' : `refused: ${failed.refusal.code}`;
      }
      const report = await backend.shiftTarget(target, 0, signal);
      const applied = await deps.engine.apply(id, { type: 'target_rolled_back', target, steps, targets: [report] });
      return applied.ok ? `${targetName(plan, target)} back on stable` : `refused: ${applied.refusal.code}`;
    } catch (error) {
      const failure = rollbackFailure(job, error, signal);
      if (!failure) throw error; // not the platform's answer (a bug, Redis): retried
      const targets = !failure.lost && error instanceof TrainTrafficError ? { targets: error.reports } : {};
      // Retried like the whole rollback; once no retry can cure it (or the last attempt failed), people are told to act.
      if (failure.giveUp) {
        const failed = await deps.engine.apply(id, { type: 'target_rollback_failed', target, code: failure.code, message: failure.message, final: true, ...targets });
        return failed.ok ? `failed: ${failure.code}` : `refused: ${failed.refusal.code}`;
      }
      // Escalated once, on the first attempt that could not move it.
      if (!failure.lost && !job.data.escalated) {
        await deps.engine.apply(id, { type: 'target_rollback_failed', target, code: failure.code, message: failure.message, final: false, ...targets });
        await job.updateData({ ...job.data, steps, escalated: true });
      }
      throw failure.lost ?? error; // transient: BullMQ retries with capped back-off
    } finally {
      await serviceLease?.release();
      await lease?.release();
    }
  };
}
