// The 30-minute update, end to end: a canary failing inside its gate's `for:` window (not yet a
// rollback) is an Issue in the update the channel gets, never "On Track" with the failure listed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OPS, WAR_ROOM, openRoom, quickPlan, startedId, waitForButton, type Room } from './harness.ts';
import { worldOf } from '../support/world.ts';

let room: Room;

beforeAll(async () => {
  room = await openRoom({
    watched: quickPlan('watched', (doc) => {
      doc.stages = [10, 100];
      doc.soak = '1h';
      doc.updates = { every: '1s' };
      doc.gates.stage[0].for = '1h';
      doc.approvals.go_no_go = { roles: ['release-manager', 'ops-lead'], min: 1 };
    }),
  });
});

afterAll(async () => {
  await room?.close();
});

const sectionText = (m: { blocks: unknown[] }) => ((m.blocks[0] as { text?: { text?: string } }).text?.text ?? '').split('\n');

it('says Issue while a gate fails inside its for: window, and On Track before', async () => {
  const { fake } = room;
  const id = startedId(await room.slash('/cutover', 'start watched'));
  const approve = await waitForButton(fake, id, 'approve');
  await room.click('approve', approve.value, { user: OPS });
  const updates = () => fake.channelMessages(WAR_ROOM).filter((m) => m.text.startsWith('🟢 watched Cutover Update') || m.text.startsWith('🟡 watched Cutover Update'));

  // Healthy at 10 %: an update that is On Track with no issues.
  const calm = await fake.waitFor(() => updates().find((m) => sectionText(m)[2] === '*Traffic:* 10 % canary / 90 % stable'), { timeoutMs: 15_000 });
  expect(sectionText(calm).slice(1, 2)).toEqual(['*Status:* On Track']);

  // The canary turns bad at its cohort: the gate fails, but its for: window is an hour, so no rollback yet.
  const state = await room.state(id);
  await worldOf(room.bot.runtime).setScenario(state.serviceKey, { name: 'bad-canary', breach_at: 10 });
  const troubled = await fake.waitFor(() => updates().find((m) => sectionText(m).some((l) => l.startsWith('*Issues:* slo failing (within its for: window)'))), { timeoutMs: 15_000 });
  expect(troubled.text).toMatch(/^🟡 watched Cutover Update \[T\+\d+min\]: Issue$/);
  expect(sectionText(troubled)[1]).toBe('*Status:* Issue');
  const now = await room.state(id);
  expect([now.phase, now.gates.slo?.last?.verdict]).toEqual(['soaking', 'watch']);
  // No update ever said On Track while listing a failing gate.
  for (const m of updates()) {
    const lines = sectionText(m);
    if (lines[1] === '*Status:* On Track') expect(lines.find((l) => l.startsWith('*Issues:*'))).toBe('*Issues:* None');
  }
  await room.slash('/rollback', 'watched enough');
  await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes('Cutover watched rolled back')), { timeoutMs: 15_000 });
});
