// The `cloud_monitoring` gate: the canary revision's 5xx ratio or p95 latency from Cloud
// Monitoring's Cloud Run metrics over the soak window, against an absolute maximum and/or (for
// latency) a regression limit relative to the stable revision over the same window.
// Missing data for a revision the check needs is an error, never a pass.
import type { MetricServiceClient, protos } from '@google-cloud/monitoring';
import { z } from 'zod';
import { createMetricServiceClient } from '../cloud/clients.ts';
import { callGoogle } from '../cloud/errors.ts';
import { formatDuration } from '../domain/duration.ts';
import { atMost, errored, measured, type Observation } from '../domain/measurement.ts';
import type { GateContext, GateKind } from '../ports.ts';
import { cloudRunTarget, describeFailure, projectIdSchema, round, type CloudRunTarget } from './gcp-common.ts';
import { unknownKeys } from './unknown-keys.ts';
import { durationSchema } from '../plans/duration.ts';

type TimeSeries = protos.google.monitoring.v3.ITimeSeries;

const cloudMonitoringSchema = z
  .strictObject(
    {
      metric: z.enum(['error_ratio', 'p95_latency'], { error: 'metric must be error_ratio (5xx share of requests) or p95_latency (ms)' }),
      max: z.number({ error: 'max must be a number' }).min(0, 'max must not be negative').optional(),
      max_regression: z
        .number({ error: 'max_regression must be a number, e.g. 0.2 for "at most 20 % above stable"' })
        .min(0, 'max_regression must not be negative')
        .optional(),
      project: projectIdSchema.optional(),
      /**
       * Alignment period of the series (at least 60s). Latency is judged per aligned period and
       * the worst period counts; set it to the soak length to judge the window as a whole.
       */
      alignment: durationSchema
        .refine((ms) => ms >= 60_000 && ms % 1000 === 0, 'alignment must be whole seconds and at least 60s (a Cloud Monitoring limit)')
        .default(60_000),
      /**
       * For max_regression when stable serves no traffic in the window (the 100 % cohort): how far
       * before the window to look for stable's last p95, its baseline.
       */
      baseline_lookback: durationSchema
        .refine((ms) => ms >= 60_000, 'baseline_lookback must be at least 60s (one aligned period)')
        .default(3_600_000),
    },
    { error: unknownKeys('cloud_monitoring', 'metric, max, max_regression, project, alignment, baseline_lookback') },
  )
  .superRefine((s, ctx) => {
    if (s.max === undefined && s.max_regression === undefined) {
      ctx.addIssue({ code: 'custom', message: 'cloud_monitoring needs max, max_regression, or both' });
    }
    if (s.metric === 'error_ratio' && s.max !== undefined && s.max > 1) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: 'max of error_ratio is a fraction from 0 to 1 (e.g. 0.01 for 1 %)' });
    }
    if (s.metric === 'error_ratio' && s.max_regression !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['max_regression'], message: 'max_regression applies to p95_latency; for error_ratio use max' });
    }
  });

export type CloudMonitoringSpec = z.infer<typeof cloudMonitoringSchema>;

export interface CloudMonitoringGateDeps {
  /** 'host:port' of a Monitoring emulator (plain-text gRPC); absent = the real API with ADC. */
  readonly emulatorHost?: string | undefined;
}

export interface CloudMonitoringGate extends GateKind<CloudMonitoringSpec> {
  close(): Promise<void>;
}

export const REQUEST_COUNT = 'run.googleapis.com/request_count';
export const REQUEST_LATENCIES = 'run.googleapis.com/request_latencies';

/** int64 points arrive as decimal strings; tolerate numbers and Long-like objects too. */
export function pointNumber(value: protos.google.monitoring.v3.ITypedValue | null | undefined): number | undefined {
  if (!value) return undefined;
  const raw = value.int64Value ?? value.doubleValue;
  if (raw === null || raw === undefined) return undefined;
  const number = typeof raw === 'number' ? raw : Number(String(raw));
  return Number.isFinite(number) ? number : undefined;
}

const revisionOf = (series: TimeSeries): string | undefined => series.resource?.labels?.revision_name ?? undefined;

export function cloudMonitoringGate(deps: CloudMonitoringGateDeps = {}): CloudMonitoringGate {
  let client: MetricServiceClient | undefined;
  const metrics = () => (client ??= createMetricServiceClient({ emulatorHost: deps.emulatorHost }));

  async function query(
    ctx: GateContext,
    project: string,
    service: CloudRunTarget,
    metric: string,
    spec: CloudMonitoringSpec,
    deadline: number,
    window: GateContext['window'] = ctx.window,
    revisionNames: readonly string[] = [ctx.revisions.canary, ctx.revisions.stable],
  ): Promise<TimeSeries[]> {
    const revisions = revisionNames.map((r) => `"${r}"`).join(', ');
    const latency = metric === REQUEST_LATENCIES;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`Cloud Monitoring did not answer within ${formatDuration(ctx.timeoutMs)}`);
    const [series] = await callGoogle(
      { action: 'list time series', permission: 'monitoring.timeSeries.list', resource: `projects/${project}` },
      () =>
        metrics().listTimeSeries(
          {
            name: `projects/${project}`,
            // The region too: revision names are unique only within one (a train spans several).
            filter: `metric.type = "${metric}" AND resource.type = "cloud_run_revision" AND resource.labels.service_name = "${service.name}" AND resource.labels.location = "${service.region}" AND resource.labels.revision_name = one_of(${revisions})`,
            interval: { startTime: timestamp(window.start), endTime: timestamp(window.end) },
            aggregation: {
              alignmentPeriod: { seconds: spec.alignment / 1000 },
              perSeriesAligner: 'ALIGN_DELTA',
              crossSeriesReducer: latency ? 'REDUCE_PERCENTILE_95' : 'REDUCE_SUM',
              groupByFields: latency ? ['resource.label.revision_name'] : ['resource.label.revision_name', 'metric.label.response_code_class'],
            },
          },
          { autoPaginate: true, timeout: remaining },
        ),
    );
    return series;
  }

  return {
    key: 'cloud_monitoring',
    schema: cloudMonitoringSchema,
    defaultTimeoutMs: 30_000,
    // Cloud Run metrics are sampled every 60 s and visible up to 180 s after sampling.
    defaultDataLagMs: 180_000,

    async measure(spec, ctx) {
      const target = cloudRunTarget(ctx.service);
      if (!target) {
        return errored(`cloud_monitoring reads Cloud Run revision metrics: the plan's service is on ${ctx.service.platform}, not cloud-run`);
      }
      const project = spec.project ?? target.project;
      const window = `the ${formatDuration(ctx.window.end - ctx.window.start)} window`;
      // One budget for the check: the baseline query, when needed, gets what the first one left.
      const deadline = Date.now() + ctx.timeoutMs;
      try {
        if (spec.metric === 'error_ratio') {
          const counts = tallyCounts(await query(ctx, project, target, REQUEST_COUNT, spec, deadline));
          const canary = counts.get(ctx.revisions.canary);
          if (!canary || canary.total === 0) return errored(`no requests recorded for canary revision ${ctx.revisions.canary} in ${window}`);
          const observations: Observation[] = [
            atMost('5xx_ratio', round(canary.errors / canary.total), spec.max ?? 1),
            { name: 'canary_requests', value: canary.total, ok: true },
          ];
          const stable = counts.get(ctx.revisions.stable);
          if (stable && stable.total > 0) observations.push({ name: 'stable_5xx_ratio', value: round(stable.errors / stable.total), ok: true });
          return measured(observations);
        }
        const p95 = worstP95(await query(ctx, project, target, REQUEST_LATENCIES, spec, deadline));
        const canary = p95.get(ctx.revisions.canary);
        if (canary === undefined) return errored(`no latency data for canary revision ${ctx.revisions.canary} in ${window}`);
        let stable = p95.get(ctx.revisions.stable);
        if (spec.max_regression === undefined || (stable !== undefined && stable > 0)) return measured(latencyObservations(spec, canary, stable));
        // Stable served nothing in the window: at the 100 % cohort it has no traffic left to measure.
        // Compare with its baseline instead (seed 002: "from stable baseline"): its p95 in the last
        // aligned period before the window that has data. Without one, the gate cannot judge.
        const before = { start: ctx.window.start - spec.baseline_lookback, end: ctx.window.start };
        const baseline = latestP95(await query(ctx, project, target, REQUEST_LATENCIES, spec, deadline, before, [ctx.revisions.stable]));
        stable = baseline?.value;
        if (!baseline || stable === undefined || stable <= 0) {
          return errored(
            `no latency data for stable revision ${ctx.revisions.stable} in ${window} nor in the ${formatDuration(spec.baseline_lookback)} before it: cannot compare the canary with it`,
          );
        }
        return measured(
          latencyObservations(spec, canary, stable),
          `stable served no traffic in ${window}: compared with its baseline, its p95 in the period ending ${new Date(baseline.end).toISOString()}`,
        );
      } catch (error) {
        return errored(describeFailure(error));
      }
    },

    simulate(spec, _ctx, signals) {
      if (spec.metric === 'error_ratio') {
        if (signals.requestCount <= 0) return errored('no requests recorded for the canary in the window', 'simulated');
        const errors = Math.round(signals.requestCount * signals.errorRate);
        return measured(
          [
            atMost('5xx_ratio', round(errors / signals.requestCount), spec.max ?? 1),
            { name: 'canary_requests', value: signals.requestCount, ok: true },
            { name: 'stable_5xx_ratio', value: round(signals.stableErrorRate), ok: true },
          ],
          'simulated',
        );
      }
      if (spec.max_regression !== undefined && signals.stableP95LatencyMs <= 0) {
        return errored('no latency data for the stable revision: cannot compare the canary with it', 'simulated');
      }
      return measured(latencyObservations(spec, signals.p95LatencyMs, signals.stableP95LatencyMs), 'simulated');
    },

    async close() {
      const open = client;
      client = undefined;
      await open?.close();
    },
  };
}

function latencyObservations(spec: CloudMonitoringSpec, canary: number, stable: number | undefined): Observation[] {
  const observations: Observation[] = [];
  if (spec.max !== undefined) observations.push(atMost('p95_latency_ms', round(canary, 3), spec.max));
  else observations.push({ name: 'p95_latency_ms', value: round(canary, 3), ok: true });
  if (stable !== undefined) observations.push({ name: 'stable_p95_latency_ms', value: round(stable, 3), ok: true });
  if (spec.max_regression !== undefined && stable !== undefined && stable > 0) {
    observations.push(atMost('p95_regression', round(canary / stable - 1, 4), spec.max_regression));
  }
  return observations;
}

/** Requests and 5xx per revision, summed over the aligned periods. */
function tallyCounts(series: readonly TimeSeries[]): Map<string, { total: number; errors: number }> {
  const tallies = new Map<string, { total: number; errors: number }>();
  for (const s of series) {
    const revision = revisionOf(s);
    if (!revision) continue;
    const sum = (s.points ?? []).reduce((acc, p) => acc + (pointNumber(p.value) ?? 0), 0);
    const tally = tallies.get(revision) ?? { total: 0, errors: 0 };
    tally.total += sum;
    if (s.metric?.labels?.response_code_class === '5xx') tally.errors += sum;
    tallies.set(revision, tally);
  }
  return tallies;
}

/** Per revision, the highest p95 of any aligned period (a conservative reading of the window). */
function worstP95(series: readonly TimeSeries[]): Map<string, number> {
  const worst = new Map<string, number>();
  for (const s of series) {
    const revision = revisionOf(s);
    if (!revision) continue;
    for (const point of s.points ?? []) {
      const value = pointNumber(point.value);
      if (value !== undefined) worst.set(revision, Math.max(worst.get(revision) ?? Number.NEGATIVE_INFINITY, value));
    }
  }
  return worst;
}

/** The p95 of the most recent aligned period with data, across the given series. */
function latestP95(series: readonly TimeSeries[]): { value: number; end: number } | undefined {
  let latest: { value: number; end: number } | undefined;
  for (const s of series) {
    for (const point of s.points ?? []) {
      const value = pointNumber(point.value);
      const end = millis(point.interval?.endTime);
      if (value === undefined || end === undefined) continue;
      if (!latest || end > latest.end) latest = { value, end };
    }
  }
  return latest;
}

function millis(ts: protos.google.protobuf.ITimestamp | null | undefined): number | undefined {
  if (!ts) return undefined;
  const seconds = Number(String(ts.seconds ?? 0));
  return Number.isFinite(seconds) ? seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1_000_000) : undefined;
}

export function timestamp(ms: number): { seconds: number; nanos: number } {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}
