// Prometheus metrics at GET /metrics (prom-client). Counters and histograms count what this process
// did (checks it ran, jobs that failed here, its Slack and Cloud Run calls); gauges read from Redis
// on each scrape (cutovers by phase, canary traffic, queue lengths) are the same from every process
// of a bot, so sum counters across processes and take one process's gauges. Labels are bounded:
// phases, queues, plan-defined gate ids and kinds, services, API methods and outcomes; never a
// cutover id or a user id.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CheckReport } from '../../jobs/check.ts';
import type { QueueName } from '../../jobs/queues.ts';
import { PHASES, isTerminal, type CutoverState } from '../domain/state.ts';
import type { CloudRunMethod } from '../traffic/cloud-run.ts';
import type { SlackObserver } from '../slack/observed-client.ts';
import { JOB_STATES, type Runtime } from './runtime.ts';

/** How long a scrape waits for Redis before it leaves the Redis-read gauges out. */
const SCRAPE_REDIS_MS = 2_000;

export interface Metrics {
  readonly registry: Registry;
  /** The text exposition of every metric. */
  render(): Promise<string>;
  readonly contentType: string;
  /** Where the gauges read from once the runtime is up (null before: Redis not reached yet). */
  attach(runtime: () => Runtime | null): void;
  readonly onCheck: (report: CheckReport) => void;
  readonly onJobFailed: (queue: QueueName, name: string) => void;
  readonly slack: SlackObserver;
  readonly onCloudRunCall: (method: CloudRunMethod, outcome: string) => void;
}

const ACTIVE_PHASES = PHASES.filter((p) => !isTerminal(p));

/** Seconds, from a few ms (a simulated gate) to the gate timeouts (30-60 s). */
const CHECK_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let runtime: () => Runtime | null = () => null;
  const timed = <T>(work: Promise<T>): Promise<T> =>
    Promise.race([work, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('redis did not answer')), SCRAPE_REDIS_MS).unref())]);
  // One read of the active cutovers per scrape, shared by the gauges that need it.
  let activeRead: Promise<CutoverState[] | null> | undefined;
  const active = (r: Runtime): Promise<CutoverState[] | null> => (activeRead ??= timed(r.engine.active()).catch(() => null));

  new Gauge({
    name: 'cutover_cutovers',
    help: 'Cutovers not yet ended, by phase (read from Redis at each scrape).',
    labelNames: ['phase'],
    registers: [registry],
    async collect() {
      const r = runtime();
      if (!r) return;
      const states = await active(r);
      this.reset();
      if (!states) return;
      for (const phase of ACTIVE_PHASES) this.set({ phase }, states.filter((s) => s.phase === phase).length);
    },
  });
  new Gauge({
    name: 'cutover_canary_traffic_ratio',
    help: 'Share of traffic on the canary (0 to 1) of each service a cutover is running on (read from Redis at each scrape).',
    labelNames: ['service'],
    registers: [registry],
    async collect() {
      const r = runtime();
      if (!r) return;
      const states = await active(r);
      this.reset();
      for (const state of states ?? []) this.set({ service: state.serviceKey }, state.traffic / 100);
    },
  });
  new Gauge({
    name: 'cutover_queue_jobs',
    help: 'BullMQ jobs per queue and state (read from Redis at each scrape).',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      const r = runtime();
      if (!r) return;
      const counts = await timed(r.jobCounts()).catch(() => null);
      this.reset();
      for (const [queue, byState] of Object.entries(counts ?? {})) for (const state of JOB_STATES) this.set({ queue, state }, byState[state] ?? 0);
    },
  });
  new Gauge({
    name: 'cutover_redis_connected',
    help: '1 when the connection to Redis is up, else 0.',
    registers: [registry],
    collect() {
      this.set(runtime()?.redis.status === 'ready' ? 1 : 0);
    },
  });

  const verdicts = new Counter({ name: 'cutover_gate_verdicts_total', help: 'Stage-gate verdicts, per gate, gate kind and verdict.', labelNames: ['gate', 'kind', 'verdict'], registers: [registry] });
  const checkDuration = new Histogram({ name: 'cutover_gate_check_duration_seconds', help: 'Duration of a stage-gate check, from its start to the judgement.', buckets: CHECK_BUCKETS, registers: [registry] });
  const checkLag = new Histogram({ name: 'cutover_gate_check_lag_seconds', help: 'How late a stage-gate check started after its slot.', buckets: CHECK_BUCKETS, registers: [registry] });
  const skipped = new Counter({ name: 'cutover_gate_check_slots_skipped_total', help: 'Check slots skipped because the check before them ran past them.', registers: [registry] });
  const failures = new Counter({ name: 'cutover_job_failures_total', help: 'BullMQ jobs that threw in this process (retried while attempts remain).', labelNames: ['queue', 'job'], registers: [registry] });
  const slackErrors = new Counter({ name: 'cutover_slack_api_errors_total', help: 'Slack Web API calls that failed, per method, type and Slack error.', labelNames: ['method', 'type', 'error'], registers: [registry] });
  const slackLimited = new Counter({ name: 'cutover_slack_api_rate_limited_total', help: 'HTTP 429 answers from the Slack Web API, per method.', labelNames: ['method'], registers: [registry] });
  const cloudRun = new Counter({ name: 'cutover_cloud_run_api_calls_total', help: 'Cloud Run Admin API calls, per method and outcome (OK or the gRPC code).', labelNames: ['method', 'outcome'], registers: [registry] });

  return {
    registry,
    contentType: registry.contentType,
    render: () => {
      activeRead = undefined;
      return registry.metrics();
    },
    attach: (source) => {
      runtime = source;
    },
    onCheck: (report) => {
      checkDuration.observe(report.durationMs / 1_000);
      checkLag.observe(Math.max(0, report.lagMs) / 1_000);
      if (report.skipped > 0) skipped.inc(report.skipped);
      for (const gate of report.gates) verdicts.inc({ gate: gate.id, kind: gate.kind, verdict: gate.verdict });
    },
    onJobFailed: (queue, name) => failures.inc({ queue, job: name }),
    slack: {
      failed: (method, type, error) => slackErrors.inc({ method, type, error: error ?? '' }),
      rateLimited: (method) => slackLimited.inc({ method }),
    },
    onCloudRunCall: (method, outcome) => cloudRun.inc({ method, outcome }),
  };
}
