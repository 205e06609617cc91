// The real bot (Bolt, engine, BullMQ workers, Redis) started in-process against the fake Slack
// Web API, driven by real signed HTTP requests to /slack/events, as Slack would drive it.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import type { Logger } from '../../src/log.ts';
import { startBot, type Bot } from '../../src/app/main.ts';
import type { CutoverState } from '../../src/domain/state.ts';
import type { Plan } from '../../src/domain/plan.ts';
import { compressPlan } from '../../src/app/rehearsal/compress.ts';
import { startFakeSlack, type FakeMessage, type FakeSlack } from '../fakes/slack-api.ts';
import { planYaml } from '../support/plans.ts';
import { redisUrl, uniquePrefix } from '../support/redis.ts';
import { slowableShifts } from '../support/world.ts';
import { blockAction, postToSlackEndpoint, slashCommand, type PostOptions } from '../support/slack-requests.ts';
import { silentLogger } from '../support/log.ts';

export const SECRET = 'test-signing-secret-5f2a';
export const WAR_ROOM = 'C0WARROOM';
export const ELSEWHERE = 'C0ELSEWHERE';
/** Plan roles (test/support/plans.ts): release-manager U0RM1, U0RM2; ops-lead U0OPS; oncall-ops the group S0ONCALL. */
export const RM1 = 'U0RM1';
export const RM2 = 'U0RM2';
export const OPS = 'U0OPS';
export const ONCALL = 'U0ONCALL';
export const NOBODY = 'U0NOBODY';
export const USERGROUPS = { S0ONCALL: [ONCALL], S0MANAGERS: ['U0MGR'] };
export const FAST_SLACK_RETRIES = { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 };

export type PlanPatch = (doc: Record<string, any>) => void;

/** A plan document for the bot's PLANS_DIR: quick soaks, its own simulated service. */
export function quickPlan(name: string, patch: PlanPatch = () => undefined): string {
  return planYaml((doc) => {
    doc.name = name;
    doc.service.name = `${name}-svc`;
    doc.stages = [10, 50, 100];
    doc.soak = '1s';
    doc.check_every = '1s';
    patch(doc);
  });
}

export interface Reply {
  readonly via: 'ack' | 'response_url';
  readonly response_type: string | undefined;
  readonly text: string;
  readonly blocks?: unknown[];
}

export interface Room {
  readonly fake: FakeSlack;
  readonly bot: Bot;
  readonly url: string;
  readonly dir: string;
  /** A signed slash command; resolves with the one ephemeral reply it gets. */
  slash(command: '/cutover' | '/promote' | '/rollback', text: string, as?: { user?: string; channel?: string }): Promise<Reply>;
  /** A signed button click; resolves with the one ephemeral reply it gets. */
  click(actionId: string, value: string, as?: { user?: string; channel?: string; messageTs?: string }): Promise<Reply>;
  /** POSTs to /slack/events without waiting for a reply (for requests that must be refused). */
  post(body: string, options?: Partial<PostOptions>): Promise<{ status: number; body: string }>;
  state(id: string): Promise<CutoverState>;
  close(): Promise<void>;
}

let replySeq = 0;

export async function awaitReply(fake: FakeSlack, res: { status: number; body: string }, id: string): Promise<Reply> {
  if (res.status !== 200) throw new Error(`/slack/events answered ${res.status}`);
  if (res.body) {
    const acked = JSON.parse(res.body) as { response_type?: string; text: string };
    return { via: 'ack', response_type: acked.response_type, text: acked.text };
  }
  const reply = await fake.waitFor((f) => f.responses(id)[0], { timeoutMs: 10_000 });
  return { via: 'response_url', response_type: reply.response_type, text: reply.text ?? '', ...(reply.blocks ? { blocks: reply.blocks } : {}) };
}

export function requests(fake: FakeSlack, url: string) {
  return {
    async slash(command: '/cutover' | '/promote' | '/rollback', text: string, as: { user?: string; channel?: string } = {}): Promise<Reply> {
      const id = `cmd${++replySeq}`;
      const body = slashCommand({ command, text, user_id: as.user ?? RM1, channel_id: as.channel ?? WAR_ROOM, response_url: fake.responseUrl(id) });
      return awaitReply(fake, await postToSlackEndpoint(`${url}/slack/events`, body, { secret: SECRET }), id);
    },
    async click(actionId: string, value: string, as: { user?: string; channel?: string; messageTs?: string } = {}): Promise<Reply> {
      const id = `click${++replySeq}`;
      const body = blockAction({ user: as.user ?? RM1, channel: as.channel ?? WAR_ROOM, actionId, value, ...(as.messageTs ? { messageTs: as.messageTs } : {}), responseUrl: fake.responseUrl(id) });
      return awaitReply(fake, await postToSlackEndpoint(`${url}/slack/events`, body, { secret: SECRET }), id);
    },
  };
}

/** `planSpeed`: the plans' durations divided by it (a timeline's minutes become seconds at 60). */
export interface RoomOptions {
  readonly redisUrl?: string;
  readonly planSpeed?: number;
  /** PLANS_DIR names a folder that is not there. */
  readonly noPlansFolder?: boolean;
  /** The bot's logger (default silent). */
  readonly log?: Logger;
  /** More of the bot's configuration (ADMIN_PASSWORD, COMMAND_TTL, …). */
  readonly config?: Record<string, string>;
  /** The environment the bot's adapters and gates see (an emulator host); PATH is always there. */
  readonly env?: Record<string, string>;
}

export async function openRoom(plans: Record<string, string>, options: RoomOptions = {}): Promise<Room> {
  const fake = await startFakeSlack({ usergroups: USERGROUPS });
  const dir = await mkdtemp(join(tmpdir(), 'cutover-room-'));
  const plansDir = join(dir, 'plans');
  if (!options.noPlansFolder) await mkdir(plansDir);
  for (const [name, text] of Object.entries(plans)) await writeFile(join(plansDir, `${name}.yaml`), text);
  const prefix = uniquePrefix('room');
  const loaded = loadConfig({
    SLACK_BOT_TOKEN: fake.token,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: fake.apiUrl,
    REDIS_URL: options.redisUrl ?? redisUrl(),
    REDIS_PREFIX: prefix,
    PLANS_DIR: plansDir,
    EVIDENCE_DIR: join(dir, 'evidence'),
    PORT: '0',
    ...options.config,
  });
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  let started: Bot | undefined;
  const bot = await startBot(loaded.config, {
    decorate: slowableShifts(() => (started as Bot).runtime.redis, prefix),
    log: options.log ?? silentLogger(),
    env: { PATH: process.env.PATH, ...options.env },
    workerSettings: { lockDurationMs: 2_000 },
    sweepEveryMs: 1_000,
    slackRetries: FAST_SLACK_RETRIES,
    ...(options.planSpeed ? { adjustPlan: (plan: Plan) => compressPlan(plan, options.planSpeed as number) } : {}),
  });
  started = bot;
  const url = `http://127.0.0.1:${bot.port}`;
  return {
    fake,
    bot,
    url,
    dir,
    ...requests(fake, url),
    post: (body, options = {}) => postToSlackEndpoint(`${url}/slack/events`, body, { secret: SECRET, ...options }),
    async state(id) {
      const state = await bot.runtime.store.loadState(id);
      if (!state) throw new Error(`no cutover ${id}`);
      return state;
    },
    async close() {
      await bot.stop();
      await fake.close();
      // A test that force-closed the workers first leaves a job that may still be writing evidence
      // here: rm retries while the folder fills behind it.
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    },
  };
}

// ---- reading the room -------------------------------------------------------------------------

interface Button {
  readonly action_id: string;
  readonly value: string;
  readonly text: string;
  readonly confirm?: unknown;
}

/** The status card of a cutover: the top-level message whose context names it. */
export function cardOf(fake: FakeSlack, id: string, channel = WAR_ROOM): FakeMessage | undefined {
  return fake.channelMessages(channel).find((m) => JSON.stringify(m.blocks).includes(`Cutover \`${id}\``) && m.text.startsWith('Cutover '));
}

export function buttons(message: { blocks: unknown[] } | undefined): Button[] {
  const actions = (message?.blocks ?? []).find((b): b is { type: 'actions'; elements: any[] } => (b as { type?: string }).type === 'actions');
  return (actions?.elements ?? []).map((e) => ({ action_id: e.action_id, value: e.value, text: e.text.text, ...(e.confirm ? { confirm: e.confirm } : {}) }));
}

export function button(message: { blocks: unknown[] } | undefined, actionId: string): Button | undefined {
  return buttons(message).find((b) => b.action_id === actionId);
}

/** The cutover id in the start reply ("Started cutover `<id>` …"). */
export function startedId(reply: Reply): string {
  const id = /Started cutover `([^`]+)`/.exec(reply.text)?.[1];
  if (!id) throw new Error(`not a start reply: ${reply.text}`);
  return id;
}

/** Waits until the card offers `actionId` on a state newer than `after` (a phaseSeq), and returns it. */
export function waitForButton(fake: FakeSlack, id: string, actionId: string, after = 0, timeoutMs = 10_000): Promise<Button & { seq: number; ts: string }> {
  return fake.waitFor(
    (f) => {
      const card = cardOf(f, id);
      const found = button(card, actionId);
      if (!card || !found) return undefined;
      const seq = (JSON.parse(found.value) as { s: number }).s;
      return seq > after ? { ...found, seq, ts: card.ts } : undefined;
    },
    { timeoutMs },
  );
}

export const allText = (message: FakeMessage): string => `${message.text}\n${JSON.stringify(message.blocks)}`;
