// Issue 5, the hard half of "Redis restarts mid-soak": the machine under Redis dies, and with
// `appendfsync everysec` the last second of writes never reached the disk. Redis comes back a
// second in the past; Cloud Run does not. Emulated faithfully: SIGKILL Redis at the worst moment
// (right after Cloud Run accepted the next cohort's update), cut its append-only file back to what
// it held one second earlier, start it again on the same port and data folder.
//
// What must hold: the bot never moves traffic twice for one step and skips none (Cloud Run's
// accepted updates are exactly the cohort sequence), the cutover ends as it should, and what it
// records matches what Cloud Run serves. The real engine, workers and Cloud Run adapter run here
// against a private redis-server; Cloud Run and Monitoring are the local gRPC fakes.
import { once } from 'node:events';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { cloudAdapters, type Adapters } from '../../src/app/adapters.ts';
import { startRedisServer, type RedisServer } from '../../src/infra/redis-server.ts';
import { CutoverStore } from '../../src/store/cutover-store.ts';
import { ended, notice, testRuntime, waitForAudit, type TestRuntime } from '../support/engine.ts';
import { planFrom } from '../support/plans.ts';
import { connect } from '../support/redis.ts';
import { cloudRunPlanDocument, cloudWorld, QUICK_CLOUD_RUN, type CloudWorld } from './cloud-world.ts';
import { auditOf, confirmedPercents, noticesOf } from './trail.ts';
import { refusal } from '../../templates/replies.ts';

let dir: string | undefined;
let redis: RedisServer | undefined;
let world: CloudWorld | undefined;
let adapters: Adapters | undefined;
let runtime: TestRuntime | undefined;
let sampler: NodeJS.Timeout | undefined;

afterEach(async () => {
  clearInterval(sampler);
  await runtime?.close({ force: true });
  await adapters?.close?.();
  await world?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The append-only file Redis 7 appends to (appendonlydir/<name>.<n>.incr.aof). */
function incrementalAof(folder: string): string {
  const aofDir = join(folder, 'appendonlydir');
  const incr = readdirSync(aofDir).filter((f) => f.endsWith('.incr.aof')).sort();
  if (incr.length === 0) throw new Error(`no incremental AOF in ${aofDir}`);
  return join(aofDir, incr.at(-1)!);
}

/**
 * A Cloud Run cutover on a private Redis (AOF on) up to its go/no-go request, with the append-only
 * file's size sampled over time: what a disk fsynced every second would have held at any moment.
 */
async function cutoverAtGoNoGo(name: string, soak: string) {
  const folder = (dir = await mkdtemp(join(tmpdir(), `cutover-${name}-`)));
  const server = (redis = await startRedisServer({ dir: folder }));
  const cloud = (world = await cloudWorld());
  const service = cloud.addService(name);
  adapters = cloudAdapters(cloud.env, { retry: { cloudRun: QUICK_CLOUD_RUN } });
  const rt = (runtime = await testRuntime({ redisUrl: server.url, env: cloud.env, platforms: adapters.platforms, gateKinds: adapters.gateKinds }));
  const plan = planFrom(
    cloudRunPlanDocument(service, (doc) => {
      doc.stages = [10, 50, 100];
      doc.soak = soak;
      doc.promotion = 'auto';
    }),
    rt.vocabulary,
  );
  const aof = incrementalAof(folder);
  const sizes: Array<{ at: number; size: number }> = [];
  sampler = setInterval(() => sizes.push({ at: Date.now(), size: statSync(aof).size }), 10);
  const started = await rt.engine.start(plan, 'U0RM1');
  if (!started.ok) throw new Error(started.refusal.code);
  const id = started.state.id;
  await waitForAudit(rt.store, id, notice('go_no_go_requested'));
  return { service, id, aof, sizes, runtime: rt, world: cloud, server, dir: folder };
}

/** The same, through its go/no-go. */
async function approvedCutover(name: string, soak: string) {
  const cutover = await cutoverAtGoNoGo(name, soak);
  for (const by of ['U0OPS', 'U0RM2']) expect((await cutover.runtime.engine.command(cutover.id, { type: 'approve', by })).ok).toBe(true);
  return cutover;
}

it('Redis loses its last second (machine crash) just after Cloud Run took a cohort: no step twice, none skipped, the cutover completes', async () => {
  const { service, id, aof, sizes, runtime, world, server, dir } = await approvedCutover('lost-writes', '2s');
  await waitForAudit(runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'traffic_confirmed' && e.notice.percent === 10);

  // The soak at 10 % ends clean, the bot promotes by itself, Cloud Run accepts 50 %: the machine dies.
  const crashed = Promise.withResolvers<number>();
  world.cloud.run.afterNext('UpdateService', () => {
    const at = Date.now();
    void server.kill().then(() => crashed.resolve(at));
  });
  const crashAt = await crashed.promise;
  clearInterval(sampler);
  expect(service.accepted()).toEqual([10, 50]);

  // A second of writes never reached the disk.
  const durable = sizes.filter((s) => s.at <= crashAt - 1_000).at(-1);
  expect(durable, 'AOF sizes sampled a second before the crash').toBeDefined();
  const lost = statSync(aof).size - durable!.size;
  expect(lost).toBeGreaterThan(0);
  truncateSync(aof, durable!.size);

  // Redis comes back in the past: it no longer knows the promotion to 50 %, which Cloud Run serves.
  // (Looked at first on a port of its own, where the bot cannot reach it and move on.)
  const inspection = await startRedisServer({ dir });
  const look = connect(inspection.url);
  const remembered = (await new CutoverStore(look, runtime.prefix).loadState(id))!;
  look.disconnect();
  await inspection.stop();
  expect([remembered.phase, remembered.stage, remembered.traffic]).toEqual(['soaking', 0, 10]);
  expect(service.served()).toBe(50);
  redis = await startRedisServer({ dir, port: server.port });

  await waitForAudit(runtime.store, id, ended, 45_000);
  const state = (await runtime.store.loadState(id))!;
  expect([state.phase, state.outcome, state.traffic]).toEqual(['completed', 'completed', 100]);
  // Cloud Run took each cohort once, in order: the forgotten promotion was found already served
  // and confirmed, not applied again.
  expect(service.accepted()).toEqual([10, 50, 100]);
  expect(service.served()).toBe(state.traffic);
  const audit = await auditOf(runtime.store, id);
  expect(confirmedPercents(audit)).toEqual([10, 50, 100]);
  for (const kind of ['started', 'go', 'completed'] as const) expect(noticesOf(audit, kind), kind).toHaveLength(1);
  const checks = noticesOf(audit, 'gate_check').map((c) => c.seq);
  expect(new Set(checks).size).toBe(checks.length);
  expect(noticesOf(audit, 'gate_check').every((c) => c.gates.every((g) => g.verdict === 'pass'))).toBe(true);
}, 90_000);


it('Redis forgets a rollback Cloud Run already carried out: the bot does not push the canary forward again, it holds and says what is served', async () => {
  const { service, id, aof, sizes, runtime, world, server, dir } = await approvedCutover('lost-rollback', '3s');
  // A second into the soak at 10 %, support tickets come in: someone rolls back. Cloud Run takes
  // 0 %, and the machine under Redis dies before the rollback is recorded as done.
  await waitForAudit(runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'gate_check' && e.notice.percent === 10);
  const crashed = Promise.withResolvers<number>();
  world.cloud.run.afterNext('UpdateService', () => {
    const at = Date.now();
    void server.kill().then(() => crashed.resolve(at));
  });
  expect((await runtime.engine.command(id, { type: 'rollback', by: 'U0ONCALL1', reason: 'support tickets' })).ok).toBe(true);
  const crashAt = await crashed.promise;
  clearInterval(sampler);
  expect(service.accepted()).toEqual([10, 0]);
  const durable = sizes.filter((s) => s.at <= crashAt - 1_000).at(-1);
  expect(durable).toBeDefined();
  truncateSync(aof, durable!.size);
  redis = await startRedisServer({ dir, port: server.port });

  // Redis no longer knows the rollback; the soak at 10 % runs out clean and the bot goes to promote
  // to 50 %. Reading the service first, it finds 0 % served where it last confirmed 10 %, and holds
  // instead of moving the canary forward: it records what is served and escalates.
  const held = await waitForAudit(runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'traffic_failed', 30_000);
  expect(held).toMatchObject({ notice: { kind: 'traffic_failed', percent: 50, code: 'drift', message: expect.stringContaining('serves 0 % on the canary, not the 10 %') } });
  const state = (await runtime.store.loadState(id))!;
  expect([state.phase, state.traffic, state.held?.code, state.rollback]).toEqual(['held', 0, 'traffic_failed', null]);
  const audit = await auditOf(runtime.store, id);
  expect(audit.filter((e) => e.type === 'escalation').map((e) => e.type === 'escalation' && e.escalation.code)).toContain('traffic_failed');
  expect(service.accepted()).toEqual([10, 0]);
  expect(service.served()).toBe(0);

  // People roll back again from the card: nothing to move, and the cutover ends rolled back.
  expect((await runtime.engine.command(id, { type: 'rollback', by: 'U0ONCALL1', reason: 'support tickets (again)' })).ok).toBe(true);
  await waitForAudit(runtime.store, id, ended, 30_000);
  expect((await runtime.store.loadState(id))).toMatchObject({ phase: 'rolled_back', traffic: 0 });
  expect(service.accepted()).toEqual([10, 0]);
}, 90_000);

it('Redis forgets the go/no-go after Cloud Run took the first cohort: an abort is refused, since the canary serves; a rollback restores stable', async () => {
  const { service, id, aof, runtime, world, server, dir } = await cutoverAtGoNoGo('lost-go', '30s');
  // The disk holds the go/no-go request; what follows (approvals, the shift) is in the last second
  // of writes that dies with the machine once Cloud Run has taken the first cohort.
  const durable = statSync(aof).size;
  clearInterval(sampler);
  const updated = Promise.withResolvers<void>();
  world.cloud.run.afterNext('UpdateService', () => updated.resolve());
  for (const by of ['U0OPS', 'U0RM2']) expect((await runtime.engine.command(id, { type: 'approve', by })).ok).toBe(true);
  await updated.promise;
  await server.kill();
  expect(service.accepted()).toEqual([10]);
  truncateSync(aof, durable);
  redis = await startRedisServer({ dir, port: server.port });
  // The bot's store connection queues nothing while Redis is away: wait until it is back.
  if (runtime.store.redis.status !== 'ready') await once(runtime.store.redis, 'ready');

  // The bot remembers a go/no-go still waiting and no traffic; Cloud Run serves 10 % on the canary.
  const remembered = (await runtime.store.loadState(id))!;
  expect([remembered.phase, remembered.approvals.go_no_go]).toEqual(['awaiting_go_no_go', []]);
  expect(service.served()).toBe(10);

  // Abort would leave the canary serving, so it is refused and says why. Two orders are both right
  // here, and a loaded machine shows either: the shift job Cloud Run answered is still running in
  // this process, and if its confirmation lands once Redis is back, the bot records the 10 % it saw
  // (a confirmed split is a fact, recorded whatever the phase); if not, only the service knows, and
  // the abort learns it by reading the service first.
  const aborted = await runtime.engine.command(id, { type: 'abort', by: 'U0RM1', reason: 'change freeze' });
  expect(aborted.ok || aborted.refusal.code).toBe('traffic_on_canary');
  if (aborted.ok) return;
  const words = refusal(aborted.refusal, aborted.state, Date.now());
  if (aborted.state?.traffic === 0) {
    expect(aborted.refusal).toMatchObject({ served: 10 });
    expect(words).toContain('The service serves 10 % on the canary, though this cutover recorded none');
  } else {
    expect(aborted.state).toMatchObject({ phase: 'awaiting_go_no_go', traffic: 10 });
    expect(words).toContain('The canary serves traffic');
  }
  expect(await runtime.store.loadState(id)).toMatchObject({ phase: 'awaiting_go_no_go', approvals: { go_no_go: [] } });
  expect(service.accepted()).toEqual([10]);

  // The rollback the refusal points to returns all traffic to stable, and the cutover ends.
  expect((await runtime.engine.command(id, { type: 'rollback', by: 'U0ONCALL1', reason: 'change freeze' })).ok).toBe(true);
  await waitForAudit(runtime.store, id, ended, 30_000);
  expect(await runtime.store.loadState(id)).toMatchObject({ phase: 'rolled_back', traffic: 0 });
  expect(service.accepted()).toEqual([10, 0]);
  expect(service.served()).toBe(0);
}, 90_000);
