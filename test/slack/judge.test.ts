// The war room sees the judge: a bot driven through Slack runs a simulated service whose canary
// fails twice as often as stable (inside every threshold). The judge rolls it back, the rollback
// and its escalation name the figures, and the status card says how the judge stood.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RM1, WAR_ROOM, allText, cardOf, openRoom, quickPlan, startedId, waitForButton, type Room } from './harness.ts';
import { worldOf } from '../support/world.ts';

let room: Room;

beforeAll(async () => {
  room = await openRoom({
    judged: quickPlan('judged', (doc) => {
      doc.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
      doc.promotion = 'auto';
      doc.stages = [1, 10, 100];
      doc.soak = '2s';
      doc.gates.stage = [{ id: 'errors-vs-stable', judge: { metric: 'error_rate', source: 'cloud_monitoring', max: '5%' } }, ...doc.gates.stage];
    }),
  });
});

afterAll(async () => {
  await room?.close();
});

describe('the judge in the war room', () => {
  it('rolls back a subtle canary, the thread, the escalation and the card naming its figures', async () => {
    const { fake } = room;
    // Plan time 3,000 times faster for the simulated traffic: each 1 s check serves 300,000 requests,
    // too few canary ones at 1 % to decide, plenty at 10 %.
    await worldOf(room.bot.runtime).setScenario('simulated:judged-svc', { name: 'subtle', speed: 3_000, seed: 1 });
    const id = startedId(await room.slash('/cutover', 'start judged'));
    const approve = await waitForButton(fake, id, 'approve');
    expect((await room.click('approve', approve.value, { user: RM1 })).text).toMatch(/^✅ Done/);

    await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes('Cutover judged rolled back')), { timeoutMs: 30_000 });
    const state = await room.state(id);
    expect([state.phase, state.traffic, state.rollback?.trigger, state.rollback?.gates]).toEqual(['rolled_back', 0, 'gate', ['errors-vs-stable']]);
    const figures = /errors: canary [\d.]+ % \([\d,]+ of [\d,]+\) vs stable [\d.]+ % \([\d,]+ of [\d,]+\): evidence [\d,.e+]+, past the 100 needed: roll back/;
    expect(state.rollback?.reason).toMatch(new RegExp(`^gate errors-vs-stable failed at \\d+ %: ${figures.source}$`));

    const escalation = await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes('🚨 judged cutover issue')));
    expect(allText(escalation)).toMatch(figures);

    const card = await fake.waitFor((f) => {
      const c = cardOf(f, id);
      return c?.text === 'Cutover judged: rolled back' && c;
    });
    expect(allText(card)).toMatch(new RegExp(`❌ \\*errors-vs-stable\\* FAIL: ${figures.source}`));
    const thread = fake.thread(WAR_ROOM, card.ts).map(allText);
    // Each check said how the judge stood before it decided.
    expect(thread.some((t) => /errors-vs-stable errors: canary [\d.]+ % \([\d,]+ of [\d,]+\) vs stable [\d.]+ % \([\d,]+ of [\d,]+\): evidence [\d,.]+ of the 100 needed to roll back/.test(t))).toBe(true);
    expect(thread.some((t) => t.startsWith('⏪ ROLLBACK (automatic)') && figures.test(t))).toBe(true);
  });
});
