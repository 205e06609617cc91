// Every refusal the war room gives: each gets a readable ephemeral reply (with the usage when the
// text was malformed) and changes nothing, neither the stored state nor the card.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import type { CutoverState } from '../../src/domain/state.ts';
import { blockAction, nowSeconds, slashCommand } from '../support/slack-requests.ts';
import { ELSEWHERE, NOBODY, OPS, RM1, WAR_ROOM, cardOf, openRoom, quickPlan, startedId, waitForButton, type Reply, type Room } from './harness.ts';
import { worldOf } from '../support/world.ts';

let room: Room;
/** A running cutover of plan "guarded", waiting for its go/no-go (2 approvals). */
let id: string;
let approveValue: string;
let seq: number;

beforeAll(async () => {
  room = await openRoom({
    guarded: quickPlan('guarded'),
    pair: quickPlan('pair', (doc) => {
      doc.approvals.go_no_go = { roles: ['release-manager', 'ops-lead'], min: 1 };
    }),
    idle: quickPlan('idle'),
    broken: quickPlan('broken', (doc) => {
      doc.stages = [50, 10, 100];
      doc.channel = '#war-room';
    }),
  });
  id = startedId(await room.slash('/cutover', 'start guarded'));
  const approve = await waitForButton(room.fake, id, 'approve');
  approveValue = approve.value;
  seq = approve.seq;
});

afterAll(async () => {
  await room?.close();
});

/** Runs `act` and proves the cutover's stored state and its card are exactly as before. */
async function unchanged(act: () => Promise<void>, cutover = id): Promise<void> {
  const before = await room.state(cutover);
  const card = structuredClone(cardOf(room.fake, cutover));
  await act();
  expect(await room.state(cutover)).toEqual(before);
  expect(cardOf(room.fake, cutover)).toEqual(card);
}

function expectEphemeral(reply: Reply, ...parts: Array<string | RegExp>): void {
  expect(reply.response_type).toBe('ephemeral');
  for (const part of parts) expect(reply.text).toMatch(part);
}

const noCutoverOf = async (plan: string): Promise<boolean> => {
  const states = await Promise.all((await room.bot.runtime.store.recentIds(100)).map((i) => room.bot.runtime.store.loadState(i)));
  return !states.some((s: CutoverState | null) => s?.plan === plan);
};

describe('malformed input', () => {
  it('malformed command text is answered in the ack with what is wrong and the usage', async () => {
    await unchanged(async () => {
      const cases: Array<[string, string, string, RegExp]> = [
        // `/cutover start` alone opens the start dialog (test/slack/start-dialog.test.ts).
        ['/cutover', 'start idle canary=', 'canary="" is not a revision name', /Usage: `\/cutover start <plan> \[canary=<revision>\] \[stable=<revision>\]`/],
        ['/cutover', 'start idle canary=Bad_Rev', 'canary="Bad_Rev" is not a revision name', /Usage: `\/cutover start/],
        ['/cutover', 'start idle stable=a1 stable=a2', 'stable= is given twice', /Usage: `\/cutover start/],
        ['/cutover', 'start idle --force', '"--force" is not an option', /Usage: `\/cutover start/],
        ['/cutover', 'start Idle', '"Idle" is not a plan name', /Usage: `\/cutover start/],
        ['/cutover', 'frobnicate idle', '"frobnicate" is not a /cutover command', /Usage: `\/cutover help`/],
        ['/cutover', 'resume guarded now', 'Too many words', /Usage: `\/cutover resume \[<plan>\]`/],
        ['/promote', 'guarded please', 'Too many words', /Usage: `\/promote \[<plan>\]`/],
        ['/rollback', `guarded ${'x'.repeat(600)}`, 'The reason is too long', /Usage: `\/rollback \[<plan>\] \[<target>\] \[reason…\]`/],
      ];
      for (const [command, text, problem, usage] of cases) {
        const reply = await room.slash(command as '/cutover', text);
        expect(reply.via, text).toBe('ack');
        expectEphemeral(reply, problem, usage);
      }
    });
    expect(await noCutoverOf('idle')).toBe(true);
  });

  it('a button value the card did not write is refused', async () => {
    await unchanged(async () => {
      for (const value of ['garbage', '{"c":"guarded"}', `{"c":"${id}","s":"2"}`, '{"c":"../../etc","s":1}', `{"c":"${id}","s":${seq},"x":1}`]) {
        expectEphemeral(await room.click('approve', value, { user: OPS }), 'not made by this bot');
      }
      expectEphemeral(await room.click('approve', '{"c":"gone-20260101t000000z-abcd","s":1}', { user: OPS }), 'no longer exists');
    });
  });
});

describe('plans and channels', () => {
  it('an unknown plan', async () => {
    expectEphemeral(await room.slash('/cutover', 'start nope'), 'There is no plan *nope*', '/cutover plans');
    expectEphemeral(await room.slash('/promote', 'nope'), 'There is no plan *nope*');
    expect(await noCutoverOf('nope')).toBe(true);
  });

  it('an invalid plan shows its validation errors', async () => {
    const reply = await room.slash('/cutover', 'start broken');
    expectEphemeral(reply, 'Plan *broken* is not valid', 'stages[1]: must be greater than stages[0] (50)', 'channel: must be a Slack channel id');
    expect(await noCutoverOf('broken')).toBe(true);
  });

  it('commands and clicks from another channel than the plan’s', async () => {
    await unchanged(async () => {
      expectEphemeral(await room.slash('/cutover', 'start idle', { channel: ELSEWHERE }), 'Plan *idle* runs in <#C0WARROOM>', 'Nothing was changed');
      expectEphemeral(await room.slash('/promote', 'guarded', { channel: ELSEWHERE }), 'Plan *guarded* runs in <#C0WARROOM>');
      expectEphemeral(await room.slash('/cutover', 'hold guarded db looks odd', { channel: ELSEWHERE }), 'Plan *guarded* runs in <#C0WARROOM>');
      expectEphemeral(await room.slash('/cutover', 'hold', { channel: ELSEWHERE }), 'No cutover is running in this channel');
      expectEphemeral(await room.click('approve', approveValue, { user: OPS, channel: ELSEWHERE }), 'Plan *guarded* runs in <#C0WARROOM>');
    });
    expect(await noCutoverOf('idle')).toBe(true);
  });
});

describe('clicks the engine refuses', () => {
  it('a click from someone without the role: ephemeral, audited, card unchanged', async () => {
    await unchanged(async () => {
      expectEphemeral(await room.click('approve', approveValue, { user: NOBODY }), 'You do not hold a role allowed to do that (allowed: release-manager, ops-lead)');
    });
    const audit = (await room.bot.runtime.store.readAudit(id)).map((a) => a.entry);
    expect(audit).toContainEqual(expect.objectContaining({ type: 'refused', by: NOBODY, action: 'approve', code: 'not_authorized' }));
    // Refusals stay in the audit trail; the room never posts them.
    expect(room.fake.messages.some((m) => m.text.includes(NOBODY))).toBe(false);
  });

  it('a click on a button from an earlier state is stale', async () => {
    await unchanged(async () => {
      expectEphemeral(await room.click('approve', JSON.stringify({ c: id, s: seq - 1 }), { user: OPS }), 'That button is from an earlier state', 'nothing was changed');
    });
  });

  it('a second click by the same approver counts once', async () => {
    expectEphemeral(await room.click('approve', approveValue, { user: RM1 }), /approval is recorded\. \*1\* more needed/);
    // The card shows the first approval before the second click is compared against it.
    await room.fake.waitFor((f) => JSON.stringify(cardOf(f, id)?.blocks ?? []).includes('Approved so far: <@U0RM1> (release-manager)'));
    await unchanged(async () => {
      expectEphemeral(await room.click('approve', approveValue, { user: RM1 }), 'You have already approved this; your approval counts once.');
    });
    expect((await room.state(id)).approvals.go_no_go.map((a) => a.by)).toEqual([RM1]);
  });

  it('the two-person rule: the starter’s own approval is recorded but never enough', async () => {
    const pair = startedId(await room.slash('/cutover', 'start pair'));
    const approve = await waitForButton(room.fake, pair, 'approve');
    const reply = await room.click('approve', approve.value, { user: RM1 });
    expectEphemeral(reply, 'from someone other than you: the two-person rule wants a second person');
    const state = await room.state(pair);
    expect([state.phase, state.traffic, state.approvals.go_no_go.map((a) => a.by)]).toEqual(['awaiting_go_no_go', 0, [RM1]]);
    expect(await worldOf(room.bot.runtime).shifts(state.serviceKey)).toEqual([]);
    await room.fake.waitFor((f) => JSON.stringify(cardOf(f, pair)?.blocks ?? []).includes('from someone other than <@U0RM1> (two-person rule)'));
  });
});

describe('requests Slack did not sign', () => {
  /** After a refused request, a good one is answered: Bolt is long done with the refused one. */
  async function barrier(): Promise<void> {
    expect((await room.slash('/cutover', 'help')).text).toContain('Cutover bot');
  }

  it('a bad signature gets 401 and reaches nothing', async () => {
    await unchanged(async () => {
      const command = slashCommand({ text: 'start idle', user_id: RM1, channel_id: WAR_ROOM, response_url: room.fake.responseUrl('forged-command') });
      const click = blockAction({ user: OPS, channel: WAR_ROOM, actionId: 'approve', value: approveValue, responseUrl: room.fake.responseUrl('forged-click') });
      for (const body of [command, click]) {
        expect(await room.post(body, { signature: `v0=${'0'.repeat(64)}` })).toEqual({ status: 401, body: '', elapsedMs: expect.any(Number) });
        expect((await room.post(body, { secret: 'not-the-signing-secret' })).status).toBe(401);
      }
      await barrier();
      expect([room.fake.responses('forged-command'), room.fake.responses('forged-click')]).toEqual([[], []]);
    });
    expect(await noCutoverOf('idle')).toBe(true);
  });

  it('a request signed six minutes ago gets 401 and reaches nothing', async () => {
    await unchanged(async () => {
      const click = blockAction({ user: OPS, channel: WAR_ROOM, actionId: 'approve', value: approveValue, responseUrl: room.fake.responseUrl('replayed') });
      const command = slashCommand({ text: 'start idle', user_id: RM1, channel_id: WAR_ROOM, response_url: room.fake.responseUrl('replayed-command') });
      for (const body of [click, command]) expect((await room.post(body, { timestamp: nowSeconds() - 6 * 60 })).status).toBe(401);
      await barrier();
      expect([room.fake.responses('replayed'), room.fake.responses('replayed-command')]).toEqual([[], []]);
    });
    expect(await noCutoverOf('idle')).toBe(true);
  });
});

describe('a bot whose plans folder is missing', () => {
  it('says so at start, in a warn line naming the folder, and /cutover plans names it too', async () => {
    const logged: Array<{ level: number; msg: string; plansDir?: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logged.push(JSON.parse(line));
        done();
      },
    });
    const bare = await openRoom({}, { noPlansFolder: true, log: createLogger({ level: 'info', destination: sink }) });
    try {
      const folder = join(bare.dir, 'plans');
      const warning = logged.find((l) => l.level === 40 && l.msg.includes('plans folder'));
      expect(warning).toMatchObject({ plansDir: folder, msg: expect.stringContaining(`the plans folder ${folder} (PLANS_DIR) does not exist`) });
      const reply = await bare.slash('/cutover', 'plans');
      expectEphemeral(reply, `The plans folder \`${folder}\` does not exist`, 'PLANS_DIR');
    } finally {
      await bare.close();
    }
  });

  it('/cutover plans names the folder it lists', async () => {
    const reply = await room.slash('/cutover', 'plans');
    expect(reply.text).toContain(`*Plans* in \`${join(room.dir, 'plans')}\``);
  });
});
