// The four BullMQ queues. Rollbacks have a queue of their own so they never wait behind gate
// checks; notifications have theirs so a slow Slack never delays the engine; and Slack commands
// and clicks theirs, so the work behind an ack never waits behind a soak.
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

export const QUEUE = { cutover: 'cutover', rollback: 'rollback', notify: 'notify', commands: 'commands' } as const;

export interface RollbackJobData {
  id: string;
  phaseSeq: number;
  /** Results of the `rollback.before` steps once run, so a retried job does not run them again. */
  steps?: unknown[];
}

/** Job ids may not contain ':' in BullMQ; they are built from the cutover id and a sequence. */
export const jobId = (kind: string, id: string, n?: number): string => (n === undefined ? `${kind}.${id}` : `${kind}.${id}.${n}`);

const KEEP: JobsOptions = {
  // Completed ids stay an hour so re-dispatching an effect (the sweep runs every few seconds) is a
  // no-op, not a second run; older ones only cost Redis memory. A job that does run again is stale
  // and changes nothing.
  removeOnComplete: { age: 3600, count: 5_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export const JOB_OPTIONS = {
  // Jobs re-read the world before acting, so retrying them is always safe.
  engine: { ...KEEP, attempts: 50, backoff: { type: 'capped', delay: 250 } } satisfies JobsOptions,
  rollback: { ...KEEP, attempts: 12, backoff: { type: 'capped', delay: 250 }, priority: 1 } satisfies JobsOptions,
  notify: { ...KEEP, attempts: 50, backoff: { type: 'capped', delay: 500 } } satisfies JobsOptions,
  // A command's work is guarded and answered once: never retried (the person would get two answers).
  commands: { removeOnComplete: { age: 600, count: 1_000 }, removeOnFail: { age: 24 * 3600 }, attempts: 1 } satisfies JobsOptions,
};

/** Capped exponential back-off (BullMQ's built-in exponential has no cap). */
export function cappedBackoff(attemptsMade: number, type: string | undefined): number {
  if (type !== 'capped') return 1_000;
  return Math.min(30_000, 250 * 2 ** Math.max(0, attemptsMade - 1));
}

export interface Queues {
  readonly cutover: Queue;
  readonly rollback: Queue;
  readonly notify: Queue;
  close(): Promise<void>;
}

export function openQueues(connection: ConnectionOptions, prefix: string): Queues {
  const options = { connection, prefix: `${prefix}:bull` };
  const cutover = new Queue(QUEUE.cutover, { ...options, defaultJobOptions: JOB_OPTIONS.engine });
  const rollback = new Queue(QUEUE.rollback, { ...options, defaultJobOptions: JOB_OPTIONS.rollback });
  const notify = new Queue(QUEUE.notify, { ...options, defaultJobOptions: JOB_OPTIONS.notify });
  return {
    cutover,
    rollback,
    notify,
    close: async () => {
      await Promise.all([cutover.close(), rollback.close(), notify.close()]);
    },
  };
}
