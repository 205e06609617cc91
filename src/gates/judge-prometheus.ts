// The judge's counts from a Prometheus HTTP API: the plan's PromQL for one revision's running
// request and 5xx counts (or its histogram buckets), asked for the canary and for stable at the end
// of the window. Running counters: the judge differences them check by check and treats a counter
// that went down (a restarted process) as a reset, never as data.
import type { GateContext } from '../ports.ts';
import type { SourceAnswer } from './judge-monitoring.ts';
import type { JudgeSpec, PrometheusJudgeSettings } from './judge-schema.ts';
import { instantQuery, type PromResult } from './prometheus-api.ts';
import { promVars } from './prometheus.ts';
import { fill } from './template.ts';

const ask = (settings: PrometheusJudgeSettings, expression: string, revision: string, ctx: GateContext): Promise<PromResult> =>
  instantQuery({ url: settings.url, tokenEnv: settings.tokenEnv, auth: settings.auth }, fill(expression, { ...promVars(ctx), revision }), ctx.window.end, ctx);

/**
 * One number from a result: a scalar, or a one-element vector. `absent` is what an empty vector
 * means here (a 5xx counter that never fired has no series: 0), or null when it means no data.
 */
function single(result: PromResult, what: string, absent: number | null): number | string {
  if (result.resultType === 'scalar') return result.value;
  if (result.samples.length === 0) return absent ?? `no data: ${what} gave an empty vector (no series matched)`;
  if (result.samples.length > 1) return `${what} gave ${result.samples.length} series: sum them into one (sum(…))`;
  return result.samples[0]!.value;
}

const bad = (n: number) => !Number.isFinite(n) || n < 0;

/** A histogram's `le` buckets (cumulative, as Prometheus keeps them) as per-bucket counts in ms. */
export function histogramFromBuckets(result: PromResult, unit: PrometheusJudgeSettings['leUnit'], what: string): { bounds: number[]; counts: number[] } | string {
  if (result.resultType !== 'vector') return `${what} must give one series per le bucket, not a scalar`;
  if (result.samples.length === 0) return `no data: ${what} gave an empty vector (no histogram series matched)`;
  const rows = result.samples.map((s) => ({ le: s.labels.le, value: s.value }));
  if (rows.some((r) => r.le === undefined)) return `${what} gave series without an le label: group the buckets by le (sum by (le) (…))`;
  const parsed = rows.map((r) => ({ le: r.le === '+Inf' ? Infinity : Number(r.le), value: r.value })).sort((a, b) => a.le - b.le);
  if (parsed.some((r) => Number.isNaN(r.le))) return `${what} has an le label that is not a number`;
  if (new Set(parsed.map((r) => r.le)).size !== parsed.length) return `${what} gave the same le twice: sum the buckets by le`;
  if (parsed.at(-1)!.le !== Infinity) return `${what} has no le="+Inf" bucket: every Prometheus histogram has one`;
  if (parsed.some((r) => bad(r.value))) return `${what} has a bucket that is not a count`;
  const scale = unit === 'seconds' ? 1000 : 1;
  const finite = parsed.slice(0, -1);
  // Cumulative ("le" = at most) into per-bucket counts; a dip is rounding noise of rate() or a reset mid-scrape.
  const counts = parsed.map((r, i) => Math.max(0, r.value - (i === 0 ? 0 : parsed[i - 1]!.value)));
  return { bounds: finite.map((r) => r.le * scale), counts };
}

export function prometheusSource() {
  return async function measure(spec: JudgeSpec, ctx: GateContext): Promise<SourceAnswer> {
    const settings = spec.prometheus;
    if (!settings) return { error: 'the judge has no prometheus settings' };
    const { canary, stable } = ctx.revisions;
    if (spec.metric === 'error_rate') {
      const [cr, ce, sr, se] = await Promise.all([
        ask(settings, settings.requests!, canary, ctx),
        ask(settings, settings.errors!, canary, ctx),
        ask(settings, settings.requests!, stable, ctx),
        ask(settings, settings.errors!, stable, ctx),
      ]);
      const values = [
        single(cr, `requests for ${canary}`, null),
        single(ce, `errors for ${canary}`, 0),
        single(sr, `requests for ${stable}`, null),
        single(se, `errors for ${stable}`, 0),
      ];
      const problem = values.find((v) => typeof v === 'string');
      if (problem !== undefined) return { error: problem as string };
      const [canaryRequests, canaryErrors, stableRequests, stableErrors] = values as number[];
      if ([canaryRequests, canaryErrors, stableRequests, stableErrors].some((n) => bad(n!))) return { error: 'a count came back NaN, infinite or negative: the queries must give running counters' };
      return {
        since: null,
        through: ctx.window.end,
        errors: { canary: { requests: canaryRequests!, errors: canaryErrors! }, stable: { requests: stableRequests!, errors: stableErrors! } },
      };
    }
    const [c, s] = await Promise.all([ask(settings, settings.buckets!, canary, ctx), ask(settings, settings.buckets!, stable, ctx)]);
    const ch = histogramFromBuckets(c, settings.leUnit, `buckets for ${canary}`);
    if (typeof ch === 'string') return { error: ch };
    const sh = histogramFromBuckets(s, settings.leUnit, `buckets for ${stable}`);
    if (typeof sh === 'string') return { error: sh };
    if (ch.bounds.length !== sh.bounds.length || !ch.bounds.every((b, i) => b === sh.bounds[i])) {
      return { error: `the canary and stable histograms have different buckets: the judge compares them bucket by bucket` };
    }
    return { since: null, through: ctx.window.end, latency: { bounds: ch.bounds, canary: ch.counts, stable: sh.counts } };
  };
}
