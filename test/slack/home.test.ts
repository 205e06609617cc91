// The App Home end to end: a signed `app_home_opened` publishes the viewer's Home (views.publish on
// the fake Slack); a cutover changing phase publishes it again for whoever opened it lately.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postToSlackEndpoint, eventCallback } from '../support/slack-requests.ts';
import { NOBODY, OPS, RM1, SECRET, WAR_ROOM, cardOf, openRoom, quickPlan, startedId, waitForButton, type Room } from './harness.ts';

let room: Room;

beforeAll(async () => {
  room = await openRoom({
    homed: quickPlan('homed', (doc) => {
      doc.stages = [10, 100];
      doc.soak = '1h';
      doc.approvals.go_no_go = { roles: ['release-manager', 'ops-lead'], min: 1 };
    }),
    broken: quickPlan('broken', (doc) => (doc.stages = [50, 10])),
  });
});

afterAll(async () => {
  await room?.close();
});

const open = (user: string, tab = 'home') =>
  postToSlackEndpoint(`${room.url}/slack/events`, eventCallback({ type: 'app_home_opened', user, channel: 'D0HOME', tab }), { secret: SECRET, contentType: 'application/json' });
const homeText = (user: string) => JSON.stringify(room.fake.home(user)?.blocks ?? []);
const publishes = (user: string) => room.fake.callsTo('views.publish').filter((c) => c.body.user_id === user).length;

it('publishes the Home on opening, and again for recent viewers when a cutover changes phase', async () => {
  const { fake } = room;
  expect((await open(RM1)).status).toBe(200);
  await fake.waitFor((f) => f.home(RM1));
  expect(homeText(RM1)).toContain('_Nothing is running._');
  expect(homeText(RM1)).toContain('Plans (2, 1 with problems)');
  expect(homeText(RM1)).toContain('⚠️ *broken*: 2 problems, cannot be started');
  expect(homeText(RM1)).toContain('– stages[1]: must be greater than stages[0] (50)');
  expect(homeText(RM1)).toContain('– stages[1]: the last stage must be 100');
  expect(homeText(RM1)).toContain('✅ *homed* · simulated `homed-svc` · <#C0WARROOM> · your roles: release-manager');

  // The Messages tab publishes nothing; another viewer sees their own roles (none).
  await open(OPS, 'messages');
  await open(NOBODY);
  await fake.waitFor((f) => f.home(NOBODY));
  expect(fake.home(OPS)).toBeUndefined();
  expect(homeText(NOBODY)).toContain('✅ *homed* · simulated `homed-svc` · <#C0WARROOM> · no role of yours');

  // A cutover starts and moves: the recent viewers' Homes follow, with a link to its card.
  const id = startedId(await room.slash('/cutover', 'start homed'));
  const approve = await waitForButton(fake, id, 'approve');
  await room.click('approve', approve.value, { user: OPS });
  await fake.waitFor(() => /canary \*10 %\*/.test(homeText(RM1)) && /canary \*10 %\*/.test(homeText(NOBODY)), { timeoutMs: 15_000 });
  const card = cardOf(fake, id)!;
  expect(homeText(RM1)).toContain(`*<https://fake-workspace.slack.com/archives/${WAR_ROOM}/p${card.ts.replace('.', '')}|homed>* · simulated \`homed-svc\``);
  expect(homeText(RM1)).toContain('started by <@U0RM1>');
  // The permalink was asked once, then kept: phase changes do not ask again.
  expect(fake.callsTo('chat.getPermalink')).toHaveLength(1);

  // The end of it shows under the last finished, with its outcome.
  const before = publishes(RM1);
  await room.slash('/rollback', 'homed enough for today');
  await fake.waitFor(() => homeText(RM1).includes('*Running* (0)') && homeText(RM1).includes('rolled back'), { timeoutMs: 15_000 });
  expect(homeText(RM1)).toMatch(/\*<https:\/\/fake-workspace\.slack\.com[^|]+\|homed>\* rolled back <!date\^\d+\^[^>]+>: enough for today/);
  expect(publishes(RM1)).toBeGreaterThan(before);
  // Bounded work: the recent viewers are a capped set that expires.
  const viewers = await room.bot.runtime.store.homeViewers(Date.now());
  expect(viewers.sort()).toEqual([NOBODY, RM1].sort());
  expect(await room.bot.runtime.redis.pttl(room.bot.runtime.store.homeViewersKey)).toBeGreaterThan(23 * 3_600_000);
});

it('keeps the 50 most recent viewers and forgets those older than a day', async () => {
  const { store } = room.bot.runtime;
  const now = Date.now();
  await store.noteHomeViewer('U0OLD', now - 25 * 3_600_000);
  for (let i = 0; i < 60; i++) await store.noteHomeViewer(`U0V${i}`, now + i);
  const viewers = await store.homeViewers(now + 60);
  expect(viewers).toHaveLength(50);
  expect(viewers[0]).toBe('U0V59');
  expect(viewers).not.toContain('U0OLD');
  expect(viewers).not.toContain('U0V9');
});
