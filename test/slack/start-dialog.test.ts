// The start dialog end to end through signed requests: `/cutover start` alone opens a modal with the
// command's trigger_id; picking a plan fills in its revisions (from the traffic backend), T0 and
// what will apply; submitting does what the typed command does, its problems shown in the modal.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postToSlackEndpoint, slashCommand, viewAction, viewSubmission, type ViewPayload } from '../support/slack-requests.ts';
import { ELSEWHERE, RM1, SECRET, WAR_ROOM, cardOf, openRoom, quickPlan, startedId, type Room } from './harness.ts';
import type { FakeView } from '../fakes/slack-api.ts';

let room: Room;

beforeAll(async () => {
  room = await openRoom({
    dialed: quickPlan('dialed', (doc) => (doc.soak = '1h')),
    later: quickPlan('later', (doc) => (doc.soak = '1h')),
    elsewhere: quickPlan('elsewhere', (doc) => (doc.channel = ELSEWHERE)),
  });
});

afterAll(async () => {
  await room?.close();
});

const post = (body: string) => postToSlackEndpoint(`${room.url}/slack/events`, body, { secret: SECRET });

/** `/cutover start` alone; resolves with the modal it opened and the command's response_url id. */
async function openDialog(): Promise<{ view: FakeView; reply: string }> {
  const before = room.fake.views.length;
  const reply = `dialog${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
  const res = await post(slashCommand({ command: '/cutover', text: 'start', user_id: RM1, channel_id: WAR_ROOM, response_url: room.fake.responseUrl(reply) }));
  expect([res.status, res.body]).toEqual([200, '']);
  const view = await room.fake.waitFor((f) => f.views.length > before && f.views.at(-1));
  return { view, reply };
}

const payloadOf = (v: FakeView, values: ViewPayload['values'] = {}): ViewPayload => ({
  id: v.id,
  hash: v.hash,
  callback_id: v.view.callback_id as string,
  private_metadata: v.view.private_metadata as string,
  values,
});

async function pick(v: FakeView, plan: string): Promise<FakeView> {
  const hash = v.hash;
  const res = await post(viewAction({ user: RM1, view: payloadOf(v), actionId: 'start_plan', blockId: 'plan', selected: plan }));
  expect(res.status).toBe(200);
  return room.fake.waitFor((f) => f.views.find((x) => x.id === v.id && x.hash !== hash));
}

const values = (plan: string, canary?: string, stable?: string, t0?: string): ViewPayload['values'] => ({
  plan: { start_plan: { type: 'static_select', selected_option: { value: plan } } },
  canary: { canary: { type: 'static_select', selected_option: canary ? { value: canary } : null } },
  stable: { stable: { type: 'static_select', selected_option: stable ? { value: stable } : null } },
  t0: { t0: { type: 'plain_text_input', value: t0 ?? null } },
});

async function submit(v: FakeView, vals: ViewPayload['values']): Promise<Record<string, string> | null> {
  const res = await post(viewSubmission({ user: RM1, view: payloadOf(v, vals) }));
  expect(res.status).toBe(200);
  if (!res.body) return null;
  const answer = JSON.parse(res.body) as { response_action: string; errors: Record<string, string> };
  expect(answer.response_action).toBe('errors');
  return answer.errors;
}

const blocksOf = (v: FakeView) => v.view.blocks as Array<Record<string, any>>;
const block = (v: FakeView, id: string) => blocksOf(v).find((b) => b.block_id === id);

it('opens with the plans, fills in the revisions the backend offers, and starts exactly as the typed command does', async () => {
  const { fake } = room;
  const { view: opened, reply } = await openDialog();
  expect(fake.callsTo('views.open').at(-1)?.response).toMatchObject({ ok: true });
  expect(block(opened, 'plan')!.element.options.map((o: { value: string }) => o.value)).toEqual(['dialed', 'elsewhere', 'later']);
  expect(block(opened, 'canary')).toBeUndefined();

  const filled = await pick(opened, 'dialed');
  const canary = block(filled, 'canary')!.element;
  const stable = block(filled, 'stable')!.element;
  // The simulated service offers its two; the one serving 100 % is preselected as stable.
  expect(canary.options.map((o: { value: string }) => o.value)).toEqual(['demo-002', 'demo-001']);
  expect([canary.initial_option.value, stable.initial_option.value]).toEqual(['demo-002', 'demo-001']);
  expect(stable.options[1].text.text).toBe('demo-001 · serves 100 %');
  expect(block(filled, 't0')!.optional).toBe(true);
  const summary = JSON.stringify(blocksOf(filled));
  expect(summary).toContain('*Stage gates* (every 1s): `slo` (slo_snapshot)');
  expect(summary).toContain('*Approvals:* go/no-go: 2 of *release-manager* or *ops-lead* (two-person rule)');
  expect(filled.view.submit).toEqual({ type: 'plain_text', text: 'Start' });

  // The typed command's refusals, in the modal, under the field they are about; nothing starts.
  expect(await submit(filled, values('dialed', 'demo-001', 'demo-001'))).toEqual({ canary: 'canary= and stable= name the same revision.' });
  expect(await submit(filled, values('dialed', 'demo-002', 'demo-001', '25:00'))).toEqual({ t0: '25:00 is not a time of day: use HH:MM from 00:00 to 23:59.' });
  expect(await submit(filled, values('dialed', 'demo-002', 'demo-001', '2020-01-01T10:00Z'))).toEqual({ t0: expect.stringContaining('in the past') });
  expect(await submit(filled, values('elsewhere', 'demo-002', 'demo-001'))).toEqual({ plan: `elsewhere runs in another channel (${ELSEWHERE}): start it there.` });
  expect(await submit(filled, { plan: {} })).toEqual({ plan: 'Pick a plan.' });
  expect(await room.bot.runtime.engine.active()).toEqual([]);

  // Submitted: the modal closes and the command's response_url gets what the typed command answers.
  expect(await submit(filled, values('dialed', 'demo-002', 'demo-001'))).toBeNull();
  const started = await fake.waitFor((f) => f.responses(reply)[0]);
  expect(started.response_type).toBe('ephemeral');
  const id = startedId({ via: 'response_url', response_type: 'ephemeral', text: started.text ?? '' });
  const state = await room.state(id);
  expect([state.startedBy, state.revisions]).toEqual([RM1, { canary: 'demo-002', stable: 'demo-001' }]);
  await fake.waitFor((f) => cardOf(f, id));

  // The same refusal as typing it: one cutover per service.
  const typed = await room.slash('/cutover', 'start dialed');
  const again = await openDialog();
  expect(await submit(await pick(again.view, 'dialed'), values('dialed', 'demo-002', 'demo-001'))).toBeNull();
  const refused = await fake.waitFor((f) => f.responses(again.reply)[0]);
  expect(refused.text).toBe(typed.text);
  expect(refused.text).toContain('already running');
});

it('schedules T0 ahead when one is given, as /cutover schedule does', async () => {
  const { view, reply } = await openDialog();
  const filled = await pick(view, 'later');
  const t0 = new Date(Date.now() + 2 * 3_600_000).toISOString().slice(0, 16) + 'Z';
  expect(await submit(filled, values('later', 'demo-002', 'demo-001', t0))).toBeNull();
  const answer = await room.fake.waitFor((f) => f.responses(reply)[0]);
  const state = (await room.bot.runtime.engine.active()).find((s) => s.plan === 'later')!;
  expect(state.phase).toBe('scheduled');
  expect(state.t0).toBe(Date.parse(t0));
  expect(answer.text).toContain('Scheduled');
});

it('typed commands work unchanged: /cutover start with a plan starts at once, no dialog', async () => {
  const views = room.fake.views.length;
  const reply = await room.slash('/cutover', 'start nosuchplan');
  expect(reply.text).toContain('nosuchplan');
  expect(room.fake.views.length).toBe(views);
});

it('a trigger past its 3 seconds cannot open the dialog: the person is told to type the command', async () => {
  const reply = 'stale-trigger';
  const stale = `${Date.now() - 5_000}.1.fake-trigger`;
  await post(slashCommand({ command: '/cutover', text: 'start', user_id: RM1, channel_id: WAR_ROOM, response_url: room.fake.responseUrl(reply), trigger_id: stale }));
  const answer = await room.fake.waitFor((f) => f.responses(reply)[0]);
  expect(room.fake.callsTo('views.open').at(-1)?.response).toMatchObject({ ok: false, error: 'expired_trigger_id' });
  expect(answer.text).toContain('type `/cutover start <plan>` instead');
});
