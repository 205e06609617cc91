// Checks at a fixed rate through the real workers: every check of a soak is due at soak start +
// k × check_every, however long its gates take, and every slot of the soak is either checked or
// skipped (counted). The gate here takes 40 % of the interval: scheduled from the end of the check
// before, a 10-slot soak would get about 7 checks.
import { afterEach, expect, it } from 'vitest';
import { compressPlan } from '../../src/app/rehearsal/compress.ts';
import type { AuditEntry } from '../../src/domain/audit.ts';
import { json, startTestServer, type TestServer } from '../support/http.ts';
import { makePlan } from '../support/plans.ts';
import { ended, notice, testRuntime, waitForAudit, type TestRuntime } from '../support/engine.ts';

const SPEED = 200;
// 10-minute soaks checked every minute, 200 times faster: 3 s soaks, a check every 300 ms.
const EVERY = 60_000 / SPEED;
const SLOTS = 10;
const GATE_MS = 0.4 * EVERY;

let runtime: TestRuntime | undefined;
let slo: TestServer | undefined;
afterEach(async () => {
  await runtime?.close({ force: true });
  await slo?.close();
});

it('two 10-slot soaks: each check on its slot, and checked + skipped = 20, with gates that take 40 % of check_every', async () => {
  // The gate's own cost, not a synchronisation: a metrics source that takes a while to answer.
  slo = await startTestServer(async (_req, res) => {
    await new Promise((resolve) => setTimeout(resolve, GATE_MS));
    json(res, 200, { p95_latency_ms: 120, error_budget_ratio: 0.001 });
  });
  const r = (runtime = await testRuntime());
  const plan = compressPlan(
    makePlan((p) => {
      p.stages = [50, 100];
      p.promotion = 'auto';
      p.service.gates = 'real';
      p.gates.stage = [{ id: 'slo', slo_snapshot: { url: `${slo!.url}/slo`, max_p95_latency_ms: 600 } }];
    }),
    SPEED,
  );
  expect([plan.checkEveryMs, plan.stages[0]!.soakMs]).toEqual([EVERY, SLOTS * EVERY]);
  const started = await r.engine.start(plan, 'U0RM1');
  if (!started.ok) throw new Error(started.refusal.code);
  const id = started.state.id;
  await waitForAudit(r.store, id, notice('go_no_go_requested'));
  for (const by of ['U0OPS', 'U0RM2']) expect((await r.engine.command(id, { type: 'approve', by })).ok).toBe(true);
  await waitForAudit(r.store, id, ended);

  const state = (await r.store.loadState(id))!;
  expect([state.phase, state.traffic]).toEqual(['completed', 100]);
  // Each soak starts when its cohort's traffic is confirmed.
  const audit = (await r.store.readAudit(id)).map((a) => a.entry);
  const soakStarts = audit.filter((e): e is Extract<AuditEntry, { type: 'notice' }> => e.type === 'notice' && e.notice.kind === 'traffic_confirmed').map((e) => e.at);
  expect(soakStarts).toHaveLength(2);

  // The checks that ran (not refused as stale), with the slot each was due at.
  const jobs = (await r.queues.cutover.getJobs(['completed'])).filter((j) => j.name === 'check' && j.data.id === id && j.returnvalue !== 'stale');
  const slots = jobs.map((j) => j.data.at as number).sort((a, b) => a - b);
  let checked = 0;
  for (const start of soakStarts) {
    const mine = slots.filter((at) => at > start && at <= start + SLOTS * EVERY);
    // On the grid of its own soak, one check per slot at most.
    const ks = mine.map((at) => (at - start) / EVERY);
    for (const k of ks) expect(Number.isInteger(k) && k >= 1 && k <= SLOTS, `slot ${k} of the soak`).toBe(true);
    expect(new Set(ks).size).toBe(ks.length);
    checked += mine.length;
  }
  expect(checked).toBe(slots.length);
  expect(checked + (state.checksSkipped ?? 0)).toBe(2 * SLOTS);
});
