// The bot as an operator and a war room see it: the probes, help, plans and status, and seed
// 003's internal update arriving on schedule (a job scheduler per cutover, gone when it ends).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobId } from '../../jobs/queues.ts';
import { USAGE } from '../../templates/replies.ts';
import { RM1, WAR_ROOM, allText, cardOf, openRoom, quickPlan, startedId, waitForButton, type Room } from './harness.ts';

let room: Room;

beforeAll(async () => {
  room = await openRoom({
    ticking: quickPlan('ticking', (doc) => {
      doc.updates = { every: '2s' };
    }),
    listed: quickPlan('listed'),
    broken: quickPlan('broken', (doc) => {
      doc.stages = [50, 10, 100];
    }),
  });
});

afterAll(async () => {
  await room?.close();
});

describe.concurrent('the bot', () => {
  it('answers /healthz and /readyz on the port Slack talks to', async () => {
    const health = await fetch(`${room.url}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    const ready = await fetch(`${room.url}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, 'ready\n']);
    expect((await fetch(`${room.url}/healthz`, { method: 'POST' })).status).toBe(404);
  });

  it('/cutover help lists every command', async () => {
    const reply = await room.slash('/cutover', 'help');
    expect(reply.response_type).toBe('ephemeral');
    for (const usage of Object.values(USAGE)) expect(reply.text).toContain(usage);
    expect((await room.slash('/cutover', '')).text).toBe(reply.text);
  });

  it('/cutover plans lists the plans, which are invalid, and what runs', async () => {
    const id = startedId(await room.slash('/cutover', 'start listed'));
    const reply = await room.slash('/cutover', 'plans', { channel: 'C0ANYWHERE' });
    expect(reply.text).toContain('• *listed*: simulated `listed-svc` in <#C0WARROOM>, cohorts 10 % → 50 % → 100 %');
    expect(reply.text).toContain(`▶️ running \`${id}\``);
    expect(reply.text).toContain('• *broken*: not valid (1 problem: `/cutover start broken` shows them)');
    expect(reply.text).toContain('• *ticking*');
  });

  it('the internal update arrives every updates.every, and its scheduler goes when the cutover ends', async () => {
    const { fake } = room;
    const id = startedId(await room.slash('/cutover', 'start ticking'));
    const startedAt = (await room.state(id)).startedAt;
    const updates = () => fake.callsTo('chat.postMessage').filter((c) => String(c.body.text).startsWith('🟢 ticking Cutover Update'));
    const [first, second] = await fake.waitFor((f) => updates().length >= 2 && updates(), { timeoutMs: 10_000 });
    // BullMQ fires a scheduler no earlier than its time; a loaded machine may fire it late, never early.
    expect(first!.at - startedAt).toBeGreaterThanOrEqual(2_000 - 50);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(2_000 - 250);
    const update = fake.channelMessages(WAR_ROOM).find((m) => m.text.startsWith('🟢 ticking Cutover Update [T+0min]'))!;
    const words = allText(update);
    for (const line of ['*Status:* On Track', '*Traffic:* 0 % canary / 100 % stable', '*Key Metrics:* Error rate', 'P95 latency', '*Issues:* None', '*Next checkpoint:* waiting for the go/no-go']) {
      expect(words).toContain(line);
    }
    expect((await room.bot.runtime.queues.notify.getJobSchedulers()).map((s) => s.key)).toContain(jobId('updates', id));

    await waitForButton(fake, id, 'approve');
    expect((await room.slash('/cutover', 'abort ticking not today', { user: RM1 })).text).toBe('✅ Done: the cutover is aborted.');
    // The closing message waits its turn on the notify queue behind the update's chart: a loaded machine takes seconds.
    await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes('Cutover ticking aborted')), { timeoutMs: 20_000 });
    expect((await room.bot.runtime.queues.notify.getJobSchedulers()).map((s) => s.key)).not.toContain(jobId('updates', id));

    // /cutover status still finds it, without buttons.
    const status = await room.slash('/cutover', 'status ticking');
    expect(status.text).toBe('Cutover ticking: aborted');
    expect(JSON.stringify(status.blocks)).not.toContain('"actions"');
    expect(JSON.stringify(status.blocks)).toContain('Cutover ticking: aborted');
    await fake.waitFor((f) => cardOf(f, id)?.text === 'Cutover ticking: aborted', { timeoutMs: 20_000 });
  });
});
