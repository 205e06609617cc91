// Simulated production traffic behind the fake Google APIs: what each revision serves follows
// the split the fake traffic backend actually serves over time (its accepted updates), and how
// each revision behaves (5xx share, p95) is a function the test or the rehearsal scenario gives.
// It answers the fake Monitoring API's samples (request counts by code class, p95 latency) and
// generates the Cloud Run request log entries the fake Logging API filters. Deterministic: the
// same history gives the same numbers, so a gate fails exactly where a test says it will.
import type { FakeCloudRun } from './cloud-run.ts';
import type { FakeLogEntry, FakeLogging } from './logging.ts';
import type { BucketLayout, FakeMonitoring, RevisionSample, SampleFn } from './monitoring.ts';
import type { FakeFlagServer } from '../flag-server.ts';

/** From `at` on, the canary serves `canary` % (the rest goes to stable). */
export interface SplitPoint {
  readonly at: number;
  readonly canary: number;
}

export type Side = 'canary' | 'stable';

export interface Moment {
  /** Canary percent served at that moment. */
  readonly canaryPercent: number;
  /** Ms since the canary first received traffic (0 before). */
  readonly sinceFirstShiftMs: number;
  readonly at: number;
}

/** How a revision behaves at a moment: its 5xx share (0..1) and p95 latency (ms). */
export type Behaviour = (side: Side, moment: Moment) => { readonly errorRate: number; readonly p95Ms: number };

export interface ProductionTrafficOptions {
  readonly project: string;
  readonly region?: string;
  readonly service: string;
  readonly revisions: { readonly stable: string; readonly canary: string };
  /** The served split over time, oldest first; before the first point the canary serves `initialCanary`. */
  readonly history: () => readonly SplitPoint[];
  readonly initialCanary?: number;
  readonly behaviour: Behaviour;
  /** Traffic starts here: no requests, entries or samples before it. */
  readonly origin: number;
  /** Requests per minute at 100 % of the traffic, for Monitoring's counts (default 20 000). */
  readonly requestsPerMinute?: number;
  /** Log entries: a batch every `logTickMs` (default 50) of `logRequestsPerTick` requests (default 20). */
  readonly logTickMs?: number;
  readonly logRequestsPerTick?: number;
  /** Log entries are generated for at most this long before now (default 5 min). */
  readonly logHorizonMs?: number;
  /** The request_latencies distribution's buckets (default: exponential, 2 ms × 1.3^i, 40 finite). */
  readonly latencyLayout?: BucketLayout;
  readonly now?: () => number;
}

/** Both revisions at 0.1 % 5xx; the canary's p95 a little above stable's, well within 20 %. */
export const HEALTHY: Behaviour = (side) => ({ errorRate: 0.001, p95Ms: side === 'canary' ? 190 : 180 });

const DEFAULT_LAYOUT: BucketLayout = { exponential: { numFiniteBuckets: 40, growthFactor: 1.3, scale: 2 } };

/** The finite bounds of a layout, as the API defines them. */
export function layoutBounds(layout: BucketLayout): number[] {
  if ('explicit' in layout) return [...layout.explicit];
  if ('exponential' in layout) return Array.from({ length: layout.exponential.numFiniteBuckets + 1 }, (_, i) => layout.exponential.scale * layout.exponential.growthFactor ** i);
  return Array.from({ length: layout.linear.numFiniteBuckets + 1 }, (_, i) => layout.linear.offset + layout.linear.width * i);
}

/**
 * Shares of log-logistic latencies (shape 4: p95 ≈ 2.1 × the median) with this p95 in each
 * bucket of `bounds` (bounds.length + 1 of them). The CDF is closed-form: 1 / (1 + (x/a)^-4).
 */
export function latencyShares(p95Ms: number, bounds: readonly number[]): number[] {
  const scale = p95Ms / 19 ** 0.25;
  const cdf = (x: number) => (x <= 0 ? 0 : 1 / (1 + (x / scale) ** -4));
  const edges = [0, ...bounds.map(cdf), 1];
  return edges.slice(1).map((c, i) => c - edges[i]!);
}

export class ProductionTraffic {
  readonly #o: ProductionTrafficOptions;
  readonly #rpm: number;
  readonly #tick: number;
  readonly #perTick: number;
  readonly #horizon: number;
  readonly #now: () => number;
  /** Other log entries served alongside the request logs (a smoke test's event, say). */
  readonly events: FakeLogEntry[] = [];

  constructor(options: ProductionTrafficOptions) {
    this.#o = options;
    this.#rpm = options.requestsPerMinute ?? 20_000;
    this.#tick = Math.max(1, Math.round(options.logTickMs ?? 50));
    this.#perTick = options.logRequestsPerTick ?? 20;
    this.#horizon = options.logHorizonMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Feeds the fake Monitoring API (samples) and the fake Logging API (request logs). */
  feed(monitoring: FakeMonitoring, logging: FakeLogging): this {
    monitoring.setData([this.#o.revisions.stable, this.#o.revisions.canary], this.sample);
    logging.entriesFrom(() => this.logEntries());
    return this;
  }

  /** Canary percent served at `at`. */
  canaryAt(at: number): number {
    let canary = this.#o.initialCanary ?? 0;
    for (const point of this.#o.history()) {
      if (point.at > at) break;
      canary = point.canary;
    }
    return canary;
  }

  #moment(at: number, history: readonly SplitPoint[]): Moment {
    const first = history.find((p) => p.canary > 0);
    return { canaryPercent: this.canaryAt(at), sinceFirstShiftMs: first && first.at <= at ? at - first.at : 0, at };
  }

  #side(revision: string): Side | undefined {
    if (revision === this.#o.revisions.canary) return 'canary';
    if (revision === this.#o.revisions.stable) return 'stable';
    return undefined;
  }

  /**
   * Monitoring's sample of one revision over one aligned period: requests by code class and the
   * worst p95 of the split segments in which it served traffic; undefined when it served none.
   */
  readonly sample: SampleFn = (revision, interval, scope = {}) => {
    const side = this.#side(revision);
    if (!side) return undefined;
    // A query that names another service or region is not about this one's revisions.
    if (scope.service !== undefined && scope.service !== this.#o.service) return undefined;
    if (scope.location !== undefined && scope.location !== (this.#o.region ?? 'us-central1')) return undefined;
    const history = this.#o.history();
    const start = Math.max(interval.start, this.#o.origin);
    const end = Math.min(interval.end, this.#now());
    if (end <= start) return undefined;
    // Split segments within [start, end]: each point where the split changed cuts the period.
    const cuts = [start, ...history.map((p) => p.at).filter((at) => at > start && at < end), end];
    let requests = 0;
    let errors = 0;
    let p95: number | undefined;
    const layout = this.#o.latencyLayout ?? DEFAULT_LAYOUT;
    const bounds = layoutBounds(layout);
    const buckets = new Array<number>(bounds.length + 1).fill(0);
    for (let i = 0; i + 1 < cuts.length; i++) {
      const from = cuts[i]!;
      const moment = this.#moment(from, history);
      const share = side === 'canary' ? moment.canaryPercent / 100 : 1 - moment.canaryPercent / 100;
      if (share <= 0) continue;
      const served = (this.#rpm / 60_000) * (cuts[i + 1]! - from) * share;
      const behaviour = this.#o.behaviour(side, moment);
      requests += served;
      errors += served * behaviour.errorRate;
      p95 = Math.max(p95 ?? 0, behaviour.p95Ms);
      latencyShares(behaviour.p95Ms, bounds).forEach((share, b) => (buckets[b]! += served * share));
    }
    if (requests <= 0 || p95 === undefined) return undefined;
    const total = Math.max(1, Math.round(requests));
    const fivexx = Math.min(total, Math.round(errors));
    // The API may leave out trailing empty buckets: so does this fake.
    const counts = buckets.map(Math.round);
    while (counts.length > 1 && counts.at(-1) === 0) counts.pop();
    const sample: RevisionSample = { counts: { '2xx': total - fivexx, '5xx': fivexx }, p95Ms: p95, latency: { layout, counts } };
    return sample;
  };

  /**
   * Cloud Run request log entries from the origin (or the horizon) until now: every tick, the
   * tick's requests are shared between the revisions by the split served then, and a revision's
   * 5xx among them by its error rate. Counts spread over ticks without rounding drift
   * (floor((k+1)x) - floor(kx)), so a 1 % canary still gets one request every fifth tick.
   */
  *logEntries(): Generator<FakeLogEntry> {
    const { project, region = 'us-central1', service, revisions, origin } = this.#o;
    const now = this.#now();
    const history = this.#o.history();
    const first = Math.max(0, Math.ceil((Math.max(origin, now - this.#horizon) - origin) / this.#tick));
    const last = Math.floor((now - origin) / this.#tick);
    yield* this.events;
    const spread = (k: number, x: number) => Math.floor((k + 1) * x) - Math.floor(k * x);
    for (let k = first; k <= last; k++) {
      const at = origin + k * this.#tick;
      const moment = this.#moment(at, history);
      for (const side of ['stable', 'canary'] as const) {
        const share = side === 'canary' ? moment.canaryPercent / 100 : 1 - moment.canaryPercent / 100;
        const x = this.#perTick * share;
        const count = spread(k, x);
        if (count <= 0) continue;
        const failing = Math.min(count, spread(k, x * this.#o.behaviour(side, moment).errorRate));
        const revision = revisions[side];
        for (let i = 0; i < count; i++) {
          const status = i < failing ? 503 : 200;
          yield {
            timestamp: at,
            insertId: `${revision}-${k}-${i}`,
            severity: status >= 500 ? 'ERROR' : 'INFO',
            logName: `projects/${project}/logs/run.googleapis.com%2Frequests`,
            resource: { type: 'cloud_run_revision', labels: { project_id: project, location: region, service_name: service, revision_name: revision } },
            httpRequest: { status, requestMethod: 'GET', requestUrl: `https://${service}-fake.a.run.app/api/v1/control/status` },
          };
        }
      }
    }
  }
}

/** The split a fake Cloud Run service served over time: its accepted updates (settled at once). */
export function cloudRunHistory(run: FakeCloudRun, serviceName: string, canary: string): () => SplitPoint[] {
  return () =>
    run.updates
      .filter((u) => u.name === serviceName && u.code === 0)
      .map((u) => ({ at: u.at, canary: u.traffic.filter((t) => t.revision === canary).reduce((sum, t) => sum + t.percent, 0) }));
}

/** The split a percentage flag served over time: the writes that changed it. */
export function flagHistory(flags: FakeFlagServer, name: string, read: (document: unknown) => number = (d) => Number((d as { value?: unknown }).value)): () => SplitPoint[] {
  return () => flags.writes.filter((w) => w.name === name).map((w) => ({ at: w.at, canary: read(w.document) }));
}

/** The canary percent a fake Cloud Run service serves now (its traffic statuses). */
export function servedCanary(run: FakeCloudRun, serviceName: string, canary: string): number {
  return run
    .service(serviceName)
    .traffic_statuses.filter((t) => t.revision === canary)
    .reduce((sum, t) => sum + t.percent, 0);
}
