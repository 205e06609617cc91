// The judge's test lives in Redis with the cutover: a bot that stops in the middle of a soak and
// another that takes over go on with the same evidence, never starting the test again.
import { afterEach, expect, it } from 'vitest';
import { cloudAdapters } from '../../src/app/adapters.ts';
import { compressPlan } from '../../src/app/rehearsal/compress.ts';
import type { AuditEntry } from '../../src/domain/audit.ts';
import { notice, testRuntime, waitForAudit, type TestRuntime } from '../support/engine.ts';
import { makePlan } from '../support/plans.ts';
import { uniquePrefix } from '../support/redis.ts';

let first: TestRuntime | undefined;
let second: TestRuntime | undefined;
afterEach(async () => {
  await first?.close({ force: true });
  await second?.close({ force: true });
});

const judgedChecks = (n: number) => {
  let seen = 0;
  return (e: AuditEntry) => e.type === 'notice' && e.notice.kind === 'gate_check' && e.notice.gates.some((g) => g.reading.judge?.decision === 'continue') && ++seen >= n;
};

it('a replica that takes over mid-soak continues the same judge test: its evidence and counts go on, never a new baseline', async () => {
  const prefix = uniquePrefix('judge-restart');
  const adapters = cloudAdapters({});
  first = await testRuntime({ prefix, gateKinds: adapters.gateKinds });
  // A long soak at 5 %: the cutover stays soaking while the bots change.
  const plan = compressPlan(
    makePlan((d) => {
      d.stages = [5, 100];
      d.soak = '60m';
      d.check_every = '30s';
      d.gates.stage = [{ id: 'errors', judge: { metric: 'error_rate', source: 'cloud_monitoring', max: '5%' } }, ...d.gates.stage];
    }, first.vocabulary),
    60,
  );
  await first.world.setScenario(plan.serviceKey, { name: 'healthy', speed: 60, seed: 3 });
  const started = await first.engine.start(plan, 'U0RM1');
  if (!started.ok) throw new Error(started.refusal.code);
  const id = started.state.id;
  await waitForAudit(first.store, id, notice('go_no_go_requested'));
  await first.engine.command(id, { type: 'approve', by: 'U0OPS' });
  await first.engine.command(id, { type: 'approve', by: 'U0RM2' });
  await waitForAudit(first.store, id, judgedChecks(2));
  await first.close({ force: true });
  first = undefined;
  // What the stopped bot left in Redis, read before anyone else runs a check.
  const reader = await testRuntime({ prefix, gateKinds: adapters.gateKinds, workers: false });
  const judgedBefore = (await reader.store.loadState(id))!.gates.errors!.judge!.state.batches;
  await reader.close({ force: true });
  expect(judgedBefore).toBeGreaterThanOrEqual(2);

  second = await testRuntime({ prefix, gateKinds: adapters.gateKinds });
  await waitForAudit(second.store, id, judgedChecks(judgedBefore + 2));
  const after = (await second.store.loadState(id))!;
  expect(after.phase).toBe('soaking');
  expect(after.gates.errors!.judge!.state.batches).toBeGreaterThanOrEqual(judgedBefore + 2);
  // The trajectory, check by check: one baseline at the very start, batches only ever growing.
  const trail = (await second.store.gateRecords(id)).filter((r) => r.gate === 'errors' && r.judge);
  expect(trail.filter((r) => r.judge!.reason === 'baseline')).toHaveLength(1);
  expect(trail[0]!.judge!.reason).toBe('baseline');
  const batches = trail.map((r) => r.judge!.figures.batches);
  expect(batches).toEqual([...batches].sort((a, b) => a - b));
  const canary = trail.map((r) => r.judge!.figures.canary.requests);
  expect(canary).toEqual([...canary].sort((a, b) => a - b));
}, 60_000);
