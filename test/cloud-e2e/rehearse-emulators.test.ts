// `npm run rehearse -- examples/plans/control-service.yaml --emulators` as a user runs it: a child
// process that starts the fake Google APIs itself, drives the real Cloud Run adapter and measures
// the cloud_monitoring gates through the official client, on the test run's Redis.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl } from '../support/redis.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PLAN = 'examples/plans/control-service.yaml';
// x3000: each 30-minute soak takes 0.6 s, a check every 20 ms; the whole plan runs in a few seconds.
const SPEED = '3000';

let evidenceDir: string;
beforeAll(async () => {
  evidenceDir = await mkdtemp(join(tmpdir(), 'cutover-rehearse-emulators-'));
});
afterAll(async () => {
  await rm(evidenceDir, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function rehearse(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/app/rehearse.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redisUrl(), LOG_LEVEL: 'warn', METADATA_SERVER_DETECTION: 'none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A line of the evidence package's gate-results.jsonl. */
interface GateLine {
  readonly phase: 'preflight' | 'checkpoint' | 'stage' | 'hypercare';
  readonly percent: number;
  readonly gate: string;
  readonly kind: string;
  readonly value: unknown;
  readonly threshold: unknown;
  readonly outcome: string;
  readonly note?: string;
}

async function evidenceOf(run: Run): Promise<{ path: string; gates: GateLine[]; summary: Record<string, unknown> }> {
  const path = /^Evidence: (.+)$/m.exec(run.stdout)?.[1];
  expect(path, run.stdout + run.stderr).toBeDefined();
  expect((await stat(path!)).isDirectory()).toBe(true);
  const lines = (await readFile(join(path!, 'gate-results.jsonl'), 'utf8')).trim().split('\n');
  const summary = JSON.parse(await readFile(join(path!, 'summary.json'), 'utf8')) as Record<string, unknown>;
  return { path: path!, gates: lines.map((l) => JSON.parse(l) as GateLine), summary };
}

// Each test runs whole rehearsals as child processes: on a loaded 2-core machine one can take a
// minute, so the safety net is wider than the suite's default.
describe('npm run rehearse -- <plan> --emulators', { timeout: 180_000 }, () => {
  it('healthy: the real Cloud Run adapter takes the fake service to 100 %, cloud gates measured for real', async () => {
    const run = await rehearse(PLAN, '--emulators', '--speed', SPEED, '--evidence-dir', evidenceDir);
    expect(run.code, run.stderr).toBe(0);
    // The header says what is real and what is simulated.
    expect(run.stdout).toMatch(/traffic backend: the REAL Cloud Run adapter \(official client\), against a local fake Cloud Run Admin API at 127\.0\.0\.1:\d+/);
    expect(run.stdout).toContain('measured:  five-xx (cloud_monitoring), p95-regression (cloud_monitoring): the REAL gate adapters');
    expect(run.stdout).toContain('simulated: G1 (command), health (http), slo (slo_snapshot), cohort-probe (http), rollback-drill (command), route-override (http)');
    expect(run.stdout).toContain('Outcome: completed (canary 100 %, stable 0 %)');

    const { gates, summary } = await evidenceOf(run);
    expect(summary).toMatchObject({ overall_status: 'completed', final_traffic: { canary: 100, stable: 0 } });
    // The preflight's backend check read the fake Cloud Run; the Monitoring gates carry no
    // "simulated" note, while the slo gate (no emulator for it) does.
    expect(gates.find((g) => g.gate === 'traffic-backend')).toMatchObject({ outcome: 'pass', value: { canary_revision: 'control-00011-def', canary_ready: 'ready' } });
    const measured = gates.filter((g) => g.gate === 'five-xx' || g.gate === 'p95-regression');
    expect(measured.length).toBeGreaterThan(6);
    expect(measured.every((g) => g.kind === 'cloud_monitoring' && g.note !== 'simulated' && g.outcome === 'pass')).toBe(true);
    expect(gates.filter((g) => g.gate === 'slo').every((g) => g.note === 'simulated')).toBe(true);
    expect(new Set(gates.filter((g) => g.phase === 'stage').map((g) => g.percent))).toEqual(new Set([1, 5, 10, 25, 50, 100]));
  });

  it('bad-canary: the measured p95 regression at 25 % rolls back through the real adapter', async () => {
    const run = await rehearse(PLAN, '--emulators', '--speed', SPEED, '--scenario', 'bad-canary', '--evidence-dir', evidenceDir);
    // 3: rolled back, so a CI job gating on the rehearsal stops here.
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toContain('Rolled back: 100 % on stable, verified');
    expect(run.stdout).toContain('Outcome: rolled_back (canary 0 %, stable 100 %)');

    const { gates, summary } = await evidenceOf(run);
    expect(summary).toMatchObject({ overall_status: 'rolled_back', final_traffic: { canary: 0, stable: 100 } });
    // p95 900 ms against stable's 180 ms, measured through the official Monitoring client.
    const failed = gates.find((g) => g.gate === 'p95-regression' && g.outcome === 'fail');
    expect(failed).toMatchObject({ percent: 25, value: { p95_latency_ms: 900, stable_p95_latency_ms: 180, p95_regression: 4 } });
    expect(failed?.note).toBeUndefined();
    expect(gates.some((g) => g.outcome === 'fail' && g.percent < 25)).toBe(false);
    // The simulated gates follow the split the real adapter confirmed (mirrored into the simulation).
    expect(gates.find((g) => g.gate === 'slo' && g.outcome === 'fail')).toMatchObject({ percent: 25, note: 'simulated' });
  });

  it('refuses a plan that is not on Cloud Run: nothing to emulate, and nothing real may be reached', async () => {
    const run = await rehearse('examples/plans/simulated-service.yaml', '--emulators', '--evidence-dir', evidenceDir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--emulators emulates Google Cloud (Cloud Run, Cloud Logging, Cloud Monitoring): plan simulated-service is on simulated');
  });
});
