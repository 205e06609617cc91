// How many Redis commands one stage-gate check costs, all included: the delayed check job's
// BullMQ life cycle, loading the state, the atomic commit, dispatching the next check, and the
// war room's notification of the result. Measured with INFO commandstats on a private Redis.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer } from '../src/infra/redis-server.ts';
import { parsePlanText } from '../src/plans/parse.ts';
import type { WarRoom } from '../src/ports.ts';
import { RehearsalRoles } from '../src/app/rehearsal/driver.ts';
import { SimulatedWorld } from '../src/sim/world.ts';
import { buildVocabulary, createRuntime } from '../src/app/runtime.ts';
import { readFileSync } from 'node:fs';
import { compressPlan } from '../src/app/rehearsal/compress.ts';
import { silentLogger } from '../test/support/log.ts';

export interface CheckCost {
  readonly checks: number;
  readonly commandsPerCheck: number;
  /** Round trips that are Lua scripts (BullMQ's and ours); commandstats also counts what runs inside them. */
  readonly scriptCallsPerCheck: number;
  readonly byCommand: Record<string, number>;
}

function commandStats(info: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) stats.set(m[1] as string, Number(m[2]));
  }
  return stats;
}

export async function measureGateCheckCost(checks = 200): Promise<CheckCost> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const server = await startRedisServer({ dir });
  const admin = new Redis(server.url);
  const room: WarRoom = { open: async () => ({}), refresh: async () => undefined, post: async () => undefined, update: async () => undefined };
  const runtime = await createRuntime({ redisUrl: server.url, room, roles: new RehearsalRoles(), log: silentLogger(), evidenceRoot: join(dir, 'evidence'), sweepEveryMs: 60_000 });
  try {
    const text = readFileSync(join(import.meta.dirname, '../examples/plans/simulated-service.yaml'), 'utf8').replace('soak: 30m', 'soak: 24h');
    const parsed = parsePlanText(text, buildVocabulary({}, () => new SimulatedWorld(runtime.redis, runtime.store.prefix)));
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    // One check every 100 ms of a day-long soak: nothing but checks happens while we count.
    const plan = compressPlan(parsed.plan, 600);
    const started = await runtime.engine.start(plan, 'U01RELEASE');
    if (!started.ok) throw new Error(started.refusal.code);
    const id = started.state.id;
    for (;;) {
      const state = await runtime.store.loadState(id);
      if (state?.phase === 'awaiting_go_no_go') break;
      if (state?.phase === 'preflight') await new Promise((r) => setTimeout(r, 20));
    }
    await runtime.engine.command(id, { type: 'approve', by: 'U01RELEASE' });
    await runtime.engine.command(id, { type: 'approve', by: 'U02OPS' });
    const seqAt = async () => (await runtime.store.loadState(id))?.monitor?.seq ?? 0;
    while ((await seqAt()) < 3) await new Promise((r) => setTimeout(r, 20));
    const from = await seqAt();
    await admin.config('RESETSTAT');
    // A plain wait: this loop must not add commands of its own to what is counted.
    await new Promise((r) => setTimeout(r, checks * plan.checkEveryMs));
    const stats = commandStats(await admin.info('commandstats'));
    const ours = new Set(['info', 'config', 'config|resetstat']);
    const total = [...stats.entries()].filter(([c]) => !ours.has(c)).reduce((sum, [, n]) => sum + n, 0);
    const done = (await seqAt()) - from;
    return {
      checks: done,
      commandsPerCheck: total / done,
      scriptCallsPerCheck: (stats.get('evalsha') ?? 0) / done,
      byCommand: Object.fromEntries([...stats.entries()].filter(([c]) => !ours.has(c)).map(([c, n]) => [c, Math.round((n / done) * 100) / 100])),
    };
  } finally {
    await runtime.close({ force: true });
    admin.disconnect();
    await server.stop();
  }
}

if (import.meta.main) {
  const cost = await measureGateCheckCost(Number(process.argv[2] ?? 200));
  console.log(JSON.stringify(cost, null, 2));
}
