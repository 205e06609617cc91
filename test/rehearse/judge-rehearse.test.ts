// `npm run rehearse` with the judge: the simulated traffic is random but seeded, a subtle canary
// (twice stable's errors, inside every threshold) is rolled back by the judge naming its figures,
// a healthy one goes through every cohort, and the evidence keeps the judge's trajectory.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, parseRehearsalArgs } from '../../src/app/rehearse.ts';
import { redisUrl } from '../support/redis.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PLAN = join(ROOT, 'examples/plans/judged-service.yaml');

function rehearse(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'src/app/rehearse.ts'), ...args], { cwd: ROOT, env: { HOME: process.env.HOME, PATH: process.env.PATH, LOG_LEVEL: 'error', REDIS_URL: redisUrl() } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const evidenceIn = (stdout: string) => /^Evidence: (.+)$/m.exec(stdout)?.[1] ?? '';
const judgeLines = (dir: string) =>
  readFileSync(join(dir, 'gate-results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { gate: string; outcome: string; judge?: { decision: string; evidence: number; needed: number; reason?: string } })
    .filter((r) => r.judge);

// Each test runs whole rehearsals as child processes: on a loaded 2-core machine one can take a
// minute, so the safety net is wider than the suite's default.
describe('rehearsing a judged plan', { timeout: 180_000 }, () => {
  it('the judge rolls back a subtle canary (2× stable\'s errors, within every threshold) and names the figures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rehearse-judge-'));
    const run = await rehearse([PLAN, '--scenario', 'subtle', '--seed', '1', '--speed', '4000', '--evidence-dir', dir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.rolled_back);
    expect(run.stdout).toContain('judges:    errors-vs-stable (error_rate, α 0.5 %), latency-vs-stable (latency, α 0.5 %) count simulated requests drawn at random from seed 1 (replay: --seed 1)');
    expect(run.stdout).toMatch(/ROLLBACK \(automatic\) from \d+ %: gate errors-vs-stable failed at \d+ %: errors: canary [\d.]+ % \([\d,]+ of [\d,]+\) vs stable 0\.1 % \([\d,]+ of [\d,]+\): evidence [\d,.e+]+, past the 200 needed: roll back/);
    expect(run.stdout).toContain('Outcome: rolled_back (canary 0 %, stable 100 %)');
    const evidence = evidenceIn(run.stdout);
    const trail = judgeLines(evidence).filter((r) => r.gate === 'errors-vs-stable');
    expect(trail.at(-1)).toMatchObject({ outcome: 'fail', judge: { decision: 'rollback', needed: 200 } });
    expect(trail.at(-1)!.judge!.evidence).toBeGreaterThanOrEqual(200);
    expect(trail.slice(0, -1).every((r) => r.judge!.evidence < 200)).toBe(true);
    const summary = readFileSync(join(evidence, 'SUMMARY.md'), 'utf8');
    expect(summary).toContain('## Canary judges');
    expect(summary).toContain('### errors-vs-stable (error_rate, α 0.5 %: rolls back at evidence 200; aimed at 2× stable\'s error rate; guard max 5 %)');
    expect(summary).toMatch(/\| rollback \| [\d,.e+]+ \/ 200 \|/);
    expect(JSON.parse(readFileSync(join(evidence, 'summary.json'), 'utf8')).judges).toMatchObject([
      { gate: 'errors-vs-stable', metric: 'error_rate', alpha: 0.005, false_rollback_budget: 0.01, decision: 'rollback', needed: 200 },
      { gate: 'latency-vs-stable', metric: 'latency', alpha: 0.005 },
    ]);
  });

  it('a healthy canary goes through every cohort; at 100 % the judge says it stands aside', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rehearse-judge-'));
    // --verbose: every check's reading, the 100 % ones among them.
    const run = await rehearse([PLAN, '--scenario', 'healthy', '--seed', '1', '--speed', '4000', '--verbose', '--evidence-dir', dir]);
    expect(run.code).toBe(EXIT.completed);
    expect(run.stdout).toContain('Outcome: completed (canary 100 %, stable 0 %)');
    expect(run.stdout).toContain('errors-vs-stable errors: inconclusive, stable served no requests in this check (the 100 % stage): nothing to compare the canary with');
    expect(run.stdout).toContain('(not a pass; at 100 % the judge stands aside: the other gates and the guards decide this cohort)');
    const lines = judgeLines(evidenceIn(run.stdout));
    expect(lines.some((r) => r.judge!.decision === 'continue')).toBe(true);
    expect(lines.every((r) => r.outcome !== 'fail' && r.judge!.evidence < 200)).toBe(true);
  });

  it('takes --seed, and names what it refuses', () => {
    expect(parseRehearsalArgs([PLAN, '--scenario', 'subtle', '--seed', '42'])).toMatchObject({ kind: 'run', args: { scenario: 'subtle', seed: 42 } });
    const unseeded = parseRehearsalArgs([PLAN]);
    expect(unseeded.kind === 'run' && unseeded.args.seed).toBeUndefined();
    expect(parseRehearsalArgs([PLAN, '--seed', 'lucky'])).toEqual({ kind: 'error', error: `--seed lucky: must be a whole number from 0 to ${2 ** 32 - 1}` });
  });
});
