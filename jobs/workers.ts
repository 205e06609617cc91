// BullMQ workers: one per queue that has processors here, each job routed to its processor by name.
import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from '../src/log.ts';
import { cappedBackoff, MOVED_FROM, QUEUE, QUEUE_OF, type JobName, type Processors, type QueueName } from './queues.ts';

export interface WorkerSettings {
  readonly concurrency?: { readonly cutover?: number; readonly rollback?: number; readonly notify?: number; readonly commands?: number };
  /** How long a job's lock lives without renewal: also how long a crashed worker's job waits to be taken over. */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
}

export interface Workers {
  readonly all: readonly Worker[];
  close(force?: boolean): Promise<void>;
}

export function startWorkers(
  connection: ConnectionOptions,
  prefix: string,
  /** Every job but `command`, which only a process that serves Slack commands has. */
  processors: Omit<Processors, 'command'> & Partial<Pick<Processors, 'command'>>,
  settings: WorkerSettings,
  log: Logger,
): Workers {
  const table = processors as Partial<Record<JobName, (job: Job) => Promise<string>>>;
  const make = (queue: QueueName, concurrency: number) => {
    const worker = new Worker(
      queue,
      async (job: Job) => {
        const name = job.name as JobName;
        const processor = QUEUE_OF[name] === queue || MOVED_FROM[name] === queue ? table[name] : undefined;
        if (!processor) throw new Error(`no processor for ${queue}/${job.name}`);
        return processor(job);
      },
      {
        connection,
        prefix: `${prefix}:bull`,
        concurrency,
        lockDuration: settings.lockDurationMs ?? 30_000,
        stalledInterval: settings.stalledIntervalMs ?? settings.lockDurationMs ?? 30_000,
        // Processors are idempotent; a job killed many times over must still finish.
        maxStalledCount: 50,
        settings: { backoffStrategy: cappedBackoff },
      },
    );
    worker.on('failed', (job, err) => log.warn({ queue, job: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'));
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
  return {
    all,
    close: async (force = false) => {
      await Promise.all(all.map((w) => w.close(force)));
    },
  };
}
