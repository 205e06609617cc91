// Whole cutovers through the real engine, BullMQ workers and Redis, on the simulated platform.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/domain/plan.ts';
import { evidenceDir } from '../../src/evidence/writer.ts';
import { json, startTestServer, type TestServer } from '../support/http.ts';
import { makePlan } from '../support/plans.ts';
import { ended, notice, testRuntime, waitForAudit, type TestRuntime } from '../support/engine.ts';
import { compressPlan } from '../../src/app/rehearsal/compress.ts';

const fast = (patch: (doc: Record<string, any>) => void = () => undefined): Plan =>
  // 10-minute soaks and 1-minute checks, played 2000 times faster: 300 ms soaks, 30 ms checks.
  compressPlan(makePlan(patch), 2000);

const runtimes: TestRuntime[] = [];
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close({ force: true });
});
async function runtime(options: Parameters<typeof testRuntime>[0] = {}) {
  const r = await testRuntime(options);
  runtimes.push(r);
  return r;
}

async function approveGoNoGo(r: TestRuntime, id: string) {
  await waitForAudit(r.store, id, notice('go_no_go_requested'));
  expect((await r.engine.command(id, { type: 'approve', by: 'U0OPS' })).ok).toBe(true);
  expect((await r.engine.command(id, { type: 'approve', by: 'U0RM2' })).ok).toBe(true);
}

describe('a cutover through the real workers', () => {
  it('runs a healthy cutover to 100 %: every cohort once, in order, and a full evidence package', async () => {
    const r = await runtime();
    const plan = fast((p) => (p.promotion = 'auto'));
    const started = await r.engine.start(plan, 'U0RM1');
    if (!started.ok) throw new Error(started.refusal.code);
    const id = started.state.id;
    await approveGoNoGo(r, id);
    const evidence = await waitForAudit(r.store, id, ended);

    const state = await r.store.loadState(id);
    expect(state).toMatchObject({ phase: 'completed', outcome: 'completed', traffic: 100 });
    expect((await r.world.shifts(plan.serviceKey)).map((s) => s.percent)).toEqual([1, 5, 25, 100]);
    expect((await r.world.split(plan.serviceKey)).canary).toBe(100);

    const dir = evidenceDir(r.evidenceRoot, state!);
    expect(evidence).toMatchObject({ type: 'evidence', path: dir });
    expect(readdirSync(dir).sort()).toEqual(['SUMMARY.md', 'chart.png', 'chart.svg', 'cohort-results.jsonl', 'gate-results.jsonl', 'logs', 'slo-results.jsonl', 'summary.json']);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ overall_status: 'completed', step_count: 5, passed: 5, failed: 0, revisions: { stable: 'demo-001', canary: 'demo-002' }, cohorts_completed: [1, 5, 25, 100] });
    expect(summary.approvals.filter((a: { action: string }) => a.action === 'go_no_go').map((a: { by: string }) => a.by)).toEqual(['U0OPS', 'U0RM2']);
    const cohorts = readFileSync(join(dir, 'cohort-results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(cohorts.map((c) => [c.percent, c.soak_result])).toEqual([[1, 'clean'], [5, 'clean'], [25, 'clean'], [100, 'clean']]);
    const gates = readFileSync(join(dir, 'gate-results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(gates.length).toBeGreaterThan(4);
    for (const g of gates) expect(Object.keys(g)).toEqual(expect.arrayContaining(['time', 'stage', 'gate', 'value', 'threshold', 'outcome']));
    expect(readFileSync(join(dir, 'SUMMARY.md'), 'utf8')).toContain('T-10 decision: GO by U0OPS (ops-lead), U0RM2 (release-manager)');
    // The room saw every entry once, in order.
    await r.room.waitFor((p) => p.entry.type === 'evidence', 'the evidence entry');
    const kinds = r.room.posted.map((p) => (p.entry.type === 'notice' ? p.entry.notice.kind : p.entry.type));
    expect(kinds.filter((k) => k === 'started')).toHaveLength(1);
    expect(kinds.at(-1)).toBe('evidence');
    expect(r.room.opened).toBe(1);
    // The cutover released its service and its periodic update.
    expect(await r.store.activeForService(plan.serviceKey)).toBeNull();
    expect((await r.queues.notify.getJobSchedulers()).map((j) => j.key)).not.toContain(`updates.${id}`);
  });

  it('rolls back automatically when a gate fails, runs the before-steps, and never lets a hanging step stop it', async () => {
    const hang = await startTestServer(() => undefined);
    let r: TestRuntime | undefined;
    // A real SLO snapshot whose p95 goes bad once the canary serves 25 %.
    const slo = await startTestServer(async (_req, res) => {
      const split = await r!.world.split('simulated:demo-svc');
      json(res, 200, { p95_latency_ms: split.canary >= 25 ? 900 : 120, error_budget_ratio: 0.001 });
    });
    try {
      r = await runtime();
      const plan = fast((p) => {
        p.service.gates = 'real';
        p.promotion = 'auto';
        p.gates.stage = [{ id: 'slo', slo_snapshot: { url: `${slo.url}/slo`, max_p95_latency_ms: 600 } }];
        p.rollback = {
          before: [
            { id: 'route-override', http: { method: 'POST', url: `${hang.url}/override`, json: { target: 'legacy' } }, timeout: '300ms' },
            { id: 'flags-off', command: ['/bin/sh', '-c', 'echo flags off; exit 2'] },
          ],
        };
      });
      const started = await r.engine.start(plan, 'U0RM1');
      const id = started.ok ? started.state.id : '';
      await approveGoNoGo(r, id);
      await waitForAudit(r.store, id, ended);
      const state = await r.store.loadState(id);
      expect(state).toMatchObject({ phase: 'rolled_back', traffic: 0, rollback: { trigger: 'gate', gates: ['slo'] } });
      expect((await r.world.shifts(plan.serviceKey)).map((s) => s.percent)).toEqual([1, 5, 25, 0]);
      const audit = (await r.store.readAudit(id)).map((a) => a.entry);
      expect(audit).toContainEqual(expect.objectContaining({ type: 'escalation', escalation: expect.objectContaining({ code: 'gate_failed', gates: ['slo'] }) }));
      const rolled = audit.find((e) => e.type === 'notice' && e.notice.kind === 'rolled_back');
      expect(rolled).toMatchObject({ notice: { steps: [{ step: 'route-override', measurement: { outcome: 'error' } }, { step: 'flags-off', measurement: { outcome: 'fail' } }] } });
      expect(hang.requests.map((q) => [q.method, q.url, q.body])).toEqual([['POST', '/override', '{"target":"legacy"}']]);
      const dir = evidenceDir(r.evidenceRoot, state!);
      expect(readFileSync(join(dir, 'logs', 'rollback-flags-off.log'), 'utf8')).toContain('flags off');
      expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'))).toMatchObject({ overall_status: 'rolled_back', failed: 1 });
    } finally {
      await hang.close();
      await slo.close();
    }
  });

  it('rolls back a bad canary on simulated signals too (bad-canary scenario)', async () => {
    const r = await runtime();
    const plan = fast((p) => (p.promotion = 'auto'));
    await r.world.setScenario(plan.serviceKey, { name: 'bad-canary', breach_at: 5 });
    const started = await r.engine.start(plan, 'U0RM1');
    const id = started.ok ? started.state.id : '';
    await approveGoNoGo(r, id);
    await waitForAudit(r.store, id, ended);
    expect(await r.store.loadState(id)).toMatchObject({ phase: 'rolled_back', traffic: 0 });
    expect((await r.world.shifts(plan.serviceKey)).map((s) => s.percent)).toEqual([1, 5, 0]);
  });

  it('measures real gates while traffic is simulated (gates: real), and keeps command output as evidence', async () => {
    const slo = await startTestServer((_req, res) => json(res, 200, { p95_latency_ms: 120, error_budget_ratio: 0.001 }));
    try {
      const r = await runtime();
      const plan = fast((p) => {
        p.service.gates = 'real';
        p.stages = [50, 100];
        p.promotion = 'auto';
        p.gates.preflight = [{ id: 'G1', command: ['/bin/sh', '-c', 'echo preflight for $CUTOVER_PLAN'] }];
        p.gates.stage = [{ id: 'slo', slo_snapshot: { url: `${slo.url}/slo`, max_p95_latency_ms: 600 } }];
      });
      const started = await r.engine.start(plan, 'U0RM1');
      const id = started.ok ? started.state.id : '';
      await approveGoNoGo(r, id);
      await waitForAudit(r.store, id, ended);
      const state = await r.store.loadState(id);
      expect(state?.outcome).toBe('completed');
      expect(slo.requests.length).toBeGreaterThan(1);
      const dir = evidenceDir(r.evidenceRoot, state!);
      expect(readFileSync(join(dir, 'logs', 'preflight-G1.log'), 'utf8')).toBe('preflight for demo\n');
    } finally {
      await slo.close();
    }
  });

  it('keeps one active cutover per service and names the running one', async () => {
    const r = await runtime();
    const plan = fast();
    const first = await r.engine.start(plan, 'U0RM1');
    const second = await r.engine.start(plan, 'U0RM2');
    expect(second.ok).toBe(false);
    if (!second.ok && first.ok) {
      expect(second.refusal).toEqual({ code: 'already_running', action: 'start', running: first.state.id, service: plan.serviceKey });
      expect(second.state?.id).toBe(first.state.id);
    }
    expect(await r.engine.active()).toHaveLength(1);
  });

  it('refuses a command on a cutover that does not exist, and one from someone without the role (audited)', async () => {
    const r = await runtime();
    expect(await r.engine.command('nope', { type: 'promote', by: 'U0RM1' })).toMatchObject({ ok: false, refusal: { code: 'no_cutover' } });
    const started = await r.engine.start(fast(), 'U0RM1');
    const id = started.ok ? started.state.id : '';
    await waitForAudit(r.store, id, notice('go_no_go_requested'));
    const before = await r.store.loadState(id);
    const refused = await r.engine.command(id, { type: 'approve', by: 'U0STRANGER' });
    expect(refused).toMatchObject({ ok: false, refusal: { code: 'not_authorized' } });
    expect(await r.store.loadState(id)).toEqual(before);
    expect((await r.store.readAudit(id)).map((a) => a.entry)).toContainEqual(expect.objectContaining({ type: 'refused', by: 'U0STRANGER', action: 'approve', code: 'not_authorized' }));
  });
});

describe('nothing lost, nothing done twice', () => {
  it('dispatches effects a crash left in the outbox (committed, never dispatched) through the sweep', async () => {
    const r = await runtime({ sweepEveryMs: 200 });
    const plan = fast();
    const { openCutover } = await import('../../src/domain/machine.ts');
    const opened = openCutover({ id: 'orphan-1', plan, actor: { id: 'U0RM1', roles: ['release-manager'] }, revisions: { stable: 'a', canary: 'b' }, now: Date.now() });
    if (!opened.ok) throw new Error('open');
    // What a process killed right after its commit leaves behind: state and outbox, no jobs.
    await r.store.create(opened.state, plan, opened.effects, []);
    expect(await r.store.withPendingEffects()).toEqual(['orphan-1']);
    await waitForAudit(r.store, 'orphan-1', notice('go_no_go_requested'));
    // The orphaned effects (version 1) are gone from the outbox; later commits' may come and go.
    expect((await r.store.pendingEffects('orphan-1')).filter((p) => p.seq < 2000)).toEqual([]);
  });

  it('running the same outbox twice, at once, adds each job once', async () => {
    const r = await runtime({ workers: false });
    const other = await runtime({ workers: false, prefix: r.prefix });
    const plan = fast();
    const { openCutover } = await import('../../src/domain/machine.ts');
    const opened = openCutover({ id: 'twice-1', plan, actor: { id: 'U0RM1', roles: ['release-manager'] }, revisions: { stable: 'a', canary: 'b' }, now: Date.now() });
    if (!opened.ok) throw new Error('open');
    await r.store.create(opened.state, plan, opened.effects, []);
    await Promise.all([r.dispatcher.drain('twice-1'), other.dispatcher.drain('twice-1'), r.dispatcher.drain('twice-1')]);
    const jobs = await r.queues.cutover.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.filter((j) => j.name === 'preflight').map((j) => j.id)).toEqual(['preflight.twice-1.1']);
    expect((await r.queues.notify.getJobSchedulers()).filter((s) => s.key === 'updates.twice-1')).toHaveLength(1);
  });
});

describe('two conflicting events at once: exactly one is applied', () => {
  let a: TestRuntime;
  let b: TestRuntime;
  beforeAll(async () => {
    a = await testRuntime({ workers: false });
    b = await testRuntime({ workers: false, prefix: a.prefix });
  });
  afterAll(async () => {
    await a.close({ force: true });
    await b.close({ force: true });
  });

  /** A cutover soaking its first cohort (with a 0 s soak), driven by hand: no workers. */
  async function soaking(index: number) {
    const plan = makePlan((p) => {
      p.name = `race-${index}`;
      p.service.name = `race-${index}`;
      p.soak = '0s';
    });
    const started = await a.engine.start(plan, 'U0RM1');
    if (!started.ok) throw new Error(started.refusal.code);
    const id = started.state.id;
    await a.engine.apply(id, { type: 'preflight_done', phaseSeq: started.state.phaseSeq, results: [{ gate: 'G1', measurement: { outcome: 'pass', observations: [] }, at: Date.now() }] });
    await a.engine.command(id, { type: 'approve', by: 'U0OPS' });
    const go = await a.engine.command(id, { type: 'approve', by: 'U0RM2' });
    if (!go.ok) throw new Error('go');
    const soak = await a.engine.apply(id, { type: 'traffic_confirmed', phaseSeq: go.state.phaseSeq, percent: 1 });
    if (!soak.ok) throw new Error('soak');
    return soak.state;
  }

  const check = (seq: number, outcome: 'pass' | 'fail') => ({ type: 'gate_check' as const, seq, results: [{ gate: 'slo', measurement: { outcome, observations: [] }, at: Date.now() }] });

  it('a /promote and a failing gate check race: exactly one is applied, the other refused', async () => {
    const winners = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const soaked = await soaking(i);
      const waiting = await a.engine.apply(soaked.id, check(soaked.monitor!.seq, 'pass'));
      if (!waiting.ok || waiting.state.phase !== 'awaiting_promotion') throw new Error('not awaiting promotion');
      const s = waiting.state;
      const [gate, promote] = await Promise.all([a.engine.apply(s.id, check(s.monitor!.seq, 'fail')), b.engine.command(s.id, { type: 'promote', by: 'U0RM1' })]);
      expect([gate.ok, promote.ok].filter(Boolean)).toHaveLength(1);
      const after = await a.store.loadState(s.id);
      expect(after!.version).toBe(s.version + 1);
      expect(after!.phase).toBe(gate.ok ? 'rolling_back' : 'shifting');
      winners.add(after!.phase);
    }
    expect(winners.size).toBeGreaterThan(0);
  });

  it('the same job result delivered twice at once (a retried job) is applied once', async () => {
    for (let i = 0; i < 20; i++) {
      const s = await soaking(100 + i);
      const check = { type: 'gate_check' as const, seq: s.monitor!.seq, results: [{ gate: 'slo', measurement: { outcome: 'pass' as const, observations: [] }, at: Date.now() }] };
      const results = await Promise.all([a.engine.apply(s.id, check), b.engine.apply(s.id, check), a.engine.apply(s.id, check)]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.refusal.code)).toEqual(['stale', 'stale']);
      expect((await a.store.gateRecords(s.id)).filter((g) => g.phase === 'stage')).toHaveLength(1);
    }
  });

  it('two approvals racing for the last slot both count, and the cutover shifts exactly once', async () => {
    const plan = makePlan((p) => {
      p.name = 'race-approvals';
      p.service.name = 'race-approvals';
      p.approvals.go_no_go.min = 2;
    });
    const started = await a.engine.start(plan, 'U0RM1');
    if (!started.ok) throw new Error('start');
    const id = started.state.id;
    await a.engine.apply(id, { type: 'preflight_done', phaseSeq: 1, results: [{ gate: 'G1', measurement: { outcome: 'pass', observations: [] }, at: Date.now() }] });
    const [x, y] = await Promise.all([a.engine.command(id, { type: 'approve', by: 'U0OPS' }), b.engine.command(id, { type: 'approve', by: 'U0RM2' })]);
    expect(x.ok && y.ok).toBe(true);
    const state = await a.store.loadState(id);
    expect(state?.phase).toBe('shifting');
    const pending = await a.store.pendingEffects(id);
    const dispatched = await a.queues.cutover.getJobs(['waiting', 'prioritized']);
    const shifts = [...pending.map((p) => p.effect.type), ...dispatched.filter((j) => j.data.id === id).map((j) => j.name)].filter((t) => t === 'shift' || t === 'shift_traffic');
    expect(shifts).toHaveLength(1);
    expect(existsSync(a.evidenceRoot)).toBe(true);
  });
});

describe('an evidence job enqueued on the cutover queue by an earlier version', () => {
  it('still runs there after the upgrade: the package is written again, the same', async () => {
    const r = await runtime();
    const plan = fast((p) => (p.promotion = 'auto'));
    const started = await r.engine.start(plan, 'U0RM1');
    if (!started.ok) throw new Error(started.refusal.code);
    const id = started.state.id;
    await approveGoNoGo(r, id);
    await waitForAudit(r.store, id, ended);
    // The same package again, as an old replica would have asked for it: on the engine's queue.
    const dir = evidenceDir(r.evidenceRoot, (await r.store.loadState(id))!);
    const before = readFileSync(join(dir, 'summary.json'), 'utf8');
    const job = await r.queues.cutover.add('evidence', { id }, { jobId: `legacy-evidence.${id}` });
    const events = new (await import('bullmq')).QueueEvents('cutover', { connection: r.redis.duplicate({ maxRetriesPerRequest: null }), prefix: `${r.prefix}:bull` });
    try {
      expect(await job.waitUntilFinished(events, 30_000)).toBe(dir);
    } finally {
      await events.close();
    }
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(before);
  });
});
