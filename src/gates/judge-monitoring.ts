// The judge's counts from Cloud Monitoring's Cloud Run metrics: requests and 5xx per revision
// (`run.googleapis.com/request_count` grouped by revision_name and response_code_class), or the
// request_latencies distribution's bucket counts per revision, summed over the window.
//
// Cloud Run writes one point per revision a minute, visible up to 3 minutes later (the kind's data
// lag). The window is cut to whole minutes since the epoch, so every check sees the same grid of
// aligned periods and the counts from the same window start can only grow: the judge takes their
// differences check by check.
import type { MetricServiceClient, protos } from '@google-cloud/monitoring';
import { callGoogle } from '../cloud/errors.ts';
import { formatDuration } from '../domain/duration.ts';
import type { JudgeSample, RevisionCounts } from '../domain/measurement.ts';
import type { GateContext } from '../ports.ts';
import { pointNumber, REQUEST_COUNT, REQUEST_LATENCIES, timestamp } from './cloud-monitoring.ts';
import { cloudRunTarget } from './gcp-common.ts';
import type { JudgeSpec } from './judge-schema.ts';

type TimeSeries = protos.google.monitoring.v3.ITimeSeries;
type Distribution = protos.google.api.IDistribution;

const MINUTE = 60_000;

export type SourceAnswer = JudgeSample | { readonly error: string; readonly waiting?: true };

/**
 * The finite bucket bounds of a distribution, read from its own options (never assumed): linear
 * and exponential layouts have numFiniteBuckets + 1 bounds, explicit ones list theirs. Null when
 * the options are missing or cannot be a histogram.
 */
export function bucketBounds(options: protos.google.api.Distribution.IBucketOptions | null | undefined): number[] | null {
  if (!options) return null;
  let bounds: number[] | null = null;
  if (options.explicitBuckets) bounds = [...(options.explicitBuckets.bounds ?? [])];
  else if (options.exponentialBuckets) {
    const { numFiniteBuckets: n, growthFactor: g, scale } = options.exponentialBuckets;
    if (n && g && scale && g > 1 && scale > 0) bounds = Array.from({ length: n + 1 }, (_, i) => scale * g ** i);
  } else if (options.linearBuckets) {
    const { numFiniteBuckets: n, width, offset } = options.linearBuckets;
    if (n && width && width > 0) bounds = Array.from({ length: n + 1 }, (_, i) => (offset ?? 0) + width * i);
  }
  if (!bounds || bounds.length === 0 || !bounds.every((b, i) => Number.isFinite(b) && (i === 0 || b > bounds![i - 1]!))) return null;
  return bounds;
}

/** A distribution's counts in its layout, the omitted trailing buckets as zeros (as the API allows). */
function bucketCounts(distribution: Distribution, bounds: readonly number[]): number[] | null {
  const counts = (distribution.bucketCounts ?? []).map((c) => Number(String(c)));
  if (counts.length > bounds.length + 1 || !counts.every((c) => Number.isFinite(c) && c >= 0)) return null;
  return [...counts, ...Array.from({ length: bounds.length + 1 - counts.length }, () => 0)];
}

const sameBounds = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export function monitoringSource(metrics: () => MetricServiceClient) {
  async function list(ctx: GateContext, project: string, filter: string, interval: { start: number; end: number }, latency: boolean): Promise<TimeSeries[]> {
    const [series] = await callGoogle({ action: 'list time series', permission: 'monitoring.timeSeries.list', resource: `projects/${project}` }, () =>
      metrics().listTimeSeries(
        {
          name: `projects/${project}`,
          filter,
          interval: { startTime: timestamp(interval.start), endTime: timestamp(interval.end) },
          aggregation: {
            alignmentPeriod: { seconds: 60 },
            perSeriesAligner: 'ALIGN_DELTA',
            crossSeriesReducer: 'REDUCE_SUM',
            groupByFields: latency ? ['resource.label.revision_name'] : ['resource.label.revision_name', 'metric.label.response_code_class'],
          },
        },
        { autoPaginate: true, timeout: ctx.timeoutMs },
      ),
    );
    return series;
  }

  return async function measure(spec: JudgeSpec, ctx: GateContext): Promise<SourceAnswer> {
    const target = cloudRunTarget(ctx.service);
    if (!target) return { error: `the judge reads Cloud Run revision metrics from Cloud Monitoring: the plan's service is on ${ctx.service.platform}, not cloud-run` };
    const project = spec.project ?? target.project;
    const start = Math.ceil(ctx.window.start / MINUTE) * MINUTE;
    const end = Math.floor(ctx.window.end / MINUTE) * MINUTE;
    if (end <= start) return { error: 'no whole minute of Cloud Monitoring data in the window yet', waiting: true };
    // Checked again within the same minute: nothing new to count (checking more often than once a
    // minute gains nothing on this source).
    if (ctx.judgedThrough !== undefined && end <= ctx.judgedThrough) return { error: 'no new minute of Cloud Monitoring data since the last check', waiting: true };
    const { canary, stable } = ctx.revisions;
    const quote = (v: string) => `"${v.replaceAll('"', '\\"')}"`;
    const filter = (metric: string) =>
      `metric.type = "${metric}" AND resource.type = "cloud_run_revision" AND resource.labels.location = ${quote(target.region)} AND resource.labels.service_name = ${quote(target.name)} AND resource.labels.revision_name = one_of(${quote(canary)}, ${quote(stable)})`;
    const span = `the ${formatDuration(end - start)} from ${new Date(start).toISOString()}`;

    if (spec.metric === 'error_rate') {
      const tallies = new Map<string, { requests: number; errors: number }>([
        [canary, { requests: 0, errors: 0 }],
        [stable, { requests: 0, errors: 0 }],
      ]);
      for (const s of await list(ctx, project, filter(REQUEST_COUNT), { start, end }, false)) {
        const tally = tallies.get(s.resource?.labels?.revision_name ?? '');
        if (!tally) continue;
        const sum = (s.points ?? []).reduce((acc, p) => acc + (pointNumber(p.value) ?? 0), 0);
        tally.requests += sum;
        if (s.metric?.labels?.response_code_class === '5xx') tally.errors += sum;
      }
      const counts = { canary: tallies.get(canary)! as RevisionCounts, stable: tallies.get(stable)! as RevisionCounts };
      return { since: start, through: end, errors: counts };
    }

    // Latency: each revision's buckets summed over the window, in the layout its points carry.
    let bounds: number[] | null = null;
    const sums = new Map<string, number[]>();
    for (const s of await list(ctx, project, filter(REQUEST_LATENCIES), { start, end }, true)) {
      const revision = s.resource?.labels?.revision_name ?? '';
      if (revision !== canary && revision !== stable) continue;
      for (const point of s.points ?? []) {
        const distribution = point.value?.distributionValue;
        if (!distribution) return { error: `request_latencies of ${revision} came without a distribution value` };
        const layout = bucketBounds(distribution.bucketOptions);
        if (!layout) return { error: `request_latencies of ${revision} came with bucket options that are not a histogram` };
        if (bounds === null) bounds = layout;
        else if (!sameBounds(bounds, layout)) {
          return { error: `the request_latencies buckets changed within ${span}: the judge cannot add counts of different layouts` };
        }
        const counts = bucketCounts(distribution, layout);
        if (!counts) return { error: `request_latencies of ${revision} has bucket counts that do not fit its layout` };
        const sum = sums.get(revision) ?? counts.map(() => 0);
        sums.set(revision, sum.map((n, i) => n + counts[i]!));
      }
    }
    if (bounds === null) return { error: `no request_latencies data for ${canary} or ${stable} in ${span}` };
    const zero = () => bounds!.map(() => 0).concat(0);
    return { since: start, through: end, latency: { bounds, canary: sums.get(canary) ?? zero(), stable: sums.get(stable) ?? zero() } };
  };
}
