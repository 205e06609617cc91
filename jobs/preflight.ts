// Preflight: every preflight gate, the rollback drill, and the traffic backend's own check
// (the service and both revisions exist and are ready), run together; the machine decides.
import type { Job } from 'bullmq';
import type { JobData } from './queues.ts';
import { errored } from '../src/domain/measurement.ts';
import type { GateResult } from '../src/domain/state.ts';
import type { Backends } from '../src/runtime/backends.ts';
import type { Engine } from '../src/runtime/engine.ts';
import { gateRun, type GateRunner } from '../src/runtime/gate-runner.ts';
import { isTrain } from '../src/domain/train.ts';
import { isTrainTraffic } from '../src/runtime/train-traffic.ts';

const BACKEND_GATE_ID = 'traffic-backend';

export interface PreflightDeps {
  readonly engine: Pick<Engine, 'apply' | 'store'>;
  readonly gates: Pick<GateRunner, 'run'>;
  readonly backends: Pick<Backends, 'for'>;
  readonly now: () => number;
}

export function createPreflightProcessor(deps: PreflightDeps) {
  return async (job: Job<JobData['preflight']>): Promise<string> => {
    const loaded = await deps.engine.store.load(job.data.id);
    if (!loaded || loaded.state.phase !== 'preflight' || loaded.state.phaseSeq !== job.data.phaseSeq) return 'stale';
    const { state, plan } = loaded;
    const now = deps.now();
    const specs = [...plan.gates.preflight, ...(plan.gates.rollbackDrill ? [plan.gates.rollbackDrill] : [])];
    const backend = deps.backends.for(plan);
    const [results, backendResults] = await Promise.all([
      deps.gates.run(specs, gateRun(plan, state, now)),
      // A train's targets are each checked on their own platform and reported by name.
      isTrain(plan) && isTrainTraffic(backend)
        ? backend.preflightTargets().then((measurements) => measurements.map((measurement, t): GateResult => ({ gate: `${BACKEND_GATE_ID}@${plan.train.targets[t]!.id}`, measurement, at: deps.now() })))
        : backend
            .preflight(state.revisions)
            .catch((error: unknown) => errored(error instanceof Error ? error.message : String(error)))
            .then((measurement): GateResult[] => [{ gate: BACKEND_GATE_ID, measurement, at: deps.now() }]),
    ]);
    const applied = await deps.engine.apply(state.id, { type: 'preflight_done', phaseSeq: job.data.phaseSeq, results: [...backendResults, ...results] });
    return applied.ok ? applied.state.phase : `refused: ${applied.refusal.code}`;
  };
}
