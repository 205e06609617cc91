// What the benchmarks share: a private Redis, quiet rooms and roles, plans, percentiles, and
// the results files (bench/results/).
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import type { Plan } from '../src/domain/plan.ts';
import { startRedisServer, type RedisServer } from '../src/infra/redis-server.ts';
import type { WarRoom, RoleDirectory } from '../src/ports.ts';

export const RESULTS = join(import.meta.dirname, 'results', 'latest.json');

export interface Figure {
  readonly value: number;
  readonly unit: string;
  readonly target: number | null;
  readonly met: boolean | null;
  readonly note?: string;
}

/** `below`: the value must be under the target (a latency); `at_most`: not over it (a count of errors). */
export const figure = (value: number, unit: string, target: number | null, rule: 'below' | 'at_most' | 'at_least' = 'below', note?: string): Figure => ({
  value: Math.round(value * 100) / 100,
  unit,
  target,
  met: target === null ? null : rule === 'below' ? value < target : rule === 'at_most' ? value <= target : value >= target,
  ...(note ? { note } : {}),
});

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** The environment of a benchmarked bot on `redisUrl` and the fake Slack at `apiUrl`, with its plans in `dir`. */
export const botEnv = (o: { token: string; secret: string; apiUrl: string; redisUrl: string; dir: string }): Record<string, string> => ({
  SLACK_BOT_TOKEN: o.token,
  SLACK_SIGNING_SECRET: o.secret,
  SLACK_API_URL: o.apiUrl,
  REDIS_URL: o.redisUrl,
  PLANS_DIR: o.dir,
  EVIDENCE_DIR: join(o.dir, 'evidence'),
  LOG_LEVEL: 'info', // as in production
});

export async function privateRedis(): Promise<RedisServer> {
  return startRedisServer({ dir: mkdtempSync(join(tmpdir(), 'bench-redis-')) });
}

export const quietRoom: WarRoom = {
  open: async () => ({ room: 'bench' }),
  refresh: async () => undefined,
  post: async () => undefined,
  update: async () => undefined,
};

/** Everyone may do everything: benchmarks measure the machinery, not the policy. */
export const allRoles: RoleDirectory = {
  rolesOf: async (plan: Plan) => Object.keys(plan.roles),
};

/**
 * Where a run's figures go as it runs: a file of its own, dated, named after its benchmarks. Only a
 * full run that reached its end is then copied to `latest.json` (see publishFullRun), so a partial,
 * quick or interrupted run never overwrites the full run's figures with a part of them.
 */
export function resultsFile(benchmarks: readonly string[], started = new Date()): string {
  const stamp = started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return join(dirname(RESULTS), `${stamp}-${benchmarks.join('-')}.json`);
}

/**
 * Writes every figure of this run so far to its results file (see resultsFile), with the machine,
 * when the run started and when these figures were written. The file holds this run's figures
 * only: nothing of an earlier run is kept in it.
 */
export function recordResults(figures: Record<string, Figure>, file: string, run: { started: Date; benchmarks: readonly string[] }): void {
  const results = {
    ...figures,
    benchmarks: run.benchmarks,
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform, load_average_1m: Math.round(loadavg()[0]! * 10) / 10 },
    started: run.started.toISOString(),
    date: new Date().toISOString(),
  };
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

/** A full run that reached its end: its file becomes `latest.json`, the figures the README shows. */
export function publishFullRun(file: string): void {
  copyFileSync(file, RESULTS);
}

export function print(title: string, figures: Record<string, Figure>): void {
  console.log(`\n${title}`);
  for (const [name, f] of Object.entries(figures)) {
    const target = f.target === null ? '' : `   target ${f.target} ${f.unit}: ${f.met ? 'met' : 'NOT MET'}`;
    console.log(`  ${name.padEnd(44)} ${String(f.value).padStart(10)} ${f.unit}${target}${f.note ? `   (${f.note})` : ''}`);
  }
}
