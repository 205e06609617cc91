// Issue 5: SIGKILL at 50+ random points of cutovers spread over every phase, three replicas.
// Every cutover must end as it should, with no traffic step twice or skipped, every audit event
// once, and the status card showing the stored state.
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { Phase } from '../../src/domain/state.ts';
import { ended, testRuntime, waitForAudit, type TestRuntime } from '../support/engine.ts';
import { makePlan } from '../support/plans.ts';
import { redisUrl, uniquePrefix } from '../support/redis.ts';
import { Replicas, type Replica } from '../support/replicas.ts';
import { compressPlan } from '../../src/app/rehearsal/compress.ts';
import { slowShifts } from '../support/world.ts';

const KILLS = 50;
/** Cutovers kept running at once during the storm. */
const IN_FLIGHT = 3;

let replicas: Replicas | undefined;
let control: TestRuntime | undefined;
afterAll(async () => {
  await replicas?.stopAll();
  await control?.close({ force: true });
});

interface Case {
  readonly i: number;
  readonly promotion: 'manual' | 'auto';
  readonly expect: 'completed' | 'rolled_back';
  readonly shifts: readonly number[];
  /** Roll back by hand once this cohort (index) is soaking. */
  readonly manualRollbackAt?: number;
  readonly bad?: boolean;
}

/** Healthy by hand, healthy on its own, a bad canary (automatic rollback), a rollback by hand, in turn. */
const caseFor = (i: number): Case => {
  switch (i % 4) {
    case 0:
      return { i, promotion: 'manual', expect: 'completed', shifts: [1, 10, 50, 100] };
    case 1:
      return { i, promotion: 'auto', expect: 'completed', shifts: [1, 10, 50, 100] };
    case 2:
      return { i, promotion: 'auto', expect: 'rolled_back', shifts: [1, 10, 50, 0], bad: true };
    default:
      return { i, promotion: 'manual', expect: 'rolled_back', shifts: [1, 10, 0], manualRollbackAt: 1 };
  }
};
const CASES: Case[] = [];

it(`${KILLS} kills at random points across three replicas: every cutover ends right, nothing twice, nothing skipped`, async () => {
  const prefix = uniquePrefix('storm');
  replicas = new Replicas(resolve(import.meta.dirname, '../fixtures/replica.ts'), { REDIS_URL: redisUrl(), PREFIX: prefix, EVIDENCE_DIR: mkdtempSync(join(tmpdir(), 'storm-evidence-')) });
  const completions = new Map<string, number>();
  replicas.on('line', (_r, line) => {
    if (line.event === 'completed' && line.id) completions.set(line.id, (completions.get(line.id) ?? 0) + 1);
  });
  await Promise.all([replicas.start(), replicas.start(), replicas.start()]);
  control = await testRuntime({ prefix, workers: false });
  const c = control;
  // What people do, announced the moment they do it, so a kill can be aimed at it.
  const room = new EventEmitter<{ act: [string] }>();

  // The people in the room: each cutover has someone who approves, promotes, or rolls back by hand.
  const people = async (id: string, k: Case) => {
    const seen = new Set<string>();
    await waitForAudit(c.store, id, (e: AuditEntry) => {
      if (e.type !== 'notice') return e.type === 'evidence';
      const n = e.notice;
      const once = (key: string, act: () => Promise<unknown>) => {
        if (!seen.has(key)) {
          seen.add(key);
          void act();
        }
      };
      if (n.kind === 'go_no_go_requested') once('go', async () => {
        room.emit('act', 'approval');
        await c.engine.command(id, { type: 'approve', by: 'U0OPS' });
        await c.engine.command(id, { type: 'approve', by: 'U0RM2' });
      });
      if (n.kind === 'soak_clean' && n.next === 'promotion') once(`promote${n.stage}`, () => (room.emit('act', 'promote'), c.engine.command(id, { type: 'promote', by: 'U0RM1' })));
      if (n.kind === 'traffic_confirmed' && k.manualRollbackAt !== undefined && n.stage === k.manualRollbackAt) once('rollback', () => (room.emit('act', 'rollback'), c.engine.command(id, { type: 'rollback', by: 'U0ONCALL1', reason: 'support tickets' })));
      return false;
    }, 180_000);
  };

  const ids: string[] = [];
  const finished: Array<Promise<unknown>> = [];
  const startCase = async (k: Case) => {
    const plan = compressPlan(makePlan((p) => {
      p.name = `storm-${k.i}`;
      p.service.name = `storm-${k.i}`;
      p.stages = [1, 10, 50, 100];
      p.promotion = k.promotion;
    }), 300); // 10-minute soaks become 2 s, 1-minute checks 200 ms
    if (k.bad) await c.world.setScenario(plan.serviceKey, { name: 'bad-canary', breach_at: 50 });
    await slowShifts(c, plan.serviceKey, 150);
    room.emit('act', 'start');
    const started = await c.engine.start(plan, 'U0RM1');
    if (!started.ok) throw new Error(started.refusal.code);
    ids[k.i] = started.state.id;
    finished.push(people(started.state.id, k));
  };

  // Chaos: each kill is aimed at one kind of moment, in turn: a replica starting a preflight, a
  // traffic shift, a gate check (a soak) or a rollback; or people starting, approving, promoting or
  // rolling back. The replica doing the job dies (for a person's act, a random one), without warning,
  // and a new one starts. Three cutovers run at all times, so the moments keep coming.
  const KINDS = ['preflight', 'approval', 'shift', 'check', 'promote', 'rollback', 'start'] as const;
  const hits = new Map<string, number>();
  const phasesAtKills = new Set<Phase>();
  let kills = 0;
  const running = new Set<string>();
  const startOne = async () => {
    const k = caseFor(CASES.length);
    CASES.push(k);
    await startCase(k);
    const id = ids[k.i] as string;
    running.add(id);
    void waitForAudit(c.store, id, ended, 180_000).then(() => running.delete(id));
  };
  const keepBusy = async () => {
    while (running.size < IN_FLIGHT) await startOne();
  };
  const aim = (kind: (typeof KINDS)[number], timeoutMs: number): Promise<{ kind: string; replica: Replica | null }> =>
    new Promise((resolveAim) => {
      const job = ['preflight', 'shift', 'check', 'rollback'].includes(kind);
      const cleanup = () => {
        clearTimeout(timer);
        replicas!.off('line', onLine);
        room.off('act', onAct);
      };
      const timer = setTimeout(() => (cleanup(), resolveAim({ kind: 'random', replica: null })), timeoutMs);
      const onLine = (replica: Replica, line: { event: string; name?: string }) => {
        if (job && line.event === 'active' && line.name === kind) (cleanup(), resolveAim({ kind, replica }));
      };
      const onAct = (act: string) => {
        if (!job && act === kind) (cleanup(), resolveAim({ kind, replica: null }));
      };
      replicas!.on('line', onLine);
      room.on('act', onAct);
      // A preflight, and the go/no-go after it, come only with a new cutover: make one.
      if (kind === 'start' || kind === 'preflight' || kind === 'approval') void startOne();
    });
  while (kills < KILLS) {
    await keepBusy();
    const kind = KINDS[kills % KINDS.length]!;
    // A rollback comes only with the cases that roll back, one cutover in two: on a loaded machine
    // it can take longer than the other moments to come round, so it is waited for longer.
    const target = await aim(kind, kind === 'rollback' ? 15_000 : 2_500);
    for (const id of ids.filter(Boolean)) phasesAtKills.add((await c.store.loadState(id))!.phase);
    const alive = [...replicas.all];
    const victim = target.replica?.alive ? target.replica : (alive[kills % alive.length] as Replica);
    await replicas.kill(victim);
    kills++;
    hits.set(target.kind, (hits.get(target.kind) ?? 0) + 1);
    await replicas.start();
  }
  await Promise.all(finished);

  expect(kills).toBeGreaterThanOrEqual(KILLS);
  // Every kind of moment was hit at least once.
  for (const kind of KINDS) expect(hits.get(kind) ?? 0, `kills aimed at ${kind}: ${JSON.stringify(Object.fromEntries(hits))}`).toBeGreaterThan(0);
  expect([...phasesAtKills]).toEqual(expect.arrayContaining(['soaking', 'shifting']));

  for (const k of CASES) {
    const id = ids[k.i] as string;
    const state = (await c.store.loadState(id))!;
    expect(state.outcome, `storm-${k.i}`).toBe(k.expect);
    // No traffic step twice, none skipped.
    expect((await c.world.shifts(state.serviceKey)).map((s) => s.percent), `storm-${k.i}`).toEqual(k.shifts);
    // Every event in the audit trail once.
    const audit = (await c.store.readAudit(id)).map((a) => a.entry);
    const notices = (kind: string) => audit.filter((e) => e.type === 'notice' && e.notice.kind === kind);
    expect(notices('started')).toHaveLength(1);
    expect(notices('go')).toHaveLength(1);
    expect(notices(k.expect === 'completed' ? 'completed' : 'rolled_back')).toHaveLength(1);
    expect(audit.filter((e) => e.type === 'evidence')).toHaveLength(1);
    // Each cohort confirmed once; a rollback reports its verified split in its own notice.
    const confirmed = notices('traffic_confirmed').map((e) => (e.type === 'notice' && e.notice.kind === 'traffic_confirmed' ? e.notice.percent : -1));
    expect(confirmed, `storm-${k.i}`).toEqual(k.expect === 'completed' ? k.shifts : k.shifts.slice(0, -1));
    if (k.expect === 'rolled_back') expect(notices('rolled_back')[0]).toMatchObject({ notice: { percent: 0 } });
    const checks = (await c.store.gateRecords(id)).filter((g) => g.phase === 'stage').map((g) => g.seq);
    expect(new Set(checks).size).toBe(checks.length);
    // The room was shown every audit entry, in order (a crash between posting and moving the
    // cursor may show one entry twice, never skip or reorder one).
    const posted = (await c.redis.lrange(`${prefix}:test:posted:${id}`, 0, -1)).filter((p, j, all) => p !== all[j - 1]);
    expect(posted.map((p) => JSON.parse(p))).toEqual(audit.filter((e) => e.type !== 'refused'));
    // The status card shows the stored state.
    const card = JSON.parse((await c.redis.get(`${prefix}:test:card:${id}`)) ?? '{}');
    expect(card).toEqual({ version: state.version, phase: state.phase, traffic: state.traffic });
  }
  // No job with a deterministic id (shift, check, preflight, rollback, timers) finished twice.
  expect([...completions.entries()].filter(([jobId, n]) => n > 1 && /^(shift|check|preflight|rollback|stuck|timer)\./.test(jobId))).toEqual([]);
}, 480_000);
