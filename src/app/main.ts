// `npm start`: the Slack bot. Configuration from the environment, Redis (REDIS_URL or the
// embedded default), the cloud adapters, the runtime with its workers, the Slack war room and
// roles, then the Bolt app; SIGTERM or SIGINT stops it all in order.
import { webApi } from '@slack/bolt';
import { register, Home, StartDialog } from '../../commands/index.ts';
import { chartOf, rebuildEvidence } from '../../jobs/evidence.ts';
import { cloudAdapters } from './adapters.ts';
import { loadConfig, type Config } from '../config.ts';
import { locateRedis, NoRedisError } from '../infra/redis-url.ts';
import { createLogger, scrub, type Logger } from '../log.ts';
import type { Plan } from '../domain/plan.ts';
import { PlanCatalog } from '../plans/catalog.ts';
import { createRuntime, type Decorators, type Runtime } from './runtime.ts';
import type { WorkerSettings } from '../../jobs/workers.ts';
import type { PlanVocabulary } from '../plans/schema.ts';
import { createSlackApp } from './slack-app.ts';
import { boltLogger } from '../slack/bolt-logger.ts';
import { SlackRoles } from '../slack/roles.ts';
import { SlackWarRoom } from '../slack/war-room.ts';
import { postResponse } from '../../commands/respond.ts';

export interface BotOverrides {
  /** Instead of a logger at LOG_LEVEL on stdout. */
  readonly log?: Logger;
  /** For gates' `token_env` and the cloud emulator hosts; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly workerSettings?: WorkerSettings;
  readonly sweepEveryMs?: number;
  /** How the WebClient retries Slack (tests make it quick). */
  readonly slackRetries?: webApi.RetryOptions;
  /** Applied to every plan loaded (tests compress a plan's durations: a T-2 checkpoint opens 2 s before T0). */
  readonly adjustPlan?: (plan: Plan) => Plan;
  /** Wrappers around the platforms and gate kinds (tests slow shifts down with one). */
  readonly decorate?: Decorators;
}

export interface Bot {
  readonly runtime: Runtime;
  /** The HTTP port: Slack's requests (HTTP mode) and the probes. */
  readonly port: number;
  stop(): Promise<void>;
}

/** A start-up problem worth one line to the operator, not a stack trace. */
class StartupError extends Error {}

export async function startBot(config: Config, overrides: BotOverrides = {}): Promise<Bot> {
  const env = overrides.env ?? process.env;
  const log = overrides.log ?? createLogger({ level: config.logLevel });
  const slackLog = boltLogger(log);
  const clientOptions: webApi.WebClientOptions = {
    ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
    logger: slackLog,
    retryConfig: overrides.slackRetries ?? webApi.retryPolicies.fiveRetriesInFiveMinutes,
  };
  const client = new webApi.WebClient(config.slack.botToken, clientOptions);
  const identity = await client.auth.test().catch((error: unknown) => {
    const why = error instanceof Error ? error.message : String(error);
    const refused = (error as { code?: string }).code === webApi.ErrorCode.PlatformError;
    throw new StartupError(refused ? `Slack did not accept SLACK_BOT_TOKEN: ${why}` : `cannot reach Slack's Web API at ${config.slack.apiUrl ?? 'https://slack.com/api/'}: ${why}`);
  });

  // Undone in reverse order, on a failed start or at stop: Bolt, workers and queues, adapters, Redis.
  const undo: Array<() => Promise<unknown>> = [];
  const unwind = async () => {
    for (const step of undo.reverse()) await step().catch((err: unknown) => log.warn({ err }, 'shutdown step failed'));
    undo.length = 0;
  };
  try {
    const redis = await locateRedis({ ...env, REDIS_URL: config.redisUrl ?? '' }).catch((error: unknown) => {
      throw error instanceof NoRedisError ? new StartupError(error.message) : error;
    });
    undo.push(() => redis.stop());
    const adapters = cloudAdapters(env, { log });
    undo.push(async () => adapters.close?.());

    // Workers may post a closing message before createRuntime returns (the start-up sweep):
    // the room waits for the store instead of finding none.
    const built = Promise.withResolvers<Runtime>();
    const store = async () => (await built.promise).store;
    const room = new SlackWarRoom({
      client,
      log,
      evidence: async (id) => rebuildEvidence(await store(), id),
      chart: async (id, now) => chartOf(await store(), id, now),
      chartLater: async (id, moment, at) => (await built.promise).dispatcher.chart(id, moment, at),
      memory: { recall: async (id, key) => (await store()).roomMessage(id, key), remember: async (id, key, ts) => (await store()).setRoomMessage(id, key, ts) },
    });
    // Its own WebClient: while Slack rate-limits the war room's posts, the WebClient holds its whole
    // request queue for the Retry-After, and a /rollback waiting on a role lookup behind it would
    // wait with it.
    const roles = new SlackRoles(new webApi.WebClient(config.slack.botToken, clientOptions), { log });
    const catalogOf = (vocabulary: PlanVocabulary) => new PlanCatalog(config.plansDir, vocabulary, overrides.adjustPlan ? { adjust: overrides.adjustPlan } : {});
    let home: Home | undefined;
    const runtime = await createRuntime({
      redisUrl: redis.url,
      prefix: config.redisPrefix,
      room,
      roles,
      log,
      evidenceRoot: config.evidenceDir,
      env,
      platforms: adapters.platforms,
      gateKinds: adapters.gateKinds,
      ...(overrides.workerSettings ? { workerSettings: overrides.workerSettings } : {}),
      ...(overrides.sweepEveryMs ? { sweepEveryMs: overrides.sweepEveryMs } : {}),
      ...(overrides.decorate ? { decorate: overrides.decorate } : {}),
      // Listeners only ack and hand over; the workers do the commands' work and answer.
      commands: { catalog: catalogOf, reply: postResponse },
      home: ({ store, vocabulary }) => (home = new Home({ store, catalog: catalogOf(vocabulary), roles, client, log, now: Date.now })),
    });
    built.resolve(runtime);
    undo.push(() => runtime.close());

    const slack = createSlackApp({
      botToken: config.slack.botToken,
      signingSecret: config.slack.signingSecret,
      appToken: config.slack.appToken,
      port: config.port,
      identity: { botId: identity.bot_id, botUserId: identity.user_id },
      clientOptions,
      logger: slackLog,
      readiness: () => readiness(runtime),
    });
    const startDialog = new StartDialog({
      catalog: catalogOf(runtime.vocabulary),
      revisions: (plan) => runtime.backends.revisions(plan),
      handOver: runtime.handOver,
      log,
      now: Date.now,
    });
    register(slack.app, { handOver: runtime.handOver, log }, { ...(home ? { home } : {}), startDialog });
    const port = await slack.start();
    undo.push(() => slack.stop());
    log.info({ port, mode: config.slack.appToken ? 'socket' : 'http', redis: redis.description, plansDir: config.plansDir, evidenceDir: config.evidenceDir }, 'bot ready');
    return {
      runtime,
      port,
      stop: async () => {
        log.info('bot stopping');
        await unwind();
        log.info('bot stopped');
      },
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

/** /readyz: Redis answers and every worker runs. */
async function readiness(runtime: Runtime): Promise<string | null> {
  try {
    await runtime.redis.ping();
  } catch {
    return 'redis unreachable';
  }
  return runtime.workers?.all.every((w) => w.isRunning()) ? null : 'workers not running';
}

/** Long enough for running jobs to finish; jobs cut short are retried by another replica. */
const SHUTDOWN_GRACE_MS = 25_000;

async function main(): Promise<void> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    for (const problem of loaded.problems) process.stderr.write(`config: ${problem}\n`);
    process.exit(2);
  }
  let bot: Bot;
  try {
    bot = await startBot(loaded.config);
  } catch (error) {
    const message = error instanceof StartupError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`cutover-bot: ${scrub(message)}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = () => {
    // A second signal, or a shutdown that hangs (a worker cut off from Redis), does not wait for the workers.
    if (stopping) process.exit(1);
    stopping = true;
    setTimeout(() => {
      process.stderr.write(`cutover-bot: shutdown took longer than ${SHUTDOWN_GRACE_MS / 1000} s; exiting anyway\n`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    bot.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // One bad request must not take the bot down (Bolt 5.1 rejects unhandled on a signed request whose
  // payload is `null`): everything is in Redis and every job retries, so log it and keep serving.
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`cutover-bot: unhandled rejection: ${scrub(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason))}\n`);
  });
}

if (import.meta.main) await main();
