// Escalations in the war room: rollbacks, automatic (a bad canary fails its gate) and by command
// (someone on call, holding the role through a Slack user group), and an approval left waiting.
// Each escalates in the channel with seed 003's template and mentions; a rollback also puts the
// status-page draft in the card's thread.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESCALATION_WORDS } from '../../templates/words.ts';
import { ONCALL, RM1, WAR_ROOM, allText, buttons, cardOf, openRoom, quickPlan, startedId, waitForButton, type Room } from './harness.ts';
import { worldOf } from '../support/world.ts';

let room: Room;

beforeAll(async () => {
  const quickGo = (doc: Record<string, any>) => {
    doc.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
  };
  room = await openRoom({
    sour: quickPlan('sour', (doc) => {
      quickGo(doc);
      doc.stages = [1, 5, 100];
      doc.promotion = 'auto';
    }),
    steady: quickPlan('steady', quickGo),
    waiting: quickPlan('waiting', (doc) => {
      doc.escalation.stuck_after = '1s';
    }),
  });
});

afterAll(async () => {
  await room?.close();
});

const escalationsFor = (plan: string) => room.fake.channelMessages(WAR_ROOM).filter((m) => m.text.includes(`🚨 ${plan} cutover issue`));

describe.concurrent('escalation', () => {
  it('a canary that fails its gate at 5 % is rolled back automatically, with an escalation to the managers', async () => {
    const { fake } = room;
    await worldOf(room.bot.runtime).setScenario('simulated:sour-svc', { name: 'bad-canary', breach_at: 5 });
    const id = startedId(await room.slash('/cutover', 'start sour'));
    const approve = await waitForButton(fake, id, 'approve');
    expect((await room.click('approve', approve.value, { user: RM1 })).text).toMatch(/^✅ Done/);

    const escalation = await fake.waitFor((f) => escalationsFor('sour')[0] && escalationsFor('sour')[0], { timeoutMs: 15_000 });
    expect(escalation.text.startsWith('<!subteam^S0MANAGERS> ')).toBe(true);
    const words = allText(escalation);
    for (const part of ['*Problem:* gate slo failed at 5 %', '*Impact:*', '*Action:* Automatic rollback in progress', '*ETA:*', '*War room:* <#C0WARROOM>', ESCALATION_WORDS.gate_failed]) {
      expect(words).toContain(part);
    }

    await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes('Cutover sour rolled back')), { timeoutMs: 15_000 });
    const state = await room.state(id);
    expect([state.phase, state.traffic, state.rollback?.trigger]).toEqual(['rolled_back', 0, 'gate']);
    expect((await worldOf(room.bot.runtime).shifts(state.serviceKey)).map((s) => s.percent)).toEqual([1, 5, 0]);

    const card = await fake.waitFor((f) => {
      const c = cardOf(f, id);
      return c?.text === 'Cutover sour: rolled back' && c;
    });
    expect(card.blocks[0]).toMatchObject({ type: 'header', text: { text: '🔴 Cutover sour: rolled back' } });
    expect(buttons(card)).toEqual([]);
    const thread = fake.thread(WAR_ROOM, card.ts).map(allText);
    expect(thread.filter((t) => t.includes('Status page draft'))).toHaveLength(2);
    expect(thread.some((t) => t.includes('We have reverted a deployment after detecting an issue.'))).toBe(true);
    expect(thread.some((t) => t.startsWith('⏪ ROLLBACK (automatic) from 5 %'))).toBe(true);
  });

  it('/rollback from someone on call (a user-group role) rolls back at once and escalates', async () => {
    const { fake } = room;
    const id = startedId(await room.slash('/cutover', 'start steady'));
    const approve = await waitForButton(fake, id, 'approve');
    await room.click('approve', approve.value, { user: RM1 });
    await waitForButton(fake, id, 'promote');

    const reply = await room.slash('/rollback', 'steady error budget burning in EU', { user: ONCALL });
    expect(reply.text).toMatch(/^✅ Done: the cutover is ROLLING BACK|^✅ Done: the cutover is rolled back/);
    const escalation = await fake.waitFor((f) => escalationsFor('steady')[0]);
    expect(allText(escalation)).toContain('*Problem:* error budget burning in EU');
    expect(allText(escalation)).toContain('requested by <@U0ONCALL>');

    await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes('Cutover steady rolled back')), { timeoutMs: 15_000 });
    const state = await room.state(id);
    expect([state.phase, state.traffic, state.rollback?.by, state.decisions.at(-1)?.role]).toEqual(['rolled_back', 0, ONCALL, 'oncall-ops']);
  });

  it('a go/no-go left waiting longer than escalation.stuck_after escalates, without a status-page draft', async () => {
    const { fake } = room;
    const id = startedId(await room.slash('/cutover', 'start waiting'));
    const escalation = await fake.waitFor((f) => escalationsFor('waiting')[0], { timeoutMs: 10_000 });
    const words = allText(escalation);
    expect(escalation.text.startsWith('<!subteam^S0MANAGERS> ')).toBe(true);
    for (const part of [ESCALATION_WORDS.approval_stuck, '*Problem:* the go/no-go approval has waited', '*Impact:* None yet: no traffic moves until someone approves.', '*Action:* Waiting for release-manager or ops-lead']) {
      expect(words).toContain(part);
    }
    const state = await room.state(id);
    expect([state.phase, state.traffic]).toEqual(['awaiting_go_no_go', 0]);
    const card = cardOf(fake, id)!;
    expect(fake.thread(WAR_ROOM, card.ts).filter((m) => allText(m).includes('Status page draft'))).toHaveLength(1);
  });
});
