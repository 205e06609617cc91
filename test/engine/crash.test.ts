// A worker killed with SIGKILL mid-cutover: another replica finishes it, no traffic step twice.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ended, notice, testRuntime, waitForAudit, type TestRuntime } from '../support/engine.ts';
import { makePlan } from '../support/plans.ts';
import { redisUrl, uniquePrefix } from '../support/redis.ts';
import { Replicas } from '../support/replicas.ts';
import { compressPlan } from '../../src/app/rehearsal/compress.ts';
import { slowShifts } from '../support/world.ts';

let replicas: Replicas | undefined;
let control: TestRuntime | undefined;
afterEach(async () => {
  await replicas?.stopAll();
  await control?.close({ force: true });
});

it('a replica killed in the middle of a traffic shift and of a soak: another finishes, every cohort shifted exactly once', async () => {
  const prefix = uniquePrefix('crash');
  const evidence = mkdtempSync(join(tmpdir(), 'crash-evidence-'));
  replicas = new Replicas(resolve(import.meta.dirname, '../fixtures/replica.ts'), { REDIS_URL: redisUrl(), PREFIX: prefix, EVIDENCE_DIR: evidence });
  await Promise.all([replicas.start(), replicas.start()]);
  // The test itself only starts and approves: no workers here.
  control = await testRuntime({ prefix, workers: false });
  const plan = compressPlan(makePlan((p) => (p.promotion = 'auto')), 2000);
  // Each shift takes 400 ms to land, so a kill can fall in the middle of one.
  await slowShifts(control, plan.serviceKey, 400);

  const started = await control.engine.start(plan, 'U0RM1');
  if (!started.ok) throw new Error(started.refusal.code);
  const id = started.state.id;
  await waitForAudit(control.store, id, notice('go_no_go_requested'));
  const shiftStarted = replicas.waitFor((_r, line) => line.event === 'active' && line.name === 'shift');
  await control.engine.command(id, { type: 'approve', by: 'U0OPS' });
  await control.engine.command(id, { type: 'approve', by: 'U0RM2' });

  // Kill 1: whichever replica is moving traffic to the first cohort, mid-shift.
  const first = await shiftStarted;
  await replicas.kill(first.replica);
  // Kill 2: whichever replica runs a gate check next, mid-soak. (Listening starts before anything
  // else is awaited: on a loaded machine the cutover could otherwise finish first.)
  const checking = replicas.waitFor((_r, line) => line.event === 'active' && line.name === 'check');
  await replicas.start();
  const check = await checking;
  await replicas.kill(check.replica);
  await replicas.start();

  await waitForAudit(control.store, id, ended, 60_000);
  const state = await control.store.loadState(id);
  expect(state).toMatchObject({ phase: 'completed', traffic: 100 });
  expect((await control.world.shifts(plan.serviceKey)).map((s) => s.percent)).toEqual([1, 5, 25, 100]);
  const audit = (await control.store.readAudit(id)).map((a) => a.entry);
  const confirmed = audit.flatMap((e) => (e.type === 'notice' && e.notice.kind === 'traffic_confirmed' ? [e.notice.percent] : []));
  expect(confirmed).toEqual([1, 5, 25, 100]);
  const checks = (await control.store.gateRecords(id)).filter((g) => g.phase === 'stage').map((g) => g.seq);
  expect(new Set(checks).size).toBe(checks.length);
}, 90_000);
