// SlackWarRoom against the fake Slack Web API with the real WebClient: where each kind of audit
// entry goes, and how the evidence package is uploaded.
import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { COMBINED_LOGS, SlackWarRoom, uploads } from '../../src/slack/war-room.ts';
import { Drive, OPS, reach } from '../domain/drive.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.ts';
import { makePlan } from '../support/plans.ts';
import { silentLogger } from '../support/log.ts';

let fake: FakeSlack;
let client: webApi.WebClient;
const plan = makePlan();
const PACKAGE = new Map([
  ['summary.json', '{}\n'],
  ['SUMMARY.md', '# Cutover evidence: demo\n'],
  ['logs/preflight-G1.log', 'ok\n'],
  ['logs/cohort1-probe-3.log', 'probe said hi\n'],
  ['logs/audit.jsonl', '{"type":"notice"}\n'],
]);

beforeAll(async () => {
  fake = await startFakeSlack();
  client = new webApi.WebClient(fake.token, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
});

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => fake.reset());

/** The room's memory of messages it edits in place: Redis in the bot, a map here. */
let remembered = new Map<string, string>();
const memory = { recall: async (id: string, key: string) => remembered.get(`${id}/${key}`) ?? null, remember: async (id: string, key: string, ts: string) => void remembered.set(`${id}/${key}`, ts) };
beforeEach(() => (remembered = new Map()));

const room = () => new SlackWarRoom({ client, log: silentLogger(), evidence: async (id) => (id === 'c1' ? PACKAGE : null), memory });

it('the card opens in the plan channel and is edited in place; notices go to its thread, escalations to the channel; refusals nowhere', async () => {
  const d = reach(plan, 'awaiting_go_no_go');
  const ref = await room().open({ state: d.state, plan });
  expect(ref).toEqual({ channel: 'C0WARROOM', ts: expect.any(String) });
  await room().post(ref, { type: 'notice', at: 0, version: 2, notice: { kind: 'go_no_go_requested', roles: ['release-manager'], needed: 2 } }, { state: d.state, plan });
  await room().post(ref, { type: 'refused', at: 0, by: 'U0NOBODY', action: 'approve', code: 'not_authorized' }, { state: d.state, plan });
  await room().post(ref, { type: 'escalation', at: 0, version: 3, escalation: { code: 'approval_stuck', detail: 'waited 15 min' } }, { state: d.state, plan });
  await room().refresh(ref, { state: d.state, plan });
  expect(fake.thread('C0WARROOM', ref.ts!).map((m) => m.text)).toEqual(['🗳️ Go/no-go requested: 2 approvals from release-manager']);
  expect(fake.channelMessages('C0WARROOM').map((m) => m.text)).toEqual(['Cutover demo: waiting for the go/no-go', '<!subteam^S0MANAGERS> 🚨 demo cutover issue: Approval waiting too long']);
  expect(fake.message('C0WARROOM', ref.ts!)?.edits).toBe(1);
});

it('closing: the outcome in the channel, the package in the card thread with the gate logs as one file', async () => {
  const d = reach(plan, 'completed');
  const ref = { channel: 'C0WARROOM', ts: '1700000000.999900' };
  await room().post(ref, { type: 'evidence', at: 0, path: '/evidence/demo/x', files: [...PACKAGE.keys()] }, { state: d.state, plan });
  expect(fake.channelMessages('C0WARROOM').map((m) => m.text)).toEqual(['🟢 Cutover demo completed: the canary serves 100 %']);
  const files = fake.files.filter((f) => f.completed && f.thread_ts === ref.ts);
  expect(files.map((f) => f.title)).toEqual(['summary.json', 'SUMMARY.md', 'logs/audit.jsonl', COMBINED_LOGS]);
  expect(files.at(-1)?.content?.toString()).toBe('==> logs/preflight-G1.log <==\nok\n\n==> logs/cohort1-probe-3.log <==\nprobe said hi\n');
  expect(uploads(new Map([['summary.json', '{}']]))).toEqual([['summary.json', '{}']]);
});

it('a checklist is posted in the thread once and edited in place on each tick, even when an entry comes twice; the end drops its buttons', async () => {
  const timed = makePlan((doc) => {
    doc.timeline = [{ at: 'T-60', name: 'Final preparation', owner: 'ops-lead', checklist: ['dashboards open', 'rollback reviewed'] }];
  });
  const d = new Drive(timed);
  const card = await room().open({ state: d.state, plan: timed });
  const opened = { type: 'notice', at: 0, version: 1, notice: { kind: 'checkpoint_opened', index: 0 } } as const;
  await room().post(card, opened, { state: d.state, plan: timed });
  await room().post(card, opened, { state: d.state, plan: timed }); // redelivered after a crash
  d.must({ type: 'tick', actor: OPS, checkpoint: 0, item: 0 });
  await room().post(card, { type: 'notice', at: 0, version: 2, notice: { kind: 'checkpoint_ticked', index: 0, item: 0, by: OPS.id } }, { state: d.state, plan: timed });
  await room().post(card, { type: 'notice', at: 0, version: 2, notice: { kind: 'checkpoint_nudged', index: 0 } }, { state: d.state, plan: timed });
  const thread = fake.thread('C0WARROOM', card.ts!);
  expect(thread.map((m) => m.text)).toEqual([
    '📋 T-60 Final preparation: <@U0OPS> please tick 2 items',
    '🔔 <@U0OPS> *T-60 Final preparation* is past its grace period: 1 of 2 items still open. Please tick them in its checklist above; in 10m it escalates.',
  ]);
  expect(thread[0]!.edits).toBe(2);
  expect(JSON.stringify(thread[0]!.blocks)).toContain('✅ dashboards open');

  // The cutover ends with the checkpoint open: the closing message, and no Tick button left.
  d.must({ type: 'abort', actor: OPS, reason: 'freeze' });
  await room().post(card, { type: 'evidence', at: 0, path: '/evidence/demo/x', files: [] }, { state: d.state, plan: timed });
  expect(fake.message('C0WARROOM', remembered.get('c1/closing')!)?.text).toBe('⚪ Cutover demo aborted before traffic moved');
  expect(JSON.stringify(fake.thread('C0WARROOM', card.ts!)[0]!.blocks)).not.toContain('"action_id":"tick"');
});

it('sign-off completed after the closing message: the sign-off message is edited and the signed SUMMARY.md goes to the thread again', async () => {
  const signed = makePlan((doc) => {
    doc.sign_off = [{ role: 'ops-lead', item: 'Manuals acknowledged' }];
  });
  const d = new Drive(signed);
  d.must({ type: 'abort', actor: OPS, reason: 'freeze' });
  const card = await room().open({ state: d.state, plan: signed });
  await room().post(card, { type: 'notice', at: 0, version: d.state.version, notice: { kind: 'signoff_requested' } }, { state: d.state, plan: signed });
  await room().post(card, { type: 'evidence', at: 0, path: '/evidence/demo/x', files: [] }, { state: d.state, plan: signed });
  const before = fake.files.length;
  d.must({ type: 'sign_off', actor: OPS, item: 0 });
  await room().post(card, { type: 'notice', at: 0, version: d.state.version, notice: { kind: 'signoff_complete' } }, { state: d.state, plan: signed });
  const thread = fake.thread('C0WARROOM', card.ts!);
  expect(thread.find((m) => m.text === '✅ Sign-off complete for demo')?.edits).toBe(1);
  expect(thread.some((m) => m.text === '✅ Sign-off complete')).toBe(true);
  expect(fake.files.slice(before).filter((f) => f.completed).map((f) => f.title)).toEqual(['summary.json', 'SUMMARY.md']);
});

it('charts: at a hold the room asks for the chart by a job and posts nothing itself; that job posts it into the thread; a chart that fails to draw is logged, not thrown', async () => {
  const d = reach(plan, 'held_soaking');
  const view = { state: d.state, plan };
  const ref = await room().open(view);
  const asked: Array<[string, string, number]> = [];
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  const alt = 'the chart in words: held: <!channel> look';
  const charted = new SlackWarRoom({ client, log: silentLogger(), evidence: async () => null, memory, chart: async () => ({ png, alt }), chartLater: async (id, moment, at) => void asked.push([id, moment, at]) });
  await charted.post(ref, { type: 'notice', at: 1234, version: 5, notice: { kind: 'held', by: 'U0OPS', code: 'manual', reason: 'looking at a graph' } }, view);
  expect(asked).toEqual([['c1', 'hold', 1234]]);
  expect(fake.files).toEqual([]);

  await charted.chart(ref, view, 'hold', Date.now());
  const [file] = fake.files;
  // Plain alt text as written; the mrkdwn comment escaped, so nobody is pinged by a reason someone typed.
  expect([file?.thread_ts, file?.alt_text, file?.initial_comment, file?.content?.length]).toEqual([ref.ts, alt, '📈 Chart at the hold: the chart in words: held: &lt;!channel&gt; look', png.length]);

  const broken = new SlackWarRoom({ client, log: silentLogger(), evidence: async () => null, memory, chart: async () => { throw new Error('no font'); } });
  await expect(broken.chart(ref, view, 'update', Date.now())).resolves.toBeUndefined();
  expect(fake.files).toHaveLength(1);
});

it('charts of a train: one upload per target into the thread, each with its own words; one that cannot be uploaded leaves the others posted', async () => {
  const d = reach(plan, 'held_soaking');
  const view = { state: d.state, plan };
  const ref = await room().open(view);
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  const targets = ['api-us', 'api-eu', 'worker'].map((id, index) => ({ png, alt: `chart of ${id}: <!channel>`, target: { index, id } }));
  const charted = new SlackWarRoom({ client, log: silentLogger(), evidence: async () => null, memory, chart: async () => targets });
  fake.failNext('files.getUploadURLExternal', { error: 'internal_error' });
  await charted.chart(ref, view, 'hold', Date.now());
  const posted = fake.files.filter((f) => f.completed);
  expect(posted.map((f) => [f.thread_ts, f.filename, f.title, f.alt_text, f.initial_comment])).toEqual(
    ['api-eu', 'worker'].map((id, i) => [ref.ts, `chart-c1-${id}.png`, `Cutover demo (${id}, target ${i + 1}): canary against stable`, `chart of ${id}: <!channel>`, `📈 Chart at the hold, ${id}: chart of ${id}: &lt;!channel&gt;`]),
  );
});
