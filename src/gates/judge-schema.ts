// Settings of a `judge:` gate: a sequential test of the canary against stable (src/domain/judge).
//
//   judge:
//     metric: error_rate            # error_rate (5xx / requests) or latency
//     source: cloud_monitoring      # cloud_monitoring | cloud_logging | prometheus
//     false_rollback: 1%            # default 1 %: the chance, over the whole cutover, of rolling back a canary no worse than stable
//     worse_by: 2x                  # error_rate: a ratio (default 2x); latency: +20% (the default)
//     max: 5%                       # optional guard: error_rate a ratio, latency a time (600ms)
//     percentile: 95                # latency: stable's percentile the slow threshold sits at (default 95)
//     project: my-project           # cloud sources: default the Cloud Run service's
//     filter: 'httpRequest.requestUrl:"/api/"'   # cloud_logging: narrows the request log entries
//     prometheus: { url, requests, errors, buckets, le_unit, token_env, auth }   # prometheus
import { z } from 'zod';
import { projectIdSchema } from './gcp-common.ts';
import { httpUrl, tokenEnv } from './http.ts';
import { unknownKeys } from './unknown-keys.ts';

export type JudgeMetric = 'error_rate' | 'latency';
export type JudgeSource = 'cloud_monitoring' | 'cloud_logging' | 'prometheus';

export interface PrometheusJudgeSettings {
  /** Base URL of the Prometheus HTTP API (`/api/v1/query` is appended). */
  readonly url: string;
  readonly tokenEnv?: string;
  /** `google`: an OAuth token from Application Default Credentials (Google Cloud Managed Service for Prometheus). */
  readonly auth?: 'google';
  /** PromQL for the running count of one revision's requests, `{revision}` standing for its name. */
  readonly requests?: string;
  /** The same for its 5xx responses. */
  readonly errors?: string;
  /** PromQL for one revision's histogram buckets (`le` label), e.g. `sum by (le) (…_bucket{revision="{revision}"})`. */
  readonly buckets?: string;
  /** The unit of the `le` bounds: Prometheus' convention is seconds. */
  readonly leUnit: 'seconds' | 'milliseconds';
}

export interface JudgeSpec {
  readonly metric: JudgeMetric;
  readonly source: JudgeSource;
  readonly falseRollback: number;
  /** error_rate: ratio of error odds (2 = twice stable's); latency: fraction (0.2 = 20 % slower). */
  readonly worseBy: number;
  /** The guard: error_rate a ratio 0..1, latency milliseconds; null: none. */
  readonly max: number | null;
  /** latency: stable's percentile the slow threshold sits at, 0..1. */
  readonly quantile: number;
  readonly project?: string;
  readonly filter?: string;
  readonly prometheus?: PrometheusJudgeSettings;
}

const NUMBER = String.raw`(\d+(?:\.\d+)?|\.\d+)`;
const PERCENT = new RegExp(String.raw`^\s*\+?\s*${NUMBER}\s*%\s*$`);
const RATIO = new RegExp(String.raw`^\s*${NUMBER}\s*[x×]\s*$`);
const TIME = new RegExp(String.raw`^\s*${NUMBER}\s*(ms|s)\s*$`);

const numberOrText = (what: string) => z.union([z.number(), z.string()], { error: `${what} must be a number or a text like the examples` });

const promql = (key: string) =>
  z
    .string({ error: `${key} must be a PromQL expression` })
    .trim()
    .min(1, `${key} must not be empty`);

const prometheusSettings = z.strictObject(
  {
    url: httpUrl,
    token_env: tokenEnv.optional(),
    auth: z.enum(['google'], { error: 'auth must be google (a token from Application Default Credentials) or left out' }).optional(),
    requests: promql('requests').optional(),
    errors: promql('errors').optional(),
    buckets: promql('buckets').optional(),
    le_unit: z.enum(['seconds', 'milliseconds'], { error: 'le_unit must be seconds (Prometheus convention) or milliseconds' }).default('seconds'),
  },
  { error: unknownKeys('judge.prometheus', 'url, token_env, auth, requests, errors, buckets, le_unit') },
);

const raw = z.strictObject(
  {
    metric: z.enum(['error_rate', 'latency'], { error: 'metric must be error_rate (5xx share of requests) or latency' }),
    source: z.enum(['cloud_monitoring', 'cloud_logging', 'prometheus'], { error: 'source must be cloud_monitoring, cloud_logging or prometheus' }),
    false_rollback: numberOrText('false_rollback').optional(),
    worse_by: numberOrText('worse_by').optional(),
    max: numberOrText('max').optional(),
    percentile: z.number({ error: 'percentile must be a number like 95' }).min(50, 'percentile must be at least 50').max(99.9, 'percentile must be at most 99.9').optional(),
    project: projectIdSchema.optional(),
    filter: z
      .string({ error: 'filter must be a Cloud Logging filter' })
      .trim()
      .min(1, 'filter must not be empty')
      .refine((text) => !/(^|[\s(-])timestamp\s*[<>=!:]/.test(text), 'filter must not mention timestamp: the judge bounds every query itself')
      .optional(),
    prometheus: prometheusSettings.optional(),
  },
  { error: unknownKeys('judge', 'metric, source, false_rollback, worse_by, max, percentile, project, filter, prometheus') },
);

/** "1%" → 0.01; 0.01 → 0.01. */
function fraction(value: number | string): number | null {
  if (typeof value === 'number') return value;
  const m = PERCENT.exec(value);
  return m ? Number(m[1]) / 100 : null;
}

export const judgeSchema: z.ZodType<JudgeSpec> = raw.transform((s, ctx): JudgeSpec => {
  const fail = (message: string, path: string[] = []) => {
    ctx.addIssue({ code: 'custom', message, path });
    return z.NEVER;
  };

  const falseRollback = s.false_rollback === undefined ? 0.01 : fraction(s.false_rollback);
  if (falseRollback === null || !(falseRollback > 0 && falseRollback <= 0.2)) {
    return fail('false_rollback must be a chance above 0 and at most 20 %, like 1% (or 0.01)', ['false_rollback']);
  }

  let worseBy: number | null;
  if (s.metric === 'error_rate') {
    // A ratio to stable's error rate: 2x, or +100 %, or the number 2.
    const w = s.worse_by ?? 2;
    worseBy = typeof w === 'number' ? w : RATIO.test(w) ? Number(RATIO.exec(w)![1]) : PERCENT.test(w) ? 1 + Number(PERCENT.exec(w)![1]) / 100 : null;
    if (worseBy === null || !(worseBy > 1 && worseBy <= 100)) {
      return fail('worse_by of error_rate is a ratio to stable\'s error rate above 1, like 2x (twice stable\'s) or 1.5x', ['worse_by']);
    }
  } else {
    // A slowdown: +20 %, or 1.2x, or the number 0.2.
    const w = s.worse_by ?? 0.2;
    worseBy = typeof w === 'number' ? w : PERCENT.test(w) ? Number(PERCENT.exec(w)![1]) / 100 : RATIO.test(w) ? Number(RATIO.exec(w)![1]) - 1 : null;
    if (worseBy === null || !(worseBy > 0 && worseBy <= 10)) {
      return fail('worse_by of latency is how much slower than stable is worth catching, above 0, like +20% (or 1.2x, or 0.2)', ['worse_by']);
    }
  }

  let max: number | null = null;
  if (s.max !== undefined) {
    if (s.metric === 'error_rate') {
      max = fraction(s.max);
      if (max === null || !(max > 0 && max <= 1)) return fail('max of error_rate is the canary\'s 5xx share that is obviously broken, like 5% (or 0.05)', ['max']);
    } else {
      const m = typeof s.max === 'string' ? TIME.exec(s.max) : null;
      max = typeof s.max === 'number' ? s.max : m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : null;
      if (max === null || !(max > 0)) return fail('max of latency is a time the canary\'s percentile must stay under, like 600ms or 1.5s (a number is milliseconds)', ['max']);
    }
  }
  if (s.percentile !== undefined && s.metric !== 'latency') return fail('percentile applies to latency', ['percentile']);

  if (s.source === 'prometheus') {
    const p = s.prometheus;
    if (!p) return fail('source prometheus needs a prometheus block: { url, requests, errors } for error_rate or { url, buckets } for latency', ['prometheus']);
    if (s.project !== undefined) return fail('project applies to the cloud sources; prometheus is reached at prometheus.url', ['project']);
    if (s.metric === 'error_rate') {
      if (!p.requests) return fail('error_rate needs requests: PromQL for one revision\'s running request count, with {revision} for its name', ['prometheus', 'requests']);
      if (!p.errors) return fail('error_rate needs errors: PromQL for one revision\'s running 5xx count, with {revision} for its name', ['prometheus', 'errors']);
      if (p.buckets) return fail('buckets belongs to latency', ['prometheus', 'buckets']);
    } else {
      if (!p.buckets) return fail('latency needs buckets: PromQL for one revision\'s histogram buckets by le, with {revision} for its name', ['prometheus', 'buckets']);
      if (p.requests || p.errors) return fail('requests and errors belong to error_rate', ['prometheus']);
    }
    for (const key of ['requests', 'errors', 'buckets'] as const) {
      if (p[key] && !p[key].includes('{revision}')) return fail(`${key} must name the revision as {revision}, so the judge can ask it for the canary and for stable`, ['prometheus', key]);
    }
  } else if (s.prometheus) {
    return fail(`the prometheus block belongs to source prometheus, not ${s.source}`, ['prometheus']);
  }
  if (s.filter !== undefined && s.source !== 'cloud_logging') return fail('filter applies to source cloud_logging', ['filter']);
  if (s.source === 'cloud_logging' && s.metric === 'latency') {
    return fail('cloud_logging counts requests and 5xx from the request logs; for latency use cloud_monitoring (request_latencies) or prometheus (a histogram)', ['source']);
  }

  return {
    metric: s.metric,
    source: s.source,
    falseRollback,
    worseBy,
    max,
    quantile: (s.percentile ?? 95) / 100,
    ...(s.project ? { project: s.project } : {}),
    ...(s.filter ? { filter: s.filter } : {}),
    ...(s.prometheus
      ? {
          prometheus: {
            url: s.prometheus.url,
            leUnit: s.prometheus.le_unit,
            ...(s.prometheus.token_env ? { tokenEnv: s.prometheus.token_env } : {}),
            ...(s.prometheus.auth ? { auth: s.prometheus.auth } : {}),
            ...(s.prometheus.requests ? { requests: s.prometheus.requests } : {}),
            ...(s.prometheus.errors ? { errors: s.prometheus.errors } : {}),
            ...(s.prometheus.buckets ? { buckets: s.prometheus.buckets } : {}),
          },
        }
      : {}),
  };
});
