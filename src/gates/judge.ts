// The `judge` gate: measures per-revision counts, canary against stable, from Cloud Monitoring,
// Cloud Logging or a Prometheus API (or, in a rehearsal, the simulated traffic), and hands them to
// the domain's judge, which keeps its test in the cutover's state and decides. The gate never
// decides: it reports counts, or an error when it could not get them.
import type { Logging } from '@google-cloud/logging';
import type { MetricServiceClient } from '@google-cloud/monitoring';
import { createLogging, createMetricServiceClient } from '../cloud/clients.ts';
import { errored, sampled, type JudgeSample, type Observation } from '../domain/measurement.ts';
import type { GateContext, GateKind, ServedCounters } from '../ports.ts';
import { describeFailure } from './gcp-common.ts';
import { loggingSource } from './judge-logging.ts';
import { monitoringSource, type SourceAnswer } from './judge-monitoring.ts';
import { prometheusSource } from './judge-prometheus.ts';
import { judgeSchema, type JudgeSpec } from './judge-schema.ts';

export interface JudgeGateDeps {
  /** 'host:port' of local gRPC servers standing in for Google (plain text, no credentials). */
  readonly monitoringEmulatorHost?: string | undefined;
  readonly loggingEmulatorHost?: string | undefined;
  /** Cloud Logging: most entries read per check, both revisions together (default 20 000). */
  readonly maxLogEntries?: number;
}

export interface JudgeGate extends GateKind<JudgeSpec> {
  close(): Promise<void>;
}

/** How late each source's data becomes visible: Cloud Run metrics up to 3 minutes. */
const DATA_LAG_MS: Readonly<Record<JudgeSpec['source'], number>> = { cloud_monitoring: 180_000, cloud_logging: 0, prometheus: 0 };

/** The counts as observations, for the evidence: what the judge was handed at each check. */
function countObservations(sample: JudgeSample): Observation[] {
  const out: Observation[] = [];
  if (sample.errors) {
    for (const side of ['canary', 'stable'] as const) {
      out.push({ name: `${side}_requests`, value: sample.errors[side].requests, ok: true });
      out.push({ name: `${side}_5xx`, value: sample.errors[side].errors, ok: true });
    }
  }
  if (sample.latency) {
    const total = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
    out.push({ name: 'canary_requests', value: total(sample.latency.canary), ok: true });
    out.push({ name: 'stable_requests', value: total(sample.latency.stable), ok: true });
    out.push({ name: 'latency_buckets', value: sample.latency.bounds.length + 1, ok: true });
  }
  return out;
}

const counting = (sample: JudgeSample): string => (sample.since === null ? 'running counters' : `counts since ${new Date(sample.since).toISOString()}`);

/** The judge's counts from the simulated traffic: running counters, like a Prometheus endpoint's. */
export function simulatedSample(spec: Pick<JudgeSpec, 'metric'>, served: ServedCounters, through: number): JudgeSample {
  if (spec.metric === 'error_rate') {
    return {
      since: null,
      through,
      errors: { canary: { requests: served.canary.requests, errors: served.canary.errors }, stable: { requests: served.stable.requests, errors: served.stable.errors } },
    };
  }
  return { since: null, through, latency: { bounds: served.bounds, canary: served.canary.latency, stable: served.stable.latency } };
}

export function judgeGate(deps: JudgeGateDeps = {}): JudgeGate {
  let metrics: MetricServiceClient | undefined;
  const logs = new Map<string, Logging>();
  const loggingFor = (project: string): Logging => {
    let client = logs.get(project);
    if (!client) {
      client = createLogging({ emulatorHost: deps.loggingEmulatorHost, projectId: project });
      logs.set(project, client);
    }
    return client;
  };
  const sources: Readonly<Record<JudgeSpec['source'], (spec: JudgeSpec, ctx: GateContext) => Promise<SourceAnswer>>> = {
    cloud_monitoring: monitoringSource(() => (metrics ??= createMetricServiceClient({ emulatorHost: deps.monitoringEmulatorHost }))),
    cloud_logging: loggingSource(loggingFor, { maxEntries: deps.maxLogEntries ?? 20_000, pageSize: 1000 }),
    prometheus: prometheusSource(),
  };

  return {
    key: 'judge',
    schema: judgeSchema,
    defaultTimeoutMs: 30_000,
    dataLagFor: (spec) => DATA_LAG_MS[spec.source],
    judgeRule: (spec) => ({ metric: spec.metric, worseBy: spec.worseBy, falseRollback: spec.falseRollback, quantile: spec.quantile, max: spec.max }),

    async measure(spec, ctx) {
      try {
        const answer = await sources[spec.source](spec, ctx);
        if ('error' in answer) return answer.waiting ? { outcome: 'error', error: answer.error, waiting: true } : errored(answer.error);
        return sampled(answer, countObservations(answer), `${spec.source}: ${counting(answer)}`);
      } catch (error) {
        return errored(describeFailure(error));
      }
    },

    simulate(spec, ctx, signals) {
      if (!signals.served) return errored('the simulation kept no request counts for this service');
      const sample = simulatedSample(spec, signals.served, ctx.window.end);
      return sampled(sample, countObservations(sample), 'simulated: requests drawn at random from the scenario');
    },

    async close() {
      const open = metrics;
      metrics = undefined;
      const clients = [...logs.values()];
      logs.clear();
      await open?.close();
      // The Logging facade keeps its generated gRPC client here without typing it as an instance.
      await Promise.all(clients.map((c) => (c.loggingService as unknown as { close?: () => Promise<void> } | undefined)?.close?.()));
    },
  };
}
