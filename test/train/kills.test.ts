// SIGKILL during a lockstep train's shift, on Cloud Run: the replica moving the train's targets is
// killed in the middle of its updates, or right after Cloud Run accepted the first of them (before
// the others went out and before the bot heard back). Another replica carries on. Judged by the
// fake Cloud Run's own UpdateService log: every target takes every cohort exactly once, and when a
// cohort is confirmed every target serves it (none left at another percent).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cloudAdapters, type Adapters } from '../../src/app/adapters.ts';
import { cloudRunHistory } from '../fakes/gcp/production-traffic.ts';
import { cloudWorld, PROJECT, QUICK_CLOUD_RUN, type CloudService, type CloudWorld } from '../faults/cloud-world.ts';
import { auditOf, confirmedPercents } from '../faults/trail.ts';
import { ended, notice, testRuntime, waitForAudit, type TestRuntime } from '../support/engine.ts';
import { basePlanDocument, planFrom } from '../support/plans.ts';
import { redisUrl, uniquePrefix } from '../support/redis.ts';
import { Replicas, type Replica } from '../support/replicas.ts';

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

it('SIGKILL mid-update and right after the first accepted update of a lockstep shift: each target takes each cohort once, all together', async () => {
  world = await cloudWorld();
  const w = world;
  adapters = cloudAdapters(w.env, { retry: { cloudRun: QUICK_CLOUD_RUN } });
  const prefix = uniquePrefix('train-kills');
  control = await testRuntime({ prefix, workers: false, env: w.env, platforms: adapters.platforms, gateKinds: adapters.gateKinds });
  const c = control;
  replicas = new Replicas(resolve(import.meta.dirname, '../fixtures/cloud-replica.ts'), { ...w.env, REDIS_URL: redisUrl(), PREFIX: prefix, EVIDENCE_DIR: mkdtempSync(join(tmpdir(), 'train-kills-evidence-')) });
  const r = replicas;
  await Promise.all([r.start(), r.start(), r.start()]);

  let kills = 0;
  // Which replica runs the shift job now, from what the replicas announce; and which jobs a kill
  // cut off (and on which replica) were taken up again by another replica. A replica restarted after
  // a kill may take the job up in its first moments, before it announces jobs starting; its
  // announcement that it completed the job says the same.
  let shifting: Replica | null = null;
  let shiftJob: string | undefined;
  const cutOff = new Map<string, Replica>();
  const resumed = new Set<string>();
  r.on('line', (replica, line) => {
    if (line.name !== 'shift') return;
    const killedOn = line.id ? cutOff.get(line.id) : undefined;
    if (killedOn && killedOn !== replica && (line.event === 'active' || line.event === 'completed')) resumed.add(line.id!);
    if (line.event === 'active') {
      shifting = replica;
      shiftJob = line.id;
    }
    if (line.event === 'completed' && shifting === replica) shifting = null;
  });
  const killShifting = async (replica: Replica) => {
    if (shiftJob) cutOff.set(shiftJob, replica);
    await r.kill(replica);
    kills++;
    void r.start();
  };
  // Cloud Run answers every update slowly, so a kill can land while some are on the wire.
  w.cloud.run.delay('UpdateService', 250);

  const trains: Array<{ id: string; services: CloudService[] }> = [];
  for (let n = 0; n < 3; n++) {
    const revisions = { stable: `kapi${n}-00001-sta`, canary: `kapi${n}-00002-can` };
    const services = [
      w.addService(`kapi${n}`, undefined, { region: 'us-central1', revisions }),
      w.addService(`kapi${n}`, undefined, { region: 'europe-west1', revisions }),
      w.addService(`kworker${n}`, undefined, { region: 'us-central1' }),
    ];
    const doc = basePlanDocument();
    delete doc.service;
    doc.name = `train-kills-${n}`;
    doc.targets = services.map((s) => ({ platform: 'cloud-run', project: PROJECT, region: s.region, name: s.name, ...s.revisions }));
    doc.stages = [10, 50, 100];
    doc.soak = '1s';
    doc.check_every = '1s';
    doc.promotion = 'auto';
    doc.gates = { preflight: [{ id: 'ready', command: 'true' }], stage: [{ id: 'five-xx', cloud_monitoring: { metric: 'error_ratio', max: 0.01 }, data_lag: '0s' }] };
    const plan = planFrom(doc, c.vocabulary);
    const started = await c.engine.start(plan, 'U0RM1');
    if (!started.ok) throw new Error(started.refusal.code);
    const id = started.state.id;
    trains.push({ id, services });
    await waitForAudit(c.store, id, notice('go_no_go_requested'), 60_000);

    // Cohort 10 %: killed 120 ms into its shift, while the updates are on the wire (they take 250 ms).
    const firstShift = r.waitFor((_replica, line) => line.name === 'shift' && line.event === 'active', 60_000);
    for (const by of ['U0OPS', 'U0RM2']) expect((await c.engine.command(id, { type: 'approve', by })).ok).toBe(true);
    const { replica: first } = await firstShift;
    await new Promise((done) => setTimeout(done, 120)); // a fault's timing: mid-update, not a synchronisation
    if (first.alive) await killShifting(first);
    await waitForAudit(c.store, id, (e) => e.type === 'notice' && e.notice.kind === 'traffic_confirmed' && e.notice.percent === 10, 60_000);

    // Cohort 50 %: killed the moment Cloud Run accepts the first of its three updates.
    const accepted = await new Promise<boolean>((done) => {
      const onUpdate = (update: { code: number; name: string; traffic: Array<{ revision: string; percent: number }> }) => {
        const ours = services.find((s) => s.resource === update.name);
        if (update.code !== 0 || !ours || !update.traffic.some((t) => t.revision === ours.revisions.canary && t.percent === 50)) return;
        w.cloud.run.events.off('update', onUpdate);
        done(true);
      };
      w.cloud.run.events.on('update', onUpdate);
    });
    const victim = shifting as Replica | null;
    if (accepted && victim?.alive) await killShifting(victim);
    await waitForAudit(c.store, id, ended, 120_000);
  }

  expect(kills).toBeGreaterThanOrEqual(5);
  // Every kill cut a shift off half-way, and another replica took that very job up again.
  expect([...cutOff.keys()].filter((job) => !resumed.has(job))).toEqual([]);
  for (const { id, services } of trains) {
    const state = (await c.store.loadState(id))!;
    expect(state.outcome, id).toBe('completed');
    const audit = await auditOf(c.store, id);
    expect(confirmedPercents(audit), id).toEqual([10, 50, 100]);
    for (const s of services) {
      // Cloud Run's own log: each cohort once, none skipped, none twice.
      expect(s.accepted(), `${id} ${s.resource}`).toEqual([10, 50, 100]);
      expect(s.served(), `${id} ${s.resource}`).toBe(100);
    }
    // When each cohort was confirmed, every target served it: none was left behind.
    for (const entry of audit) {
      if (entry.type !== 'notice' || entry.notice.kind !== 'traffic_confirmed') continue;
      for (const s of services) {
        const before = cloudRunHistory(w.cloud.run, s.resource, s.revisions.canary)().filter((p) => p.at <= entry.at);
        expect(before.at(-1)?.canary, `${id} ${s.resource} at the ${entry.notice.percent} % confirmation`).toBe(entry.notice.percent);
      }
    }
    expect(state.targets?.map((t) => t?.split?.canary)).toEqual([100, 100, 100]);
  }
}, 300_000);
