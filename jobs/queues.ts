// Every BullMQ job of the bot, declared once: its name, the queue it runs on and the data it
// carries. The dispatcher, the workers and each processor take their types from here.
// Rollbacks have a queue of their own so they never wait behind gate checks; notifications (and the
// evidence package, the charts and the App Home) have theirs so a slow Slack or a chart never delays
// the engine; and Slack commands and clicks theirs, so the work
// behind an ack never waits behind a soak.
import { Queue, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Work } from '../commands/common.ts';
import type { JobEvent } from '../src/domain/state.ts';
import type { ChartMoment } from '../src/ports.ts';

export const QUEUE = { cutover: 'cutover', rollback: 'rollback', notify: 'notify', commands: 'commands' } as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

/** What each job carries. A processor re-reads the cutover: the data says which, and which moment of it. */
export interface JobData {
  readonly preflight: { readonly id: string; readonly phaseSeq: number };
  readonly shift: { readonly id: string; readonly phaseSeq: number; readonly stage: number; readonly percent: number };
  readonly check: { readonly id: string; readonly seq: number; readonly at: number };
  readonly stuck: { readonly id: string; readonly phaseSeq: number };
  readonly timer: { readonly id: string; readonly event: JobEvent };
  readonly 'checkpoint-gates': { readonly id: string; readonly index: number; readonly run: number };
  readonly evidence: { readonly id: string };
  readonly sweep: Record<string, never>;
  readonly rollback: {
    readonly id: string;
    readonly phaseSeq: number;
    /** Results of the `rollback.before` steps once run, so a retried job does not run them again. */
    readonly steps?: unknown[];
    /** A train: the targets already escalated as stuck, so a retry does not escalate them again. */
    readonly escalated?: number[];
  };
  /** A dropped target of a train back to stable (`rollback: target`); one job per cutover and target. */
  readonly 'rollback-target': {
    readonly id: string;
    readonly target: number;
    /** Results of the target's own `rollback.before` steps once run, so a retried job does not run them again. */
    readonly steps?: unknown[];
    /** Escalated as stuck already, so a retry does not escalate it again. */
    readonly escalated?: boolean;
  };
  readonly notify: { readonly id: string };
  readonly update: { readonly id: string };
  /** The war room's chart of a moment (`at` names it, so a moment is charted once). */
  readonly chart: { readonly id: string; readonly moment: ChartMoment; readonly at: number };
  /** The recent App Home viewers' views published again (after a cutover changed phase). */
  readonly home: Record<string, never>;
  /**
   * A slash command or click handed over by its listener after validation; answered via
   * `responseUrl`. `receivedAt` (epoch ms) is when the bot took the request: its time to live
   * counts from there (absent in jobs queued before it existed).
   */
  readonly command: { readonly work: Work; readonly responseUrl: string; readonly receivedAt?: number };
}

export type JobName = keyof JobData;

/** The queue each job runs on. */
export const QUEUE_OF = {
  preflight: QUEUE.cutover,
  shift: QUEUE.cutover,
  check: QUEUE.cutover,
  stuck: QUEUE.cutover,
  timer: QUEUE.cutover,
  'checkpoint-gates': QUEUE.cutover,
  // Not the engine's queue: drawing the package's chart waits its turn on the chart worker, and a
  // burst of cutovers ending together must not hold the slots their neighbours' gate checks need.
  evidence: QUEUE.notify,
  sweep: QUEUE.cutover,
  rollback: QUEUE.rollback,
  'rollback-target': QUEUE.rollback,
  notify: QUEUE.notify,
  update: QUEUE.notify,
  chart: QUEUE.notify,
  home: QUEUE.notify,
  command: QUEUE.commands,
} as const satisfies Record<JobName, QueueName>;

/**
 * Jobs that ran on another queue in an earlier version: one enqueued there before an upgrade is still
 * run where it waits, rather than failed for want of a processor.
 */
export const MOVED_FROM: Partial<Record<JobName, QueueName>> = { evidence: QUEUE.cutover };

/** A processor of one job: built from its dependencies, idempotent, returns a word for the logs. */
export type Processor<N extends JobName> = (job: Job<JobData[N], string, N>) => Promise<string>;
export type Processors = { readonly [N in JobName]: Processor<N> };

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
  /** Adds job `name` to the queue it runs on. */
  add<N extends Exclude<JobName, 'command'>>(name: N, data: JobData[N], options?: JobsOptions): Promise<Job>;
  close(): Promise<void>;
}

export function openQueues(connection: ConnectionOptions, prefix: string): Queues {
  const options = { connection, prefix: `${prefix}:bull` };
  const cutover = new Queue(QUEUE.cutover, { ...options, defaultJobOptions: JOB_OPTIONS.engine });
  const rollback = new Queue(QUEUE.rollback, { ...options, defaultJobOptions: JOB_OPTIONS.rollback });
  const notify = new Queue(QUEUE.notify, { ...options, defaultJobOptions: JOB_OPTIONS.notify });
  const byName = { [QUEUE.cutover]: cutover, [QUEUE.rollback]: rollback, [QUEUE.notify]: notify } as const;
  return {
    cutover,
    rollback,
    notify,
    add: (name, data, jobOptions) => byName[QUEUE_OF[name]].add(name, data, jobOptions),
    close: async () => {
      await Promise.all([cutover.close(), rollback.close(), notify.close()]);
    },
  };
}
