// The package the evidence job writes carries the chart: chart.png (bytes) and chart.svg, named and
// described in SUMMARY.md, and written to disk byte for byte; built again, it is the same package.
// A train's carries one chart per target.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { evidencePackage } from '../../jobs/evidence.ts';
import { writeEvidence } from '../../src/evidence/writer.ts';
import { rolledBackCutover, TRAIN_TARGETS, wavesTrain } from '../support/recorded-cutover.ts';

it('writes chart.png and chart.svg beside the text files, referenced from SUMMARY.md, the same each time it is built', async () => {
  const input = rolledBackCutover().input;
  const files = await evidencePackage(input, { now: input.now + 3_600_000 });
  const png = files.get('chart.png');
  expect(png).toBeInstanceOf(Uint8Array);
  expect(Buffer.from(png as Uint8Array).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(String(files.get('chart.svg')).startsWith('<svg')).toBe(true);
  const summary = String(files.get('SUMMARY.md'));
  expect(summary).toContain('## Chart\n\n![Canary against stable: error rate, p95 latency, traffic share and decisions](chart.png)');
  expect(summary).toContain('Canary traffic: 0 % → 1 % → 5 % → 25 % → 0 %.');
  expect(summary).toContain('- `chart.png`, `chart.svg`: the chart above');
  // An ended cutover's chart ends where it ended: another replica, later, builds the same bytes.
  const again = await evidencePackage(input, { now: input.now + 7_200_000 });
  expect(Buffer.compare(Buffer.from(again.get('chart.png') as Uint8Array), Buffer.from(png as Uint8Array))).toBe(0);

  const root = await mkdtemp(join(tmpdir(), 'evidence-'));
  try {
    const dir = await writeEvidence(root, input.state, files);
    expect(Buffer.compare(await readFile(join(dir, 'chart.png')), Buffer.from(png as Uint8Array))).toBe(0);
    expect(await readFile(join(dir, 'SUMMARY.md'), 'utf8')).toBe(summary);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

it('a train’s package has a chart per target, chart-<target id>.png and .svg, each shown in SUMMARY.md with its words, and no chart.png', async () => {
  const input = wavesTrain().input;
  const files = await evidencePackage(input, { now: input.now + 3_600_000 });
  const charts = [...files.keys()].filter((name) => name.startsWith('chart'));
  expect(charts).toEqual(TRAIN_TARGETS.flatMap((id) => [`chart-${id}.png`, `chart-${id}.svg`]));
  const pngs = TRAIN_TARGETS.map((id) => Buffer.from(files.get(`chart-${id}.png`) as Uint8Array));
  for (const png of pngs) expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  // Three different pictures: each target's own.
  expect(new Set(pngs.map((png) => png.toString('base64'))).size).toBe(3);
  expect(String(files.get('chart-api-eu.svg'))).toContain('Cutover checkout (api-eu, target 1)');

  const summary = String(files.get('SUMMARY.md'));
  expect(summary).not.toContain('](chart.png)');
  expect(summary).toContain('## Charts, one per target');
  for (const [t, id] of TRAIN_TARGETS.entries()) {
    expect(summary).toContain(`### ${id} (target ${t})\n\n![${id} (target ${t}): canary against stable: error rate, p95 latency, traffic share and decisions](chart-${id}.png)\n\nCutover checkout (${id}, target ${t}): `);
  }
  expect(summary).toContain('Canary traffic: 0 % → 10 % → 0 %.');
  expect(summary).toContain('- `chart-api-us.png`, `chart-api-eu.png`, `chart-worker.png` (and each as `.svg`): the charts above, one per target');

  const root = await mkdtemp(join(tmpdir(), 'evidence-'));
  try {
    const dir = await writeEvidence(root, input.state, files);
    for (const [t, id] of TRAIN_TARGETS.entries()) expect(Buffer.compare(await readFile(join(dir, `chart-${id}.png`)), pngs[t]!)).toBe(0);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
