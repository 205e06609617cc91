// Benchmark 3: many concurrent rehearsal cutovers (simulated backend, check_every 1s), in one
// bot process and in three. Figures: gate-check lag (scheduled time to actual start), Redis
// memory per cutover, bot RSS; and, for three processes, errors and jobs run twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { isTerminal } from '../src/domain/state.ts';
import { parsePlanDocument } from '../src/plans/parse.ts';
import { SimulatedWorld } from '../src/sim/world.ts';
import { buildVocabulary, createRuntime, type Runtime } from '../src/app/runtime.ts';
import { allRoles, percentile, privateRedis, quietRoom } from './support.ts';
import { silentLogger } from '../test/support/log.ts';

export interface ManyResult {
  readonly cutovers: number;
  readonly processes: number;
  readonly completed: number;
  readonly checks: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly redisBytesPerCutover: number;
  readonly rssPeakMb: number;
  readonly failedJobs: number;
  readonly jobsRunTwice: number;
  readonly shiftsWrong: number;
  readonly wallMs: number;
}

const planDocument = (i: number) => ({
  name: `bench-${i}`,
  service: { platform: 'simulated', name: `bench-${i}` },
  channel: 'C0BENCH',
  stages: [1, 5, 10, 25, 50, 100],
  soak: '10s',
  check_every: '1s',
  promotion: 'auto',
  gates: {
    preflight: [{ id: 'G1', command: 'true' }],
    stage: [
      { id: 'slo', slo_snapshot: { url: 'https://example.test/slo', max_p95_latency_ms: 600, max_error_budget_ratio: 0.02 } },
      { id: 'probe', http: { url: 'https://example.test/probe' } },
    ],
  },
  approvals: { go_no_go: { roles: ['release-manager'], min: 1, two_person: false }, promote: { roles: ['release-manager'] }, rollback: { roles: ['release-manager'] } },
  roles: { 'release-manager': ['U0BENCH'] },
  updates: { every: '30s' },
});

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

export async function manyCutovers(options: { cutovers?: number; processes?: 1 | 3; log?: (line: string) => void } = {}): Promise<ManyResult> {
  const count = options.cutovers ?? 300;
  const processes = options.processes ?? 1;
  const log = options.log ?? (() => undefined);
  const server = await privateRedis();
  const admin = new Redis(server.url);
  const prefix = 'bench';
  const evidence = mkdtempSync(join(tmpdir(), 'bench-evidence-'));
  const lags: number[] = [];
  const completions = new Map<string, number>();
  let failedJobs = 0;
  const children: ChildProcess[] = [];
  let runtime: Runtime | undefined;
  const started = Date.now();
  try {
    const baseline = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1] ?? 0);
    runtime = await createRuntime({
      redisUrl: server.url,
      prefix,
      room: quietRoom,
      roles: allRoles,
      log: silentLogger(),
      evidenceRoot: evidence,
      workers: processes === 1,
      onCheckLag: (ms) => lags.push(ms),
    });
    for (const worker of runtime.workers?.all ?? []) {
      worker.on('completed', (job) => completions.set(String(job.id), (completions.get(String(job.id)) ?? 0) + 1));
      worker.on('failed', () => failedJobs++);
    }
    if (processes > 1) {
      await Promise.all(
        Array.from({ length: processes }, () => {
          const child = spawn(process.execPath, [join(import.meta.dirname, 'replica.ts')], { env: { ...process.env, REDIS_URL: server.url, PREFIX: prefix, EVIDENCE_DIR: evidence }, stdio: ['ignore', 'pipe', 'inherit'] });
          children.push(child);
          return new Promise<void>((resolve) => {
            createInterface({ input: child.stdout! }).on('line', (text) => {
              const line = JSON.parse(text) as { event: string; ms?: number; id?: string; name?: string };
              if (line.event === 'ready') resolve();
              if (line.event === 'lag') lags.push(line.ms as number);
              if (line.event === 'completed') completions.set(String(line.id), (completions.get(String(line.id)) ?? 0) + 1);
              if (line.event === 'failed') failedJobs++;
            });
          });
        }),
      );
    }
    const vocabulary = buildVocabulary({}, () => new SimulatedWorld(runtime!.redis, runtime!.store.prefix));
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const parsed = parsePlanDocument(planDocument(i), vocabulary);
      if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
      const result = await runtime.engine.start(parsed.plan, 'U0BENCH');
      if (!result.ok) throw new Error(`start ${i}: ${result.refusal.code}`);
      ids.push(result.state.id);
    }
    log(`  started ${count} cutovers in ${Date.now() - started} ms`);
    // Approve each go/no-go as soon as it is asked for; then watch until every cutover has ended.
    let rssPeak = 0;
    let redisPeak = 0;
    const waiting = new Set(ids);
    const approved = new Set<string>();
    for (let round = 0; waiting.size > 0; round++) {
      if (round > 600) throw new Error(`${waiting.size} cutovers did not finish within 10 minutes`);
      await new Promise((r) => setTimeout(r, approved.size < ids.length ? 200 : 1000));
      for (const id of [...waiting]) {
        const state = await runtime.store.loadState(id);
        if (!state) continue;
        if (state.phase === 'awaiting_go_no_go' && !approved.has(id)) {
          approved.add(id);
          await runtime.engine.command(id, { type: 'approve', by: 'U0BENCH' });
        }
        if (isTerminal(state.phase)) waiting.delete(id);
      }
      redisPeak = Math.max(redisPeak, Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1] ?? 0));
      rssPeak = Math.max(rssPeak, processes === 1 ? process.memoryUsage().rss : Math.max(...children.map((c) => rssOf(c.pid as number))));
      if (round % 10 === 0) log(`  ${ids.length - waiting.size}/${ids.length} finished, ${lags.length} checks so far`);
    }
    let completed = 0;
    let shiftsWrong = 0;
    for (const id of ids) {
      const state = await runtime.store.loadState(id);
      if (state?.outcome === 'completed') completed++;
      const shifts = (await new SimulatedWorld(runtime.redis, runtime.store.prefix).shifts(state!.serviceKey)).map((s) => s.percent).join(',');
      if (shifts !== '1,5,10,25,50,100') shiftsWrong++;
    }
    return {
      cutovers: count,
      processes,
      completed,
      checks: lags.length,
      lagP50Ms: percentile(lags, 50),
      lagP99Ms: percentile(lags, 99),
      lagMaxMs: Math.max(...lags),
      redisBytesPerCutover: (redisPeak - baseline) / count,
      rssPeakMb: rssPeak / 2 ** 20,
      failedJobs,
      // A deterministic job id (shift.…, check.…, preflight.…, timer.…) finished twice would be work
      // done twice. Notify and evidence jobs are deduplicated instead: a run kept behind an active one
      // is meant to run again, and schedulers (sweep, updates) repeat by design.
      jobsRunTwice: [...completions.entries()].filter(([id, n]) => n > 1 && /^(shift|check|preflight|rollback|stuck|timer|cpgates)\./.test(id)).length,
      shiftsWrong,
      wallMs: Date.now() - started,
    };
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await runtime?.close({ force: true });
    admin.disconnect();
    await server.stop();
  }
}

if (import.meta.main) {
  const processes = Number(process.argv[3] ?? 1) === 3 ? 3 : 1;
  console.log(JSON.stringify(await manyCutovers({ cutovers: Number(process.argv[2] ?? 300), processes, log: console.log }), null, 2));
}
