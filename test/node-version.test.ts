// On a Node older than 24 a .ts entry file cannot even be loaded (ERR_UNKNOWN_FILE_EXTENSION after
// a screen of engine warnings): every npm script that runs TypeScript checks the version first,
// in plain JavaScript, and says what is wrong in one line.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const CHECK = join(ROOT, 'scripts/check-node.mjs');
/** The machine's own Node (20 here): what a user who skipped the prerequisites runs. */
const OLD_NODE = '/usr/bin/node';
const oldMajor = existsSync(OLD_NODE) ? Number(spawnSync(OLD_NODE, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout.trim()) : NaN;

describe('the Node version check', () => {
  it('passes silently on this Node', () => {
    const run = spawnSync(process.execPath, [CHECK], { encoding: 'utf8' });
    expect([run.status, run.stdout, run.stderr]).toEqual([0, '', '']);
  });

  it('on an older Node prints one line naming both versions and exits 1', () => {
    expect(oldMajor, `${OLD_NODE} must be a Node older than 24 for this test`).toBeLessThan(24);
    const run = spawnSync(OLD_NODE, [CHECK], { encoding: 'utf8' });
    const version = spawnSync(OLD_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`cutover-bot needs Node 24 or newer; this is ${version}\n`);
  });

  it('npm run rehearse on an older Node stops at the check, before any TypeScript is loaded', () => {
    // npm itself runs on the old Node here, and so does every `node` of the script.
    const run = spawnSync('npm', ['run', '--silent', 'rehearse', '--', 'examples/plans/control-service.yaml'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { HOME: process.env.HOME, PATH: '/usr/bin:/bin' },
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('cutover-bot needs Node 24 or newer; this is ');
    expect(run.stderr).not.toContain('ERR_UNKNOWN_FILE_EXTENSION');
  });

  it('runs first in every script that loads TypeScript', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const name of ['start', 'rehearse', 'plans', 'test', 'schema', 'bench']) expect(scripts[name], name).toMatch(/^node scripts\/check-node\.mjs && /);
  });
});
