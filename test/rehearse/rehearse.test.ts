// `npm run rehearse` as a user runs it: a child process, real Redis, evidence on disk.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, HELP, parseRehearsalArgs } from '../../src/app/rehearse.ts';
import { redisUrl } from '../support/redis.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PLAN = join(ROOT, 'examples/plans/control-service.yaml');
const TIMELINE_PLAN = join(ROOT, 'examples/plans/timeline-service.yaml');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function rehearse(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'src/app/rehearse.ts'), ...args], { cwd, env: { HOME: process.env.HOME, LOG_LEVEL: 'error', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const onRedis = () => ({ REDIS_URL: redisUrl(), PATH: process.env.PATH });
const evidenceIn = (stdout: string) => /^Evidence: (.+)$/m.exec(stdout)?.[1] ?? '';
const timeline = (stdout: string) => stdout.split('\n').filter((l) => /^\+\s*[\d.]+s {2}/.test(l));
const index = (lines: readonly string[], pattern: RegExp) => lines.findIndex((l) => pattern.test(l));

/** Every file of an evidence package, by its path inside the package. */
function packageFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(path.slice(dir.length + 1), readFileSync(path, 'utf8'));
  }
  return files;
}

// Each test runs whole rehearsals as child processes: on a loaded 2-core machine one can take a
// minute, so the safety net is wider than the suite's default.
describe('npm run rehearse', { timeout: 180_000 }, () => {
  it('rehearses a healthy canary through every cohort in a few dozen lines of events, and leaves a package marked REHEARSAL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rehearse-evidence-'));
    const run = await rehearse([PLAN, '--speed', '4000', '--evidence-dir', dir], onRedis());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.completed);
    expect(run.stdout).toContain('traffic backend: SIMULATED (nothing outside this machine is called)');
    expect(run.stdout).toContain('every gate (http, command, SLO snapshot, cloud metrics, prometheus, judge) is answered by the simulation');
    for (const percent of [1, 5, 10, 25, 50, 100]) expect(run.stdout).toContain(`traffic confirmed ${percent} % canary`);
    expect(run.stdout).toContain('Outcome: completed (canary 100 %, stable 0 %)');

    // Events and one progress line per soak; no all-pass check lines (there were 110 of them, up to 382 characters).
    const lines = timeline(run.stdout);
    expect(lines.filter((l) => / check \d+: /.test(l))).toEqual([]);
    expect(lines.filter((l) => /cohort \d\/6 at \d+ %: \d+ checks? .*every gate passed every check/.test(l))).toHaveLength(6);
    expect(run.stdout.split('\n').length).toBeLessThan(80);
    expect(Math.max(...run.stdout.split('\n').map((l) => l.length))).toBeLessThan(250);
    // Time never goes backwards.
    const shown = lines.map((l) => Number(/^\+\s*([\d.]+)s/.exec(l)![1]));
    for (let i = 1; i < shown.length; i++) expect(shown[i], lines[i]).toBeGreaterThanOrEqual(shown[i - 1]!);
    // Each [rehearsal] note comes before the action it explains, in the name of a person the plan names.
    expect(index(lines, /\[rehearsal\] starting the cutover on behalf of U01RELEASE \(release-manager\)/)).toBeLessThan(index(lines, /Cutover started by U01RELEASE/));
    for (const who of ['U01RELEASE \\(release-manager\\)', 'U02OPS \\(ops-lead\\)']) {
      const note = index(lines, new RegExp(`\\[rehearsal\\] approving the go/no-go on behalf of ${who}: nobody was asked`));
      expect(note).toBeGreaterThanOrEqual(0);
      expect(note).toBeLessThan(index(lines, new RegExp(`${who} approved go/no-go`)));
    }
    expect(index(lines, /\[rehearsal\] promoting on behalf of U01RELEASE/)).toBeLessThan(index(lines, /Promoted by U01RELEASE: 1 % → 5 %/));
    expect(run.stdout).not.toContain('U0REHEARSAL');

    const evidence = evidenceIn(run.stdout);
    expect(evidence.startsWith(join(dir, 'control-service'))).toBe(true);
    const files = packageFiles(evidence);
    expect([...files.keys()]).toEqual(expect.arrayContaining(['summary.json', 'SUMMARY.md', 'gate-results.jsonl', 'cohort-results.jsonl', 'slo-results.jsonl', 'logs/audit.jsonl', 'chart.png', 'chart.svg']));
    expect(JSON.parse(files.get('summary.json')!)).toMatchObject({
      rehearsal: true,
      rehearsal_settings: { scenario: 'healthy', breach_at: null, speed: 4000, emulators: false },
      overall_status: 'completed',
      step_count: 7,
      passed: 7,
      failed: 0,
      started_by: 'U01RELEASE',
    });
    expect(files.get('SUMMARY.md')!.split('\n')[0]).toBe('# REHEARSAL, not a production cutover: control-service');
    for (const [name, content] of files) {
      if (name.endsWith('.jsonl')) for (const line of content.trim().split('\n')) expect(JSON.parse(line), name).toMatchObject({ rehearsal: true });
      if (name.endsWith('.log')) expect(content, name).toMatch(/^# REHEARSAL/);
    }
    // The chart, on the plan's clock, and its path for a newcomer to open.
    expect(run.stdout).toContain(`Chart: ${join(evidence, 'chart.png')}`);
    expect(readFileSync(join(evidence, 'chart.png')).subarray(1, 4).toString()).toBe('PNG');
    // Six 30-minute soaks: the axis reads three hours of plan time, not the seconds the rehearsal took.
    expect(readFileSync(join(evidence, 'chart.svg'), 'utf8')).toContain('minutes since T0');
    expect(readFileSync(join(evidence, 'chart.svg'), 'utf8')).toMatch(/>180<\/text>/);
    expect(readFileSync(join(evidence, 'SUMMARY.md'), 'utf8')).toContain('](chart.png)');
  });

  it('--verbose prints every gate check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rehearse-evidence-'));
    const run = await rehearse([PLAN, '--speed', '20000', '--verbose', '--evidence-dir', dir], onRedis());
    expect(run.code).toBe(EXIT.completed);
    // Each soak's checks are printed, one line each (the compact output prints none of these lines);
    // how many checks a loaded machine gets through at x20000 varies, since the cadence skips slots
    // already past, so the test counts cohorts, not checks.
    const lines = timeline(run.stdout).filter((l) => / check \d+: /.test(l));
    expect(new Set(lines.map((l) => /cohort (\d)\/6 check/.exec(l)?.[1]))).toEqual(new Set(['1', '2', '3', '4', '5', '6']));
    expect(lines.every((l) => / check \d+: slo pass/.test(l))).toBe(true);
  });

  it('rolls a bad canary back, prints the gates that changed, exits 3, and the summary gives the failing values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rehearse-evidence-'));
    const run = await rehearse([PLAN, '--scenario', 'bad-canary', '--speed', '4000', '--evidence-dir', dir], onRedis());
    expect(run.code).toBe(EXIT.rolled_back);
    expect(run.stdout).toContain('scenario:  bad-canary: the canary fails (6 % 5xx, p95 900 ms) once it serves 25 % or more (--breach-at 25, the default): first at cohort 4/6 (25 %)');
    expect(run.stdout).toMatch(/cohort 4\/6 check \d+: slo was pass, now FAIL: p95_latency_ms 900 \(<= 600\)/);
    expect(run.stdout).toMatch(/ROLLBACK \(automatic\) from 25 %: gates? .*slo/);
    expect(run.stdout).toMatch(/ESCALATION to S04MANAGERS/);
    expect(run.stdout).toContain('Outcome: rolled_back (canary 0 %, stable 100 %)');
    const evidence = evidenceIn(run.stdout);
    expect(JSON.parse(readFileSync(join(evidence, 'summary.json'), 'utf8'))).toMatchObject({ overall_status: 'rolled_back', failed: 1, rehearsal_settings: { breach_at: 25 } });
    expect(readFileSync(join(evidence, 'SUMMARY.md'), 'utf8')).toMatch(/^ {2}slo failed at 25 % \(.+\): p95_latency_ms 900 \(<= 600\)$/m);
    const step = readFileSync(join(evidence, 'logs/rollback-route-override.log'), 'utf8');
    expect(step).toContain('would call: POST https://example.test/api/v1/control/route-split/override');
    expect(step).toContain('SIMULATED: nothing was called');
  });

  it('runs hypercare at the compressed cadence: its checks are in the evidence before the rehearsal closes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rehearse-evidence-'));
    const run = await rehearse([TIMELINE_PLAN, '--speed', '20000', '--evidence-dir', dir], onRedis());
    expect(run.code, run.stderr).toBe(EXIT.completed);
    expect(run.stdout).toContain('hypercare: 3d checked every 1h -> every 180ms; the rehearsal closes it after 3 checks');
    const lines = timeline(run.stdout);
    const note = index(lines, /\[rehearsal\] closing hypercare after 3 checks on behalf of U01RELEASE \(release-manager\)/);
    expect(note).toBeGreaterThanOrEqual(0);
    expect(note).toBeLessThan(index(lines, /Hypercare ended by U01RELEASE/));
    // The rehearsal closes hypercare after its third check; on a loaded machine a fourth can land
    // while the close is on its way, so the counts are at least three, and agree with each other.
    const progress = lines[index(lines, /^.{11}hypercare: \d+ checks over/)] ?? '';
    expect(progress).toMatch(/every gate passed every check \(slo, health\)/);
    const shown = Number(/hypercare: (\d+) checks over/.exec(progress)?.[1]);
    expect(shown).toBeGreaterThanOrEqual(3);
    const hypercare = readFileSync(join(evidenceIn(run.stdout), 'gate-results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { phase: string; time: string })
      .filter((g) => g.phase === 'hypercare');
    const summary = JSON.parse(readFileSync(join(evidenceIn(run.stdout), 'summary.json'), 'utf8'));
    expect(summary.hypercare.checks).toBe(shown);
    expect(new Set(hypercare.map((g) => g.time)).size).toBeGreaterThanOrEqual(shown);
    // The pretend people act in the roles the plan gives them: the release operator starts it.
    expect(summary.started_by).toBe('U05OPERATOR');
  });

  it('two rehearsals run at once in one checkout, each on a private Redis of its own that is gone afterwards; --breach-at says when it is ignored', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rehearse-cwd-'));
    const env = { PATH: process.env.PATH, TMPDIR: join(cwd, 'tmp') };
    mkdirSync(env.TMPDIR);
    const [healthy, bad] = await Promise.all([
      rehearse([PLAN, '--speed', '20000', '--breach-at', '10', '--evidence-dir', join(cwd, 'evidence')], env, cwd),
      rehearse([PLAN, '--speed', '20000', '--scenario', 'bad-canary', '--breach-at', '10', '--evidence-dir', join(cwd, 'evidence')], env, cwd),
    ]);
    expect([healthy.code, healthy.stderr]).toEqual([EXIT.completed, '']);
    expect([bad.code, bad.stderr]).toEqual([EXIT.rolled_back, '']);
    const redisOf = (run: Run) => /redis: +a private redis-server on 127\.0\.0\.1:(\d+) for this rehearsal only \(data in (\S+), deleted at the end\)/.exec(run.stdout);
    const [a, b] = [redisOf(healthy), redisOf(bad)];
    expect(a && b).toBeTruthy();
    expect(a![1]).not.toBe(b![1]);
    expect(a![2]).not.toBe(b![2]);
    for (const dir of [a![2]!, b![2]!]) expect(existsSync(dir), dir).toBe(false);
    expect(readdirSync(env.TMPDIR)).toEqual([]);
    expect(existsSync(join(cwd, '.data'))).toBe(false);
    // The value in force, and whether the scenario uses it.
    expect(healthy.stdout).toContain('note:      --breach-at 10 has no effect: the healthy scenario does not use it (only bad-canary and slow-canary do)');
    expect(bad.stdout).toContain('(--breach-at 10): first at cohort 3/6 (10 %)');
    expect(bad.stdout).toMatch(/ROLLBACK \(automatic\) from 10 %/);
  });

  it('without REDIS_URL and without redis-server, prints one line saying how to get one, and fails', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rehearse-cwd-'));
    const run = await rehearse([PLAN], { PATH: '/nonexistent' }, cwd);
    expect(run.code).toBe(EXIT.error);
    expect(run.stderr.trim().split('\n')).toEqual([
      'rehearsal: cannot start the embedded Redis: no redis-server on PATH. Install one (apt install redis-server, brew install redis) or run `docker compose up -d redis` and set REDIS_URL=redis://127.0.0.1:6379',
    ]);
  });

  it('refuses an invalid plan with every problem and its path, no stack trace', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rehearse-cwd-'));
    const file = join(cwd, 'bad.yaml');
    writeFileSync(file, readFileSync(PLAN, 'utf8').replace('stages: [1, 5, 10, 25, 50, 100]', 'stages: [1, 5, 5, 150]').replace(/^soak: 30m/m, 'soak: half an hour'));
    const run = await rehearse([file], onRedis());
    expect(run.code).toBe(EXIT.error);
    expect(run.stderr).toContain(`rehearsal: ${file} is not a valid plan:`);
    expect(run.stderr).toContain('  stages[2]: must be greater than stages[1] (5)');
    expect(run.stderr).toContain('  stages[3]: must be between 1 and 100 (got 150)');
    expect(run.stderr).toContain('  soak: must be a duration like 90s, 10m or 1h');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('answers a bad command line with one line naming the option and the bad value, and exit code 2', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rehearse-cwd-'));
    const cases: Array<[string[], string]> = [
      [['nope.yaml'], 'rehearsal: plan nope.yaml: no such file'],
      [['examples/plans'], 'rehearsal: plan examples/plans: is a folder, not a plan file; name one of its plans, e.g. examples/plans/control-service.yaml'],
      [[PLAN, '--scenario', 'meteor'], 'rehearsal: --scenario meteor: no such scenario; one of healthy, bad-canary, slow-canary, slow-burn, subtle'],
      [[PLAN, '--breach-at', '150'], 'rehearsal: --breach-at 150: must be a whole percent of canary traffic from 1 to 100'],
      [[PLAN, '--speed', 'fast'], 'rehearsal: --speed fast: must be a number above 0 and at most 100000'],
      [[PLAN, '--bogus'], 'rehearsal: unknown option --bogus (npm run rehearse -- --help)'],
    ];
    const runs = await Promise.all(cases.map(([args]) => rehearse(args, onRedis(), args[0] === PLAN ? cwd : ROOT)));
    runs.forEach((run, i) => {
      expect(run.stderr, cases[i]![0].join(' ')).toBe(`${cases[i]![1]}\n`);
      expect(run.code).toBe(EXIT.usage);
      expect(run.stdout).toBe('');
    });
  });

  it('--help prints the options and the exit codes, and exits 0', async () => {
    const run = await rehearse(['--help'], onRedis());
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${HELP}\n`);
    expect(run.stdout).toMatch(/^exit codes:\n {2}0 +completed.*\n {2}3 +rolled back\n/m);
  });

  it('the README documents the same exit codes', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const [what, code] of Object.entries(EXIT)) expect(readme, what).toMatch(new RegExp(`^\\| \`${code}\` \\|`, 'm'));
  });
});

describe('rehearsal arguments', () => {
  it('parses and validates them, one line per problem', () => {
    expect(parseRehearsalArgs([PLAN, '--scenario', 'bad-canary', '--speed', '500'])).toMatchObject({ kind: 'run', args: { plan: PLAN, scenario: 'bad-canary', speed: 500, verbose: false } });
    expect(parseRehearsalArgs([PLAN])).toMatchObject({ kind: 'run', args: { scenario: 'healthy', speed: 1000 } });
    expect(parseRehearsalArgs([PLAN, '--verbose', '--breach-at', '10'])).toMatchObject({ kind: 'run', args: { verbose: true, breachAt: 10 } });
    expect(parseRehearsalArgs(['-h'])).toEqual({ kind: 'help' });
    for (const bad of [[], [PLAN, '--speed', 'fast'], [PLAN, '--scenario', 'meteor'], [PLAN, '--speed', '0'], [PLAN, PLAN], [PLAN, '--bogus'], [PLAN, '--breach-at', '0'], [PLAN, '--breach-at', '2.5'], [PLAN, '--scenario']]) {
      const result = parseRehearsalArgs(bad);
      expect(result.kind, bad.join(' ')).toBe('error');
      if (result.kind === 'error') expect(result.error).not.toContain('\n');
    }
  });
});
