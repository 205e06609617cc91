// Issue 5: Cloud Run errors mid-shift together with kills. Cutovers of Cloud Run services through
// the real adapter and the official client into the local Cloud Run fake, which answers slowly and
// with bursts of UNAVAILABLE, while the replica doing the work is SIGKILLed: in the middle of a
// traffic update, right after Cloud Run accepted one (before the bot could record it), during a
// soak's gate check, in a rollback. Another replica carries on each time. For every cutover, Cloud
// Run's accepted updates are exactly its cohort sequence (no update twice, none skipped, a rollback
// once), and the state the bot recorded matches the split Cloud Run serves.
import { status } from '@grpc/grpc-js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cloudAdapters, type Adapters } from '../../src/app/adapters.ts';
import type { Behaviour } from '../fakes/gcp/production-traffic.ts';
import { ended, notice, testRuntime, waitForAudit, type TestRuntime } from '../support/engine.ts';
import { planFrom } from '../support/plans.ts';
import { redisUrl, uniquePrefix } from '../support/redis.ts';
import { Replicas, type Replica } from '../support/replicas.ts';
import { cloudRunPlanDocument, cloudWorld, QUICK_CLOUD_RUN, type CloudService, type CloudWorld } from './cloud-world.ts';
import { auditOf, confirmedPercents, noticesOf } from './trail.ts';

let world: CloudWorld | undefined;
let adapters: Adapters | undefined;
let replicas: Replicas | undefined;
let control: TestRuntime | undefined;
afterAll(async () => {
  await replicas?.stopAll();
  await control?.close({ force: true });
  await adapters?.close?.();
  await world?.close();
});

/** The canary starts failing (20 % 5xx) once it serves half the traffic. */
const SOURS_AT_50: Behaviour = (side, moment) => ({ errorRate: side === 'canary' && moment.canaryPercent >= 50 ? 0.2 : 0.001, p95Ms: 180 });

interface Case {
  readonly service: CloudService;
  readonly kind: 'healthy' | 'sour' | 'manual-rollback';
  readonly accepted: readonly number[];
  readonly outcome: 'completed' | 'rolled_back';
}

it('SIGKILLs mid-update, after an accepted update, mid-soak and mid-rollback, with UNAVAILABLE bursts: Cloud Run takes each step once', async () => {
  world = await cloudWorld();
  const w = world;
  adapters = cloudAdapters(w.env, { retry: { cloudRun: QUICK_CLOUD_RUN } });
  const prefix = uniquePrefix('cloud-kills');
  control = await testRuntime({ prefix, workers: false, env: w.env, platforms: adapters.platforms, gateKinds: adapters.gateKinds });
  const c = control;
  replicas = new Replicas(resolve(import.meta.dirname, '../fixtures/cloud-replica.ts'), { ...w.env, REDIS_URL: redisUrl(), PREFIX: prefix, EVIDENCE_DIR: mkdtempSync(join(tmpdir(), 'cloud-kills-evidence-')) });
  const r = replicas;
  await Promise.all([r.start(), r.start(), r.start()]);

  // Which replica runs which traffic job right now (shift or rollback), from what they announce.
  const moving = new Map<string, Replica>();
  // A burst of UNAVAILABLE from Cloud Run whenever it is quiet: the burst before has been met and
  // no job that calls Cloud Run is running (a killed one counts until another replica finishes
  // it). So no job meets two bursts, which would exceed its retry budget: an outage, which holds
  // a cutover by design (test/cloud-e2e/cloud-run-hold.test.ts).
  const calling = new Set<string>();
  let bursts = 0;
  const burstIfQuiet = () => {
    const met = w.cloud.run.calls.filter((call) => call.code === status.UNAVAILABLE).length;
    if (calling.size > 0 || met !== bursts) return;
    w.cloud.run.failNext('UpdateService', status.UNAVAILABLE, 2);
    w.cloud.run.failNext('GetService', status.UNAVAILABLE, 2);
    bursts += 4;
  };
  r.on('line', (replica, line) => {
    // Any job's end is a moment to look for quiet: on a loaded machine the traffic jobs' own ends
    // may all fall while another one runs, and the soaks' checks end every second.
    if (line.name !== 'shift' && line.name !== 'rollback' && line.name !== 'preflight') {
      if (line.event === 'completed') burstIfQuiet();
      return;
    }
    if (line.event === 'active' && line.id) calling.add(line.id);
    if (line.event === 'completed' && line.id) {
      calling.delete(line.id);
      burstIfQuiet();
    }
    if (line.name === 'preflight') return;
    if (line.event === 'active' && line.id) moving.set(line.id, replica);
    if (line.event === 'completed' && line.id) moving.delete(line.id);
  });

  // Cloud Run answers every update slowly, so a kill can land in the middle of one.
  w.cloud.run.delay('UpdateService', 250);
  const KINDS: Array<Case['kind']> = ['healthy', 'sour', 'manual-rollback'];
  const cases: Case[] = [];
  const ids: string[] = [];
  const done: Array<Promise<unknown>> = [];
  const running = new Set<string>();
  const startOne = async () => {
    const i = cases.length;
    const kind = KINDS[i % KINDS.length]!;
    const k: Case = {
      kind,
      service: w.addService(`kills-${i}-${kind}`, kind === 'sour' ? SOURS_AT_50 : undefined),
      accepted: kind === 'healthy' ? [10, 50, 100] : [10, 50, 0],
      outcome: kind === 'healthy' ? 'completed' : 'rolled_back',
    };
    cases.push(k);
    const plan = planFrom(
      cloudRunPlanDocument(k.service, (doc) => {
        doc.stages = [10, 50, 100];
        doc.soak = '1s';
        doc.promotion = 'auto';
      }),
      c.vocabulary,
    );
    const started = await c.engine.start(plan, 'U0RM1');
    if (!started.ok) throw new Error(started.refusal.code);
    const id = started.state.id;
    ids.push(id);
    running.add(id);
    done.push(
      (async () => {
        await waitForAudit(c.store, id, notice('go_no_go_requested'), 60_000);
        for (const by of ['U0OPS', 'U0RM2']) expect((await c.engine.command(id, { type: 'approve', by })).ok).toBe(true);
        if (k.kind === 'manual-rollback') {
          await waitForAudit(c.store, id, (e) => e.type === 'notice' && e.notice.kind === 'traffic_confirmed' && e.notice.percent === 50, 60_000);
          expect((await c.engine.command(id, { type: 'rollback', by: 'U0ONCALL1', reason: 'support tickets' })).ok).toBe(true);
        }
        await waitForAudit(c.store, id, ended, 120_000).catch(async (error: unknown) => {
          throw new Error(`${k.service.name}: ${String(error)}; ${JSON.stringify(noticesOf(await auditOf(c.store, id), 'traffic_failed'))}`);
        });
      })().finally(() => running.delete(id)),
    );
  };

  // Chaos with three cutovers in flight at all times: each kill aimed at one kind of moment (the
  // one hit least so far), with the bursts above. A new replica replaces each one killed.
  const AIMS = ['after-update', 'mid-update', 'check', 'rollback'] as const;
  const hits = new Map<string, number>(AIMS.map((a) => [a, 0]));
  let kills = 0;
  const replacing: Array<Promise<unknown>> = [];
  type Aim = (typeof AIMS)[number];
  /** The first moment of any of `kinds`, and the replica it happens on. */
  const aim = (kinds: ReadonlySet<Aim>): Promise<{ kind: Aim; victim: Replica | null } | null> =>
    new Promise((resolveAim) => {
      let over = false;
      const settle = (hit: { kind: Aim; victim: Replica | null } | null) => {
        if (over) return;
        over = true;
        clearTimeout(timer);
        r.off('line', onLine);
        w.cloud.run.events.off('update', onUpdate);
        resolveAim(hit);
      };
      const timer = setTimeout(() => settle(null), 3_000);
      // After-update: Cloud Run has just applied a change; whoever asked dies before hearing back.
      const onUpdate = (update: { code: number }) => {
        if (update.code === status.OK && kinds.has('after-update')) settle({ kind: 'after-update', victim: [...moving.values()].find((v) => v.alive) ?? null });
      };
      const onLine = (replica: Replica, line: { event: string; name?: string }) => {
        if (line.event !== 'active') return;
        if (line.name === 'check' && kinds.has('check')) settle({ kind: 'check', victim: replica });
        if (line.name === 'rollback' && kinds.has('rollback')) settle({ kind: 'rollback', victim: replica });
        // Mid-update: its update is on the wire to Cloud Run, which answers 250 ms after it arrives.
        if (line.name === 'shift' && kinds.has('mid-update')) setTimeout(() => settle({ kind: 'mid-update', victim: replica }), 120);
      };
      r.on('line', onLine);
      w.cloud.run.events.on('update', onUpdate);
    });
  while (kills < 12) {
    while (running.size < 3) await startOne();
    const least = Math.min(...hits.values());
    const wanted = new Set(AIMS.filter((a) => hits.get(a)! <= least + 1));
    const hit = await aim(wanted);
    if (!hit?.victim?.alive) continue;
    await r.kill(hit.victim);
    kills++;
    hits.set(hit.kind, hits.get(hit.kind)! + 1);
    replacing.push(r.start());
  }
  await Promise.all(done);
  await Promise.all(replacing);

  expect(kills, JSON.stringify(Object.fromEntries(hits))).toBeGreaterThanOrEqual(8);
  expect(bursts, 'UNAVAILABLE bursts injected').toBeGreaterThan(0);
  for (const kind of AIMS) expect(hits.get(kind), `${kind}: ${JSON.stringify(Object.fromEntries(hits))}`).toBeGreaterThan(0);

  for (const [i, k] of cases.entries()) {
    const id = ids[i]!;
    const state = (await c.store.loadState(id))!;
    const label = `${k.service.name}`;
    expect(state.outcome, label).toBe(k.outcome);
    // Cloud Run took exactly the cohort sequence: nothing twice, nothing skipped.
    expect(k.service.accepted(), label).toEqual(k.accepted);
    // What the bot recorded is what Cloud Run serves.
    expect(k.service.served(), label).toBe(state.traffic);
    const audit = await auditOf(c.store, id);
    expect(confirmedPercents(audit), label).toEqual(k.accepted.filter((p) => p > 0));
    if (k.outcome === 'rolled_back') expect(noticesOf(audit, 'rolled_back'), label).toMatchObject([{ percent: 0 }]);
    expect(noticesOf(audit, k.outcome === 'completed' ? 'completed' : 'rollback_started'), label).toHaveLength(1);
    const checks = noticesOf(audit, 'gate_check').map((g) => g.seq);
    expect(new Set(checks).size, label).toBe(checks.length);
  }
}, 240_000);
