// `slo_snapshot` gate (seed 004): a JSON document with p95_latency_ms and error_budget_ratio
// (top level or under `sync`). Anything short of a readable number is an error, never a pass.
import { z } from 'zod';
import { atMost, errored, measured, type Observation } from '../domain/measurement.ts';
import type { GateKind } from '../ports.ts';
import { httpUrl, tokenEnv } from './http.ts';
import { bearer, deadline, describeError, fill, templateVars } from './template.ts';

export const sloSettings = z
  .object({
    url: httpUrl,
    token_env: tokenEnv.optional(),
    max_p95_latency_ms: z.number().positive().optional(),
    max_error_budget_ratio: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((s) => s.max_p95_latency_ms !== undefined || s.max_error_budget_ratio !== undefined, {
    error: 'needs max_p95_latency_ms and/or max_error_budget_ratio',
  });

export type SloSettings = z.infer<typeof sloSettings>;

function pick(document: unknown, field: string): number | undefined {
  const d = document as Record<string, unknown> | null;
  const direct = d?.[field];
  const nested = (d?.sync as Record<string, unknown> | undefined)?.[field];
  const value = typeof direct === 'number' ? direct : typeof nested === 'number' ? nested : undefined;
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

function observe(spec: SloSettings, p95: number | undefined, budget: number | undefined): Observation[] | string {
  const observations: Observation[] = [];
  if (spec.max_p95_latency_ms !== undefined) {
    if (p95 === undefined) return 'the snapshot has no p95_latency_ms';
    observations.push(atMost('p95_latency_ms', p95, spec.max_p95_latency_ms));
  }
  if (spec.max_error_budget_ratio !== undefined) {
    if (budget === undefined) return 'the snapshot has no error_budget_ratio';
    observations.push(atMost('error_budget_ratio', budget, spec.max_error_budget_ratio));
  }
  return observations;
}

export const sloSnapshotGate: GateKind<SloSettings> = {
  key: 'slo_snapshot',
  schema: sloSettings,
  defaultTimeoutMs: 10_000,
  async measure(spec, ctx) {
    const auth = bearer(spec.token_env, ctx.env);
    if ('error' in auth) return errored(auth.error);
    const headers: Record<string, string> = { accept: 'application/json', ...auth };
    let document: unknown;
    try {
      const response = await fetch(fill(spec.url, templateVars(ctx)), { headers, signal: deadline(ctx) });
      if (response.status !== 200) {
        await response.body?.cancel();
        return errored(`SLO snapshot answered ${response.status}`);
      }
      document = await response.json();
    } catch (error) {
      return errored(`SLO snapshot: ${describeError(error, ctx.timeoutMs)}`);
    }
    const observations = observe(spec, pick(document, 'p95_latency_ms'), pick(document, 'error_budget_ratio'));
    return typeof observations === 'string' ? errored(observations) : measured(observations);
  },
  simulate(spec, _ctx, signals) {
    const observations = observe(spec, signals.p95LatencyMs, signals.errorBudgetRatio);
    return typeof observations === 'string' ? errored(observations, 'simulated') : measured(observations, 'simulated');
  },
};
