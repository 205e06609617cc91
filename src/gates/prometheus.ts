// The `prometheus` gate: a PromQL expression evaluated at the end of the soak window, against a
// `max` and/or a `min` (with `for:` as any gate), the threshold gate users of Argo Rollouts and
// Flagger reach for first. An empty vector or NaN is no data: an error, never a pass.
import { z } from 'zod';
import { errored, measured, type Observation } from '../domain/measurement.ts';
import type { GateContext, GateKind } from '../ports.ts';
import { httpUrl, tokenEnv } from './http.ts';
import { instantQuery, type PromSample } from './prometheus-api.ts';
import { fill, templateVars } from './template.ts';
import { unknownKeys } from './unknown-keys.ts';

export const prometheusSettings = z
  .strictObject(
    {
      url: httpUrl,
      query: z.string({ error: 'query must be a PromQL expression' }).trim().min(1, 'query must not be empty'),
      max: z.number({ error: 'max must be a number' }).optional(),
      min: z.number({ error: 'min must be a number' }).optional(),
      token_env: tokenEnv.optional(),
      auth: z.enum(['google'], { error: 'auth must be google (a token from Application Default Credentials) or left out' }).optional(),
    },
    { error: unknownKeys('prometheus', 'url, query, max, min, token_env, auth') },
  )
  .superRefine((s, ctx) => {
    if (s.max === undefined && s.min === undefined) ctx.addIssue({ code: 'custom', message: 'prometheus needs max, min, or both' });
    if (s.max !== undefined && s.min !== undefined && s.min > s.max) ctx.addIssue({ code: 'custom', path: ['min'], message: `min ${s.min} is above max ${s.max}: nothing could pass` });
  });

export type PrometheusSettings = z.infer<typeof prometheusSettings>;

/**
 * The gate's placeholders: the usual ones ({canary}, {stable}, {percent}, …) and {window}, the
 * soak so far as a PromQL duration (`increase(x[{window}])`).
 */
export function promVars(ctx: GateContext): Record<string, string> {
  return { ...templateVars(ctx), window: `${Math.max(1, Math.round((ctx.window.end - ctx.window.start) / 1000))}s` };
}

const labelsText = (labels: Readonly<Record<string, string>>): string => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

function observe(spec: PrometheusSettings, name: string, value: number): Observation[] {
  const out: Observation[] = [];
  if (spec.max !== undefined) out.push({ name, value, threshold: `<= ${spec.max}`, ok: value <= spec.max });
  if (spec.min !== undefined) out.push({ name, value, threshold: `>= ${spec.min}`, ok: value >= spec.min });
  return out;
}

export const prometheusGate: GateKind<PrometheusSettings> = {
  key: 'prometheus',
  schema: prometheusSettings,
  defaultTimeoutMs: 30_000,

  async measure(spec, ctx) {
    const query = fill(spec.query, promVars(ctx));
    let samples: readonly PromSample[];
    try {
      const result = await instantQuery({ url: spec.url, tokenEnv: spec.token_env, auth: spec.auth }, query, ctx.window.end, ctx);
      samples = result.resultType === 'scalar' ? [{ labels: {}, value: result.value }] : result.samples;
    } catch (error) {
      return errored(error instanceof Error ? error.message : String(error));
    }
    if (samples.length === 0) return errored('no data: the query returned an empty vector (no series matched at the end of the window)');
    // NaN is what 0/0 gives: a ratio over a window with no requests. Not a value to judge.
    const unknown = samples.find((s) => Number.isNaN(s.value));
    if (unknown) return errored(`no data: the query gave NaN${labelsText(unknown.labels) ? ` for ${labelsText(unknown.labels)}` : ''} (0/0: no requests in the window?)`);
    // Several series: every one must hold, each named by its labels.
    return measured(samples.flatMap((s) => observe(spec, samples.length === 1 ? 'value' : `value${labelsText(s.labels)}`, s.value)));
  },

  simulate(spec, _ctx, signals) {
    // The simulation cannot read PromQL: it answers with the canary's 5xx ratio, the expression
    // such a gate most often holds (see the rehearsal's header).
    return measured(observe(spec, 'value', signals.errorRate), 'simulated: the canary 5xx ratio');
  },
};
