// Placeholders in gate settings: {percent}/{cohort}, {stage}, {canary}, {stable}, {plan}; and what the HTTP gates share.
// Substituted into single strings or argv elements, never into a shell line.
import type { GateContext } from '../ports.ts';

export function templateVars(ctx: GateContext): Record<string, string> {
  return {
    percent: String(ctx.stage?.percent ?? 0),
    cohort: String(ctx.stage?.percent ?? 0),
    stage: String(ctx.stage ? ctx.stage.index + 1 : 0),
    canary: ctx.revisions.canary,
    stable: ctx.revisions.stable,
    plan: ctx.planName,
  };
}

export function fill<T>(value: T, vars: Readonly<Record<string, string>>): T {
  if (typeof value === 'string') return value.replace(/\{(\w+)\}/g, (whole, key: string) => vars[key] ?? whole) as T;
  if (Array.isArray(value)) return value.map((v) => fill(v, vars)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)])) as T;
  }
  return value;
}

/** Aborts on the gate's timeout or the caller's signal, whichever comes first. */
export function deadline(ctx: Pick<GateContext, 'signal' | 'timeoutMs'>): AbortSignal {
  return AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.timeoutMs)]);
}

/** The authorization header for `token_env` (none without it); an error text when the variable is unset. */
export function bearer(
  tokenEnv: string | undefined,
  env: GateContext['env'],
): { readonly authorization?: string } | { readonly error: string } {
  if (!tokenEnv) return {};
  const token = env[tokenEnv];
  if (!token) return { error: `environment variable ${tokenEnv} is not set` };
  return { authorization: `Bearer ${token}` };
}

/** Why a fetch got no answer: its timeout, or the socket error undici wraps in "fetch failed". */
export function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code) return `${error.message} (${cause.code})`;
    return error.message;
  }
  return String(error);
}
