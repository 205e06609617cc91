// A small Google Cloud for fault tests: the fake Cloud Run, Logging and Monitoring servers (gRPC,
// spoken to by the official clients), with Cloud Run services whose production traffic follows
// the split each one actually serves, and Cloud Run plans aimed at them.
import { EMULATOR_ENV } from '../../src/cloud/clients.ts';
import { startFakeGoogleCloud, type FakeGoogleCloud } from '../fakes/gcp/index.ts';
import { cloudRunHistory, HEALTHY, ProductionTraffic, servedCanary, type Behaviour } from '../fakes/gcp/production-traffic.ts';
import { basePlanDocument } from '../support/plans.ts';

// The Google clients must not probe for a metadata server on this machine.
process.env.METADATA_SERVER_DETECTION = 'none';

export const PROJECT = 'fault-project';
export const REGION = 'europe-west1';

/** Cloud Run timing for tests: retries in milliseconds instead of seconds. */
export const QUICK_CLOUD_RUN = {
  maxAttempts: 6,
  baseMs: 5,
  capMs: 40,
  deadlineMs: 10_000,
  conflictAttempts: 4,
  rpcTimeoutMs: 5_000,
  operationPollMs: 5,
  operationPollMaxMs: 20,
  operationTimeoutMs: 5_000,
  confirmTimeoutMs: 3_000,
  confirmPollMs: 20,
};

export interface CloudService {
  /** Short service name. */
  readonly name: string;
  /** projects/P/locations/R/services/S */
  readonly resource: string;
  readonly revisions: { readonly stable: string; readonly canary: string };
  /** Canary percents of the UpdateService calls Cloud Run accepted, in order. */
  accepted(): number[];
  /** Canary percent served now. */
  served(): number;
}

export interface CloudWorld {
  readonly cloud: FakeGoogleCloud;
  /** The environment that aims the bot's adapters at the fakes. */
  readonly env: Record<string, string>;
  addService(name: string, behaviour?: Behaviour): CloudService;
  close(): Promise<void>;
}

export async function cloudWorld(): Promise<CloudWorld> {
  const cloud = await startFakeGoogleCloud();
  const services: Array<{ revisions: { stable: string; canary: string }; traffic: ProductionTraffic }> = [];
  return {
    cloud,
    env: {
      [EMULATOR_ENV.run]: cloud.run.address,
      [EMULATOR_ENV.logging]: cloud.logging.address,
      [EMULATOR_ENV.monitoring]: cloud.monitoring.address,
      METADATA_SERVER_DETECTION: 'none',
      PATH: process.env.PATH ?? '',
    },
    addService(name, behaviour = HEALTHY) {
      const resource = `projects/${PROJECT}/locations/${REGION}/services/${name}`;
      const revisions = { stable: `${name}-00001-sta`, canary: `${name}-00002-can` };
      cloud.run.addService(resource, { traffic: [{ revision: revisions.stable, percent: 100 }] });
      cloud.run.addRevision(`${resource}/revisions/${revisions.stable}`);
      cloud.run.addRevision(`${resource}/revisions/${revisions.canary}`);
      const history = cloudRunHistory(cloud.run, resource, revisions.canary);
      // Monitoring serves one data source: every service's revisions answer from their own traffic.
      const traffic = new ProductionTraffic({ project: PROJECT, region: REGION, service: name, revisions, history, behaviour, origin: Date.now() });
      services.push({ revisions, traffic });
      cloud.monitoring.setData(
        services.flatMap((s) => [s.revisions.stable, s.revisions.canary]),
        (revision, interval) => services.find((s) => s.revisions.stable === revision || s.revisions.canary === revision)?.traffic.sample(revision, interval),
      );
      return {
        name,
        resource,
        revisions,
        accepted: () => history().map((p) => p.canary),
        served: () => servedCanary(cloud.run, resource, revisions.canary),
      };
    },
    close: () => cloud.close(),
  };
}

/** A plan for a Cloud Run service: real traffic moves, a Cloud Monitoring 5xx gate on the canary. */
export function cloudRunPlanDocument(service: CloudService, patch: (doc: Record<string, any>) => void = () => undefined): Record<string, any> {
  const doc = basePlanDocument();
  doc.name = service.name;
  doc.service = { platform: 'cloud-run', project: PROJECT, region: REGION, name: service.name, ...service.revisions };
  doc.soak = '1s';
  doc.check_every = '1s';
  doc.gates = {
    preflight: [{ id: 'ready', command: 'true' }],
    // The fakes publish at once; real Cloud Monitoring data shows up later (the default lag).
    stage: [{ id: 'five-xx', cloud_monitoring: { metric: 'error_ratio', max: 0.01 }, data_lag: '0s' }],
  };
  patch(doc);
  return doc;
}
