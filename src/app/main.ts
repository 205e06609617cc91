// `npm start`: the Slack bot. Configuration from the environment; the HTTP side first (probes,
// metrics, the dashboard, and Slack's requests unless this is a worker), so an orchestrator sees
// the process alive at once; then Slack's auth.test (retried in the background while Slack cannot
// be reached) and Redis (REDIS_URL or the embedded default; waited for while it cannot be reached),
// the cloud adapters, the runtime with its workers, the war room and roles. SIGTERM or SIGINT
// stops it all in order, within 10 s even when Slack or Redis is gone.
//
// ROLE: `all` (the default) runs everything in one process; `web` takes Slack's requests (acked
// and queued), with probes and metrics, and runs no jobs; `worker` runs the jobs (commands' work
// included), with probes and metrics, and takes no Slack requests.
import { setTimeout as sleep } from 'node:timers/promises';
import { webApi } from '@slack/bolt';
import { register, Home, StartDialog, type ListenerDeps } from '../../commands/index.ts';
import { chartOf, rebuildEvidence } from '../../jobs/evidence.ts';
import { cloudAdapters } from './adapters.ts';
import { DEFAULT_PLANS_DIR, loadConfig, type Config, type Role } from '../config.ts';
import { within } from '../infra/bounded.ts';
import { locateRedis, NoRedisError } from '../infra/redis-url.ts';
import { createLogger, scrub, type Logger } from '../log.ts';
import type { Plan } from '../domain/plan.ts';
import { inspectPlansFolder, PlanCatalog, type PlansFolder } from '../plans/catalog.ts';
import { checkPlans } from '../plans/check.ts';
import type { PlanVocabulary } from '../plans/schema.ts';
import { basename } from 'node:path';
import { createMetrics, type Metrics } from './metrics.ts';
import { createRuntime, type Decorators, type Runtime } from './runtime.ts';
import type { WorkerSettings } from '../../jobs/workers.ts';
import { createSlackApp, probes, send, serveRoutes, type Identity, type Route } from './slack-app.ts';
import { boltLogger } from '../slack/bolt-logger.ts';
import { ObservedWebClient } from '../slack/observed-client.ts';
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
  /** The HTTP port: Slack's requests (HTTP mode), the probes, /metrics, /admin/queues. */
  readonly port: number;
  readonly role: Role;
  readonly metrics: Metrics;
  /** Stops it all; `graceMs`: how long running jobs may take to finish before they are handed back. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

interface Launch {
  /** The port, once the HTTP side listens: /healthz answers from then on. */
  readonly listening: Promise<number>;
  /** The bot, once Redis has answered and the runtime (and its workers) run. Rejects on a start-up problem. */
  readonly started: Promise<Bot>;
  /** Rejects when Slack refuses the token: the bot can do nothing then. Never resolves. */
  readonly fatal: Promise<never>;
  /** Stops whatever has started so far, at any moment of the start. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

/** A start-up problem worth one line to the operator, not a stack trace. */
class StartupError extends Error {}

/** Running jobs get this long to finish at shutdown; the rest are handed back to the queue. */
const SHUTDOWN_GRACE_MS = 4_000;
/** Past this, main() exits whatever is left: an orchestrator's own grace is often 10 s. */
const SHUTDOWN_DEADLINE_MS = 9_500;

/** auth.test while Slack cannot be reached: every few seconds, at most every 30 s. */
const AUTH_RETRY = { firstMs: 1_000, maxMs: 30_000 } as const;

/** Starts the bot, each part as soon as it can run: the returned handles say when each is up. */
function launchBot(config: Config, overrides: BotOverrides = {}): Launch {
  const env = overrides.env ?? process.env;
  const log = overrides.log ?? createLogger({ level: config.logLevel });
  const role = config.role;
  const slackLog = boltLogger(log);
  const metrics = createMetrics();
  const clientOptions: webApi.WebClientOptions = {
    ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
    logger: slackLog,
    retryConfig: overrides.slackRetries ?? webApi.retryPolicies.fiveRetriesInFiveMinutes,
  };
  const client = new ObservedWebClient(config.slack.botToken, clientOptions, metrics.slack);
  const abort = new AbortController();
  const listening = Promise.withResolvers<number>();
  const started = Promise.withResolvers<Bot>();
  const fatal = Promise.withResolvers<never>();
  // Whoever launched may not listen to each; an unobserved rejection must not take the process down.
  for (const p of [listening.promise, started.promise, fatal.promise]) p.catch(() => undefined);

  const runtimeReady = Promise.withResolvers<Runtime>();
  const homeReady = Promise.withResolvers<Home | undefined>();
  const catalogOf = (vocabulary: PlanVocabulary) => new PlanCatalog(config.plansDir, vocabulary, overrides.adjustPlan ? { adjust: overrides.adjustPlan } : {});
  let identity: Identity | null = null;
  let slackProblem: string | null = 'Slack auth.test has not answered yet';
  let runtime: Runtime | null = null;
  let graceMs = SHUTDOWN_GRACE_MS;
  // Undone in reverse order at stop: the HTTP side, workers and queues, adapters, Redis.
  const undo: Array<() => Promise<unknown>> = [];

  const readiness = async (): Promise<string | null> => {
    const problems: string[] = [];
    if (!runtime) problems.push('starting: Redis has not answered yet');
    else {
      try {
        await runtime.redis.ping();
      } catch {
        problems.push('redis unreachable');
      }
      if (runtime.workers && !runtime.workers.all.every((w) => w.isRunning())) problems.push('workers not running');
    }
    if (slackProblem) problems.push(slackProblem);
    return problems.length > 0 ? problems.join('; ') : null;
  };
  const routes: Route[] = [
    ...probes(readiness),
    {
      path: '/metrics',
      methods: ['GET'],
      handler: (_req, res) => {
        metrics.render().then(
          (text) => send(res, 200, text, metrics.contentType),
          () => send(res, 500, 'metrics could not be collected'),
        );
      },
    },
  ];

  /** auth.test until it answers: a refused token is fatal, an unreachable Slack is retried. */
  const verifySlack = async () => {
    // No retries of its own: this loop is the policy, and each failure is reported on /readyz.
    const auth = new ObservedWebClient(config.slack.botToken, { ...clientOptions, retryConfig: { retries: 0 }, timeout: 10_000 }, metrics.slack);
    let wait: number = AUTH_RETRY.firstMs;
    while (!abort.signal.aborted) {
      try {
        const answer = await auth.auth.test();
        identity = { botId: answer.bot_id ?? '', botUserId: answer.user_id ?? '' };
        slackProblem = null;
        log.info({ botUserId: identity.botUserId }, 'Slack accepted the token');
        return;
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        if ((error as { code?: string }).code === webApi.ErrorCode.PlatformError) {
          fatal.reject(new StartupError(`Slack did not accept SLACK_BOT_TOKEN: ${why}`));
          return;
        }
        slackProblem = `cannot reach Slack's Web API at ${config.slack.apiUrl ?? 'https://slack.com/api/'}: ${why}`;
        log.warn({ retryInMs: wait }, slackProblem);
      }
      await sleep(wait, undefined, { signal: abort.signal }).catch(() => undefined);
      wait = Math.min(AUTH_RETRY.maxMs, wait * 2);
    }
  };

  const run = async () => {
    // 1. The HTTP side: the probes answer from here on. The dashboard (express, bull-board's UI) is
    // loaded only when it is on.
    if (config.admin) {
      const { adminHandler, ADMIN_PATH } = await import('./admin.ts');
      routes.push({ path: ADMIN_PATH, prefix: true, methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], handler: adminHandler(config.admin, () => runtime) });
    }
    const cannotListen = (error: unknown): never => {
      const code = (error as { code?: string }).code;
      throw code === 'EADDRINUSE' || code === 'EACCES' ? new StartupError(`cannot listen on PORT ${config.port}: ${code === 'EADDRINUSE' ? 'something else listens there' : 'not allowed'}`) : error;
    };
    let port: number;
    if (role === 'worker') {
      const server = await serveRoutes(routes, config.port).catch(cannotListen);
      undo.push(() => within(1_500, server.stop()));
      port = server.port;
    } else {
      const slack = createSlackApp({
        botToken: config.slack.botToken,
        signingSecret: config.slack.signingSecret,
        appToken: config.slack.appToken,
        port: config.port,
        identity: () => identity,
        clientOptions,
        logger: slackLog,
        log,
        routes,
      });
      // Until Redis answers, a command is refused as when Redis is away ("nothing was changed").
      const handOver: ListenerDeps['handOver'] = (work, responseUrl) =>
        runtime ? runtime.handOver(work, responseUrl) : Promise.reject(new Error('Connection is closed: Redis has not answered yet'));
      // The Home view and the start dialog need the plans and the traffic backends: they wait for the runtime.
      const catalog = async () => catalogOf((await runtimeReady.promise).vocabulary);
      const startDialog = new StartDialog({
        catalog: { list: async () => (await catalog()).list(), load: async (name) => (await catalog()).load(name) },
        revisions: async (plan) => (await runtimeReady.promise).backends.revisions(plan),
        handOver,
        log,
        now: Date.now,
      });
      const home = { opened: async (user: string) => (await homeReady.promise)?.opened(user) };
      register(slack.app, { handOver, log }, { home, startDialog });
      port = await slack.start().catch(cannotListen);
      undo.push(() => within(1_500, slack.stop()));
    }
    listening.resolve(port);
    log.info({ port, role }, 'listening');

    // 2. Slack, in the background: nothing below needs it to start.
    const slackChecked = verifySlack();

    // 3. Redis, the adapters, the runtime and its workers.
    const redis = await locateRedis({ ...env, REDIS_URL: config.redisUrl ?? '' }).catch((error: unknown) => {
      throw error instanceof NoRedisError ? new StartupError(error.message) : error;
    });
    undo.push(() => within(3_000, redis.stop()));
    const adapters = cloudAdapters(env, { log, observeCloudRun: metrics.onCloudRunCall });
    undo.push(() => within(1_000, adapters.close?.() ?? Promise.resolve()));

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
    const rolesClient = new ObservedWebClient(config.slack.botToken, clientOptions, metrics.slack);
    const roles = new SlackRoles(rolesClient, { log });
    if (role !== 'all') log.info({ role }, role === 'web' ? 'web process: Slack requests are queued for the worker processes' : 'worker process: no Slack receiver here');
    log.info({ redis: redis.description }, 'waiting for Redis');
    let home: Home | undefined;
    const r = await createRuntime({
      redisUrl: redis.url,
      prefix: config.redisPrefix,
      room,
      roles,
      log,
      evidenceRoot: config.evidenceDir,
      env,
      platforms: adapters.platforms,
      gateKinds: adapters.gateKinds,
      signal: abort.signal,
      workers: role !== 'web',
      onCheck: metrics.onCheck,
      onJobFailed: metrics.onJobFailed,
      ...(overrides.workerSettings ? { workerSettings: overrides.workerSettings } : {}),
      ...(overrides.sweepEveryMs ? { sweepEveryMs: overrides.sweepEveryMs } : {}),
      ...(overrides.decorate ? { decorate: overrides.decorate } : {}),
      // The workers do the commands' work and answer: through the response_url, or in the channel
      // once it has expired.
      ...(role !== 'web'
        ? {
            commands: {
              catalog: catalogOf,
              reply: postResponse,
              tell: async (channel, user, message) => {
                await rolesClient.chat.postEphemeral({ channel, user, text: message.text, ...('blocks' in message ? { blocks: message.blocks } : {}) });
              },
              ttlMs: config.commandTtlMs,
            },
          }
        : {}),
      home: ({ store, vocabulary }) => (home = new Home({ store, catalog: catalogOf(vocabulary), roles, client, log, now: Date.now })),
    });
    built.resolve(r);
    runtime = r;
    runtimeReady.resolve(r);
    homeReady.resolve(home);
    await reportPlans(config.plansDir, r.vocabulary, log, config.plansDir === DEFAULT_PLANS_DIR ? `PLANS_DIR unset: the default ${DEFAULT_PLANS_DIR}` : 'PLANS_DIR');

    metrics.attach(() => runtime);
    undo.push(() => r.close({ graceMs }));
    started.resolve({
      runtime: r,
      port,
      role,
      metrics,
      stop: (options) => stop(options),
    });
    void slackChecked.then(() => {
      if (!abort.signal.aborted && identity) log.info({ port, role, mode: config.slack.appToken ? 'socket' : 'http', redis: redis.description, plansDir: config.plansDir, evidenceDir: config.evidenceDir }, 'bot ready');
    });
  };

  const running = run().catch((error: unknown) => {
    listening.reject(error);
    started.reject(error);
  });

  let stopped: Promise<void> | undefined;
  const stop = (options: { graceMs?: number } = {}): Promise<void> =>
    (stopped ??= (async () => {
      if (options.graceMs !== undefined) graceMs = options.graceMs;
      log.info('bot stopping');
      abort.abort();
      // A start cut short by the abort unwinds what it had started.
      await within(3_000, running);
      for (const step of undo.reverse()) await step().catch((err: unknown) => log.warn({ err }, 'shutdown step failed'));
      undo.length = 0;
      log.info('bot stopped');
    })());

  return { listening: listening.promise, started: started.promise, fatal: fatal.promise, stop };
}

/** Starts the bot and resolves once it runs (tests and replicas in-process); a failed start is undone. */
export async function startBot(config: Config, overrides: BotOverrides = {}): Promise<Bot> {
  const launch = launchBot(config, overrides);
  try {
    return await Promise.race([launch.started, launch.fatal]);
  } catch (error) {
    await launch.stop();
    throw error;
  }
}

/** Words for a plans folder the bot cannot read, naming it: shared by the start-up log and the checker. */
function plansFolderProblem(folder: PlansFolder, source: string): string | null {
  if (!folder.problem) return null;
  const what = folder.problem === 'missing' ? 'does not exist' : folder.problem === 'not_a_folder' ? 'is not a folder' : 'cannot be read';
  return `the plans folder ${folder.dir} (${source}) ${what}: /cutover plans lists nothing and /cutover start finds no plan; create it, or set PLANS_DIR (the repository's plans/ has one to try)`;
}

/**
 * At start, what a new operator would otherwise find out in Slack: no plans folder, no plans in
 * it, or plans the bot will refuse. One warn line each; nothing stops the bot.
 */
async function reportPlans(dir: string, vocabulary: PlanVocabulary, log: Logger, source: string): Promise<void> {
  const folder = await inspectPlansFolder(dir);
  const problem = plansFolderProblem(folder, source);
  if (problem) return void log.warn({ plansDir: folder.dir }, problem);
  const checks = (await checkPlans([folder.dir], vocabulary)).filter((c) => c.planFile);
  if (checks.length === 0) return void log.warn({ plansDir: folder.dir }, `no plans in ${folder.dir} yet: add a <name>.yaml (see examples/plans/)`);
  for (const c of checks) {
    if (c.plan) continue;
    const more = c.problems.length > 1 ? ` and ${c.problems.length - 1} more` : '';
    log.warn({ plansDir: folder.dir, file: basename(c.file) }, `plan ${basename(c.file)} is not valid (${c.problems[0]}${more}): npm run plans -- check ${c.file} lists every problem`);
  }
  log.info({ plansDir: folder.dir, plans: checks.filter((c) => c.plan).length, invalid: checks.filter((c) => !c.plan).length }, 'plans');
}

async function main(): Promise<void> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    for (const problem of loaded.problems) process.stderr.write(`config: ${problem}\n`);
    process.exit(2);
  }
  const launch = launchBot(loaded.config);
  let stopping = false;
  const stop = (code: number) => {
    // A second signal does not wait any more.
    if (stopping) process.exit(code || 1);
    stopping = true;
    setTimeout(() => {
      process.stderr.write(`cutover-bot: shutdown took longer than ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting anyway\n`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    launch.stop().then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };
  const failed = (error: unknown) => {
    if (stopping) return;
    const message = error instanceof StartupError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`cutover-bot: ${scrub(message)}\n`);
    stop(1);
  };
  launch.started.catch(failed);
  launch.fatal.catch(failed);
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  // One bad request must not take the bot down (Bolt 5.1 rejected unhandled on a signed request whose
  // payload is `null`, now refused before Bolt sees it: src/app/unanswered.ts): everything is in
  // Redis and every job retries, so log it and keep serving.
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`cutover-bot: unhandled rejection: ${scrub(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason))}\n`);
  });
}

if (import.meta.main) await main();
