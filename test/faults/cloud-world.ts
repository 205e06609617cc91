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
  readonly region: string;
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
  /**
   * A service with a stable revision serving 100 % and a ready canary, fed with traffic. Several
   * regions may hold a service of the same name, with the same revision names.
   */
  addService(name: string, behaviour?: Behaviour, options?: { region?: string; revisions?: { stable: string; canary: string } }): CloudService;
  /** Changes how a service's revisions behave from now on (a region going bad). */
  behave(service: CloudService, behaviour: Behaviour): void;
  close(): Promise<void>;
}

export async function cloudWorld(): Promise<CloudWorld> {
  const cloud = await startFakeGoogleCloud();
  const services: Array<{ name: string; region: string; revisions: { stable: string; canary: string }; traffic: ProductionTraffic; behaviour: { current: Behaviour } }> = [];
  return {
    cloud,
    env: {
      [EMULATOR_ENV.run]: cloud.run.address,
      [EMULATOR_ENV.logging]: cloud.logging.address,
      [EMULATOR_ENV.monitoring]: cloud.monitoring.address,
      METADATA_SERVER_DETECTION: 'none',
      PATH: process.env.PATH ?? '',
    },
    addService(name, behaviour = HEALTHY, options = {}) {
      const region = options.region ?? REGION;
      const resource = `projects/${PROJECT}/locations/${region}/services/${name}`;
      const revisions = options.revisions ?? { stable: `${name}-00001-sta`, canary: `${name}-00002-can` };
      cloud.run.addService(resource, { traffic: [{ revision: revisions.stable, percent: 100 }] });
      cloud.run.addRevision(`${resource}/revisions/${revisions.stable}`);
      cloud.run.addRevision(`${resource}/revisions/${revisions.canary}`);
      const history = cloudRunHistory(cloud.run, resource, revisions.canary);
      const current = { current: behaviour };
      // Monitoring serves one data source: every service's revisions answer from their own traffic,
      // found by the service and region the query names (revision names repeat across regions).
      const traffic = new ProductionTraffic({ project: PROJECT, region, service: name, revisions, history, behaviour: (side, moment) => current.current(side, moment), origin: Date.now() });
      services.push({ name, region, revisions, traffic, behaviour: current });
      cloud.monitoring.setData([...new Set(services.flatMap((s) => [s.revisions.stable, s.revisions.canary]))], (revision, interval, scope) => {
        const owner = services.find(
          (s) =>
            (s.revisions.stable === revision || s.revisions.canary === revision) &&
            (scope.service === undefined || scope.service === s.name) &&
            (scope.location === undefined || scope.location === s.region),
        );
        return owner?.traffic.sample(revision, interval, scope);
      });
      return {
        name,
        region,
        resource,
        revisions,
        accepted: () => history().map((p) => p.canary),
        served: () => servedCanary(cloud.run, resource, revisions.canary),
      };
    },
    behave(service, behaviour) {
      const found = services.find((s) => s.name === service.name && s.region === service.region);
      if (!found) throw new Error(`no service ${service.resource}`);
      found.behaviour.current = behaviour;
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
