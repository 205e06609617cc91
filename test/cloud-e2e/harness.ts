// Whole cutovers through the real engine, BullMQ workers and Redis, with traffic moved by the
// real Cloud Run / HTTP-flag adapters and gates measured by the real Cloud Logging / Monitoring
// adapters, all through the official client libraries into local fake servers.
// Each cutover gets its own fakes, its own Redis prefix and its own runtime.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { cloudAdapters, type Adapters } from '../../src/app/adapters.ts';
import { EMULATOR_ENV } from '../../src/cloud/clients.ts';
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { Plan } from '../../src/domain/plan.ts';
import type { CutoverState, GateRecord } from '../../src/domain/state.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import type { CloudRunTiming } from '../../src/traffic/cloud-run.ts';
import type { HttpFlagTiming } from '../../src/traffic/http-flag.ts';
import { startFakeFlagServer, type FakeFlagServer } from '../fakes/flag-server.ts';
import { startFakeGoogleCloud, type FakeGoogleCloud } from '../fakes/gcp/index.ts';
import { cloudRunHistory, flagHistory, HEALTHY, ProductionTraffic, servedCanary, type Behaviour } from '../fakes/gcp/production-traffic.ts';
import { basePlanDocument, planFrom } from '../support/plans.ts';
import { RecordingRoom, StaticRoles } from '../support/recording-room.ts';
import { redisUrl, uniquePrefix } from '../support/redis.ts';
import { silentLogger } from '../support/log.ts';

// The Google clients must not probe for a metadata server on this machine.
process.env.METADATA_SERVER_DETECTION = 'none';

/** Retries in milliseconds instead of seconds; the same bounds as production otherwise. */
export const FAST_CLOUD_RUN: Partial<CloudRunTiming> = {
  maxAttempts: 4,
  baseMs: 5,
  capMs: 20,
  deadlineMs: 5_000,
  conflictAttempts: 4,
  rpcTimeoutMs: 5_000,
  operationPollMs: 5,
  operationPollMaxMs: 20,
  operationTimeoutMs: 5_000,
  confirmTimeoutMs: 2_000,
  confirmPollMs: 20,
};

export const FAST_FLAG: Partial<HttpFlagTiming> = { maxAttempts: 4, baseMs: 5, capMs: 20, deadlineMs: 5_000, confirmAttempts: 3, confirmPollMs: 20 };

export const PROJECT = 'demo-project';
export const REGION = 'us-central1';
export const FLAG_TOKEN = 'flag-token-e2e-3f9a';

export const USERS = { release: 'U0RELEASE', ops: 'U0OPS', oncall: 'U0ONCALL' } as const;
const roles = new StaticRoles({
  [USERS.release]: ['release-manager'],
  [USERS.ops]: ['ops-lead'],
  [USERS.oncall]: ['oncall-ops'],
});

/** A gate as written in a plan's YAML (an object with id and one kind key). */
export type GateDocument = Record<string, unknown>;

/**
 * Seed 002's smoke checks, as a log event written before the cutover. On Cloud Run the gate scopes
 * itself to the canary revision and the service's project; elsewhere it needs `project`.
 */
export const smokeGate = (project?: string): GateDocument => ({
  id: 'smoke',
  name: 'Smoke checks logged',
  cloud_logging: { present: 'jsonPayload.event="deploy.smoke.passed"', ...(project ? { project } : {}) },
});

export const gates = {
  /** Seed 002: HTTP 5xx below 1 % (Cloud Monitoring, canary revision). */
  // The fakes publish at once; real Cloud Monitoring data shows up to 3 minutes late (the default lag).
  fiveXx: { id: 'five-xx', cloud_monitoring: { metric: 'error_ratio', max: 0.01 }, data_lag: '0s' },
  /** Seed 002: p95 may not regress more than 20 % against stable. */
  p95: { id: 'p95-regression', cloud_monitoring: { metric: 'p95_latency', max_regression: 0.2 }, data_lag: '0s' },
  /** 5xx share of the canary's request log entries (Cloud Logging), for a while before it counts. */
  logRatio: (extra: Record<string, unknown> = {}): GateDocument => ({
    id: 'log-5xx',
    cloud_logging: { numerator: 'httpRequest.status>=500', denominator: 'httpRequest.status>0', max: 0.02, ...extra },
  }),
} satisfies Record<string, GateDocument | ((...args: never[]) => GateDocument)>;

interface CommonOptions {
  readonly stages: readonly number[];
  readonly stageGates: readonly GateDocument[];
  readonly behaviour?: Behaviour;
  readonly promotion?: 'manual' | 'auto';
}

export interface Harness {
  readonly cloud: FakeGoogleCloud;
  readonly runtime: Runtime;
  readonly room: RecordingRoom;
  readonly plan: Plan;
  readonly traffic: ProductionTraffic;
  start(): Promise<string>;
  /** Approves the go/no-go (two people) once the room asks for it. */
  goNoGo(id: string): Promise<void>;
  /** Waits for the clean soak of the cohort at `percent`, then promotes it. */
  promote(id: string, percent: number): Promise<void>;
  state(id: string): Promise<CutoverState>;
  audit(id: string): Promise<AuditEntry[]>;
  gateRecords(id: string): Promise<GateRecord[]>;
  close(): Promise<void>;
}

export interface CloudRunHarness extends Harness {
  /** Full resource name of the service. */
  readonly service: string;
  readonly revisions: { readonly stable: string; readonly canary: string };
  /** Canary percents of the accepted UpdateService calls on this service, in order. */
  acceptedUpdates(): number[];
  /** Canary percent the fake serves now (its traffic statuses). */
  served(): number;
}

export interface FlagHarness extends Harness {
  readonly flags: FakeFlagServer;
  readonly flagName: string;
  /** The flag's value now. */
  value(): number;
}

let counter = 0;

function planDocument(service: Record<string, unknown>, options: CommonOptions, preflight: GateDocument): Record<string, unknown> {
  const doc = basePlanDocument();
  doc.name = `e2e-${service.name as string}`.slice(0, 60);
  doc.service = service;
  doc.stages = [...options.stages];
  // The shortest soak and check interval a plan may have: each cohort soaks about a second.
  doc.soak = '1s';
  doc.check_every = '1s';
  doc.promotion = options.promotion ?? 'manual';
  doc.gates = { preflight: [preflight], stage: [...options.stageGates] };
  doc.approvals = {
    go_no_go: { roles: ['release-manager', 'ops-lead'], min: 2 },
    promote: { roles: ['release-manager'] },
    rollback: { roles: ['release-manager', 'oncall-ops'] },
  };
  doc.roles = { 'release-manager': [USERS.release], 'ops-lead': [USERS.ops], 'oncall-ops': [USERS.oncall] };
  return doc;
}

async function harness(
  cloud: FakeGoogleCloud,
  extraEnv: Record<string, string>,
  document: (runtime: Runtime) => Plan,
  traffic: ProductionTraffic,
  cleanup: () => Promise<void>,
): Promise<Harness> {
  const env = {
    [EMULATOR_ENV.run]: cloud.run.address,
    [EMULATOR_ENV.logging]: cloud.logging.address,
    [EMULATOR_ENV.monitoring]: cloud.monitoring.address,
    ...extraEnv,
  };
  // The composition root's own factory, as production wires it, with short retry timings.
  const adapters: Adapters = cloudAdapters(env, { retry: { cloudRun: FAST_CLOUD_RUN, httpFlag: FAST_FLAG } });
  const evidenceRoot = await mkdtemp(join(tmpdir(), 'cutover-e2e-evidence-'));
  const room = new RecordingRoom();
  const runtime = await createRuntime({
    redisUrl: redisUrl(),
    prefix: uniquePrefix('cloud-e2e'),
    room,
    roles,
    log: silentLogger(),
    evidenceRoot,
    env,
    platforms: adapters.platforms,
    gateKinds: adapters.gateKinds,
    workerSettings: { lockDurationMs: 5_000 },
    sweepEveryMs: 1_000,
  });
  const plan = document(runtime);
  traffic.feed(cloud.monitoring, cloud.logging);
  const must = async (id: string) => {
    const state = await runtime.store.loadState(id);
    if (!state) throw new Error(`no cutover ${id}`);
    return state;
  };
  return {
    cloud,
    runtime,
    room,
    plan,
    traffic,
    async start() {
      const started = await runtime.engine.start(plan, USERS.release);
      if (!started.ok) throw new Error(`could not start: ${JSON.stringify(started.refusal)}`);
      return started.state.id;
    },
    async goNoGo(id) {
      await room.notice('go_no_go_requested');
      for (const by of [USERS.release, USERS.ops]) {
        const result = await runtime.engine.command(id, { type: 'approve', by });
        expect(result.ok, `approve by ${by}: ${JSON.stringify(result.ok ? null : result.refusal)}`).toBe(true);
      }
    },
    async promote(id, percent) {
      await room.notice('soak_clean', (n) => n.percent === percent && n.next === 'promotion');
      const result = await runtime.engine.command(id, { type: 'promote', by: USERS.release });
      expect(result.ok, `promote past ${percent} %: ${JSON.stringify(result.ok ? null : result.refusal)}`).toBe(true);
    },
    state: must,
    async audit(id) {
      return (await runtime.store.readAudit(id, '-', 10_000)).map((a) => a.entry);
    },
    gateRecords: (id) => runtime.store.gateRecords(id),
    async close() {
      // Graceful: jobs in flight (the evidence writer, say) finish before the fakes and files go.
      await runtime.close();
      await adapters.close?.();
      await cleanup();
      await cloud.close();
      await rm(evidenceRoot, { recursive: true, force: true });
    },
  };
}

/** A Cloud Run service with a stable revision serving 100 % and a ready canary, fed with traffic. */
export async function cloudRunCutover(options: CommonOptions): Promise<CloudRunHarness> {
  counter += 1;
  const cloud = await startFakeGoogleCloud();
  const name = `svc-${process.pid}-${counter}`;
  const service = `projects/${PROJECT}/locations/${REGION}/services/${name}`;
  const revisions = { stable: `${name}-00001-aaa`, canary: `${name}-00002-bbb` };
  cloud.run.addService(service, { traffic: [{ revision: revisions.stable, percent: 100 }] });
  cloud.run.addRevision(`${service}/revisions/${revisions.stable}`);
  cloud.run.addRevision(`${service}/revisions/${revisions.canary}`);
  const origin = Date.now();
  const traffic = new ProductionTraffic({
    project: PROJECT,
    region: REGION,
    service: name,
    revisions,
    history: cloudRunHistory(cloud.run, service, revisions.canary),
    behaviour: options.behaviour ?? HEALTHY,
    origin,
  });
  traffic.events.push({
    timestamp: origin,
    jsonPayload: { event: 'deploy.smoke.passed' },
    resource: { type: 'cloud_run_revision', labels: { project_id: PROJECT, location: REGION, service_name: name, revision_name: revisions.canary } },
  });
  const base = await harness(
    cloud,
    {},
    (runtime) =>
      planFrom(planDocument({ platform: 'cloud-run', project: PROJECT, region: REGION, name, ...revisions }, options, smokeGate()), runtime.vocabulary),
    traffic,
    async () => undefined,
  );
  return {
    ...base,
    service,
    revisions,
    acceptedUpdates: () => cloudRunHistory(cloud.run, service, revisions.canary)().map((p) => p.canary),
    served: () => servedCanary(cloud.run, service, revisions.canary),
  };
}

/** Seed 003's percentage flag behind a bearer token, at 0 %, with request logs in Cloud Logging. */
export async function flagCutover(options: CommonOptions): Promise<FlagHarness> {
  counter += 1;
  const cloud = await startFakeGoogleCloud();
  const flags = await startFakeFlagServer();
  const flagName = 'canary-percentage';
  flags.requireToken(FLAG_TOKEN);
  flags.setFlag(flagName, { value: 0 });
  const origin = Date.now();
  const name = `pags-${process.pid}-${counter}`;
  const traffic = new ProductionTraffic({
    project: PROJECT,
    service: name,
    revisions: { stable: 'stable', canary: 'canary' },
    history: flagHistory(flags, flagName),
    behaviour: options.behaviour ?? HEALTHY,
    origin,
  });
  traffic.events.push({ timestamp: origin, jsonPayload: { event: 'deploy.smoke.passed' } });
  const base = await harness(
    cloud,
    { FLAG_TOKEN },
    (runtime) =>
      planFrom(
        planDocument({ platform: 'http-flag', name, url: `${flags.url}/flags/${flagName}`, token_env: 'FLAG_TOKEN', timeout: '2s' }, options, smokeGate(PROJECT)),
        runtime.vocabulary,
      ),
    traffic,
    () => flags.close(),
  );
  return { ...base, flags, flagName, value: () => Number((flags.flag(flagName) as { value: unknown }).value) };
}

/** The escalations of a cutover's audit trail. */
export const escalations = (audit: readonly AuditEntry[]) =>
  audit.flatMap((e) => (e.type === 'escalation' ? [e.escalation] : []));
