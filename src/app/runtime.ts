// The composition root: wires Redis, the store, the queues, the engine, the adapters and the
// workers. Production, rehearsals, tests and child-process replicas all build the same runtime.
import { Redis } from 'ioredis';
import { createEvidenceProcessor } from '../../jobs/evidence.ts';
import { createChartProcessor, createHomeProcessor, createNotifyProcessor, createUpdateProcessor, type HomeRefresher } from '../../jobs/notify.ts';
import { createPreflightProcessor } from '../../jobs/preflight.ts';
import { createRollbackProcessor } from '../../jobs/rollback.ts';
import { createRollbackTargetProcessor } from '../../jobs/rollback-target.ts';
import { createShiftProcessor } from '../../jobs/shift.ts';
import { createStuckProcessor } from '../../jobs/stuck.ts';
import { createCheckpointGatesProcessor, createTimerProcessor } from '../../jobs/timeline.ts';
import { BUILTIN_GATE_KINDS } from '../gates/index.ts';
import type { Logger } from '../log.ts';
import type { AnyGateKind, TrafficPlatform, WarRoom, RoleDirectory } from '../ports.ts';
import { answeredBySimulation, simulatedService } from '../sim/decorators.ts';
import { simulatedPlatform } from '../sim/platform.ts';
import { SimulatedWorld } from '../sim/world.ts';
import { CutoverStore } from '../store/cutover-store.ts';
import { TrafficLock } from '../store/lock.ts';
import { Backends } from '../runtime/backends.ts';
import { Dispatcher } from '../../jobs/dispatcher.ts';
import { Engine } from '../runtime/engine.ts';
import { GateRunner } from '../runtime/gate-runner.ts';
import { JOB_OPTIONS, openQueues, QUEUE, type JobData, type QueueName, type Queues } from '../../jobs/queues.ts';
import { createCheckProcessor, type CheckReport } from '../../jobs/check.ts';
import { Queue } from 'bullmq';
import { createCommandProcessor, type ChannelPoster, type ReplyPoster } from '../../jobs/command.ts';
import type { Work } from '../../commands/common.ts';
import type { PlanCatalog } from '../plans/catalog.ts';
import { startWorkers, type WorkerSettings, type Workers } from '../../jobs/workers.ts';
import type { PlanVocabulary } from '../plans/schema.ts';
import type { EvidenceOptions } from '../evidence/build.ts';
import { within } from '../infra/bounded.ts';

export interface RuntimeOptions {
  readonly redisUrl: string;
  /** Namespace of every key (lets tests and several bots share one Redis). */
  readonly prefix?: string;
  readonly room: WarRoom;
  readonly roles: RoleDirectory;
  readonly log: Logger;
  readonly evidenceRoot: string;
  /** How evidence packages are labelled (a rehearsal's say so in every file). */
  readonly evidence?: EvidenceOptions;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly platforms?: readonly TrafficPlatform<any>[];
  readonly gateKinds?: readonly AnyGateKind[];
  /** Wrappers around every platform and gate kind: how a rehearsal answers from its simulation. */
  readonly decorate?: Decorators;
  /** false: only enqueue (a command-only process); default true. */
  readonly workers?: boolean;
  readonly workerSettings?: WorkerSettings;
  readonly sweepEveryMs?: number;
  readonly lockTtlMs?: number;
  readonly now?: () => number;
  readonly onCheckLag?: (lagMs: number) => void;
  /** Each judged stage-gate check (metrics). */
  readonly onCheck?: (report: CheckReport) => void;
  /** Each job that threw (metrics). */
  readonly onJobFailed?: (queue: QueueName, name: string) => void;
  /** Aborts the wait for Redis at start-up (a shutdown before Redis ever answered). */
  readonly signal?: AbortSignal;
  /** The App Home, built from the runtime's store and plan vocabulary: refreshed when a cutover changes phase. */
  readonly home?: (parts: { readonly store: CutoverStore; readonly vocabulary: PlanVocabulary }) => HomeRefresher;
  /** The Slack commands' work: with it, this runtime's workers take the `command` jobs too. */
  readonly commands?: {
    readonly catalog: (vocabulary: PlanVocabulary) => PlanCatalog;
    readonly reply: ReplyPoster;
    /** Answers in the channel once a request's response_url has expired. */
    readonly tell?: ChannelPoster;
    /** A command's time to live (default 30 s). */
    readonly ttlMs?: number;
  };
}

export interface Runtime {
  readonly engine: Engine;
  readonly store: CutoverStore;
  readonly queues: Queues;
  readonly dispatcher: Dispatcher;
  readonly backends: Backends;
  readonly vocabulary: PlanVocabulary;
  readonly redis: Redis;
  readonly workers: Workers | null;
  /**
   * Where listeners hand their work over: fails at once (never queues) when Redis is away.
   * `receivedAt` (default now) is when the request came in: the command's time to live counts from it.
   */
  handOver(work: Work, responseUrl: string, receivedAt?: number): Promise<void>;
  readonly log: Logger;
  /** Jobs waiting, active, delayed and failed per queue, read on the store's fail-fast connection. */
  jobCounts(): Promise<Record<QueueName, Record<JobState, number>>>;
  /**
   * Stops the workers and closes every connection. `graceMs`: running jobs get that long to finish,
   * then are handed back, and every step is bounded (Redis may be gone); `force`: the workers stop
   * at once; neither: a graceful BullMQ close.
   */
  close(options?: { force?: boolean; graceMs?: number }): Promise<void>;
}

export const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

/**
 * Connects the store's client, waiting as long as it takes for Redis to answer (ioredis keeps
 * retrying): a bot started while Redis is away serves its probes and starts when Redis does.
 */
async function connected(redis: Redis, signal: AbortSignal | undefined): Promise<void> {
  await redis.connect().catch(() => undefined);
  if (redis.status === 'ready') return;
  // Not events.once: it gives up at the first 'error', and each failed attempt emits one.
  await new Promise<void>((resolve, reject) => {
    const stop = () => {
      redis.off('ready', ready);
      reject(signal?.reason ?? new Error('aborted'));
    };
    const ready = () => {
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    if (signal?.aborted) return stop();
    redis.once('ready', ready);
    signal?.addEventListener('abort', stop, { once: true });
  });
}

export interface Decorators {
  readonly platform?: (platform: TrafficPlatform<any>) => TrafficPlatform<any>;
  readonly gateKind?: (kind: AnyGateKind) => AnyGateKind;
}

/**
 * The plan vocabulary: built-in and extra gate kinds (a `simulated` service's gates answered by its
 * simulation), the simulated platform and extra platforms, each wrapped by `decorate`. Needs no
 * Redis: the world is reached through a getter only once a simulated service is used, so a plan
 * can be validated before anything starts.
 */
export function buildVocabulary(
  extra: { platforms?: readonly TrafficPlatform<any>[]; gateKinds?: readonly AnyGateKind[] },
  world: () => SimulatedWorld,
  decorate: Decorators = {},
): PlanVocabulary {
  const gateKinds = [...BUILTIN_GATE_KINDS, ...(extra.gateKinds ?? [])].map((kind) => answeredBySimulation(kind, world, simulatedService));
  const platforms = [simulatedPlatform(world), ...(extra.platforms ?? [])];
  return {
    gateKinds: decorate.gateKind ? gateKinds.map(decorate.gateKind) : gateKinds,
    platforms: decorate.platform ? platforms.map(decorate.platform) : platforms,
  };
}

/** The store's client fails fast when Redis is gone, so a command can say so at once. */
function storeClient(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3_000, lazyConnect: true });
}

/** BullMQ's connection waits for Redis to come back instead of failing. */
function queueClient(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const prefix = options.prefix ?? 'cutover';
  const now = options.now ?? Date.now;
  const log = options.log;
  const redis = storeClient(options.redisUrl);
  redis.on('error', (err) => log.debug({ err: err.message }, 'store connection error'));
  try {
    await connected(redis, options.signal);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const queueConnection = queueClient(options.redisUrl);
  queueConnection.on('error', (err) => log.debug({ err: err.message }, 'queue connection error'));

  const store = new CutoverStore(redis, prefix);
  // Only a process that runs a simulated service ever makes its world.
  let world: SimulatedWorld | undefined;
  const vocabulary = buildVocabulary(options, () => (world ??= new SimulatedWorld(redis, prefix)), options.decorate);
  const { gateKinds, platforms } = vocabulary;
  const queues = openQueues(queueConnection, prefix);
  // Without a listener BullMQ prints each connection error to stderr, past the logger.
  for (const queue of [queues.cutover, queues.rollback, queues.notify]) queue.on('error', (err) => log.debug({ queue: queue.name, err: err.message }, 'queue connection error'));
  const dispatcher = new Dispatcher(store, queues, now);
  const backends = new Backends(platforms);
  const engine = new Engine({ store, dispatcher, roles: options.roles, traffic: backends, now, log });
  const gates = new GateRunner(gateKinds, options.env ?? process.env, now);
  const lock = new TrafficLock(redis, prefix, { ttlMs: options.lockTtlMs ?? 10_000 });

  let workers: Workers | null = null;
  const home = options.home?.({ store, vocabulary });
  if (options.workers !== false) {
    const notifyDeps = { store, room: options.room, now, ...(home ? { home: () => dispatcher.home() } : {}) };
    workers = startWorkers(
      queueConnection,
      prefix,
      {
          preflight: createPreflightProcessor({ engine, gates, backends, now }),
          shift: createShiftProcessor({ engine, backends, lock }),
          check: createCheckProcessor({ engine, gates, now, ...(options.onCheckLag ? { onLag: options.onCheckLag } : {}), ...(options.onCheck ? { onCheck: options.onCheck } : {}) }),
          stuck: createStuckProcessor({ engine }),
          timer: createTimerProcessor({ engine }),
          'checkpoint-gates': createCheckpointGatesProcessor({ engine, gates, now }),
          evidence: createEvidenceProcessor({ store, dispatcher, root: options.evidenceRoot, now, log, ...(options.evidence ? { options: options.evidence } : {}) }),
          sweep: async () => `swept ${await dispatcher.sweep()}`,
          rollback: createRollbackProcessor({ engine, backends, gates, lock, now }),
          'rollback-target': createRollbackTargetProcessor({ engine, backends, gates, lock, now }),
          notify: createNotifyProcessor(notifyDeps),
          update: createUpdateProcessor(notifyDeps),
          chart: createChartProcessor(notifyDeps),
          home: createHomeProcessor(home),
          ...(options.commands
            ? {
                command: createCommandProcessor({
                  engine,
                  catalog: options.commands.catalog(vocabulary),
                  log,
                  now,
                  reply: options.commands.reply,
                  ...(options.commands.tell ? { tell: options.commands.tell } : {}),
                  ...(options.commands.ttlMs !== undefined ? { ttlMs: options.commands.ttlMs } : {}),
                }),
              }
            : {}),
      },
      options.workerSettings ?? {},
      log,
      options.onJobFailed ? { failed: options.onJobFailed } : {},
    );
    // Effects a crashed process committed but never dispatched are picked up here.
    await queues.cutover.upsertJobScheduler('sweep', { every: options.sweepEveryMs ?? 5_000 }, { name: 'sweep', data: {} });
    await dispatcher.sweep().catch((err: unknown) => log.warn({ err }, 'start-up sweep failed'));
  }

  // The producer side of the commands queue rides on the store's fail-fast connection: a command
  // that cannot be handed over is refused now, never replayed later from an offline queue.
  const commandQueue = new Queue<JobData['command']>(QUEUE.commands, { connection: redis, prefix: `${prefix}:bull`, defaultJobOptions: JOB_OPTIONS.commands });
  commandQueue.on('error', (err) => log.debug({ err: err.message }, 'command queue error'));
  // The queues as the counts see them: on the fail-fast connection, so a scrape while Redis is away
  // fails at once instead of waiting in an offline queue.
  const counted = [QUEUE.cutover, QUEUE.rollback, QUEUE.notify].map((name) => new Queue(name, { connection: redis, prefix: `${prefix}:bull` }));
  for (const queue of counted) queue.on('error', (err) => log.debug({ queue: queue.name, err: err.message }, 'queue connection error'));

  return {
    handOver: async (work, responseUrl, receivedAt = now()) => {
      await commandQueue.add('command', { work, responseUrl, receivedAt });
    },
    engine,
    store,
    queues,
    dispatcher,
    backends,
    vocabulary,
    redis,
    workers,
    log,
    jobCounts: async () => {
      const entries = await Promise.all(
        [...counted, commandQueue].map(async (queue) => [queue.name, (await queue.getJobCounts(...JOB_STATES)) as Record<JobState, number>] as const),
      );
      return Object.fromEntries(entries) as Record<QueueName, Record<JobState, number>>;
    },
    close: async ({ force = false, graceMs } = {}) => {
      if (graceMs === undefined) {
        await workers?.close(force);
        await commandQueue.close();
        await Promise.all(counted.map((q) => q.close()));
        await queues.close();
      } else {
        await workers?.shutdown(graceMs);
        await within(1_000, Promise.all([commandQueue.close(), queues.close(), ...counted.map((q) => q.close())]));
      }
      queueConnection.disconnect();
      redis.disconnect();
    },
  };
}
