// What users read names each runbook practice by what it is: they never had the "seed" documents
// the project was built from (docs/runbook-practices.md says what each practice is).
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { HELP } from '../templates/replies.ts';
import { HELP as REHEARSAL_HELP } from '../src/app/rehearse.ts';
import { PLANS_HELP } from '../src/app/plans.ts';

/** "seed 001", "seeds 001–004", "the seeds": the runbook documents, not a rehearsal's random seed. */
const RUNBOOK_SEED = /\bseeds?\s+0\d\d\b|\bthe seeds\b/i;

const ROOT = resolve(import.meta.dirname, '..');
const filesIn = (dir: string, ext: RegExp) => readdirSync(join(ROOT, dir)).filter((f) => ext.test(f)).map((f) => join(dir, f));

it('README, docs, plans, examples, .env.example and the help texts never speak of the seed documents', () => {
  const files = [
    'README.md',
    '.env.example',
    'docker-compose.yml',
    'manifest.yml',
    ...filesIn('docs', /\.md$/),
    ...filesIn('docs/block-kit', /\.(md|json)$/),
    ...filesIn('examples/plans', /\.ya?ml$/),
    ...filesIn('plans', /\.ya?ml$/),
  ];
  expect(files.length).toBeGreaterThan(15);
  const mentions = files.flatMap((file) =>
    readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      // The rehearsal's random seed (--seed, "seed 1") is a different word: only the runbook documents' name is barred.
      .flatMap((line, i) => (RUNBOOK_SEED.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );
  expect(mentions).toEqual([]);
  for (const text of [HELP, REHEARSAL_HELP, PLANS_HELP]) expect(text).not.toMatch(RUNBOOK_SEED);
  expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('docs/runbook-practices.md');
});
