// The first hour, lost input: the bot process (`node src/app/main.ts`, as `npm start` runs it) is
// SIGKILLed around the ack of a /rollback, a /promote and a go/no-go Approve click, on Cloud Run
// services behind the local gRPC fake, and started again. Four moments for each:
// - in flight, before the ack: Redis holds every write (CLIENT PAUSE WRITE), the bot has begun to
//   keep the request, and dies. Slack got no ack (it would show the person an error), and nothing
//   was kept: no command job was ever created, and after the restart nothing happens.
// - kept: the moment the command job is in Redis (its `added` event), whether or not the ack got out;
// - acked: right after the ack (the HTTP 200) arrives;
// - committed: the engine has committed the command, its job has not finished (it is taken over
//   and run again, and must not apply the command twice).
// In the last three the command is carried out after the restart, exactly once (Cloud Run's own
// log of accepted UpdateService calls for traffic, the audit trail for the approval), and every
// reply the person gets says it was done.
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { AuditEntry } from '../../src/domain/audit.ts';
import { startRedisServer, type RedisServer } from '../../src/infra/redis-server.ts';
import { CutoverStore } from '../../src/store/cutover-store.ts';
import { BOT_FAILED, STORE_DOWN } from '../../templates/replies.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.ts';
import { startChildBot, type ChildBot } from '../support/child-bot.ts';
import { notice, waitForAudit } from '../support/engine.ts';
import { uniquePrefix } from '../support/redis.ts';
import { blockAction, postToSlackEndpoint, slashCommand } from '../support/slack-requests.ts';
import { RM1, SECRET, USERGROUPS, WAR_ROOM, requests, startedId, waitForButton } from '../slack/harness.ts';
import { cloudRunPlanDocument, cloudWorld, type CloudService, type CloudWorld } from './cloud-world.ts';
import { auditOf, noticesOf } from './trail.ts';

let dir: string;
let redis: RedisServer;
let world: CloudWorld;
let fake: FakeSlack;
let bot: ChildBot | undefined;
let admin: Redis;
let store: CutoverStore;
let commands: Queue;
let rollbacks: Queue;
let events: QueueEvents;
let rollbackEvents: QueueEvents;
let env: Record<string, string>;
const prefix = uniquePrefix('ack-kills');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cutover-ack-kills-'));
  // Its own Redis: the test pauses every write in it for a moment.
  redis = await startRedisServer({ dir: join(dir, 'redis') });
  world = await cloudWorld();
  fake = await startFakeSlack({ usergroups: USERGROUPS });
  await mkdir(join(dir, 'plans'));
  admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  store = new CutoverStore(new Redis(redis.url, { maxRetriesPerRequest: null }), prefix);
  const bull = { connection: { url: redis.url, maxRetriesPerRequest: null }, prefix: `${prefix}:bull` };
  commands = new Queue('commands', bull);
  rollbacks = new Queue('rollback', bull);
  events = new QueueEvents('commands', bull);
  rollbackEvents = new QueueEvents('rollback', bull);
  await Promise.all([events.waitUntilReady(), rollbackEvents.waitUntilReady()]);
  env = {
    ...world.env,
    SLACK_BOT_TOKEN: fake.token,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: fake.apiUrl,
    REDIS_URL: redis.url,
    REDIS_PREFIX: prefix,
    PLANS_DIR: join(dir, 'plans'),
    EVIDENCE_DIR: join(dir, 'evidence'),
    PORT: '0',
    // The bot's "keeping the request" line is how the test knows a request is in the listener.
    LOG_LEVEL: 'debug',
  };
});

afterAll(async () => {
  await admin?.call('CLIENT', 'UNPAUSE').catch(() => undefined);
  await bot?.stop();
  await events?.close();
  await rollbackEvents?.close();
  await commands?.close();
  await rollbacks?.close();
  store?.redis.disconnect();
  admin?.disconnect();
  await fake?.close();
  await world?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

// ---- what a person does, and what Slack gets back ------------------------------------------------

type Sent = { readonly acked: true; readonly status: number; readonly body: string } | { readonly acked: false; readonly error: string };

/** A signed request to the bot; a bot that dies before answering shows as `acked: false`. */
const send = (body: string): Promise<Sent> =>
  postToSlackEndpoint(`http://127.0.0.1:${bot!.port}/slack/events`, body, { secret: SECRET }).then(
    (r) => ({ acked: true as const, status: r.status, body: r.body }),
    (error: unknown) => ({ acked: false as const, error: String(error) }),
  );

let replySeq = 0;
interface Act {
  readonly label: string;
  /** The request's body, answered through the response_url `reply`. */
  readonly body: string;
  readonly reply: string;
  /** The cutover it acts on, and the audit entry its commit writes. */
  readonly id: string;
  readonly committed: (e: AuditEntry) => boolean;
}
const rollback = (k: Case): Act => {
  const reply = `rollback-${k.plan}-${++replySeq}`;
  const body = slashCommand({ command: '/rollback', text: `${k.plan} support tickets`, user_id: RM1, channel_id: WAR_ROOM, response_url: fake.responseUrl(reply) });
  return { label: `/rollback ${k.plan}`, reply, body, id: k.id, committed: notice('rollback_started') };
};
const promote = (k: Case): Act => {
  const reply = `promote-${k.plan}-${++replySeq}`;
  const body = slashCommand({ command: '/promote', text: k.plan, user_id: RM1, channel_id: WAR_ROOM, response_url: fake.responseUrl(reply) });
  return { label: `/promote ${k.plan}`, reply, body, id: k.id, committed: notice('promoted') };
};
const approve = (k: Case): Act => {
  const reply = `approve-${k.plan}-${++replySeq}`;
  const button = k.approveButton!;
  const body = blockAction({ user: RM1, channel: WAR_ROOM, actionId: 'approve', value: button.value, messageTs: button.ts, responseUrl: fake.responseUrl(reply) });
  return { label: `approve ${k.plan}`, reply, body, id: k.id, committed: notice('go') };
};

// ---- the bot's life -----------------------------------------------------------------------------

const start = async () => {
  bot = await startChildBot(env);
};

/** BullMQ's counter of command jobs ever created: unchanged means nothing was kept. */
const commandsCreated = async () => Number((await admin.get(`${prefix}:bull:commands:id`)) ?? 0);

/** Resolves once no job of `queue` waits or runs (a dead process's job counts as running until taken over). */
function settled(queue: Queue, timeoutMs = 60_000): Promise<void> {
  const queueEvents = queue === commands ? events : rollbackEvents;
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      void queue.getJobCounts().then((counts) => reject(new Error(`${queue.name} jobs still pending after ${timeoutMs} ms: ${JSON.stringify(counts)}`)), reject);
    }, timeoutMs);
    const check = () => {
      void queue.getJobCounts('wait', 'active', 'delayed', 'prioritized').then((counts) => {
        if (Object.values(counts).every((n) => n === 0)) (stop(), resolve());
      }, reject);
    };
    const stop = () => {
      clearTimeout(timer);
      queueEvents.off('completed', check);
      queueEvents.off('failed', check);
    };
    queueEvents.on('completed', check);
    queueEvents.on('failed', check);
    check();
  });
}

/**
 * Kills the bot at `moment` of `act`, starts it again, and says what Slack got back.
 * - `in-flight`: writes to Redis held; the bot has the request in its listener; it dies.
 * - `kept`: the command job has just been added to Redis.
 * - `acked`: the HTTP 200 has arrived.
 * - `committed`: the engine has just committed the command (its job has not said it is done).
 */
async function killAround(act: Act, moment: 'in-flight' | 'kept' | 'acked' | 'committed'): Promise<Sent> {
  const victim = bot!;
  let sent: Sent;
  if (moment === 'in-flight') {
    const mark = victim.logs.length;
    await admin.call('CLIENT', 'PAUSE', '20000', 'WRITE');
    try {
      const pending = send(act.body);
      await victim.logged((line) => line.msg === 'keeping the request' && victim.logs.indexOf(line) >= mark);
      await victim.kill();
      sent = await pending;
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
    }
  } else if (moment === 'kept') {
    const added = once(events, 'added');
    const pending = send(act.body);
    await added;
    await victim.kill();
    sent = await pending;
  } else if (moment === 'committed') {
    const pending = send(act.body);
    await waitForAudit(store, act.id, act.committed);
    await victim.kill();
    sent = await pending;
  } else {
    sent = await send(act.body);
    await victim.kill();
  }
  await start();
  return sent;
}

/** Every reply the person got through the response_url says it was done; none says it failed. */
function expectDoneReplies(act: Act): void {
  const texts = fake.responses(act.reply).map((r) => r.text ?? '');
  expect(texts.length, act.label).toBeGreaterThan(0);
  for (const text of texts) {
    expect(text, act.label).not.toBe(STORE_DOWN);
    expect(text, act.label).not.toBe(BOT_FAILED);
    expect(text, act.label).toMatch(/^✅/);
  }
}

// ---- the cutovers -------------------------------------------------------------------------------

interface Case {
  readonly plan: string;
  readonly service: CloudService;
  id: string;
  approveButton?: { value: string; ts: string };
}

async function writePlan(name: string, patch: (doc: Record<string, any>) => void): Promise<Case> {
  const service = world.addService(name);
  const doc = cloudRunPlanDocument(service, (d) => {
    d.channel = WAR_ROOM;
    d.stages = [10, 50, 100];
    d.promotion = 'manual';
    d.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
    patch(d);
  });
  await writeFile(join(dir, 'plans', `${name}.yaml`), stringify(doc));
  return { plan: name, service, id: '' };
}

const confirmed = (percent: number) => (e: AuditEntry) => e.type === 'notice' && e.notice.kind === 'traffic_confirmed' && e.notice.percent === percent;

it('a /rollback, a /promote and an Approve click killed around their ack: before it, nothing is kept; once kept, each is carried out exactly once after the restart', async () => {
  // Rollbacks and approvals soak for an hour (nothing moves by itself); promotions need a clean soak first.
  const quiet = (d: Record<string, any>) => {
    d.soak = '1h';
    d.check_every = '1m';
  };
  const [rbA, rbB, rbC, prA, prB, prC, apA, apB, apC] = (await Promise.all([
    ...['rb-a', 'rb-b', 'rb-c'].map((name) => writePlan(name, quiet)),
    ...['pr-a', 'pr-b', 'pr-c'].map((name) => writePlan(name, (d) => (d.soak = '1s'))),
    ...['ap-a', 'ap-b', 'ap-c'].map((name) => writePlan(name, quiet)),
  ])) as [Case, Case, Case, Case, Case, Case, Case, Case, Case];
  const rbs = [rbA, rbB, rbC];
  const prs = [prA, prB, prC];
  const aps = [apA, apB, apC];
  await start();
  /** Jobs of a dead process that a live worker took over (BullMQ's stalled check). */
  const stalledSeen: string[] = [];
  events.on('stalled', ({ jobId }) => stalledSeen.push(`commands:${jobId}`));
  rollbackEvents.on('stalled', ({ jobId }) => stalledSeen.push(`rollback:${jobId}`));

  // Set the scene through Slack: rollback cases soaking at 10 %, promote cases awaiting promotion
  // at 10 %, approve cases waiting for their go/no-go.
  const room = requests(fake, `http://127.0.0.1:${bot!.port}`);
  await Promise.all(
    [...rbs, ...prs, ...aps].map(async (k) => {
      k.id = startedId(await room.slash('/cutover', `start ${k.plan}`));
      const button = await waitForButton(fake, k.id, 'approve', 0, 30_000);
      if (k.plan.startsWith('ap-')) {
        k.approveButton = { value: button.value, ts: button.ts };
        return;
      }
      expect((await room.click('approve', button.value, { messageTs: button.ts })).text).toMatch(/^✅/);
      await waitForAudit(store, k.id, k.plan.startsWith('rb-') ? confirmed(10) : (e) => e.type === 'notice' && e.notice.kind === 'soak_clean' && e.notice.next === 'promotion', 60_000);
    }),
  );
  for (const k of [...rbs, ...prs]) expect(k.service.accepted(), k.plan).toEqual([10]);
  for (const k of aps) expect(k.service.accepted(), k.plan).toEqual([]);

  // ---- in flight, before the ack: nothing kept, nothing happens -----------------------------------
  for (const [act, k] of [
    [rollback(rbA), rbA],
    [promote(prA), prA],
    [approve(apA), apA],
  ] as const) {
    const created = await commandsCreated();
    const accepted = k.service.accepted();
    const sent = await killAround(act, 'in-flight');
    expect(sent.acked, `${act.label}: Slack got no ack`).toBe(false);
    expect(await commandsCreated(), `${act.label}: no command job was ever created`).toBe(created);
    expect(k.service.accepted(), act.label).toEqual(accepted);
    const audit = await auditOf(store, k.id);
    expect(noticesOf(audit, 'rollback_started'), act.label).toEqual([]);
    expect(noticesOf(audit, 'promoted'), act.label).toEqual([]);
    expect(noticesOf(audit, 'go'), act.label).toHaveLength(k === apA ? 0 : 1);
    expect(fake.responses(act.reply), act.label).toEqual([]);
  }

  // ---- kept (the job just added), acked (the 200 arrived), committed (the engine has it, the job
  // is not done): carried out once --------------------------------------------------------------
  const cases = [
    { act: rollback(rbB), k: rbB, moment: 'kept' },
    { act: rollback(rbA), k: rbA, moment: 'acked' },
    { act: rollback(rbC), k: rbC, moment: 'committed' },
    { act: promote(prB), k: prB, moment: 'kept' },
    { act: promote(prA), k: prA, moment: 'acked' },
    { act: promote(prC), k: prC, moment: 'committed' },
    { act: approve(apB), k: apB, moment: 'kept' },
    { act: approve(apA), k: apA, moment: 'acked' },
    { act: approve(apC), k: apC, moment: 'committed' },
  ] as const;
  for (const { act, k, moment } of cases) {
    const sent = await killAround(act, moment);
    if (moment === 'acked') expect(sent, act.label).toEqual({ acked: true, status: 200, body: '' });
    else if (sent.acked) expect(sent.status, act.label).toBe(200);
    const kind = k.plan.slice(0, 2);
    // Carried out: what it asked for reached Cloud Run (or, for the approval, the go).
    await waitForAudit(store, k.id, kind === 'rb' ? notice('rolled_back') : kind === 'pr' ? confirmed(50) : confirmed(10), 90_000);
    // Every run of its command job is over (a dead process's job is taken over and run again).
    await settled(commands);
    await settled(rollbacks);
    await fake.waitFor((f) => f.responses(act.reply)[0], { timeoutMs: 10_000 });
    expectDoneReplies(act);
  }

  // Killed between the engine's commit and the job's end (its reply waits on the fake Slack in this
  // process, so it cannot end first), each `committed` command job was taken over by the restarted bot.
  expect(stalledSeen.filter((s) => s.startsWith('commands:')).length, stalledSeen.join(', ')).toBeGreaterThanOrEqual(3);
  // Exactly once: Cloud Run's own log of the updates it accepted, and the audit trail. Checked
  // after every kill, so a command run twice late would show here too.
  for (const k of rbs) {
    expect(k.service.accepted(), k.plan).toEqual([10, 0]);
    const audit = await auditOf(store, k.id);
    expect(noticesOf(audit, 'rollback_started'), k.plan).toHaveLength(1);
    expect(noticesOf(audit, 'rolled_back'), k.plan).toMatchObject([{ percent: 0 }]);
    expect((await store.loadState(k.id))!.outcome, k.plan).toBe('rolled_back');
  }
  for (const k of prs) {
    expect(k.service.accepted(), k.plan).toEqual([10, 50]);
    const audit = await auditOf(store, k.id);
    expect(noticesOf(audit, 'promoted'), k.plan).toHaveLength(1);
    const state = (await store.loadState(k.id))!;
    expect(state.traffic, k.plan).toBe(50);
    expect(['soaking', 'awaiting_promotion'], `${k.plan}: ${state.phase}`).toContain(state.phase);
  }
  for (const k of aps) {
    expect(k.service.accepted(), k.plan).toEqual([10]);
    const audit = await auditOf(store, k.id);
    expect(noticesOf(audit, 'approved').filter((n) => n.action === 'go_no_go'), k.plan).toMatchObject([{ by: RM1 }]);
    expect(noticesOf(audit, 'go'), k.plan).toHaveLength(1);
  }
}, 420_000);
