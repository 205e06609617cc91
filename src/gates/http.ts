// `http` gate: a request whose status must be the expected one (seed 002's /healthz, seed 004's
// cohort probe). A wrong status is a failure; no answer at all (timeout, refused) is an error.
import { z } from 'zod';
import { errored, measured, type Measurement } from '../domain/measurement.ts';
import type { GateContext, GateKind } from '../ports.ts';
import { bearer, deadline, describeError, fill, templateVars } from './template.ts';

export const httpUrl = z
  .string()
  .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), { error: 'must be an http(s) URL' });

export const tokenEnv = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'must name an environment variable, e.g. CONTROL_ACCESS_TOKEN' });

export const httpSettings = z
  .object({
    url: httpUrl,
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
    headers: z.record(z.string(), z.string()).optional(),
    /** Bearer token, named by environment variable: secrets never live in plans. */
    token_env: tokenEnv.optional(),
    json: z.unknown().optional(),
    expect_status: z.union([z.int().min(100).max(599), z.array(z.int().min(100).max(599)).min(1)]).default(200),
  })
  .strict();

export type HttpSettings = z.infer<typeof httpSettings>;

export async function request(spec: HttpSettings, ctx: GateContext): Promise<{ status: number } | { error: string }> {
  const vars = templateVars(ctx);
  const auth = bearer(spec.token_env, ctx.env);
  if ('error' in auth) return auth;
  const headers: Record<string, string> = { ...(spec.headers ?? {}), ...auth };
  let body: string | undefined;
  if (spec.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(fill(spec.json, vars));
  }
  try {
    const response = await fetch(fill(spec.url, vars), { method: spec.method, headers, body, signal: deadline(ctx), redirect: 'manual' });
    await response.body?.cancel();
    return { status: response.status };
  } catch (error) {
    return { error: describeError(error, ctx.timeoutMs) };
  }
}

const expected = (spec: HttpSettings): number[] => (Array.isArray(spec.expect_status) ? spec.expect_status : [spec.expect_status]);

function judgeStatus(spec: HttpSettings, status: number, note?: string): Measurement {
  const want = expected(spec);
  return measured([{ name: 'status', value: status, threshold: `in ${want.join(', ')}`, ok: want.includes(status) }], note);
}

export const httpGate: GateKind<HttpSettings> = {
  key: 'http',
  schema: httpSettings,
  defaultTimeoutMs: 10_000,
  async measure(spec, ctx) {
    const result = await request(spec, ctx);
    if ('error' in result) return errored(`${spec.method} ${new URL(spec.url).host}: ${result.error}`);
    return judgeStatus(spec, result.status);
  },
  simulate(spec, ctx, signals) {
    // A canary in trouble answers cohort probes with 503s; preflight checks and rollback steps
    // (no cohort) talk to the control plane, which the simulation keeps healthy.
    const status = ctx.stage && signals.errorRate >= 0.05 ? 503 : (expected(spec)[0] ?? 200);
    return judgeStatus(spec, status, 'simulated');
  },
};
