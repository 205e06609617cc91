// A bot-driven cutover against the fake Slack: the chart is posted into the card's thread with the
// update and at each promotion, attached to the closing message, and carried by the evidence
// package, each time as a PNG with the same in words.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { evidenceDir } from '../../src/evidence/writer.ts';
import { OPS, RM2, WAR_ROOM, cardOf, openRoom, quickPlan, startedId, waitForButton, type Room } from './harness.ts';
import type { FakeFile } from '../fakes/slack-api.ts';

let room: Room;

beforeAll(async () => {
  room = await openRoom({
    charted: quickPlan('charted', (doc) => {
      doc.stages = [10, 100];
      doc.soak = '3s';
      // Every moment charted: this test is about where charts go, not how often (chart-gap.test.ts).
      doc.updates = { every: '2s', chart_gap: '0s' };
      doc.approvals.go_no_go = { roles: ['release-manager', 'ops-lead'], min: 1 };
    }),
  });
});

afterAll(async () => {
  await room?.close();
});

const isChart = (f: FakeFile) => f.completed && /^chart-.*\.png$/.test(f.filename);

it('posts the chart with the update, at the promotion, with the closing message and in the evidence package', async () => {
  const { fake } = room;
  const id = startedId(await room.slash('/cutover', 'start charted'));
  const approve = await waitForButton(fake, id, 'approve');
  await room.click('approve', approve.value, { user: OPS });
  const promote = await waitForButton(fake, id, 'promote', approve.seq, 20_000);
  await room.click('promote', promote.value, { user: RM2 });
  const closing = await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes('Cutover charted completed')), { timeoutMs: 30_000 });
  const card = cardOf(fake, id)!;

  // At the promotion and with the 30-minute update (every 2 s here): into the card's thread.
  const inThread = fake.files.filter((f) => isChart(f) && f.thread_ts === card.ts);
  const comments = inThread.map((f) => f.initial_comment ?? '');
  expect(comments.some((c) => c.startsWith('📈 Chart at the promotion: Cutover charted: canary'))).toBe(true);
  expect(comments.some((c) => c.startsWith('📈 Chart with the update: Cutover charted'))).toBe(true);
  expect(fake.channelMessages(WAR_ROOM).some((m) => m.text.includes('charted Cutover Update'))).toBe(true);

  // The final one, on the closing message.
  const final = await fake.waitFor((f) => f.files.find((file) => isChart(file) && file.thread_ts === closing.ts));
  expect(final.channel).toBe(WAR_ROOM);
  expect(final.initial_comment).toMatch(/^📈 Final chart: Cutover charted: canary .* \(Completed: the canary serves 100 %\)\. /);
  // The alt text says the same as the comment, in words, within Slack's limit.
  expect(final.alt_text).toBe(final.initial_comment!.replace('📈 Final chart: ', '').replaceAll('&gt;', '>').replaceAll('&lt;', '<').replaceAll('&amp;', '&'));
  expect(final.alt_text!.length).toBeLessThanOrEqual(1000);
  expect(final.alt_text).toContain('Canary traffic: 0 % → 10 % → 100 %.');
  const image = PNG.sync.read(final.content!);
  expect(image.width).toBeGreaterThan(1000);

  // The evidence package: chart.png and chart.svg on disk, the same bytes uploaded to the card's thread.
  const state = await room.state(id);
  const dir = evidenceDir(join(room.dir, 'evidence'), state);
  const onDisk = await readFile(join(dir, 'chart.png'));
  const packaged = await fake.waitFor((f) => f.files.find((file) => file.completed && file.title === 'chart.png' && file.thread_ts === card.ts));
  expect(Buffer.compare(packaged.content!, onDisk)).toBe(0);
  expect(fake.files.find((file) => file.title === 'chart.svg')?.content?.toString('utf8')).toBe(await readFile(join(dir, 'chart.svg'), 'utf8'));
  expect(await readFile(join(dir, 'SUMMARY.md'), 'utf8')).toContain('](chart.png)');
});
