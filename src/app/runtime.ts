// The composition root: wires Redis, the store, the queues, the engine, the adapters and the
// workers. Production, rehearsals, tests and child-process replicas all build the same runtime.
import { Redis } from 'ioredis';
import { createCheckProcessor } from '../../jobs/check.ts';
import { createEvidenceProcessor } from '../../jobs/evidence.ts';
import { createChartProcessor, createHomeProcessor, createNotifyProcessor, createUpdateProcessor, type HomeRefresher } from '../../jobs/notify.ts';
import { createPreflightProcessor } from '../../jobs/preflight.ts';
import { createRollbackProcessor } from '../../jobs/rollback.ts';
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
import { JOB_OPTIONS, openQueues, QUEUE, type JobData, type Queues } from '../../jobs/queues.ts';
import { Queue } from 'bullmq';
import { createCommandProcessor, type ReplyPoster } from '../../jobs/command.ts';
import type { Work } from '../../commands/common.ts';
import type { PlanCatalog } from '../plans/catalog.ts';
import { startWorkers, type WorkerSettings, type Workers } from '../../jobs/workers.ts';
import type { PlanVocabulary } from '../plans/schema.ts';

export interface RuntimeOptions {
  readonly redisUrl: string;
  /** Namespace of every key (lets tests and several bots share one Redis). */
  readonly prefix?: string;
  readonly room: WarRoom;
  readonly roles: RoleDirectory;
  readonly log: Logger;
  readonly evidenceRoot: string;
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
  /** The App Home, built from the runtime's store and plan vocabulary: refreshed when a cutover changes phase. */
  readonly home?: (parts: { readonly store: CutoverStore; readonly vocabulary: PlanVocabulary }) => HomeRefresher;
  /** The Slack commands' work: with it, this runtime's workers take the `command` jobs too. */
  readonly commands?: { readonly catalog: (vocabulary: PlanVocabulary) => PlanCatalog; readonly reply: ReplyPoster };
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
  /** Where listeners hand their work over: fails at once (never queues) when Redis is away. */
  handOver(work: Work, responseUrl: string): Promise<void>;
  readonly log: Logger;
  close(options?: { force?: boolean }): Promise<void>;
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
  await redis.connect();
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
          check: createCheckProcessor({ engine, gates, now, ...(options.onCheckLag ? { onLag: options.onCheckLag } : {}) }),
          stuck: createStuckProcessor({ engine }),
          timer: createTimerProcessor({ engine }),
          'checkpoint-gates': createCheckpointGatesProcessor({ engine, gates, now }),
          evidence: createEvidenceProcessor({ store, dispatcher, root: options.evidenceRoot, now, log }),
          sweep: async () => `swept ${await dispatcher.sweep()}`,
          rollback: createRollbackProcessor({ engine, backends, gates, lock, now }),
          notify: createNotifyProcessor(notifyDeps),
          update: createUpdateProcessor(notifyDeps),
          chart: createChartProcessor(notifyDeps),
          home: createHomeProcessor(home),
          ...(options.commands ? { command: createCommandProcessor({ engine, catalog: options.commands.catalog(vocabulary), log, now, reply: options.commands.reply }) } : {}),
      },
      options.workerSettings ?? {},
      log,
    );
    // Effects a crashed process committed but never dispatched are picked up here.
    await queues.cutover.upsertJobScheduler('sweep', { every: options.sweepEveryMs ?? 5_000 }, { name: 'sweep', data: {} });
    await dispatcher.sweep().catch((err: unknown) => log.warn({ err }, 'start-up sweep failed'));
  }

  // The producer side of the commands queue rides on the store's fail-fast connection: a command
  // that cannot be handed over is refused now, never replayed later from an offline queue.
  const commandQueue = new Queue<JobData['command']>(QUEUE.commands, { connection: redis, prefix: `${prefix}:bull`, defaultJobOptions: JOB_OPTIONS.commands });
  commandQueue.on('error', (err) => log.debug({ err: err.message }, 'command queue error'));

  return {
    handOver: async (work, responseUrl) => {
      await commandQueue.add('command', { work, responseUrl });
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
    close: async ({ force = false } = {}) => {
      await workers?.close(force);
      await commandQueue.close();
      await queues.close();
      queueConnection.disconnect();
      redis.disconnect();
    },
  };
}
