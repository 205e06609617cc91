// No surprise from an old command: a command or click whose job starts past its time to live (30 s)
// does nothing, and the person is told so, by the request's response_url while Slack honours it,
// else in the channel. A late /rollback is still carried out, and the reply says it was late.
// The whole bot in-process; the work is handed over as its listener would, with the time the
// request came in set in the past (as it is when the bot was down or Redis unreachable meanwhile).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Work } from '../../commands/common.ts';
import { waitForAudit } from '../support/engine.ts';
import { RM1, WAR_ROOM, openRoom, quickPlan, startedId, waitForButton, type Room } from './harness.ts';

let room: Room;

beforeAll(async () => {
  room = await openRoom({
    late: quickPlan('late'),
    brake: quickPlan('brake', (doc) => {
      doc.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
      doc.soak = '30s';
    }),
  });
});

afterAll(async () => {
  await room?.close();
});

let seq = 0;
/** Hands `work` over as a listener would, as if its request came in `ageMs` ago; resolves with the response_url's id. */
async function handOverAged(work: Work, ageMs: number): Promise<string> {
  const id = `aged${++seq}`;
  await room.bot.runtime.handOver(work, room.fake.responseUrl(id), Date.now() - ageMs);
  return id;
}

const asker = { user: RM1, channel: WAR_ROOM };

it('a /cutover start whose job starts 79 s after it was typed is not run, and the person is told why', async () => {
  const id = await handOverAged({ kind: 'slash', command: '/cutover', request: { kind: 'start', plan: 'late' }, asker }, 79_000);
  const reply = await room.fake.waitFor((f) => f.responses(id)[0], { timeoutMs: 10_000 });
  expect(reply.response_type).toBe('ephemeral');
  expect(reply.text).toMatch(/^⏱️ \/cutover start was not run: it reached the bot's workers 1m(19|[2-9]\d)s after you sent it, and a command is kept 30s .*Nothing was changed\./);
  // Nothing started.
  expect((await room.bot.runtime.engine.active()).filter((s) => s.plan === 'late')).toEqual([]);
  // A fresh one still works.
  expect((await room.slash('/cutover', 'start late')).text).toMatch(/Started cutover `late-/);
});

it('a late /rollback is carried out, and the reply says it came late', async () => {
  const cutover = startedId(await room.slash('/cutover', 'start brake'));
  const approve = await waitForButton(room.fake, cutover, 'approve');
  expect((await room.click('approve', approve.value, { user: RM1 })).text).toMatch(/^✅ Done/);
  await waitForAudit(room.bot.runtime.store, cutover, (e) => e.type === 'notice' && e.notice.kind === 'gate_check');

  const id = await handOverAged({ kind: 'slash', command: '/rollback', request: { kind: 'rollback', words: ['brake', 'users', 'report', 'errors'] }, asker }, 120_000);
  const reply = await room.fake.waitFor((f) => f.responses(id)[0], { timeoutMs: 10_000 });
  expect(reply.text).toMatch(/^⏱️ \/rollback reached the bot's workers 2m\d*s? ?after you sent it \(a command is kept 30s\); a rollback is carried out however late, so it was\.\n✅ Done/);
  await waitForAudit(room.bot.runtime.store, cutover, (e) => e.type === 'notice' && e.notice.kind === 'rolled_back');
  expect(await room.state(cutover)).toMatchObject({ phase: 'rolled_back', traffic: 0, rollback: { trigger: 'manual', by: RM1 } });
});

it('past the 30 minutes a response_url lasts, the person is told in the channel', async () => {
  const id = await handOverAged({ kind: 'click', action: 'promote', value: '{"c":"late-x","s":3}', user: RM1, channel: WAR_ROOM }, 31 * 60_000);
  const told = await room.fake.waitFor((f) => f.callsTo('chat.postEphemeral').find((c) => String(c.body.text).includes('your Promote click was not run')), { timeoutMs: 10_000 });
  expect([told.body.channel, told.body.user]).toEqual([WAR_ROOM, RM1]);
  expect(String(told.body.text)).toMatch(/reached the bot's workers 31m\d*s? ?after you sent it/);
  expect(room.fake.responses(id)).toEqual([]);
});
