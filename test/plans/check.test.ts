// Plans checked without starting a cutover (`npm run plans -- check`), judged as the bot judges
// them; and every plan this repository ships (plans/, examples/plans/) passes that check.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloudAdapters } from '../../src/app/adapters.ts';
import { buildVocabulary } from '../../src/app/runtime.ts';
import { checkPlans } from '../../src/plans/check.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const vocabulary = buildVocabulary(cloudAdapters({}, { emulators: false }), () => {
  throw new Error('no simulated world while checking plans');
});

function plansCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'src/app/plans.ts'), ...args], { cwd: options.cwd ?? ROOT, env: { PATH: process.env.PATH, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('the plans this repository ships', () => {
  it('every plan in plans/ and examples/plans/ is valid, as the bot would load it', async () => {
    const checks = await checkPlans([join(ROOT, 'plans'), join(ROOT, 'examples/plans')], vocabulary);
    expect(checks.filter((c) => c.planFile).length).toBeGreaterThanOrEqual(4);
    expect(checks.filter((c) => c.problems.length).map((c) => `${c.file}: ${c.problems.join('; ')}`)).toEqual([]);
    // plans/ is what docker-compose.yml mounts: its plan is safe to try (nothing real is called).
    expect(checks.filter((c) => c.file.startsWith(join(ROOT, 'plans'))).map((c) => c.plan?.service.platform)).toEqual(['simulated']);
  });
});

describe('npm run plans -- check', () => {
  it('checks a folder: one ok line per valid plan, one line per problem of each invalid one, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plans-check-'));
    writeFileSync(join(dir, 'good.yaml'), readFileSync(join(ROOT, 'plans/try-simulated.yaml'), 'utf8').replace('name: try-simulated', 'name: good'));
    writeFileSync(
      join(dir, 'bad.yaml'),
      readFileSync(join(ROOT, 'plans/try-simulated.yaml'), 'utf8').replace('name: try-simulated', 'name: bad').replace('stages: [10, 50, 100]', 'stages: [10, 5, 100]').replace('soak: 2m', 'soak: soon'),
    );
    writeFileSync(join(dir, 'other-name.yaml'), readFileSync(join(ROOT, 'plans/try-simulated.yaml'), 'utf8'));
    const run = await plansCli(['check', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toEqual([
      `INVALID  ${join(dir, 'bad.yaml')}: stages[1]: must be greater than stages[0] (10)`,
      `INVALID  ${join(dir, 'bad.yaml')}: soak: must be a duration like 90s, 10m or 1h`,
      `ok       ${join(dir, 'good.yaml')}: good, simulated demo-service, cohorts 10 % → 50 % → 100 %`,
      `INVALID  ${join(dir, 'other-name.yaml')}: name: the plan in other-name.yaml is called "try-simulated"; a plan's name must match its file name`,
      '3 plans checked: 1 valid, 2 invalid',
    ]);
  });

  it('exits 0 when every plan is valid, and checks named files', async () => {
    const run = await plansCli(['check', 'examples/plans/control-service.yaml', 'plans']);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toContain('ok       examples/plans/control-service.yaml: control-service, cloud-run openagents-control-service');
    expect(run.stdout).toContain('ok       plans/try-simulated.yaml: try-simulated');
    expect(run.stdout.trim().split('\n').at(-1)).toBe('2 plans checked: 2 valid, 0 invalid');
  });

  it('with no path checks PLANS_DIR, else ./plans, and names the folder it looked in when it is not there', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'plans-cwd-'));
    const missing = await plansCli(['check'], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('PROBLEM  plans: no such file or folder');
    expect(missing.stdout).toContain('PLANS_DIR is not set, so the bot reads ./plans');
    mkdirSync(join(cwd, 'mine'));
    writeFileSync(join(cwd, 'mine', 'try-simulated.yaml'), readFileSync(join(ROOT, 'plans/try-simulated.yaml')));
    const set = await plansCli(['check'], { cwd, env: { PLANS_DIR: 'mine' } });
    expect([set.code, set.stdout.trim().split('\n').at(-1)]).toEqual([0, '1 plan checked: 1 valid, 0 invalid']);
  });

  it('a wrong command line is one line on stderr and exit 2', async () => {
    const run = await plansCli(['lint']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('plans: unknown command lint; the one there is: npm run plans -- check [FOLDER|FILE …]\n');
  });
});
