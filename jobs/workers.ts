// BullMQ workers: one per queue that has processors here, each job routed to its processor by name.
import { Job, Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from '../src/log.ts';
import { cappedBackoff, MOVED_FROM, QUEUE, QUEUE_OF, type JobName, type Processors, type QueueName } from './queues.ts';
import { within } from '../src/infra/bounded.ts';

/**
 * How soon a job held by a process that died is taken over. BullMQ renews a running job's lock
 * every `lockDurationMs / 2`; a dead process's lock lapses within `lockDurationMs`. Its stalled
 * check, run by every worker every `stalledIntervalMs` (and once when the worker starts), marks the
 * active jobs and moves back to wait those marked at the check before whose lock has lapsed. So a
 * dead process's job runs again after about `lockDurationMs` plus one or two `stalledIntervalMs`.
 * Too short a lock makes a job whose process is alive but stuck (its event loop blocked for more
 * than half the lock) run twice; every processor is idempotent, so that costs work, not safety.
 */
export interface Takeover {
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
}

/**
 * Rollbacks and people's commands are taken over within a few seconds; the cutover queue's jobs
 * (shifts, checks: a soak's next check is never more than seconds late anyway) and notifications
 * keep BullMQ's defaults.
 */
export const DEFAULT_TAKEOVER: { readonly [Q in QueueName]: Required<Takeover> } = {
  [QUEUE.cutover]: { lockDurationMs: 30_000, stalledIntervalMs: 30_000 },
  [QUEUE.notify]: { lockDurationMs: 30_000, stalledIntervalMs: 30_000 },
  [QUEUE.rollback]: { lockDurationMs: 2_000, stalledIntervalMs: 500 },
  [QUEUE.commands]: { lockDurationMs: 2_000, stalledIntervalMs: 500 },
};

export interface WorkerSettings {
  readonly concurrency?: { readonly cutover?: number; readonly rollback?: number; readonly notify?: number; readonly commands?: number };
  /** Every queue's lock (tests shorten it), unless `takeover` sets the queue's own; default DEFAULT_TAKEOVER. */
  readonly lockDurationMs?: number;
  /** Every queue's stalled check interval, unless `takeover` sets the queue's own; default the lock given, else DEFAULT_TAKEOVER. */
  readonly stalledIntervalMs?: number;
  /** A queue's own timing, over the two above. */
  readonly takeover?: { readonly [Q in QueueName]?: Takeover };
}

/** The lock and stalled interval a queue's worker runs with: its own, else every queue's, else the default. */
export function takeoverOf(queue: QueueName, settings: WorkerSettings): Required<Takeover> {
  const own = settings.takeover?.[queue] ?? {};
  const lock = own.lockDurationMs ?? settings.lockDurationMs;
  const stalled = own.stalledIntervalMs ?? settings.stalledIntervalMs ?? lock;
  return { lockDurationMs: lock ?? DEFAULT_TAKEOVER[queue].lockDurationMs, stalledIntervalMs: stalled ?? DEFAULT_TAKEOVER[queue].stalledIntervalMs };
}

export interface Workers {
  readonly all: readonly Worker[];
  /** Jobs this process is running now. */
  readonly running: () => number;
  close(force?: boolean): Promise<void>;
  /**
   * Stops taking jobs, lets the running ones finish for up to `graceMs`, hands the rest back to the
   * queue (another worker takes them at once; every processor is idempotent), then closes. Bounded
   * even when Redis is gone: a graceful BullMQ close would wait forever then.
   */
  shutdown(graceMs: number): Promise<{ readonly finished: number; readonly handedBack: number }>;
}

/** What a process may want to know of its jobs (metrics). */
export interface WorkerObserver {
  /** A job threw (it is retried if it has attempts left). */
  readonly failed?: (queue: QueueName, name: string) => void;
}

export function startWorkers(
  connection: ConnectionOptions,
  prefix: string,
  /** Every job but `command`, which only a process that serves Slack commands has. */
  processors: Omit<Processors, 'command'> & Partial<Pick<Processors, 'command'>>,
  settings: WorkerSettings,
  log: Logger,
  observer: WorkerObserver = {},
): Workers {
  const table = processors as Partial<Record<JobName, (job: Job) => Promise<string>>>;
  // Jobs in progress here, with the lock token that can hand each back.
  const inFlight = new Map<Job, { readonly token: string | undefined; readonly done: Promise<unknown> }>();
  const make = (queue: QueueName, concurrency: number) => {
    const { lockDurationMs, stalledIntervalMs } = takeoverOf(queue, settings);
    const worker = new Worker(
      queue,
      async (job: Job, token?: string) => {
        const name = job.name as JobName;
        const processor = QUEUE_OF[name] === queue || MOVED_FROM[name] === queue ? table[name] : undefined;
        if (!processor) throw new Error(`no processor for ${queue}/${job.name}`);
        const done = processor(job);
        inFlight.set(job, { token, done });
        try {
          return await done;
        } finally {
          inFlight.delete(job);
        }
      },
      {
        connection,
        prefix: `${prefix}:bull`,
        concurrency,
        // The lock is renewed every lockDuration / 2 (BullMQ's lockRenewTime default) while the job runs.
        lockDuration: lockDurationMs,
        // Worker.run() starts the stalled checker with a check at once, then one every stalledInterval:
        // a restarted process looks for its predecessor's jobs as soon as its workers start.
        stalledInterval: stalledIntervalMs,
        // Processors are idempotent; a job killed many times over must still finish.
        maxStalledCount: 50,
        settings: { backoffStrategy: cappedBackoff },
      },
    );
    worker.on('failed', (job, err) => {
      log.warn({ queue, job: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed');
      observer.failed?.(queue, job?.name ?? 'unknown');
    });
    worker.on('error', (err) => log.error({ queue, err: err.message }, 'worker error'));
    return worker;
  };
  const all = [
    make(QUEUE.rollback, settings.concurrency?.rollback ?? 10),
    make(QUEUE.cutover, settings.concurrency?.cutover ?? 50),
    make(QUEUE.notify, settings.concurrency?.notify ?? 10),
    // Few at a time: a burst of commands waits in Redis, not in the event loop that acks the next one.
    ...(processors.command ? [make(QUEUE.commands, settings.concurrency?.commands ?? 2)] : []),
  ];
  /** Moves jobs this process holds (by their lock tokens) from active back to waiting. */
  const handBack = async (jobs: ReadonlyArray<{ queue: string; id: string; token: string | undefined }>) => {
    if (jobs.length === 0) return;
    const queues = new Map<string, Queue>();
    const queueOf = (name: string) => {
      let queue = queues.get(name);
      if (!queue) {
        queue = new Queue(name, { connection, prefix: `${prefix}:bull` });
        // Redis may be gone: the hand-back then gives up quietly (the stalled check takes over).
        queue.on('error', () => undefined);
        queues.set(name, queue);
      }
      return queue;
    };
    try {
      await Promise.all(
        jobs.map(async ({ queue, id, token }) => {
          const job = await Job.fromId(queueOf(queue), id);
          await job?.moveToWait(token);
        }),
      );
    } finally {
      await Promise.all([...queues.values()].map((q) => q.close()));
    }
  };

  return {
    all,
    running: () => inFlight.size,
    close: async (force = false) => {
      await Promise.all(all.map((w) => w.close(force)));
    },
    shutdown: async (graceMs) => {
      // No new jobs from here on; the running ones go on.
      await within(1_000, Promise.all(all.map((w) => w.pause(true))));
      // A fetch already under way when the pause came may still start a job: those are waited for too.
      const deadline = Date.now() + graceMs;
      const seen = new Set<Job>(inFlight.keys());
      while (inFlight.size > 0 && Date.now() < deadline) {
        await within(deadline - Date.now(), Promise.race([...inFlight.values()].map((f) => f.done.catch(() => undefined))));
        for (const job of inFlight.keys()) seen.add(job);
      }
      const left = [...inFlight.entries()];
      // Nothing left: a graceful close also lets the last jobs' results reach Redis. (A close once
      // begun cannot be forced any more, so it is one or the other.) Closed first, so that a job
      // handed back below is not fetched again by these workers.
      await within(1_500, Promise.all(all.map((w) => w.close(left.length > 0))));
      // Back to the queue, so another worker need not wait for the lock to expire; with Redis gone
      // the lock expires by itself and BullMQ's stalled check hands the job over then.
      await within(1_000, handBack(left.map(([job, { token }]) => ({ queue: job.queueName, id: job.id!, token }))));
      if (left.length > 0) log.warn({ jobs: left.map(([job]) => `${job.name}:${job.id}`) }, 'jobs still running at shutdown were handed back');
      return { finished: seen.size - left.length, handedBack: left.length };
    },
  };
}
