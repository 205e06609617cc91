// Rollback: the plan's `rollback.before` steps (route override, flags off), each under a short
// timeout and never in the way, then 100 % to the stable revision, verified. It runs on its own
// queue, ahead of everything else, and only ever moves traffic back to stable.
import type { Job } from 'bullmq';
import { rollbackGivesUp, rollbackNeeded } from '../src/domain/traffic.ts';
import { TrafficError, TrainTrafficError } from '../src/ports.ts';
import type { GateSpec, Plan } from '../src/domain/plan.ts';
import type { CutoverState, StepResult } from '../src/domain/state.ts';
import type { Backends } from '../src/runtime/backends.ts';
import type { Engine } from '../src/runtime/engine.ts';
import { gateRun, type GateRunner } from '../src/runtime/gate-runner.ts';
import type { JobData } from './queues.ts';
import type { TrafficLock } from '../src/store/lock.ts';
import { isTrain, targetName, type TrainPlan } from '../src/domain/train.ts';
import { isTrainTraffic, whole, type TrainTraffic } from '../src/runtime/train-traffic.ts';

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
    const steps = await stepsOnce(deps, job, plan, state, plan.rollback.before);
    // Waits out a shift in flight (or a dead holder's lease), then goes ahead regardless:
    // a rollback must not be blocked, and a shift re-reads the state before it acts. A lease this
    // same rollback held when its process died is taken over at once. A lease it did get and then
    // lost stops it like a transient error (another holder may be moving traffic).
    const lease = await deps.lock.acquire(state.serviceKey, { holder: `rollback:${id}:${phaseSeq}` });
    const signal = lease?.signal;
    try {
      const backend = deps.backends.for(plan);
      if (isTrain(plan) && isTrainTraffic(backend)) return await rollBackTrain(deps, plan, job, backend, steps, signal);
      const served = await backend.read(state.revisions, signal);
      const split = rollbackNeeded(served) ? await backend.shift(state.revisions, 0, signal) : served;
      signal?.throwIfAborted();
      const applied = await deps.engine.apply(id, { type: 'rollback_done', phaseSeq, percent: split.canary, steps });
      return applied.ok ? 'rolled back' : `refused: ${applied.refusal.code}`;
    } catch (error) {
      // Retried like a transient error; on the last attempt escalated, never left to fail silently.
      const failure = rollbackFailure(job, error, signal);
      if (failure?.giveUp) {
        const failed = await deps.engine.apply(id, { type: 'rollback_failed', phaseSeq, code: failure.code, message: failure.message, steps });
        return failed.ok ? `failed: ${failure.code}` : `refused: ${failed.refusal.code}`;
      }
      throw failure?.lost ?? error; // transient: BullMQ retries with capped back-off
    } finally {
      await lease?.release();
    }
  };
}

/**
 * The rollback steps `specs` (the plan's `rollback.before`, or a dropped target's own), run once
 * per job: their results are kept in the job's data, so a retried job does not run them again.
 */
export async function stepsOnce(
  deps: Pick<RollbackDeps, 'gates' | 'now'>,
  job: Job<{ readonly steps?: unknown[] }>,
  plan: Plan,
  state: CutoverState,
  specs: readonly GateSpec[],
): Promise<StepResult[]> {
  const kept = job.data.steps as StepResult[] | undefined;
  if (kept) return kept;
  const now = deps.now();
  const results = specs.length ? await deps.gates.run(specs, gateRun(plan, state, now, { stage: null, window: { start: now, end: now } })) : [];
  const steps = results.map((r) => ({ step: r.gate, measurement: r.measurement, at: r.at }));
  await job.updateData({ ...job.data, steps });
  return steps;
}

/**
 * Why a rollback's attempt to move traffic failed, in the platform's words or the lost lease's;
 * null for anything else (a bug, Redis), which is retried as it is. `giveUp`: no retry can cure it,
 * or this was the last attempt.
 */
export function rollbackFailure(job: Job, error: unknown, signal: AbortSignal | undefined): { code: string; message: string; lost?: Error; giveUp: boolean } | null {
  const lost = signal?.aborted ? (signal.reason as Error) : undefined;
  if (!lost && !(error instanceof TrafficError)) return null;
  const code = lost ? 'lease_lost' : (error as TrafficError).code;
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  return { code, message: (lost ?? (error as TrafficError)).message, ...(lost ? { lost } : {}), giveUp: rollbackGivesUp(code, lastAttempt) };
}

/**
 * A train's rollback: every target back to stable at once, in parallel, each verified on its own
 * platform (a target already on stable is only read). A target that cannot be moved is escalated
 * at once, by name, while the rest go back; the job is then retried for what is left, and once no
 * retry can cure it (or the last attempt failed) the rollback ends as failed, naming the targets.
 */
async function rollBackTrain(
  deps: RollbackDeps,
  plan: TrainPlan,
  job: Job<JobData['rollback']>,
  backend: TrainTraffic,
  steps: StepResult[],
  signal: AbortSignal | undefined,
): Promise<string> {
  const { id, phaseSeq } = job.data;
  try {
    const reports = await backend.shiftTargets(plan.train.targets.map(() => 0), signal);
    signal?.throwIfAborted();
    const split = whole(reports.map((r) => r.split ?? { canary: 0, stable: 100, other: 0 }));
    const applied = await deps.engine.apply(id, { type: 'rollback_done', phaseSeq, percent: split.canary, steps, targets: reports });
    return applied.ok ? `rolled back ${reports.length} targets` : `refused: ${applied.refusal.code}`;
  } catch (error) {
    signal?.throwIfAborted();
    if (!(error instanceof TrainTrafficError)) throw error;
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const hopeless = error.failures.some((f) => rollbackGivesUp(f.code, lastAttempt));
    if (hopeless) {
      const failed = await deps.engine.apply(id, { type: 'rollback_failed', phaseSeq, code: error.code, message: error.message, steps, targets: error.reports });
      return failed.ok ? `failed: ${error.failures.map((f) => targetName(plan, f.target)).join(', ')}` : `refused: ${failed.refusal.code}`;
    }
    // Escalated once per target and rollback, on the first attempt that could not move it.
    const escalated = new Set(job.data.escalated ?? []);
    const fresh = error.failures.filter((f) => !escalated.has(f.target));
    if (fresh.length > 0) {
      const names = fresh.map((f) => `${targetName(plan, f.target)}: ${f.message}`).join('; ');
      const back = error.reports.filter((r) => r.split !== null).length;
      await deps.engine.apply(id, {
        type: 'rollback_target_failed',
        phaseSeq,
        failed: fresh.map((f) => f.target),
        message: `${fresh.length === 1 ? 'a target' : `${fresh.length} targets`} could not be rolled back yet (${back} of ${error.reports.length} are back on stable); retrying: ${names}`,
        targets: error.reports,
      });
      await job.updateData({ ...job.data, steps, escalated: [...escalated, ...fresh.map((f) => f.target)] });
    }
    throw error; // transient: BullMQ retries with capped back-off, moving only what is left
  }
}
