// Issue 5: three bot replicas on one Redis give the same result as one. The same script of
// commands and clicks (people acting at once: two approvers clicking together, the same Promote
// clicked twice on two replicas, someone asking for the status meanwhile) runs against one child
// bot and, spread round-robin, against three child bots sharing a Redis prefix. Both end the same
// way: the same outcome, the same audit trail of decisions and notices, each traffic step once,
// one status card. And across the three no job with a deterministic id (shift, check, preflight,
// stuck, …) ever runs twice at once: BullMQ's own event stream shows each started once and
// finished once. (test/slack/replicas.test.ts alternates two replicas without the races.)
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SimulatedWorld } from '../../src/sim/world.ts';
import { CutoverStore } from '../../src/store/cutover-store.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.ts';
import { botEnv, startChildBot, type ChildBot } from '../support/child-bot.ts';
import { waitForAudit } from '../support/engine.ts';
import { connect, uniquePrefix } from '../support/redis.ts';
import { OPS, RM1, RM2, SECRET, USERGROUPS, WAR_ROOM, cardOf, quickPlan, requests, startedId, waitForButton } from '../slack/harness.ts';
import { auditOf, confirmedPercents, shapeOf, threadAgainstAudit } from './trail.ts';

type Endpoint = ReturnType<typeof requests>;

let fake: FakeSlack;
let dir: string;
let redis: Redis;
const bots: ChildBot[] = [];
const prefixes = { solo: uniquePrefix('solo'), trio: uniquePrefix('trio') };

beforeAll(async () => {
  fake = await startFakeSlack({ usergroups: USERGROUPS });
  dir = await mkdtemp(join(tmpdir(), 'cutover-three-replicas-'));
  await mkdir(join(dir, 'plans'));
  for (const name of ['solo', 'trio']) await writeFile(join(dir, 'plans', `${name}.yaml`), quickPlan(name));
  redis = connect();
  const env = (prefix: string) => botEnv({ token: fake.token, secret: SECRET, apiUrl: fake.apiUrl, prefix, dir });
  bots.push(...(await Promise.all([startChildBot(env(prefixes.solo)), startChildBot(env(prefixes.trio)), startChildBot(env(prefixes.trio)), startChildBot(env(prefixes.trio))])));
}, 60_000);

afterAll(async () => {
  await Promise.all(bots.map((b) => b.stop()));
  redis?.disconnect();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The war room's people, each request to the next endpoint in turn. */
async function script(plan: string, endpoints: readonly Endpoint[]): Promise<string> {
  let turn = 0;
  const next = () => endpoints[turn++ % endpoints.length]!;
  const id = startedId(await next().slash('/cutover', `start ${plan}`));
  const approve = await waitForButton(fake, id, 'approve', 0, 15_000);
  // Two approvers at once, and the first one's finger slips: a second click of the same button.
  const votes = await Promise.all([next().click('approve', approve.value, { user: RM1 }), next().click('approve', approve.value, { user: OPS }), next().click('approve', approve.value, { user: RM1 })]);
  for (const vote of votes) expect(vote.response_type).toBe('ephemeral');
  let seq = approve.seq;
  for (let cohort = 0; cohort < 2; cohort++) {
    const promote = await waitForButton(fake, id, 'promote', seq, 15_000);
    // The same Promote clicked on two replicas at once, while someone asks where it is.
    const [a, b, status] = await Promise.all([next().click('promote', promote.value, { user: RM2 }), next().click('promote', promote.value, { user: RM2 }), next().slash('/cutover', `status ${plan}`)]);
    expect([a.text, b.text].filter((t) => t.startsWith('✅ Done'))).toHaveLength(1);
    expect(status.text).toContain(plan);
    seq = promote.seq;
  }
  return id;
}

interface Outcome {
  readonly state: { phase: string; outcome: string | null; traffic: number };
  readonly shifts: number[];
  readonly confirmed: number[];
  /** Notices and escalations in order, refusals left out (which of two racing clicks lost is luck). */
  readonly trail: string[];
  readonly refusals: number;
  readonly decisions: string[];
  readonly cards: number;
}

async function outcomeOf(prefix: string, id: string, plan: string): Promise<Outcome> {
  const store = new CutoverStore(redis, prefix);
  await waitForAudit(store, id, (e) => e.type === 'evidence', 30_000);
  const state = (await store.loadState(id))!;
  const audit = await auditOf(store, id);
  const card = await fake.waitFor((f) => {
    const c = cardOf(f, id);
    return c?.text === `Cutover ${plan}: completed` && c;
  }, { timeoutMs: 15_000 });
  const { expected, actual } = threadAgainstAudit(fake, WAR_ROOM, card.ts, audit, (await store.loadPlan(id))!, state);
  expect(actual, `${plan}: the thread shows the audit trail in order`).toEqual(expected);
  return {
    state: { phase: state.phase, outcome: state.outcome, traffic: state.traffic },
    shifts: (await new SimulatedWorld(redis, prefix).shifts(state.serviceKey)).map((s) => s.percent),
    confirmed: confirmedPercents(audit),
    trail: shapeOf(audit).filter((s) => !s.startsWith('refused')),
    refusals: audit.filter((e) => e.type === 'refused').length,
    decisions: state.decisions.map((d) => `${d.action}:${d.by}`).sort(),
    cards: fake.callsTo('chat.postMessage').filter((c) => c.status === 200 && c.body.thread_ts === undefined && String(c.body.text).startsWith(`Cutover ${plan}:`)).length,
  };
}

/** BullMQ's event stream of a queue: per job id, its events in order. */
async function jobEvents(prefix: string, queue: string): Promise<Map<string, string[]>> {
  const rows = await redis.xrange(`${prefix}:bull:${queue}:events`, '-', '+');
  const out = new Map<string, string[]>();
  for (const [, fields] of rows) {
    const f: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    if (!f.jobId) continue;
    out.set(f.jobId, [...(out.get(f.jobId) ?? []), f.event!]);
  }
  return out;
}

it('commands and clicks spread over three replicas end as with one: same outcome, same trail, each step once, one card, no job twice at once', async () => {
  const [solo, ...trio] = bots.map((b) => requests(fake, `http://127.0.0.1:${b.port}`)) as [Endpoint, Endpoint, Endpoint, Endpoint];
  const [soloId, trioId] = await Promise.all([script('solo', [solo]), script('trio', trio)]);
  const [one, three] = await Promise.all([outcomeOf(prefixes.solo, soloId, 'solo'), outcomeOf(prefixes.trio, trioId, 'trio')]);

  expect(one.state).toEqual({ phase: 'completed', outcome: 'completed', traffic: 100 });
  expect(one.shifts).toEqual([10, 50, 100]);
  expect(one.confirmed).toEqual([10, 50, 100]);
  expect(one.cards).toBe(1);
  expect(three).toEqual(one);
  // The losing clicks were refused and audited on both: the slipped approval and each second Promote.
  expect(one.refusals).toBe(3);

  // Every replica took requests.
  for (const bot of bots.slice(1)) expect(bot.logs.some((l) => l.msg === 'button click' || l.msg === 'slash command')).toBe(true);

  // Across the three replicas, each job with a deterministic id started once and finished once:
  // never active twice, never run again after it completed.
  const events = new Map([...(await jobEvents(prefixes.trio, 'cutover')), ...(await jobEvents(prefixes.trio, 'rollback'))]);
  const deterministic = [...events].filter(([jobId]) => /^(shift|check|preflight|rollback|stuck|timer)\./.test(jobId));
  expect(deterministic.filter(([jobId]) => jobId.startsWith('shift.')).length).toBe(3);
  expect(deterministic.filter(([jobId]) => jobId.startsWith('check.')).length).toBeGreaterThanOrEqual(3);
  for (const [jobId, list] of deterministic) {
    const ran = list.filter((e) => e === 'active' || e === 'completed' || e === 'failed' || e === 'stalled');
    // (A stuck check still delayed when the cutover ended never ran.)
    if (ran.length === 0) continue;
    // A job that waited for the traffic lease may fail and retry, but one run at a time, ending once.
    for (let i = 1; i < ran.length; i++) expect(ran[i - 1] === 'active' && ran[i] === 'active', `${jobId}: ${list.join(' ')}`).toBe(false);
    expect(ran.filter((e) => e === 'completed'), `${jobId}: ${list.join(' ')}`).toHaveLength(1);
    expect(ran.filter((e) => e === 'stalled'), jobId).toEqual([]);
  }
}, 120_000);
