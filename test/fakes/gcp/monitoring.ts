// A fake Cloud Monitoring API (MetricService/ListTimeSeries) over gRPC, built from the protos in
// @google-cloud/monitoring. It answers the two queries the gates make on Cloud Run revisions:
//  - run.googleapis.com/request_count, ALIGN_DELTA + REDUCE_SUM grouped by
//    resource.label.revision_name and metric.label.response_code_class (INT64 points);
//  - run.googleapis.com/request_latencies, ALIGN_DELTA + REDUCE_PERCENTILE_95 grouped by
//    resource.label.revision_name (DOUBLE points, ms);
//  - run.googleapis.com/request_latencies, ALIGN_DELTA + REDUCE_SUM grouped by revision_name: the
//    summed distribution (DISTRIBUTION points: bucket options and bucket counts, as the judge reads).
// Anything else is INVALID_ARGUMENT, so a gate that asks the wrong question fails loudly.
import * as grpc from '@grpc/grpc-js';
import { FakeGrpcServer, GrpcFault, fromTimestamp, toTimestamp } from './grpc-server.ts';
import { loadProtos, protoRoots, serviceDefinition } from './protos.ts';

export type CodeClass = '2xx' | '3xx' | '4xx' | '5xx';

/** A distribution's bucket layout, as the API describes it (Distribution.BucketOptions). */
export type BucketLayout =
  | { readonly exponential: { readonly numFiniteBuckets: number; readonly growthFactor: number; readonly scale: number } }
  | { readonly linear: { readonly numFiniteBuckets: number; readonly width: number; readonly offset: number } }
  | { readonly explicit: readonly number[] };

export interface RevisionSample {
  counts?: Partial<Record<CodeClass, number>>;
  p95Ms?: number;
  /** request_latencies as a distribution: its layout and its bucket counts (trailing zeros may be left out, as the API does). */
  latency?: { readonly layout: BucketLayout; readonly counts: readonly number[] };
}

function wireBucketOptions(layout: BucketLayout): object {
  if ('exponential' in layout) {
    const e = layout.exponential;
    return { exponential_buckets: { num_finite_buckets: e.numFiniteBuckets, growth_factor: e.growthFactor, scale: e.scale } };
  }
  if ('linear' in layout) {
    const l = layout.linear;
    return { linear_buckets: { num_finite_buckets: l.numFiniteBuckets, width: l.width, offset: l.offset } };
  }
  return { explicit_buckets: { bounds: [...layout.explicit] } };
}

/** The service and region a query names (`resource.labels.service_name`, `resource.labels.location`), when it does. */
export interface SampleScope {
  readonly service?: string;
  readonly location?: string;
}

/**
 * What a revision did in one aligned period; undefined = no data for it. `scope` is what the query
 * named besides the revision: a data source holding several regions answers only the one named.
 */
export type SampleFn = (revisionName: string, interval: { start: number; end: number }, scope: SampleScope) => RevisionSample | undefined;

export interface TimeSeriesRequestRecord {
  readonly at: number;
  readonly name: string;
  readonly filter: string;
  readonly interval: { start: number; end: number };
  readonly alignmentSeconds: number;
  readonly aligner: string;
  readonly reducer: string;
  readonly groupBy: readonly string[];
}

interface WireRequest {
  name: string;
  filter: string;
  interval: { start_time?: { seconds: string; nanos: number }; end_time?: { seconds: string; nanos: number } } | null;
  aggregation: {
    alignment_period: { seconds: string; nanos: number } | null;
    per_series_aligner: string;
    cross_series_reducer: string;
    group_by_fields: string[];
  } | null;
}

const REQUEST_COUNT = 'run.googleapis.com/request_count';
const REQUEST_LATENCIES = 'run.googleapis.com/request_latencies';
const CLASSES: readonly CodeClass[] = ['2xx', '3xx', '4xx', '5xx'];

/** `key = "v"` and `key = one_of("a", "b")` clauses joined by AND. */
function filterClauses(filter: string): Map<string, string[]> {
  const clauses = new Map<string, string[]>();
  for (const part of filter.split(/\s+AND\s+/)) {
    const match = /^\s*([\w.]+)\s*=\s*(?:"([^"]*)"|one_of\(([^)]*)\))\s*$/.exec(part);
    if (!match) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, `Unsupported filter clause: ${part}`);
    const values = match[2] !== undefined ? [match[2]] : [...match[3]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    clauses.set(match[1]!, values);
  }
  return clauses;
}

export class FakeMonitoring extends FakeGrpcServer {
  readonly requests: TimeSeriesRequestRecord[] = [];
  #revisions: string[] = [];
  #sample: SampleFn = () => undefined;

  constructor() {
    super();
    const { grpcObject } = loadProtos(protoRoots().monitoring, ['google/monitoring/v3/metric_service.proto']);
    this.server.addService(serviceDefinition(grpcObject, 'google.monitoring.v3.MetricService'), {
      ListTimeSeries: this.unary('ListTimeSeries', (req: WireRequest) => this.#list(req)),
    });
  }

  /** The revisions that exist and what each did; `sample` is called once per aligned period. */
  setData(revisions: readonly string[], sample: SampleFn): void {
    this.#revisions = [...revisions];
    this.#sample = sample;
  }

  #list(req: WireRequest): object {
    const start = fromTimestamp(req.interval?.start_time);
    const end = fromTimestamp(req.interval?.end_time);
    if (start === undefined || end === undefined || end < start) {
      throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'interval.start_time and interval.end_time are required, start before end');
    }
    const aggregation = req.aggregation;
    const alignmentSeconds = Number(aggregation?.alignment_period?.seconds ?? 0);
    const record: TimeSeriesRequestRecord = {
      at: Date.now(),
      name: req.name,
      filter: req.filter,
      interval: { start, end },
      alignmentSeconds,
      aligner: aggregation?.per_series_aligner ?? '',
      reducer: aggregation?.cross_series_reducer ?? '',
      groupBy: aggregation?.group_by_fields ?? [],
    };
    this.requests.push(record);
    if (!/^projects\/[^/]+$/.test(req.name)) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, `Invalid name: ${req.name}`);
    if (alignmentSeconds < 60) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'The alignment period must be at least 60 seconds.');
    const clauses = filterClauses(req.filter);
    const metric = clauses.get('metric.type')?.[0];
    if (clauses.get('resource.type')?.[0] !== 'cloud_run_revision') {
      throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'This fake only serves resource.type = "cloud_run_revision".');
    }
    const wanted = clauses.get('resource.labels.revision_name');
    const revisions = this.#revisions.filter((r) => !wanted || wanted.includes(r));
    const groupedByRevision = record.groupBy.includes('resource.label.revision_name');
    if (!groupedByRevision) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'This fake expects grouping by resource.label.revision_name.');
    const periods = alignedPeriods(start, end, alignmentSeconds * 1000);
    const project = req.name.slice('projects/'.length);
    const service = clauses.get('resource.labels.service_name')?.[0];
    const location = clauses.get('resource.labels.location')?.[0];
    const scope: SampleScope = { ...(service ? { service } : {}), ...(location ? { location } : {}) };
    const labels = { project_id: project, ...(service ? { service_name: service } : {}), ...(location ? { location } : {}) };

    if (metric === REQUEST_COUNT) {
      if (record.aligner !== 'ALIGN_DELTA' || record.reducer !== 'REDUCE_SUM' || !record.groupBy.includes('metric.label.response_code_class')) {
        throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'request_count: expected ALIGN_DELTA, REDUCE_SUM, grouped by response_code_class.');
      }
      const series = [];
      for (const revision of revisions) {
        for (const codeClass of CLASSES) {
          const points = periods
            .map((p) => ({ p, n: this.#sample(revision, p, scope)?.counts?.[codeClass] }))
            .filter((x): x is { p: { start: number; end: number }; n: number } => x.n !== undefined)
            .map(({ p, n }) => ({ interval: wireInterval(p), value: { int64_value: String(n) } }));
          if (points.length === 0) continue;
          series.push({
            metric: { type: REQUEST_COUNT, labels: { response_code_class: codeClass } },
            resource: { type: 'cloud_run_revision', labels: { ...labels, revision_name: revision } },
            metric_kind: 'DELTA',
            value_type: 'INT64',
            points: points.reverse(), // newest first, like the real API
          });
        }
      }
      return { time_series: series, next_page_token: '', execution_errors: [], unit: '1' };
    }
    if (metric === REQUEST_LATENCIES && record.reducer === 'REDUCE_SUM') {
      if (record.aligner !== 'ALIGN_DELTA') throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'request_latencies: a DELTA distribution is aligned with ALIGN_DELTA.');
      const series = [];
      for (const revision of revisions) {
        const points = periods
          .map((p) => ({ p, d: this.#sample(revision, p, scope)?.latency }))
          .filter((x): x is { p: { start: number; end: number }; d: NonNullable<RevisionSample['latency']> } => x.d !== undefined)
          .map(({ p, d }) => ({
            interval: wireInterval(p),
            value: {
              distribution_value: {
                count: String(d.counts.reduce((a, b) => a + b, 0)),
                bucket_options: wireBucketOptions(d.layout),
                bucket_counts: d.counts.map(String),
              },
            },
          }));
        if (points.length === 0) continue;
        series.push({
          metric: { type: REQUEST_LATENCIES, labels: {} },
          resource: { type: 'cloud_run_revision', labels: { project_id: project, revision_name: revision } },
          metric_kind: 'DELTA',
          value_type: 'DISTRIBUTION',
          points: points.reverse(),
        });
      }
      return { time_series: series, next_page_token: '', execution_errors: [], unit: 'ms' };
    }
    if (metric === REQUEST_LATENCIES) {
      if (record.aligner !== 'ALIGN_DELTA' || record.reducer !== 'REDUCE_PERCENTILE_95') {
        throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'request_latencies: expected ALIGN_DELTA and REDUCE_PERCENTILE_95 (or REDUCE_SUM for the distribution).');
      }
      const series = [];
      for (const revision of revisions) {
        const points = periods
          .map((p) => ({ p, v: this.#sample(revision, p, scope)?.p95Ms }))
          .filter((x): x is { p: { start: number; end: number }; v: number } => x.v !== undefined)
          .map(({ p, v }) => ({ interval: wireInterval(p), value: { double_value: v } }));
        if (points.length === 0) continue;
        series.push({
          metric: { type: REQUEST_LATENCIES, labels: {} },
          resource: { type: 'cloud_run_revision', labels: { ...labels, revision_name: revision } },
          metric_kind: 'GAUGE',
          value_type: 'DOUBLE',
          points: points.reverse(),
        });
      }
      return { time_series: series, next_page_token: '', execution_errors: [], unit: 'ms' };
    }
    throw new GrpcFault(grpc.status.INVALID_ARGUMENT, `This fake does not serve metric.type ${metric ?? '(none)'}.`);
  }
}

/** Consecutive periods of `ms` covering [start, end]; the last one may be shorter. */
function alignedPeriods(start: number, end: number, ms: number): Array<{ start: number; end: number }> {
  const periods = [];
  for (let t = start; t < end; t += ms) periods.push({ start: t, end: Math.min(t + ms, end) });
  return periods.length > 0 ? periods : [{ start, end }];
}

function wireInterval(p: { start: number; end: number }): object {
  return { start_time: toTimestamp(p.start), end_time: toTimestamp(p.end) };
}

export async function startFakeMonitoring(): Promise<FakeMonitoring> {
  const fake = new FakeMonitoring();
  await fake.listen();
  return fake;
}
