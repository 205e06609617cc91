// The runbook timeline in the war room, through the real bot, signed requests and the fake Slack:
// checklists posted in the card's thread when their checkpoints open and edited on every tick,
// ticks by the wrong role refused, a late checkpoint nudged then escalated, the go/no-go held back
// until its checkpoint is done, /cutover schedule, sign-off, and hypercare with its summary, its
// escalation (no automatic rollback) and /cutover close.
//
// Time: plans speak in minutes (T-2, grace 10m), too slow for a test, so the bot loads every plan
// of this room compressed 60 times (the harness's planSpeed: the rehearsal's compressPlan): T-2 opens
// 2 s before T0 and a 2-minute grace lasts 2 s. T0 itself is a real instant; a test that schedules
// puts it a few seconds ahead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMessage, FakeSlack } from '../fakes/slack-api.ts';
import { ESCALATION_WORDS } from '../../templates/words.ts';
import { NOBODY, ONCALL, OPS, RM1, RM2, WAR_ROOM, allText, button, buttons, cardOf, openRoom, quickPlan, startedId, waitForButton, type PlanPatch, type Reply, type Room } from './harness.ts';
import { worldOf } from '../support/world.ts';

const SPEED = 60;
let room: Room;

/** Minute-sized plans that the room's speed-up turns into seconds; a go/no-go from one release manager. */
const timed = (name: string, patch: PlanPatch) =>
  quickPlan(name, (doc) => {
    doc.soak = '1m';
    doc.check_every = '1m';
    doc.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
    doc.escalation.stuck_after = '60m';
    patch(doc);
  });

beforeAll(async () => {
  room = await openRoom(
    {
      clock: timed('clock', (doc) => {
        doc.timeline = [
          { at: 'T-2', name: 'Final preparation', owner: 'ops-lead', checklist: ['Preflight output attached', 'War room active'] },
          { at: 'T-1', name: 'Go/no-go meeting', owner: 'release-manager', checklist: ['G1-G5 verified PASS'], blocks: 'go_no_go' },
          { at: 'T+1', name: 'Validation', owner: 'oncall-ops', checklist: ['Health endpoints checked'] },
        ];
      }),
      late: timed('late', (doc) => {
        doc.timeline = [{ at: 'T-1', name: 'Final preparation', owner: 'ops-lead', checklist: ['Dashboards open', 'Rollback reviewed'], grace: '2m' }];
      }),
      sched: timed('sched', (doc) => {
        doc.timezone = 'Europe/Berlin';
        doc.timeline = [{ at: 'T-5', name: 'Final preparation', owner: 'ops-lead', checklist: ['On-call briefed'] }];
      }),
      care: timed('care', (doc) => {
        doc.stages = [50, 100];
        doc.promotion = 'auto';
        doc.sign_off = [
          { role: 'release-manager', item: 'Go/No-Go decision signed at T-10 and T+30.' },
          { role: 'ops-lead', item: 'Step 21 manuals acknowledged.' },
        ];
        doc.hypercare = { duration: '120m', check_every: '1m', summary_every: '3m' };
      }),
      idle: timed('idle', () => undefined),
    },
    { planSpeed: SPEED },
  );
});

afterAll(async () => {
  await room?.close();
});

// ---- reading the thread --------------------------------------------------------------------

const threadOf = (fake: FakeSlack, id: string): FakeMessage[] => {
  const card = cardOf(fake, id);
  return card ? fake.thread(WAR_ROOM, card.ts) : [];
};

/** The checklist message of the checkpoint labelled `label`, as currently edited. */
const checklist = (fake: FakeSlack, id: string, label: string) => threadOf(fake, id).find((m) => new RegExp(`^(📋|✅|⛔) ${label} `).test(m.text));

/** The sign-off message. */
const signOff = (fake: FakeSlack, id: string) => threadOf(fake, id).find((m) => /^(✍️|✅) Sign-off/.test(m.text));

/** The item buttons (Tick / Sign off) of a checklist or sign-off message, by item. */
function itemButtons(message: FakeMessage | undefined): Array<{ action_id: string; value: string }> {
  return (message?.blocks ?? []).flatMap((b) => {
    const accessory = (b as { accessory?: { action_id: string; value: string } }).accessory;
    return accessory ? [{ action_id: accessory.action_id, value: accessory.value }] : [];
  });
}

/** When the fake received the chat.postMessage that created the message `ts`. */
const postedAt = (fake: FakeSlack, ts: string): number => {
  const call = fake.callsTo('chat.postMessage').find((c) => (c.response as { ts?: string }).ts === ts);
  if (!call) throw new Error(`no post of ${ts}`);
  return call.at;
};

const tickValue = (id: string, checkpoint: number, item: number) => JSON.stringify({ c: id, k: checkpoint, i: item });

function expectEphemeral(reply: Reply, ...parts: Array<string | RegExp>): void {
  expect(reply.response_type).toBe('ephemeral');
  for (const part of parts) expect(reply.text).toMatch(part);
}

// ---- the tests -----------------------------------------------------------------------------

describe.concurrent('the runbook timeline in the room', () => {
  it('checklists open in order, only owners tick, each tick edits the checklist, and the go/no-go waits for its checkpoint', async () => {
    const { fake } = room;
    const id = startedId(await room.slash('/cutover', 'start clock'));

    // T0 is now: T-2 and T-1 open at once, in timeline order, each mentioning its owners.
    const [prep, meeting] = await fake.waitFor((f) => {
      const a = checklist(f, id, 'T-2');
      const b = checklist(f, id, 'T-1');
      return a && b && ([a, b] as const);
    });
    expect(Number(prep.ts)).toBeLessThan(Number(meeting.ts));
    expect(prep.text).toBe('📋 T-2 Final preparation: <@U0OPS> please tick 2 items');
    expect(meeting.text).toBe('📋 T-1 Go/no-go meeting: <@U0RM1> <@U0RM2> please tick 1 item');
    // The fake edits messages in place: keep the buttons as first posted.
    const prepTicks = itemButtons(prep);
    const meetingTicks = itemButtons(meeting);
    expect(prepTicks.map((b) => b.action_id)).toEqual(['tick', 'tick']);
    expect(allText(meeting)).toContain('The go/no-go waits for this checkpoint.');
    let state = await room.state(id);

    // Preflight passes, but the card offers no Approve while T-1 is open, and says why.
    const card = await fake.waitFor((f) => {
      const c = cardOf(f, id);
      return c?.text === 'Cutover clock: waiting for the go/no-go' && c;
    });
    expect(buttons(card)).toEqual([]);
    expect(allText(card)).toContain('*T-1 Go/no-go meeting* must be done first (owner *release-manager*: 0/1 ticked');
    expect(allText(card)).toContain('🟡 *T-2* Final preparation · _ops-lead_ · open 0/2');
    state = await room.state(id);
    // An Approve click all the same (an old card, a crafted value) is refused, naming the checkpoint.
    const refusedGo = await room.click('approve', JSON.stringify({ c: id, s: state.phaseSeq }), { user: RM1 });
    expectEphemeral(refusedGo, 'T-1 Go/no-go meeting must be done first (owner: release-manager)');

    // A release manager may not tick the ops lead's checkpoint; nothing changes.
    const before = await room.state(id);
    expectEphemeral(await room.click('tick', tickValue(id, 0, 0), { user: RM1 }), "Only the checkpoint's owner (ops-lead) may tick T-2 Final preparation. Nothing was changed.");
    expectEphemeral(await room.click('tick', tickValue(id, 0, 0), { user: NOBODY }), 'ops-lead');
    // Checkpoints open and nag on their own clocks (T+1 one compressed second after T0), which a
    // slow machine may reach during these clicks: leave those timer fields out, all else must hold.
    const withoutTimers = (s: typeof before) => ({
      ...s,
      version: 0,
      checkpoints: s.checkpoints.map((c) => ({ ...c, status: c.status === 'open' ? 'pending' : c.status, openedAt: null, nudged: false, escalated: false })),
    });
    expect(withoutTimers(await room.state(id))).toEqual(withoutTimers(before));

    // The owner ticks: recorded with who and when, and the checklist is edited in place.
    expectEphemeral(await room.click('tick', prepTicks[0]!.value, { user: OPS }), '☑️ Ticked “Preflight output attached” (*T-2 Final preparation*: 1/2)');
    const ticked = await fake.waitFor((f) => {
      const m = checklist(f, id, 'T-2');
      return m && itemButtons(m).length === 1 && m;
    });
    expect(ticked.ts).toBe(prep.ts);
    expect(allText(ticked)).toContain('✅ Preflight output attached\\n_<@U0OPS> · <!date^');
    expectEphemeral(await room.click('tick', prepTicks[0]!.value, { user: OPS }), 'That item is already ticked.');
    state = await room.state(id);
    expect(state.checkpoints[0]!.ticks[0]).toEqual({ by: OPS, at: expect.any(Number) });

    // Ticking T-1 completes it: its checklist says done and loses its button; the card now offers Approve.
    expectEphemeral(await room.click('tick', meetingTicks[0]!.value, { user: RM2 }), '✅ Ticked “G1-G5 verified PASS”: *T-1 Go/no-go meeting* is done.');
    const doneMeeting = await fake.waitFor((f) => {
      const m = checklist(f, id, 'T-1');
      return m?.text === '✅ T-1 Go/no-go meeting: done' && m;
    });
    expect(itemButtons(doneMeeting)).toEqual([]);
    const approve = await waitForButton(fake, id, 'approve');
    expect(allText(cardOf(fake, id)!)).toContain('✅ *T-1* Go/no-go meeting · _release-manager_ · done');
    expectEphemeral(await room.click('approve', approve.value, { user: RM1 }), /^✅ Done/);

    // T+1 opens one (compressed) minute after T0, after the others, mentioning the on-call group.
    const validation = await fake.waitFor((f) => checklist(f, id, 'T\\+1'), { timeoutMs: 10_000 });
    expect(validation.text).toBe('📋 T+1 Validation: <!subteam^S0ONCALL> please tick 1 item');
    expect(postedAt(fake, validation.ts)).toBeGreaterThanOrEqual(state.t0 + 60_000 / SPEED);
    expect(Number(validation.ts)).toBeGreaterThan(Number(meeting.ts));
    // The on-call member ticks through the group.
    expectEphemeral(await room.click('tick', itemButtons(validation)[0]!.value, { user: ONCALL }), '✅ Ticked “Health endpoints checked”: *T+1 Validation* is done.');
    state = await room.state(id);
    expect(state.checkpoints.map((c) => c.status)).toEqual(['open', 'done', 'done']);
    // A tick notice is not a thread reply of its own: the checklist shows it.
    expect(threadOf(fake, id).filter((m) => m.text.startsWith('☑️'))).toEqual([]);
  });

  it('a checkpoint left open is nudged after its grace period, then escalated a grace period later', async () => {
    const { fake } = room;
    const id = startedId(await room.slash('/cutover', 'start late'));
    await fake.waitFor((f) => checklist(f, id, 'T-1'));
    const openedAt = (await room.state(id)).checkpoints[0]!.openedAt!;
    const nudge = await fake.waitFor((f) => threadOf(f, id).find((m) => m.text.startsWith('🔔')), { timeoutMs: 10_000 });
    expect(nudge.text).toBe('🔔 <@U0OPS> *T-1 Final preparation* is past its grace period: 2 of 2 items still open. Please tick them in its checklist above; in 2s it escalates.');
    expect(postedAt(fake, nudge.ts)).toBeGreaterThanOrEqual(openedAt + 2_000);

    const escalation = await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes('🚨 late cutover issue')), { timeoutMs: 10_000 });
    expect(escalation.text.startsWith('<!subteam^S0MANAGERS> ')).toBe(true);
    for (const part of [ESCALATION_WORDS.checkpoint_missed, '*Problem:* T-1 Final preparation (owner ops-lead) is still open: 2 of 2 items not ticked', '*Action:* The owner named above ticks its checklist']) {
      expect(allText(escalation)).toContain(part);
    }
    expect(postedAt(fake, escalation.ts)).toBeGreaterThanOrEqual(openedAt + 4_000);
    expect((await room.state(id)).checkpoints[0]).toMatchObject({ status: 'open', nudged: true, escalated: true });
    await fake.waitFor((f) => allText(cardOf(f, id)!).includes('🟡 *T-1* Final preparation · _ops-lead_ · open 0/2 · ⏰ escalated'));
  });

  it('/cutover schedule: a scheduled card, preflight with the first checkpoint, GO before T0, traffic at T0', async () => {
    const { fake } = room;
    // T-5 at 60× is 5 s before T0: the room comes alive in about 2 s, traffic moves in about 7 s.
    const t0 = Math.ceil((Date.now() + 7_000) / 1_000) * 1_000;
    const iso = new Date(t0).toISOString().replace('.000Z', 'Z');
    const reply = await room.slash('/cutover', `schedule sched at ${iso}`);
    expectEphemeral(reply, /^🗓️ Scheduled cutover `sched-/, `T0 is *${new Date(t0).toISOString().slice(0, 16).replace('T', ' ')} UTC*`, /Europe\/Berlin, UTC\+0[12]:00\)/, 'Preflight and *T-5 Final preparation* start at');
    const id = /`(sched-[^`]+)`/.exec(reply.text)![1]!;
    let state = await room.state(id);
    expect([state.phase, state.t0]).toEqual(['scheduled', t0]);

    const scheduledCard = await fake.waitFor((f) => cardOf(f, id));
    expect(scheduledCard.text).toBe('Cutover sched: scheduled');
    expect(button(scheduledCard, 'abort')?.confirm).toBeDefined();
    expect(allText(scheduledCard)).toContain('🗓️ *Scheduled* by <@U0RM1>: T0 <!date^');
    expect(threadOf(fake, id).some((m) => m.text.startsWith('🚀 Cutover started'))).toBe(false);

    // Preflight runs with T-5, not before; the go/no-go comes before T0, so the card waits for T0.
    const approve = await waitForButton(fake, id, 'approve', 0, 15_000);
    const startedNotice = threadOf(fake, id).find((m) => m.text.startsWith('🚀 Cutover started'))!;
    expect(postedAt(fake, startedNotice.ts)).toBeGreaterThanOrEqual(t0 - 5_000);
    expect(checklist(fake, id, 'T-5')).toBeDefined();
    expectEphemeral(await room.click('approve', approve.value, { user: RM1 }), /^✅ Done: the cutover is GO given; waiting for T0/);
    const ready = await waitForButton(fake, id, 'hold', approve.seq);
    expect(allText(cardOf(fake, id)!)).toContain('⏱️ *GO given*: traffic moves to 10 % on canary');
    expect(ready.text).toBe('⏸️ Hold');
    expect(await worldOf(room.bot.runtime).shifts(state.serviceKey)).toEqual([]);

    // Traffic moves at T0.
    await fake.waitFor((f) => threadOf(f, id).find((m) => m.text.includes('traffic confirmed 10 % canary')), { timeoutMs: 15_000 });
    state = await room.state(id);
    const [first] = await worldOf(room.bot.runtime).shifts(state.serviceKey);
    expect(first?.percent).toBe(10);
    expect(first!.at).toBeGreaterThanOrEqual(t0);
  });

  it('sign-off, hypercare with its summary, a gate failing in hypercare escalates without rolling back, and /cutover close ends it', async () => {
    const { fake } = room;
    const id = startedId(await room.slash('/cutover', 'start care'));
    const approve = await waitForButton(fake, id, 'approve');
    await room.click('approve', approve.value, { user: RM1 });

    // After 100 % and its clean soak: hypercare. The card offers Roll back and says how to close.
    const careCard = await fake.waitFor((f) => {
      const c = cardOf(f, id);
      return c?.text === 'Cutover care: in hypercare' && c;
    }, { timeoutMs: 20_000 });
    expect(buttons(careCard).map((b) => b.action_id)).toEqual(['rollback']);
    expect(allText(careCard)).toContain('🩺 *Hypercare* until <!date^');
    expect(allText(careCard)).toContain('`/cutover close [reason]` ends hypercare early');

    // Sign-off: one button per item, each only for its role; the message is edited as people sign.
    const request = await fake.waitFor((f) => signOff(f, id));
    expect(request.text).toBe('✍️ Sign-off for care: <@U0RM1> <@U0RM2> <@U0OPS> please confirm your items');
    const [managerItem, opsItem] = itemButtons(request);
    expect([managerItem?.action_id, opsItem?.action_id]).toEqual(['sign_off', 'sign_off']);
    expectEphemeral(await room.click('sign_off', opsItem!.value, { user: RM1 }), 'Only ops-lead may sign off that item. Nothing was changed.');
    expectEphemeral(await room.click('sign_off', managerItem!.value, { user: RM2 }), '✍️ Signed off “Go/No-Go decision signed at T-10 and T+30.”.');
    expectEphemeral(await room.click('sign_off', managerItem!.value, { user: RM1 }), 'That sign-off is already recorded.');
    expectEphemeral(await room.click('sign_off', opsItem!.value, { user: OPS }), 'Sign-off is complete.');
    const signed = await fake.waitFor((f) => {
      const m = signOff(f, id);
      return m?.text === '✅ Sign-off complete for care' && m;
    });
    expect(signed.ts).toBe(request.ts);
    expect(itemButtons(signed)).toEqual([]);
    expect(allText(signed)).toContain('✅ *ops-lead*: Step 21 manuals acknowledged.\\n_<@U0OPS> · <!date^');
    expect((await room.state(id)).signoffs.map((s) => s?.by)).toEqual([RM2, OPS]);

    // The summary comes at hypercare's own cadence (3 compressed minutes).
    const summary = await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.startsWith('🟢 care Hypercare Summary')), { timeoutMs: 15_000 });
    expect(allText(summary)).toContain('*Next checkpoint:* hypercare ends in');
    expect(allText(summary)).toContain('a summary every 3s');

    // The canary turns bad after 100 %: an escalation offering rollback, and no rollback by itself.
    const state = await room.state(id);
    await worldOf(room.bot.runtime).setScenario(state.serviceKey, { name: 'bad-canary', breach_at: 100 });
    const escalation = await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes(`🚨 care cutover issue: ${ESCALATION_WORDS.hypercare_gate_failed}`)), { timeoutMs: 15_000 });
    expect(escalation.text.startsWith('<!subteam^S0MANAGERS> ')).toBe(true);
    expect(allText(escalation)).toContain('*Action:* Decide now: roll back to stable');
    expect(allText(escalation)).toContain('Nothing rolls back by itself after 100 %.');
    await fake.waitFor((f) => threadOf(f, id).find((m) => m.text.startsWith('⚠️ Hypercare alert: slo')));
    // Checks go on after the alert, and the cutover stays in hypercare at 100 %.
    const seq = (await room.state(id)).checkSeq;
    await fake.waitFor((f) => threadOf(f, id).filter((m) => m.text.includes(`check ${seq + 1}:`)).length > 0, { timeoutMs: 10_000 });
    const watched = await room.state(id);
    expect([watched.phase, watched.traffic, watched.rollback]).toEqual(['hypercare', 100, null]);
    expect((await worldOf(room.bot.runtime).shifts(watched.serviceKey)).map((s) => s.percent)).toEqual([50, 100]);

    // Only a go/no-go decider may close; then the cutover completes, and SUMMARY.md carries the sign-off.
    expectEphemeral(await room.slash('/cutover', 'close care users are fine', { user: OPS }), 'You do not hold a role allowed to do that (allowed: release-manager)');
    expectEphemeral(await room.slash('/cutover', 'close care users are fine', { user: RM1 }), '🏁 Hypercare closed: the cutover is completed.');
    const closed = await room.state(id);
    expect([closed.phase, closed.outcome, closed.decisions.at(-1)]).toEqual(['completed', 'completed', expect.objectContaining({ action: 'close', by: RM1, reason: 'users are fine' })]);
    const closing = await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes('Cutover care completed')), { timeoutMs: 15_000 });
    expect(allText(closing)).toContain('## Sign-off');
    expect(allText(closing)).toContain('- [x] `<ops-lead>`: Step 21 manuals acknowledged. (U0OPS,');
    expect(threadOf(fake, id).some((m) => m.text === `🏁 Hypercare ended by <@${RM1}>: users are fine`)).toBe(true);
  });

  it('bad input for schedule and close gets the reason and the usage, and changes nothing', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['schedule', 'Name the plan to schedule.', /Usage: `\/cutover schedule <plan> at <time>/],
      ['schedule idle 14:00', 'Say when T0 is', /Usage: `\/cutover schedule/],
      ['schedule idle at 25:00', '25:00 is not a time of day', /Usage: `\/cutover schedule/],
      ['schedule idle at next-tuesday', '"next-tuesday" is not a time', /Usage: `\/cutover schedule/],
      ['schedule idle at 2026-11-24T14:00', 'has no time zone: add Z for UTC', /Usage: `\/cutover schedule/],
      ['schedule idle at 14:00 --now', '"--now" is not an option', /Usage: `\/cutover schedule/],
    ];
    for (const [text, problem, usage] of cases) {
      const reply = await room.slash('/cutover', text);
      expect(reply.via, text).toBe('ack');
      expectEphemeral(reply, problem, usage);
    }
    // Times that parse but cannot be T0: known only once the plan (and its time zone) is loaded.
    expectEphemeral(await room.slash('/cutover', 'schedule idle at 2020-01-01T00:00Z'), '2020-01-01T00:00Z is in the past', /Usage: `\/cutover schedule/);
    const far = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 16);
    expectEphemeral(await room.slash('/cutover', `schedule idle at ${far}Z`), 'is more than 30d ahead');
    const ids = await room.bot.runtime.store.recentIds(100);
    const states = await Promise.all(ids.map((i) => room.bot.runtime.store.loadState(i)));
    expect(states.filter((s) => s?.plan === 'idle')).toEqual([]);

    // Close outside hypercare: refused, nothing changes.
    const id = startedId(await room.slash('/cutover', 'start idle'));
    await waitForButton(room.fake, id, 'approve');
    const before = await room.state(id);
    expectEphemeral(await room.slash('/cutover', 'close idle done', { user: RM1 }), 'Only hypercare can be closed early, and the cutover is not in hypercare (waiting for the go/no-go). Nothing was changed.');
    // A checklist button the bot did not write is refused too.
    expectEphemeral(await room.click('tick', JSON.stringify({ c: id, k: 0, i: 99 }), { user: OPS }), 'not made by this bot');
    expectEphemeral(await room.click('sign_off', '{"c":"idle","i":"0"}', { user: OPS }), 'not made by this bot');
    expect(await room.state(id)).toEqual(before);
  });
});
