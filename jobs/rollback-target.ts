// A dropped target back to stable (a train with `rollback: target`): the target's own
// `rollback.before` steps (the per-target ones, `scope: target`), then that target alone to 100 %
// stable, verified on its own platform, under the train's traffic lease like any rollback. It runs
// on the rollback queue, ahead of everything else. The drop did not change the phase, so the job
// knows it is still wanted by the state itself: the target is dropped, and not yet reported back.
// It only ever moves traffic back to stable, and moves nothing that already is.
import type { Job } from 'bullmq';
import { isTerminal, type StepResult } from '../src/domain/state.ts';
import { rollbackGivesUp } from '../src/domain/traffic.ts';
import { isTrain, targetName } from '../src/domain/train.ts';
import { TrafficError, TrainTrafficError } from '../src/ports.ts';
import { gateRun } from '../src/runtime/gate-runner.ts';
import { isTrainTraffic } from '../src/runtime/train-traffic.ts';
import type { JobData } from './queues.ts';
import type { RollbackDeps } from './rollback.ts';

/** What a whole rollback needs, no more. */
export type RollbackTargetDeps = RollbackDeps;

export function createRollbackTargetProcessor(deps: RollbackTargetDeps) {
  return async (job: Job<JobData['rollback-target']>): Promise<string> => {
    const { id, target } = job.data;
    const loaded = await deps.engine.store.load(id);
    if (!loaded) return 'stale';
    const { state, plan } = loaded;
    // A rollback of the whole train moves this target too (and has, once it ended).
    if (state.phase === 'rolling_back' || state.phase === 'rolled_back' || state.phase === 'failed') return 'stale';
    const drop = state.dropped?.find((d) => d.target === target);
    if (!drop || drop.backAt !== undefined || drop.rollbackError !== undefined) return 'stale';
    const backend = deps.backends.for(plan);
    if (!isTrain(plan) || !isTrainTraffic(backend)) return 'stale';

    let steps = job.data.steps as StepResult[] | undefined;
    if (!steps) {
      // Only this target's own steps: a whole-train step (route everything to legacy, say) is not this drop's to take.
      const own = plan.rollback.before.filter((s) => s.target === target);
      const now = deps.now();
      const results = own.length ? await deps.gates.run(own, gateRun(plan, state, now, { stage: null, window: { start: now, end: now } })) : [];
      steps = results.map((r) => ({ step: r.gate, measurement: r.measurement, at: r.at }));
      await job.updateData({ ...job.data, steps });
    }
    // As the whole rollback does: waits out a shift in flight (or a dead holder's lease), then goes
    // ahead regardless; a run of this same job takes back a lease its dead run held.
    const lease = await deps.lock.acquire(state.serviceKey, { holder: `rollback-target:${id}:${target}` });
    const signal = lease?.signal;
    // A train that completed has let go of its services: one may belong to another cutover by now.
    // Its own lease keeps that cutover's shifts away while this looks at who holds the service.
    const serviceLease = isTerminal(state.phase) ? await deps.lock.acquire(plan.train.targets[target]!.serviceKey, { holder: `rollback-target:${id}:${target}` }) : null;
    try {
      if (isTerminal(state.phase)) {
        const holder = await deps.engine.store.activeForService(plan.train.targets[target]!.serviceKey);
        if (holder && holder !== id) {
          const message = `cutover ${holder} has started on this service since the train completed: not moved, so as not to undo that cutover's traffic; check the service by hand`;
          const failed = await deps.engine.apply(id, { type: 'target_rollback_failed', target, code: 'service_taken', message, final: true });
          return failed.ok ? 'not moved: the service is another cutover’s' : `refused: ${failed.refusal.code}`;
        }
      }
      const report = await backend.shiftTarget(target, 0, signal);
      const applied = await deps.engine.apply(id, { type: 'target_rolled_back', target, steps, targets: [report] });
      return applied.ok ? `${targetName(plan, target)} back on stable` : `refused: ${applied.refusal.code}`;
    } catch (error) {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const lost = signal?.aborted ? (signal.reason as Error) : undefined;
      const code = lost ? 'lease_lost' : error instanceof TrafficError ? error.code : undefined;
      if (code === undefined) throw error; // not the platform's answer (a bug, Redis): retried
      const message = (lost ?? (error as TrafficError)).message;
      const targets = !lost && error instanceof TrainTrafficError ? { targets: error.reports } : {};
      // Retried like the whole rollback; once no retry can cure it (or the last attempt failed), people are told to act.
      if (rollbackGivesUp(code, lastAttempt)) {
        const failed = await deps.engine.apply(id, { type: 'target_rollback_failed', target, code, message, final: true, ...targets });
        return failed.ok ? `failed: ${code}` : `refused: ${failed.refusal.code}`;
      }
      // Escalated once, on the first attempt that could not move it.
      if (!lost && !job.data.escalated) {
        await deps.engine.apply(id, { type: 'target_rollback_failed', target, code, message, final: false, ...targets });
        await job.updateData({ ...job.data, steps, escalated: true });
      }
      throw lost ?? error; // transient: BullMQ retries with capped back-off
    } finally {
      await serviceLease?.release();
      await lease?.release();
    }
  };
}
