// docker-compose.yml reads .env and mounts ./plans: the repository ships what a fresh clone needs
// for both (.env.example documenting every variable the bot reads, without a value; a plans/
// folder), as the README tells a new user to use them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../src/config.ts';

const ROOT = resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

it('docker-compose.yml uses .env and ./plans, and the repository ships .env.example and plans/', () => {
  const compose = parse(read('docker-compose.yml'));
  expect(compose.services.bot.env_file).toEqual(['.env']);
  expect(compose.services.bot.volumes).toContain('./plans:/app/plans:ro');
  expect(existsSync(join(ROOT, '.env.example'))).toBe(true);
  expect(readdirSync(join(ROOT, 'plans')).filter((f) => f.endsWith('.yaml')).length).toBeGreaterThan(0);
  // .env holds secrets: it must never be committed.
  expect(read('.gitignore').split('\n')).toContain('.env');
  expect(read('README.md')).toContain('cp .env.example .env');
});

it('.env.example names every variable the bot reads, with a comment, and holds no value', () => {
  const lines = read('.env.example').split('\n');
  const assigned = lines.filter((l) => /^[A-Z_]+=/.test(l));
  for (const line of assigned) expect(line, 'an example holds no secret, no value at all').toMatch(/^[A-Z_]+=$/);
  const names = assigned.map((l) => l.slice(0, -1));
  expect(names).toEqual(expect.arrayContaining([...CONFIG_VARIABLES]));
  expect(CONFIG_VARIABLES.length).toBeGreaterThanOrEqual(10);
  for (const name of CONFIG_VARIABLES) {
    const at = lines.findIndex((l) => l === `${name}=`);
    expect(lines[at - 1], `${name} is explained on the line above it`).toMatch(/^# /);
  }
});
