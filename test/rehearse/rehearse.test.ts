// `npm run rehearse` as a user runs it: a child process, real Redis, evidence on disk.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRehearsalArgs } from '../../src/app/rehearse.ts';
import { redisUrl } from '../support/redis.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PLAN = join(ROOT, 'examples/plans/control-service.yaml');

function rehearse(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'src/app/rehearse.ts'), ...args], { cwd, env: { HOME: process.env.HOME, LOG_LEVEL: 'error', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const evidenceIn = (stdout: string) => /^Evidence: (.+)$/m.exec(stdout)?.[1] ?? '';

describe('npm run rehearse', () => {
  it('rehearses a healthy canary through every cohort, says what was simulated, and leaves the evidence package', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rehearse-evidence-'));
    const run = await rehearse([PLAN, '--speed', '4000', '--evidence-dir', dir], { REDIS_URL: redisUrl(), PATH: process.env.PATH });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('traffic backend: SIMULATED (nothing outside this machine is called)');
    expect(run.stdout).toContain('every gate (http, command, SLO snapshot, cloud metrics) is answered by the simulation');
    expect(run.stdout).toMatch(/auto-approved the go\/no-go on behalf of U01RELEASE \(release-manager\) \[rehearsal: nobody was asked\]/);
    for (const percent of [1, 5, 10, 25, 50, 100]) expect(run.stdout).toContain(`traffic confirmed ${percent} % canary`);
    expect(run.stdout).toContain('Outcome: completed (canary 100 %, stable 0 %)');
    const evidence = evidenceIn(run.stdout);
    expect(evidence.startsWith(join(dir, 'control-service'))).toBe(true);
    expect(readdirSync(evidence)).toEqual(expect.arrayContaining(['summary.json', 'SUMMARY.md', 'gate-results.jsonl', 'cohort-results.jsonl', 'logs']));
    expect(JSON.parse(readFileSync(join(evidence, 'summary.json'), 'utf8'))).toMatchObject({ overall_status: 'passed', step_count: 7, passed: 7, failed: 0 });
    // The chart, on the plan's clock, and its path for a newcomer to open.
    expect(run.stdout).toContain(`Chart: ${join(evidence, 'chart.png')}`);
    expect(readFileSync(join(evidence, 'chart.png')).subarray(1, 4).toString()).toBe('PNG');
    // Six 30-minute soaks: the axis reads three hours of plan time, not the seconds the rehearsal took.
    expect(readFileSync(join(evidence, 'chart.svg'), 'utf8')).toContain('minutes since T0');
    expect(readFileSync(join(evidence, 'chart.svg'), 'utf8')).toMatch(/>180<\/text>/);
    expect(readFileSync(join(evidence, 'SUMMARY.md'), 'utf8')).toContain('](chart.png)');
  });

  it('rolls a bad canary back automatically and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rehearse-evidence-'));
    const run = await rehearse([PLAN, '--scenario', 'bad-canary', '--speed', '4000', '--evidence-dir', dir], { REDIS_URL: redisUrl(), PATH: process.env.PATH });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ROLLBACK \(automatic\) from 25 %: gates? .*slo/);
    expect(run.stdout).toMatch(/ESCALATION to S04MANAGERS/);
    expect(run.stdout).toContain('Outcome: rolled_back (canary 0 %, stable 100 %)');
    expect(JSON.parse(readFileSync(join(evidenceIn(run.stdout), 'summary.json'), 'utf8'))).toMatchObject({ overall_status: 'rolled_back', failed: 1 });
  });

  it('without REDIS_URL, starts a private redis-server under .data/ and stops it on exit', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rehearse-cwd-'));
    const run = await rehearse([PLAN, '--speed', '20000', '--evidence-dir', join(cwd, 'evidence')], { PATH: process.env.PATH }, cwd);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/redis: +embedded redis-server on 127\.0\.0\.1:\d+ \(data in .*\.data\/redis, append-only\)/);
    expect(readdirSync(join(cwd, '.data/redis'))).toEqual(expect.arrayContaining(['appendonlydir']));
    expect(existsSync(join(cwd, '.data/redis/owner.json'))).toBe(false); // stopped and released
  });

  it('without REDIS_URL and without redis-server, prints one line saying how to get one, and fails', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rehearse-cwd-'));
    const run = await rehearse([PLAN], { PATH: '/nonexistent' }, cwd);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toEqual([
      'rehearsal: cannot start the embedded Redis: no redis-server on PATH. Install one (apt install redis-server, brew install redis) or run `docker compose up -d redis` and set REDIS_URL=redis://127.0.0.1:6379',
    ]);
  });

  it('refuses an invalid plan with every problem and its path, no stack trace', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rehearse-cwd-'));
    const file = join(cwd, 'bad.yaml');
    writeFileSync(file, readFileSync(PLAN, 'utf8').replace('stages: [1, 5, 10, 25, 50, 100]', 'stages: [1, 5, 5, 150]').replace(/^soak: 30m/m, 'soak: half an hour'));
    const run = await rehearse([file], { REDIS_URL: redisUrl(), PATH: process.env.PATH });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`rehearsal: ${file} is not a valid plan:`);
    expect(run.stderr).toContain('  stages[2]: must be greater than stages[1] (5)');
    expect(run.stderr).toContain('  stages[3]: must be between 1 and 100 (got 150)');
    expect(run.stderr).toContain('  soak: must be a duration like 90s, 10m or 1h');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('rehearsal arguments', () => {
  it('parses and validates them with a usage line on error', () => {
    expect(parseRehearsalArgs([PLAN, '--scenario', 'bad-canary', '--speed', '500'])).toMatchObject({ ok: true, args: { plan: PLAN, scenario: 'bad-canary', speed: 500 } });
    expect(parseRehearsalArgs([PLAN])).toMatchObject({ ok: true, args: { scenario: 'healthy', speed: 1000 } });
    for (const bad of [[], [PLAN, '--speed', 'fast'], [PLAN, '--scenario', 'meteor'], [PLAN, '--speed', '0'], [PLAN, PLAN], [PLAN, '--bogus']]) {
      const result = parseRehearsalArgs(bad);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatch(/usage: npm run rehearse -- <plan\.yaml>/);
    }
  });
});
