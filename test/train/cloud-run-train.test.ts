// Trains on Cloud Run: the real adapter, through the official client, into one fake Cloud Run
// holding the same service in two regions (same revision names) and a second service, with Cloud
// Monitoring answering each region from its own traffic. Lockstep and waves, a region going bad,
// and a region whose API is down while the train rolls back. Judged by the fake's UpdateService log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudAdapters, type Adapters } from '../../src/app/adapters.ts';
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { Plan } from '../../src/domain/plan.ts';
import type { Behaviour } from '../fakes/gcp/production-traffic.ts';
import { cloudWorld, PROJECT, QUICK_CLOUD_RUN, type CloudService, type CloudWorld } from '../faults/cloud-world.ts';
import { ended, notice, testRuntime, waitForAudit, type TestRuntime } from '../support/engine.ts';
import { basePlanDocument, planFrom } from '../support/plans.ts';

let world: CloudWorld;
let adapters: Adapters;
let runtime: TestRuntime;
beforeAll(async () => {
  world = await cloudWorld();
  adapters = cloudAdapters(world.env, { retry: { cloudRun: QUICK_CLOUD_RUN } });
  runtime = await testRuntime({ env: world.env, platforms: adapters.platforms, gateKinds: adapters.gateKinds });
});
afterAll(async () => {
  await runtime?.close({ force: true });
  await adapters?.close?.();
  await world?.close();
});

/** The canary fails (20 % 5xx) once it serves half of its region's traffic. */
const SOURS_AT_50: Behaviour = (side, moment) => ({ errorRate: side === 'canary' && moment.canaryPercent >= 50 ? 0.2 : 0.001, p95Ms: 180 });

let counter = 0;
interface Train {
  readonly plan: Plan;
  readonly services: readonly CloudService[];
}

/** `api` in us-central1 and europe-west1 (the same revision names in both) and `worker` in us-central1. */
function train(options: { strategy?: unknown; bad?: number; promotion?: 'auto' | 'manual'; rollback?: 'target' } = {}): Train {
  counter += 1;
  const revisions = { stable: `api${counter}-00001-sta`, canary: `api${counter}-00002-can` };
  const services = [
    world.addService(`api${counter}`, options.bad === 0 ? SOURS_AT_50 : undefined, { region: 'us-central1', revisions }),
    world.addService(`api${counter}`, options.bad === 1 ? SOURS_AT_50 : undefined, { region: 'europe-west1', revisions }),
    world.addService(`worker${counter}`, options.bad === 2 ? SOURS_AT_50 : undefined, { region: 'us-central1' }),
  ];
  const doc = basePlanDocument();
  delete doc.service;
  doc.name = `train-cloud-${counter}`;
  doc.targets = services.map((s) => ({ platform: 'cloud-run', project: PROJECT, region: s.region, name: s.name, ...s.revisions }));
  if (options.strategy !== undefined) doc.strategy = options.strategy;
  if (options.rollback !== undefined) doc.rollback = options.rollback;
  doc.stages = [10, 50, 100];
  doc.soak = '1s';
  doc.check_every = '1s';
  doc.promotion = options.promotion ?? 'auto';
  doc.gates = {
    preflight: [{ id: 'ready', command: 'true' }],
    // The fakes publish at once; real Cloud Monitoring data shows up later (the default lag).
    stage: [{ id: 'five-xx', cloud_monitoring: { metric: 'error_ratio', max: 0.01 }, data_lag: '0s' }],
  };
  return { plan: planFrom(doc, runtime.vocabulary), services };
}

async function go(plan: Plan): Promise<string> {
  const started = await runtime.engine.start(plan, 'U0RM1');
  if (!started.ok) throw new Error(JSON.stringify(started.refusal));
  const id = started.state.id;
  await waitForAudit(runtime.store, id, notice('go_no_go_requested'));
  for (const by of ['U0OPS', 'U0RM2']) expect((await runtime.engine.command(id, { type: 'approve', by })).ok).toBe(true);
  return id;
}

const audit = async (id: string): Promise<AuditEntry[]> => (await runtime.store.readAudit(id, '-', 10_000)).map((a) => a.entry);

/** Resolves once the Cloud Run server has answered `n` more calls UNAVAILABLE (gRPC code 14) from now. */
function moreUnavailable(n: number): Promise<void> {
  const unavailable = () => world.cloud.run.calls.filter((c) => c.code === 14).length;
  const target = unavailable() + n;
  return new Promise<void>((resolve) => {
    const onCall = () => {
      if (unavailable() < target) return;
      world.cloud.run.events.off('call', onCall);
      resolve();
    };
    world.cloud.run.events.on('call', onCall);
  });
}

describe('a train on Cloud Run', () => {
  it('lockstep: both regions and the second service take every cohort once, to 100 %, each gate on its own region', async () => {
    const t = train();
    const id = await go(t.plan);
    await waitForAudit(runtime.store, id, ended, 60_000);
    const state = (await runtime.store.loadState(id))!;
    expect(state.outcome).toBe('completed');
    for (const s of t.services) {
      expect(s.accepted(), s.resource).toEqual([10, 50, 100]);
      expect(s.served(), s.resource).toBe(100);
    }
    expect(state.targets?.map((r) => r?.split?.canary)).toEqual([100, 100, 100]);
    // Each target's gate asked Monitoring about its own service in its own region.
    const filters = world.cloud.monitoring.requests.map((r) => r.filter);
    for (const s of t.services) expect(filters.some((f) => f.includes(`service_name = "${s.name}" AND resource.labels.location = "${s.region}"`)), s.resource).toBe(true);
  });

  it('lockstep: one region going bad rolls the whole train back, every target in parallel', async () => {
    const t = train({ bad: 1 });
    const id = await go(t.plan);
    await waitForAudit(runtime.store, id, notice('traffic_confirmed'), 30_000);
    // Slow updates, so the rollback's three are visibly in flight together.
    const answered = new Map<object, number>();
    const onAnswer = (call: object) => answered.set(call, Date.now());
    world.cloud.run.events.on('call', onAnswer);
    world.cloud.run.delay('UpdateService', 400);
    try {
      await waitForAudit(runtime.store, id, ended, 60_000);
    } finally {
      world.cloud.run.delay('UpdateService', 0);
      world.cloud.run.events.off('call', onAnswer);
    }
    const state = (await runtime.store.loadState(id))!;
    expect(state).toMatchObject({ outcome: 'rolled_back', rollback: { trigger: 'gate', gates: [`five-xx@${t.plan.train!.targets[1]!.id}`] } });
    for (const s of t.services) {
      expect(s.accepted(), s.resource).toEqual([10, 50, 0]);
      expect(s.served(), s.resource).toBe(0);
    }
    // The three rollback updates all reached Cloud Run before any of them was answered.
    const rollbacks = world.cloud.run.calls.filter((c) => c.method === 'UpdateService' && t.services.some((s) => (c.request as { service: { name: string } }).service.name === s.resource)).slice(-3);
    const names = rollbacks.map((c) => (c.request as { service: { name: string; traffic: Array<{ revision?: string; percent: number }> } }).service);
    expect(names.map((n) => n.name).sort()).toEqual(t.services.map((s) => s.resource).sort());
    expect(Math.max(...rollbacks.map((c) => c.at))).toBeLessThanOrEqual(Math.min(...rollbacks.map((c) => answered.get(c) ?? Number.POSITIVE_INFINITY)));
  });

  it('waves: a bad target in the second wave rolls back the first wave’s 100 % too', async () => {
    const t = train({ strategy: { waves: [[0], [1, 2]] }, bad: 2 });
    const id = await go(t.plan);
    await waitForAudit(runtime.store, id, ended, 90_000);
    const state = (await runtime.store.loadState(id))!;
    expect(state.outcome).toBe('rolled_back');
    expect(t.services[0]!.accepted()).toEqual([10, 50, 100, 0]);
    expect(t.services[1]!.accepted()).toEqual([10, 50, 0]);
    expect(t.services[2]!.accepted()).toEqual([10, 50, 0]);
    for (const s of t.services) expect(s.served(), s.resource).toBe(0);
  });

  it('a region whose API is down during the rollback: the others go back at once, it is escalated, retried, and reaches stable when the API returns', async () => {
    const t = train({ promotion: 'manual' });
    const [usApi, euApi, worker] = t.services as [CloudService, CloudService, CloudService];
    const id = await go(t.plan);
    await waitForAudit(runtime.store, id, notice('soak_clean'), 30_000);
    world.cloud.run.regionDown('europe-west1');
    try {
      expect((await runtime.engine.command(id, { type: 'rollback', by: 'U0ONCALL1', reason: 'support tickets' })).ok).toBe(true);
      const escalation = await waitForAudit(runtime.store, id, (e) => e.type === 'escalation' && e.escalation.code === 'rollback_target_failed', 30_000);
      expect(escalation.type === 'escalation' && escalation.escalation.detail).toContain(`${t.plan.train!.targets[1]!.id} (target 1)`);
      expect(escalation.type === 'escalation' && escalation.escalation.detail).toContain('UNAVAILABLE');
      // The healthy region and the other service are already back on stable; the train still rolls back.
      expect(usApi.accepted()).toEqual([10, 0]);
      expect(worker.accepted()).toEqual([10, 0]);
      expect(euApi.served()).toBe(10);
      const during = (await runtime.store.loadState(id))!;
      expect(during.phase).toBe('rolling_back');
      expect(during.targets?.map((r) => r?.split?.canary ?? null)).toEqual([0, null, 0]);
      expect(during.targets?.[1]?.error).toContain('UNAVAILABLE');
      // The job is retried while the region is down: more UNAVAILABLE answers, no escalation twice.
      await moreUnavailable(4);
    } finally {
      world.cloud.run.regionDown('europe-west1', false);
    }
    await waitForAudit(runtime.store, id, ended, 90_000);
    const state = (await runtime.store.loadState(id))!;
    expect(state.outcome).toBe('rolled_back');
    for (const s of t.services) {
      expect(s.accepted(), s.resource).toEqual([10, 0]);
      expect(s.served(), s.resource).toBe(0);
    }
    expect(state.targets?.map((r) => r?.split?.canary)).toEqual([0, 0, 0]);
    const stuck = (await audit(id)).filter((e) => e.type === 'escalation' && e.escalation.code === 'rollback_target_failed');
    expect(stuck).toHaveLength(1);
  });

  it('a dropped region whose API is down: escalated once, retried, back on stable when the API returns; the other regions never touched', async () => {
    // Europe first, alone; then the US API and the worker.
    const t = train({ strategy: { waves: [[1], [0, 2]] }, promotion: 'manual', rollback: 'target' });
    const [usApi, euApi, worker] = t.services as [CloudService, CloudService, CloudService];
    const id = await go(t.plan);
    await waitForAudit(runtime.store, id, notice('soak_clean'), 30_000);
    expect(euApi.served()).toBe(10);
    const callsBefore = world.cloud.run.calls.length;
    world.cloud.run.regionDown('europe-west1');
    try {
      expect((await runtime.engine.command(id, { type: 'rollback', by: 'U0ONCALL1', reason: 'EU tickets', target: 1 })).ok).toBe(true);
      const escalation = await waitForAudit(runtime.store, id, (e) => e.type === 'escalation' && e.escalation.code === 'target_rollback_failed', 30_000);
      expect(escalation.type === 'escalation' && escalation.escalation.detail).toContain(`${t.plan.train!.targets[1]!.id} (target 1) could not be moved back to stable yet; retrying`);
      expect(escalation.type === 'escalation' && escalation.escalation.detail).toContain('UNAVAILABLE');
      // Retried while the region is down: more UNAVAILABLE answers, no escalation twice.
      await moreUnavailable(4);
    } finally {
      world.cloud.run.regionDown('europe-west1', false);
    }
    await waitForAudit(runtime.store, id, notice('target_back'), 60_000);
    expect(euApi.accepted()).toEqual([10, 0]);
    expect(euApi.served()).toBe(0);
    // Only Europe's service was called for the drop: its own rollback reads and moves nothing else.
    const since = world.cloud.run.calls.slice(callsBefore);
    expect(since.filter((c) => JSON.stringify(c.request).includes(euApi.resource)).length).toBeGreaterThan(3);
    expect(since.filter((c) => [usApi, worker].some((s) => JSON.stringify(c.request).includes(s.resource)))).toEqual([]);
    const state = (await runtime.store.loadState(id))!;
    expect(state).toMatchObject({ phase: 'awaiting_promotion', traffic: 0, dropped: [{ target: 1, trigger: 'manual' }] });
    expect(state.dropped?.[0]?.backAt).toBeTypeOf('number');
    const stuck = (await audit(id)).filter((e) => e.type === 'escalation' && e.escalation.code === 'target_rollback_failed');
    expect(stuck).toHaveLength(1);
    // Ended with a whole rollback: the US API and the worker never served the canary.
    expect((await runtime.engine.command(id, { type: 'rollback', by: 'U0ONCALL1', reason: 'done here' })).ok).toBe(true);
    await waitForAudit(runtime.store, id, ended, 30_000);
    expect(usApi.accepted()).toEqual([]);
    expect(worker.accepted()).toEqual([]);
  });
  it('a dropped target still on its way back when the train completed: once another cutover holds its service, it is left alone and people are told', async () => {
    // The US API and the worker first; Europe last, alone: dropping it completes the train at once.
    const t = train({ strategy: { waves: [[0, 2], [1]] }, rollback: 'target' });
    const euApi = t.services[1]!;
    const id = await go(t.plan);
    await waitForAudit(runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'traffic_confirmed' && e.notice.stage === 3, 30_000);
    expect(euApi.served()).toBe(10);
    world.cloud.run.regionDown('europe-west1');
    let other: string | undefined;
    try {
      expect((await runtime.engine.command(id, { type: 'rollback', by: 'U0ONCALL1', reason: 'EU tickets', target: 1 })).ok).toBe(true);
      await waitForAudit(runtime.store, id, (e) => e.type === 'escalation' && e.escalation.code === 'target_rollback_failed', 30_000);
      expect((await runtime.store.loadState(id))!.phase).toBe('completed');
      // The train let go of Europe's service: a cutover of that service alone starts on it.
      const doc = basePlanDocument();
      doc.name = `eu-alone-${counter}`;
      doc.service = { platform: 'cloud-run', project: PROJECT, region: euApi.region, name: euApi.name, ...euApi.revisions };
      doc.gates = { preflight: [{ id: 'ready', command: 'true' }], stage: [{ id: 'ok', command: 'true' }] };
      const started = await runtime.engine.start(planFrom(doc, runtime.vocabulary), 'U0RM1');
      if (!started.ok) throw new Error(JSON.stringify(started.refusal));
      other = started.state.id;
    } finally {
      world.cloud.run.regionDown('europe-west1', false);
    }
    const refused = await waitForAudit(runtime.store, id, notice('target_rollback_failed'), 60_000);
    expect(refused.type === 'notice' && refused.notice.kind === 'target_rollback_failed' && refused.notice.reason).toContain(`cutover ${other} has started on this service`);
    // The dropped train's job moved nothing on the service another cutover now holds.
    expect(euApi.accepted()).toEqual([10]);
    // Europe still serves the train's canary at 10 %: the other cutover is offered a rollback, not an abort.
    expect((await runtime.engine.command(other!, { type: 'abort', by: 'U0RM1', reason: 'test over' })).ok).toBe(false);
    expect((await runtime.engine.command(other!, { type: 'rollback', by: 'U0ONCALL1', reason: 'test over' })).ok).toBe(true);
    await waitForAudit(runtime.store, other!, ended, 30_000);
    expect(euApi.served()).toBe(0);
  });
});
