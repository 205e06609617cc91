// A whole healthy cutover driven only by signed slash commands and button clicks, as people in
// the war room would drive it: start, go/no-go (with the two-person rule), a Promote click at
// each clean soak, completion, the closing message and the evidence files in the card's thread.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { evidenceDir } from '../../src/evidence/writer.ts';
import { statusCard } from '../../templates/card.ts';
import { OPS, RM1, RM2, WAR_ROOM, allText, buttons, cardOf, openRoom, quickPlan, startedId, waitForButton, type Room } from './harness.ts';
import { worldOf } from '../support/world.ts';

let room: Room;

beforeAll(async () => {
  room = await openRoom({
    healthy: quickPlan('healthy', (doc) => {
      doc.stages = [1, 5, 10, 25, 50, 100];
      doc.approvals.go_no_go = { roles: ['release-manager', 'ops-lead'], min: 1 };
    }),
  });
});

afterAll(async () => {
  await room?.close();
});

it('runs start → go/no-go → every cohort → completed, from commands and clicks alone', async () => {
  const { fake } = room;
  const start = await room.slash('/cutover', 'start healthy');
  expect(start.response_type).toBe('ephemeral');
  const id = startedId(start);

  // Preflight passes; the card asks for the go/no-go, naming the roles and what is still needed.
  const approve = await waitForButton(fake, id, 'approve');
  const card = cardOf(fake, id)!;
  expect(buttons(card).map((b) => b.action_id)).toEqual(['approve', 'reject']);
  expect(allText(card)).toContain('*release-manager* or *ops-lead*');
  expect(allText(card)).toContain('two-person rule');

  // The starter alone is not enough: the approval is recorded, the cutover waits for a second person.
  const alone = await room.click('approve', approve.value, { user: RM1 });
  expect(alone.text).toMatch(/approval is recorded.*1\* more needed, from someone other than you/);
  let state = await room.state(id);
  expect([state.phase, state.traffic, state.approvals.go_no_go.map((a) => a.by)]).toEqual(['awaiting_go_no_go', 0, [RM1]]);

  // A second click by the same person counts once.
  const again = await room.click('approve', approve.value, { user: RM1 });
  expect(again.text).toContain('already approved');
  expect(await room.state(id)).toEqual(state);

  const go = await room.click('approve', approve.value, { user: OPS });
  expect(go.text).toMatch(/^✅ Done/);

  // A Promote click at each clean soak; the last cohort completes by itself.
  let seq = approve.seq;
  let firstPromote: string | undefined;
  for (const next of [5, 10, 25, 50, 100]) {
    const promote = await waitForButton(fake, id, 'promote', seq);
    expect(promote.text).toBe(`⏫ Promote to ${next} %`);
    const reply = await room.click('promote', promote.value, { user: RM2 });
    expect(reply.text).toMatch(/^✅ Done/);
    seq = promote.seq;
    if (firstPromote === undefined) firstPromote = promote.value;
    else if (next === 10) {
      // The Promote button of the cohort before is stale now: refused, not applied again.
      const stale = await room.click('promote', firstPromote, { user: RM2 });
      expect(stale.text).toContain('earlier state');
    }
  }

  const closing = await fake.waitFor((f) => f.channelMessages(WAR_ROOM).find((m) => m.text.includes('Cutover healthy completed')), { timeoutMs: 15_000 });
  state = await room.state(id);
  expect([state.phase, state.outcome, state.traffic]).toEqual(['completed', 'completed', 100]);
  expect((await worldOf(room.bot.runtime).shifts(state.serviceKey)).map((s) => s.percent)).toEqual([1, 5, 10, 25, 50, 100]);

  // The card's final content is the stored state's, with no buttons left to click.
  const plan = (await room.bot.runtime.store.loadPlan(id))!;
  const final = statusCard({ state, plan });
  const shown = await fake.waitFor((f) => {
    const c = cardOf(f, id);
    return c && JSON.stringify(c.blocks) === JSON.stringify(final.blocks) && c;
  });
  expect(shown.text).toBe(final.text);
  expect(buttons(shown)).toEqual([]);
  expect(fake.channelMessages(WAR_ROOM).filter((m) => cardOf(fake, id) === m)).toHaveLength(1);

  // The closing message carries SUMMARY.md; the evidence files land in the card's thread.
  const dir = evidenceDir(join(room.dir, 'evidence'), state);
  const summary = await readFile(join(dir, 'SUMMARY.md'), 'utf8');
  expect(JSON.stringify(closing.blocks)).toContain(JSON.stringify(summary.split('\n')[0]).slice(1, -1));
  const files = await fake.waitFor((f) => {
    // Charts reach the thread at each promotion too: wait for the package itself.
    const done = f.files.filter((file) => file.completed && file.thread_ts === shown.ts);
    return done.some((file) => file.title === 'logs/audit.jsonl') && done;
  });
  const byTitle = new Map(files.map((f) => [f.title, f]));
  for (const name of ['summary.json', 'SUMMARY.md', 'gate-results.jsonl', 'cohort-results.jsonl', 'logs/audit.jsonl']) {
    expect(byTitle.get(name)?.content?.toString('utf8'), name).toBe(await readFile(join(dir, name), 'utf8'));
  }

  // Detail went to the thread, not the channel: start, status-page draft, gates, approvals, promotions.
  const thread = fake.thread(WAR_ROOM, shown.ts).map((m) => m.text);
  expect(thread.some((t) => t.startsWith('🚀 Cutover started by <@U0RM1>'))).toBe(true);
  expect(thread.some((t) => t.includes('Status page draft'))).toBe(true);
  expect(thread.filter((t) => t.startsWith('⏫ Promoted by <@U0RM2>'))).toHaveLength(5);
  expect(thread.some((t) => t.startsWith('👍 <@U0RM1> (release-manager) approved go/no-go; 1 more needed'))).toBe(true);
});
