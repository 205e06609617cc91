// Trains through the real engine, BullMQ workers and Redis, on the simulated platform: lockstep and
// waves to 100 %, one bad target rolling the whole train back, a target that cannot shift holding
// the train by name, and the per-service slots a train claims.
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/domain/plan.ts';
import { compressPlan } from '../../src/app/rehearsal/compress.ts';
import type { TrafficPlatform } from '../../src/ports.ts';
import { TrafficError } from '../../src/ports.ts';
import { ended, notice, testRuntime, waitForAudit, type TestRuntime } from '../support/engine.ts';
import { basePlanDocument, planFrom } from '../support/plans.ts';

const runtimes: TestRuntime[] = [];
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close({ force: true });
});
async function runtime(options: Parameters<typeof testRuntime>[0] = {}) {
  const r = await testRuntime(options);
  runtimes.push(r);
  return r;
}

let counter = 0;
/** A train of simulated services (10-minute soaks played 2000 times faster), answered by the simulation. */
function trainPlan(names: readonly string[], patch: (doc: Record<string, any>) => void = () => undefined, r?: TestRuntime): Plan {
  counter += 1;
  const doc = basePlanDocument();
  delete doc.service;
  doc.name = `train-${counter}`;
  doc.targets = names.map((name) => ({ platform: 'simulated', name }));
  doc.stages = [10, 50, 100];
  doc.promotion = 'auto';
  patch(doc);
  return compressPlan(planFrom(doc, r?.vocabulary), 2000);
}

const keyOf = (name: string) => `simulated:${name}`;

async function go(r: TestRuntime, plan: Plan): Promise<string> {
  const started = await r.engine.start(plan, 'U0RM1');
  if (!started.ok) throw new Error(JSON.stringify(started.refusal));
  const id = started.state.id;
  await waitForAudit(r.store, id, notice('go_no_go_requested'));
  for (const by of ['U0OPS', 'U0RM2']) expect((await r.engine.command(id, { type: 'approve', by })).ok).toBe(true);
  return id;
}

describe('a train on the simulated platform', () => {
  it('lockstep: every target through every cohort together, each once, to 100 %', async () => {
    const r = await runtime();
    const names = [`ls-a-${counter}`, `ls-b-${counter}`, `ls-c-${counter}`];
    const plan = trainPlan(names);
    const id = await go(r, plan);
    await waitForAudit(r.store, id, ended);
    const state = (await r.store.loadState(id))!;
    expect(state).toMatchObject({ phase: 'completed', traffic: 100 });
    for (const name of names) expect((await r.world.shifts(keyOf(name))).map((s) => s.percent), name).toEqual([10, 50, 100]);
    // No target moved to a cohort before every target had confirmed the one before.
    const shifts = (await Promise.all(names.map((n) => r.world.shifts(keyOf(n))))).flatMap((log) => log.map((s) => s));
    for (const [from, to] of [[10, 50], [50, 100]] as const) {
      const lastOfFrom = Math.max(...shifts.filter((s) => s.percent === from).map((s) => s.at));
      const firstOfTo = Math.min(...shifts.filter((s) => s.percent === to).map((s) => s.at));
      expect(firstOfTo).toBeGreaterThanOrEqual(lastOfFrom);
    }
    expect(state.targets?.map((t) => t?.split?.canary)).toEqual([100, 100, 100]);
    // Each target's gate ran, under its own id.
    const gates = new Set((await r.store.gateRecords(id)).filter((g) => g.phase === 'stage').map((g) => g.gate));
    expect([...gates].sort()).toEqual(names.map((n) => `slo@${n}`).sort());
    // The train released every target's slot.
    for (const name of names) expect(await r.store.activeForService(keyOf(name))).toBeNull();
  });

  it('waves: wave 0 through every cohort, then wave 1 together, earlier waves staying at 100 %', async () => {
    const r = await runtime();
    const names = [`wv-a-${counter}`, `wv-b-${counter}`, `wv-c-${counter}`];
    const plan = trainPlan(names, (d) => (d.strategy = { waves: [[0], [1, 2]] }));
    const id = await go(r, plan);
    await waitForAudit(r.store, id, ended);
    expect((await r.store.loadState(id))?.outcome).toBe('completed');
    const logs = await Promise.all(names.map((n) => r.world.shifts(keyOf(n))));
    for (const log of logs) expect(log.map((s) => s.percent)).toEqual([10, 50, 100]);
    // Wave 1 started only once wave 0 served 100 %.
    expect(logs[1]![0]!.at).toBeGreaterThanOrEqual(logs[0]![2]!.at);
    expect(logs[2]![0]!.at).toBeGreaterThanOrEqual(logs[0]![2]!.at);
    // Wave 1's gates were judged only once its targets served the canary.
    const records = await r.store.gateRecords(id);
    const firstOfB = Math.min(...records.filter((g) => g.gate === `slo@${names[1]}`).map((g) => g.stage));
    expect(firstOfB).toBe(3);
    expect(records.filter((g) => g.gate === `slo@${names[0]}`).map((g) => g.stage)).toContain(0);
  });

  it('one bad target rolls back the whole train, every target back to stable', async () => {
    const r = await runtime();
    const names = [`bad-a-${counter}`, `bad-b-${counter}`, `bad-c-${counter}`];
    await r.world.setScenario(keyOf(names[1]!), { name: 'bad-canary', breach_at: 50 });
    const plan = trainPlan(names);
    const id = await go(r, plan);
    await waitForAudit(r.store, id, ended);
    const state = (await r.store.loadState(id))!;
    expect(state).toMatchObject({ outcome: 'rolled_back', traffic: 0 });
    expect(state.rollback).toMatchObject({ trigger: 'gate', gates: [`slo@${names[1]}`] });
    for (const name of names) {
      const log = (await r.world.shifts(keyOf(name))).map((s) => s.percent);
      expect(log, name).toEqual([10, 50, 0]);
    }
    expect(state.targets?.map((t) => t?.split)).toEqual(names.map(() => ({ canary: 0, stable: 100, other: 0 })));
  });

  it('rollback: target: a bad target alone goes back, after its own rollback steps only; the others complete', async () => {
    const r = await runtime();
    const names = [`drop-a-${counter}`, `drop-b-${counter}`, `drop-c-${counter}`];
    await r.world.setScenario(keyOf(names[1]!), { name: 'bad-canary', breach_at: 50 });
    const plan = trainPlan(names, (d) => {
      d.strategy = 'waves';
      d.rollback = { scope: 'target', before: [{ id: 'drain', command: 'true', scope: 'target' }, { id: 'route-all', command: 'true' }] };
    });
    const id = await go(r, plan);
    const back = await waitForAudit(r.store, id, notice('target_back'));
    // Only the dropped target's own step ran: the whole-train step is a whole rollback's.
    expect(back.type === 'notice' && back.notice.kind === 'target_back' && back.notice.steps.map((s) => s.step)).toEqual([`drain@${names[1]}`]);
    await waitForAudit(r.store, id, ended);
    const state = (await r.store.loadState(id))!;
    expect(state).toMatchObject({ outcome: 'completed', rollback: null, dropped: [{ target: 1, trigger: 'gate', gates: [`slo@${names[1]}`] }] });
    const logs = await Promise.all(names.map(async (n) => (await r.world.shifts(keyOf(n))).map((s) => s.percent)));
    expect(logs).toEqual([[10, 50, 100], [10, 50, 0], [10, 50, 100]]);
    expect(state.targets?.map((t) => t?.split?.canary)).toEqual([100, 0, 100]);
    for (const name of names) expect(await r.store.activeForService(keyOf(name))).toBeNull();
  });

  it('a target that cannot shift holds the train naming it; resume moves only what is behind', async () => {
    const failing = { key: '', left: 0 };
    // Target b's platform refuses its next shifts (as Cloud Run does once its retries are spent).
    const decorate = {
      platform: (platform: TrafficPlatform<any>) => ({
        ...platform,
        create: (spec: any) => {
          const backend = platform.create(spec);
          const key = platform.serviceKey(spec);
          return {
            ...backend,
            label: backend.label,
            preflight: backend.preflight.bind(backend),
            read: backend.read.bind(backend),
            shift: async (revisions: any, percent: number, signal?: AbortSignal) => {
              if (key === failing.key && failing.left > 0) {
                failing.left -= 1;
                throw new TrafficError('transient', 'the platform did not answer after 5 attempts (UNAVAILABLE)');
              }
              return backend.shift(revisions, percent, signal);
            },
          };
        },
      }),
    };
    const r = await runtime({ decorate });
    const names = [`hold-a-${counter}`, `hold-b-${counter}`, `hold-c-${counter}`];
    const plan = trainPlan(names, (d) => (d.promotion = 'manual'));
    failing.key = keyOf(names[1]!);
    failing.left = 1;
    const id = await go(r, plan);
    const held = await waitForAudit(r.store, id, notice('traffic_failed'));
    expect(held.type === 'notice' && held.notice.kind === 'traffic_failed' && held.notice.message).toContain(`${names[1]} (target 1)`);
    const state = (await r.store.loadState(id))!;
    expect(state).toMatchObject({ phase: 'held', held: { code: 'traffic_failed' } });
    expect(state.targets?.map((t) => t?.split?.canary ?? null)).toEqual([10, null, 10]);
    expect(state.targets?.[1]?.error).toContain('UNAVAILABLE');
    expect((await r.engine.command(id, { type: 'resume', by: 'U0RM1' })).ok).toBe(true);
    await waitForAudit(r.store, id, notice('soak_clean'));
    // Each target took 10 % exactly once: the resume moved only target b.
    for (const name of names) expect((await r.world.shifts(keyOf(name))).map((s) => s.percent), name).toEqual([10]);
    expect((await r.store.loadState(id))?.targets?.map((t) => t?.split?.canary)).toEqual([10, 10, 10]);
  });
});

describe('slots per service', () => {
  it('a train and a single cutover, or two trains, cannot move the same service at once; the refusal names the holder', async () => {
    const r = await runtime();
    const names = [`slot-a-${counter}`, `slot-b-${counter}`];
    const train = trainPlan(names);
    const started = await r.engine.start(train, 'U0RM1');
    if (!started.ok) throw new Error('train did not start');

    const single = compressPlan(planFrom({ ...basePlanDocument(), name: 'single', service: { platform: 'simulated', name: names[1] } }, r.vocabulary), 2000);
    const refused = await r.engine.start(single, 'U0RM1');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.refusal).toMatchObject({ code: 'already_running', running: started.state.id, service: keyOf(names[1]!) });

    const other = trainPlan([`slot-c-${counter}`, names[0]!]);
    const second = await r.engine.start(other, 'U0RM1');
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.refusal).toMatchObject({ code: 'already_running', running: started.state.id, service: keyOf(names[0]!) });
    // The refused train claimed nothing: its own new target is still free.
    expect(await r.store.activeForService(`simulated:slot-c-${counter}`)).toBeNull();

    expect((await r.engine.command(started.state.id, { type: 'abort', by: 'U0RM1' })).ok).toBe(true);
    for (const name of names) expect(await r.store.activeForService(keyOf(name))).toBeNull();
    const now = await r.engine.start(single, 'U0RM1');
    expect(now.ok).toBe(true);
  });
});
