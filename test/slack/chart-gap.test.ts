// The war room's charts are paced: at most one per `updates.chart_gap` of a cutover, none of a
// moment that comes after the end, and always the final one. Judged from the fake Slack's files.
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OPS, WAR_ROOM, cardOf, openRoom, quickPlan, startedId, waitForButton, type Room } from './harness.ts';
import type { FakeFile } from '../fakes/slack-api.ts';

let room: Room;

beforeAll(async () => {
  room = await openRoom({
    paced: quickPlan('paced', (doc) => {
      // Three automatic promotions and an update every second: moments enough for many charts.
      doc.stages = [10, 25, 50, 100];
      doc.soak = '1500ms';
      doc.promotion = 'auto';
      doc.updates = { every: '1s', chart_gap: '1h' };
      doc.approvals.go_no_go = { roles: ['release-manager', 'ops-lead'], min: 1 };
    }),
  });
});

afterAll(async () => {
  await room?.close();
});

const isChart = (f: FakeFile) => /^chart-.*\.png$/.test(f.filename);

it('posts one chart within the gap however many moments come, then the final chart', async () => {
  const { fake } = room;
  const id = startedId(await room.slash('/cutover', 'start paced'));
  const approve = await waitForButton(fake, id, 'approve');
  await room.click('approve', approve.value, { user: OPS });
  const closing = await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes('Cutover paced completed')), { timeoutMs: 30_000 });
  const final = await fake.waitFor((f) => f.files.find((file) => isChart(file) && file.completed && file.thread_ts === closing.ts));
  expect(final.initial_comment).toMatch(/^📈 Final chart: /);
  // Every chart job asked for so far runs to its end (one asked later finds the cutover ended).
  const queue = room.bot.runtime.queues.notify;
  const events = new QueueEvents(queue.name, { connection: queue.opts.connection, prefix: queue.opts.prefix });
  try {
    await events.waitUntilReady();
    const asked = (await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed'])).filter((j) => j.name === 'chart');
    for (const job of asked) await job.waitUntilFinished(events, 15_000);
  } finally {
    await events.close();
  }
  const chartJobs = (await queue.getJobs(['completed'])).filter((j) => j.name === 'chart');
  const card = cardOf(fake, id)!;
  const inThread = fake.files.filter((f) => isChart(f) && f.thread_ts === card.ts);
  // Several moments asked for a chart (three promotions, the updates); one was drawn.
  expect(chartJobs.filter((j) => j.data.moment !== 'final').length).toBeGreaterThanOrEqual(3);
  expect(inThread).toHaveLength(1);
  expect(chartJobs.filter((j) => String(j.returnvalue).startsWith('skipped')).length).toBe(chartJobs.length - 2);
});
