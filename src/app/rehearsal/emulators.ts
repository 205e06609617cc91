// `npm run rehearse -- <plan> --emulators`: local fake Google Cloud APIs for a rehearsal, so the
// real Cloud Run adapter and the real cloud_logging / cloud_monitoring gates run end to end
// through the official client libraries, on this machine.
//
// The servers are the gRPC fakes of the test suite (test/fakes/gcp), imported from test/ on
// purpose: they are the very servers the adapters are proven against, and a rehearsal is a
// development tool. rehearse.ts loads this module only with --emulators; the production image
// ships neither test/ nor @grpc/proto-loader (a dev dependency), and never loads it.
import { signalsFor, type ScenarioSpec } from '../../sim/scenario.ts';
import type { Plan } from '../../domain/plan.ts';
import { EMULATOR_ENV } from '../../cloud/clients.ts';
import { cloudRunTarget } from '../../gates/gcp-common.ts';
import { startFakeGoogleCloud } from '../../../test/fakes/gcp/index.ts';
import { cloudRunHistory, ProductionTraffic, type Behaviour } from '../../../test/fakes/gcp/production-traffic.ts';

export interface RehearsalEmulators {
  /** CLOUD_RUN_EMULATOR_HOST, CLOUD_LOGGING_EMULATOR_HOST, CLOUD_MONITORING_EMULATOR_HOST. */
  readonly env: Readonly<Record<string, string>>;
  readonly addresses: { readonly run: string; readonly logging: string; readonly monitoring: string };
  close(): Promise<void>;
}

/** How each revision behaves under the scenario, at the split served at that moment. */
function scenarioBehaviour(scenario: ScenarioSpec): Behaviour {
  return (side, moment) => {
    const signals = signalsFor(scenario, { canaryPercent: moment.canaryPercent, sinceFirstShiftMs: moment.sinceFirstShiftMs });
    return side === 'canary'
      ? { errorRate: signals.errorRate, p95Ms: signals.p95LatencyMs }
      : { errorRate: signals.stableErrorRate, p95Ms: signals.stableP95LatencyMs };
  };
}

/**
 * Starts the three fake APIs, creates the plan's Cloud Run service (a train: every target's) with
 * both revisions ready and stable serving 100 %, and feeds Logging and Monitoring with production
 * traffic that follows the split the fake Cloud Run serves (as the real adapter sets it) and
 * behaves as the scenario says (a train with `target`: that target only; the others are healthy).
 * `plan` is the compressed plan the rehearsal runs; `speed` its compression.
 */
export async function startRehearsalEmulators(plan: Plan, scenario: ScenarioSpec, speed: number, target?: number): Promise<RehearsalEmulators> {
  const services = plan.train ? plan.train.targets.map((t) => t.service) : [plan.service];
  const targets = services.map((service) => {
    const where = cloudRunTarget(service);
    if (!where) throw new Error(`--emulators emulates Google Cloud: plan ${plan.name} has a service on ${service.platform}, not cloud-run`);
    return { where, service };
  });
  // The Google auth library must not probe for a metadata server: the fakes need no credentials.
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  const cloud = await startFakeGoogleCloud();
  // Log entries on a grid fine enough for ~20 batches per soak, kept for a few soaks back.
  const soaks = plan.stages.map((s) => s.soakMs);
  const longestFor = Math.max(0, ...plan.gates.stage.map((g) => g.forMs));
  const healthy = { ...scenario, name: 'healthy' as const };
  const traffics = targets.map(({ where, service }, t) => {
    const resource = `projects/${where.project}/locations/${where.region}/services/${where.name}`;
    const { stable, canary } = service;
    cloud.run.addService(resource, { traffic: [{ revision: stable, percent: 100 }] });
    cloud.run.addRevision(`${resource}/revisions/${stable}`);
    cloud.run.addRevision(`${resource}/revisions/${canary}`);
    return new ProductionTraffic({
      project: where.project,
      region: where.region,
      service: where.name,
      revisions: { stable, canary },
      history: cloudRunHistory(cloud.run, resource, canary),
      behaviour: scenarioBehaviour(target === undefined || target === t ? scenario : healthy),
      origin: Date.now(),
      // The scenario's volume is per plan-time minute; the rehearsal's clock runs `speed` times faster.
      requestsPerMinute: 20_000 * speed,
      logTickMs: Math.min(1_000, Math.max(5, Math.min(...soaks) / 20)),
      logHorizonMs: 4 * Math.max(...soaks) + longestFor + plan.checkEveryMs,
    });
  });
  // One data source for every target: each query is answered by the service and region it names.
  cloud.monitoring.setData(
    [...new Set(services.flatMap((s) => [s.stable, s.canary]))],
    (revision, interval, scope) => traffics.map((traffic) => traffic.sample(revision, interval, scope)).find((sample) => sample !== undefined),
  );
  cloud.logging.entriesFrom(function* () {
    for (const traffic of traffics) yield* traffic.logEntries();
  });

  const addresses = { run: cloud.run.address, logging: cloud.logging.address, monitoring: cloud.monitoring.address };
  return {
    env: { [EMULATOR_ENV.run]: addresses.run, [EMULATOR_ENV.logging]: addresses.logging, [EMULATOR_ENV.monitoring]: addresses.monitoring },
    addresses,
    close: () => cloud.close(),
  };
}
