// `npm run rehearse` of a train, as a user runs it: the example plans in both strategies, with one
// region going bad, in a child process with real Redis and evidence on disk.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redisUrl } from '../support/redis.ts';
import { EXIT } from '../../src/app/rehearse.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const LOCKSTEP = join(ROOT, 'examples/plans/multi-region.yaml');
const WAVES = join(ROOT, 'examples/plans/multi-region-waves.yaml');
const DROP = join(ROOT, 'examples/plans/multi-region-drop.yaml');

function rehearse(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'src/app/rehearse.ts'), ...args], {
      cwd: ROOT,
      env: { HOME: process.env.HOME, LOG_LEVEL: 'error', REDIS_URL: redisUrl(), PATH: process.env.PATH },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const evidenceIn = (stdout: string) => /^Evidence: (.+)$/m.exec(stdout)?.[1] ?? '';

// Each test runs whole rehearsals as child processes: on a loaded 2-core machine one can take a
// minute, so the safety net is wider than the suite's default.
describe('rehearsing a train', { timeout: 180_000 }, () => {
  it('lockstep with Europe going bad: every target rolls back together, each one listed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rehearse-train-'));
    const run = await rehearse([LOCKSTEP, '--scenario', 'bad-canary', '--target', '1', '--speed', '4000', '--evidence-dir', dir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.rolled_back);
    expect(run.stdout).toContain('train:     3 targets in lockstep');
    expect(run.stdout).toContain('scenario:  bad-canary (target 1, api-europe-west1, only; the others are healthy)');
    expect(run.stdout).toContain('api-europe-west1 (cloud-run europe-west1 api): 5 % canary, verified');
    expect(run.stdout).toMatch(/ROLLBACK \(automatic\) from 25 %: gates? [^\n]*@api-europe-west1/);
    expect(run.stdout).not.toMatch(/ROLLBACK[^\n]*@api-us-central1/);
    for (const id of ['api-us-central1 (cloud-run us-central1 api)', 'api-europe-west1 (cloud-run europe-west1 api)', 'worker-us-central1 (cloud-run us-central1 worker)']) {
      expect(run.stdout).toContain(`${id}: stable 100 %, verified`);
    }
    expect(run.stdout).toContain('Outcome: rolled_back (canary 0 %, stable 100 %)');
    const evidence = evidenceIn(run.stdout);
    const summary = JSON.parse(readFileSync(join(evidence, 'summary.json'), 'utf8'));
    expect(summary.targets.map((t: { id: string; final_split: { canary: number } }) => [t.id, t.final_split.canary])).toEqual([
      ['api-us-central1', 0],
      ['api-europe-west1', 0],
      ['worker-us-central1', 0],
    ]);
    const rows = readFileSync(join(evidence, 'cohort-results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.filter((r) => r.soak_result === 'failed').map((r) => r.target)).toEqual(['api-europe-west1']);
    // A chart per target, each path printed, each a PNG.
    for (const id of ['api-us-central1', 'api-europe-west1', 'worker-us-central1']) {
      expect(run.stdout).toContain(`Chart: ${join(evidence, `chart-${id}.png`)}`);
      expect(readFileSync(join(evidence, `chart-${id}.png`)).subarray(1, 4).toString()).toBe('PNG');
    }
    expect(run.stdout).not.toContain(`Chart: ${join(evidence, 'chart.png')}`);
  });

  it('waves with Europe going bad: the US wave reaches 100 %, Europe’s wave fails, and all of it rolls back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rehearse-train-'));
    const run = await rehearse([WAVES, '--scenario', 'bad-canary', '--target', '1', '--speed', '4000', '--evidence-dir', dir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.rolled_back);
    expect(run.stdout).toContain('wave 1: api-us-central1, worker-us-central1; wave 2: api-europe-west1');
    expect(run.stdout).toContain('cohort 5/10 (wave 1 of 2): traffic confirmed 100 % canary');
    expect(run.stdout).toContain('cohort 6/10 (wave 2 of 2): traffic confirmed 1 % canary');
    expect(run.stdout).toMatch(/ROLLBACK \(automatic\) from 25 %: gates? [^\n]*@api-europe-west1/);
    expect(run.stdout).toContain('api-us-central1 (cloud-run us-central1 api, wave 1): stable 100 %, verified');
    expect(run.stdout).toContain('Outcome: rolled_back (canary 0 %, stable 100 %)');
  });

  it('waves with rollback: target and Europe going bad: Europe alone is dropped and goes back, the others complete', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rehearse-train-'));
    const run = await rehearse([DROP, '--scenario', 'bad-canary', '--target', '1', '--speed', '4000', '--evidence-dir', dir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.completed);
    expect(run.stdout).toMatch(/api-europe-west1 DROPPED \(automatic\): gates? [^\n]*@api-europe-west1 failed at 25 %/);
    expect(run.stdout).not.toContain('ROLLBACK');
    expect(run.stdout).toContain('api-europe-west1 is back on stable, verified');
    expect(run.stdout).toContain('cohort 7/9 (wave 3 of 3): traffic confirmed 5 % canary');
    expect(run.stdout).toContain('Outcome: completed, 1 of 3 targets dropped (api-europe-west1: back to stable) (canary 100 % on the others)');
    const evidence = evidenceIn(run.stdout);
    const summary = JSON.parse(readFileSync(join(evidence, 'summary.json'), 'utf8'));
    expect(summary.targets.map((t: { id: string; final_split: { canary: number } }) => [t.id, t.final_split.canary])).toEqual([
      ['api-us-central1', 100],
      ['api-europe-west1', 0],
      ['worker-us-central1', 100],
    ]);
    expect(summary.dropped_targets).toEqual([expect.objectContaining({ target: 'api-europe-west1', trigger: 'gate', back_on_stable: true })]);
    // Its own drain step ran for it alone; the whole-train route override did not.
    const audit = readFileSync(join(evidence, 'logs/audit.jsonl'), 'utf8');
    expect(audit).toContain('"kind":"target_back","target":1,"steps":[{"step":"drain@api-europe-west1"');
  });

  it('--target and --strategy apply to trains, and name a target that exists', async () => {
    const single = await rehearse([join(ROOT, 'examples/plans/control-service.yaml'), '--target', '1']);
    expect(single.code).toBe(EXIT.usage);
    expect(single.stderr).toContain('--target and --strategy apply to a train (a plan with targets:): control-service moves one service');
    const outOfRange = await rehearse([LOCKSTEP, '--target', '3']);
    expect(outOfRange.code).toBe(EXIT.usage);
    expect(outOfRange.stderr).toContain('--target 3: plan multi-region has targets 0 to 2 (0 api-us-central1, 1 api-europe-west1, 2 worker-us-central1)');
  });
});
