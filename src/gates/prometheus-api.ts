// A client of the Prometheus HTTP API's instant query (`/api/v1/query`), which Prometheus, Thanos,
// Mimir and Google Cloud Managed Service for Prometheus all serve. It translates the API's JSON
// and its errors into values and one-line messages; it holds no policy (an empty vector is
// returned as such: what it means is the gate's business).
import { z } from 'zod';
import type { GateContext } from '../ports.ts';
import { bearer, deadline, describeError } from './template.ts';

export interface PrometheusTarget {
  /** Base URL of the API (`…/api/v1/query` is appended unless it is there already). */
  readonly url: string;
  readonly tokenEnv?: string | undefined;
  readonly auth?: 'google' | undefined;
}

export interface PromSample {
  readonly labels: Readonly<Record<string, string>>;
  /** NaN and ±Inf as Prometheus writes them ("NaN", "+Inf"). */
  readonly value: number;
}

export type PromResult = { readonly resultType: 'vector'; readonly samples: readonly PromSample[] } | { readonly resultType: 'scalar'; readonly value: number };

/** The API answered with an error (`status: error`), or not with the API's JSON at all. */
export class PrometheusError extends Error {
  readonly status: number;
  readonly errorType: string | undefined;
  constructor(status: number, errorType: string | undefined, message: string) {
    super(message);
    this.name = 'PrometheusError';
    this.status = status;
    this.errorType = errorType;
  }
}

/** A number in the API's string form: "1.5", "NaN", "+Inf", "-Inf". */
const promNumber = z.string().transform((text, ctx) => {
  const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
  if (Number.isNaN(value) && text !== 'NaN') {
    ctx.addIssue({ code: 'custom', message: `not a number: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return value;
});

const sampleValue = z.tuple([z.number(), promNumber]);

const success = z.object({
  status: z.literal('success'),
  data: z.discriminatedUnion('resultType', [
    z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sampleValue })) }),
    z.object({ resultType: z.literal('scalar'), result: sampleValue }),
    z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
    z.object({ resultType: z.literal('string'), result: z.unknown() }),
  ]),
});

const failure = z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() });

/** Google Cloud Managed Service for Prometheus takes an OAuth token of the bot's identity. */
async function googleToken(): Promise<string> {
  const { GoogleAuth } = await import('google-auth-library');
  const token = await new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/monitoring.read'] }).getAccessToken();
  if (!token) throw new Error('Application Default Credentials gave no access token');
  return token;
}

export function queryUrl(base: string): string {
  const trimmed = base.replace(/\/+$/, '');
  return trimmed.endsWith('/api/v1/query') ? trimmed : `${trimmed}/api/v1/query`;
}

const clip = (text: string, max = 300): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * Evaluates `query` at `timeMs`. Throws PrometheusError for an API error and an Error (already
 * worded) when no answer came; a query is read-only, so the caller may simply try again later.
 */
export async function instantQuery(target: PrometheusTarget, query: string, timeMs: number, ctx: Pick<GateContext, 'env' | 'signal' | 'timeoutMs'>): Promise<PromResult> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const auth = bearer(target.tokenEnv, ctx.env);
  if ('error' in auth) throw new Error(auth.error);
  Object.assign(headers, auth);
  if (target.auth === 'google') {
    try {
      headers.authorization = `Bearer ${await googleToken()}`;
    } catch (error) {
      throw new Error(`no Google access token for Managed Service for Prometheus: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  const body = new URLSearchParams({ query, time: (timeMs / 1000).toFixed(3) }).toString();
  let response: Response;
  try {
    // POST: a long PromQL expression does not fit every proxy's URL limit.
    response = await fetch(queryUrl(target.url), { method: 'POST', headers, body, signal: deadline(ctx), redirect: 'manual' });
  } catch (error) {
    throw new Error(`Prometheus at ${new URL(target.url).host}: ${describeError(error, ctx.timeoutMs)}`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PrometheusError(response.status, undefined, `Prometheus at ${new URL(target.url).host} answered ${response.status} without the API's JSON (${response.headers.get('content-type') ?? 'no content type'})`);
  }
  const failed = failure.safeParse(json);
  if (failed.success) {
    throw new PrometheusError(response.status, failed.data.errorType, `Prometheus answered ${response.status} ${failed.data.errorType ?? 'error'}: ${clip(failed.data.error ?? 'no message')}`);
  }
  const ok = success.safeParse(json);
  if (!ok.success || response.status !== 200) {
    throw new PrometheusError(response.status, undefined, `Prometheus answered ${response.status} with a body that is not a query result`);
  }
  const data = ok.data.data;
  switch (data.resultType) {
    case 'vector':
      return { resultType: 'vector', samples: data.result.map((r) => ({ labels: r.metric, value: r.value[1] })) };
    case 'scalar':
      return { resultType: 'scalar', value: data.result[1] };
    default:
      throw new PrometheusError(200, 'bad_data', `the query gives a ${data.resultType}, not an instant vector or a scalar (a range selector [5m] needs a function such as rate() or increase() around it)`);
  }
}
