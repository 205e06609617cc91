// The Prometheus API client and the `prometheus` threshold gate, against a local fake speaking the
// real HTTP API: success vectors and scalars, empty vectors and NaN (no data: never a pass), and
// the API's errors (400 bad_data, 422 execution, 503 unavailable), plus what is not the API at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusGate, prometheusSettings } from '../../src/gates/prometheus.ts';
import { instantQuery, PrometheusError, queryUrl } from '../../src/gates/prometheus-api.ts';
import { startFakePrometheus, type FakePrometheus } from '../fakes/prometheus.ts';
import { gateContext, signals, WINDOW_END, WINDOW_START } from './context.ts';

let prom: FakePrometheus;
beforeAll(async () => {
  prom = await startFakePrometheus();
});
afterAll(async () => {
  await prom.close();
});

const RATIO = 'sum(rate(http_requests_total{code=~"5..",revision="{canary}"}[{window}])) / sum(rate(http_requests_total{revision="{canary}"}[{window}]))';
const settings = (extra: Record<string, unknown> = {}) => prometheusSettings.parse({ url: prom.url, query: RATIO, max: 0.01, ...extra });
const filled = RATIO.replaceAll('{canary}', gateContext().revisions.canary).replaceAll('{window}', '600s');

describe('the Prometheus API client', () => {
  it('POSTs the query with the evaluation time and reads a vector and a scalar', async () => {
    prom.define('up{job="api"}', () => ({ vector: [{ labels: { job: 'api', instance: 'a' }, value: 1 }, { labels: { job: 'api', instance: 'b' }, value: 0 }] }));
    prom.define('scalar(42)', () => ({ scalar: 42 }));
    const ctx = gateContext();
    const vector = await instantQuery({ url: prom.url }, 'up{job="api"}', 1_700_000_000_500, ctx);
    expect(vector).toEqual({ resultType: 'vector', samples: [{ labels: { job: 'api', instance: 'a' }, value: 1 }, { labels: { job: 'api', instance: 'b' }, value: 0 }] });
    expect(prom.requests.at(-1)).toMatchObject({ method: 'POST', query: 'up{job="api"}', time: 1_700_000_000.5 });
    expect(await instantQuery({ url: `${prom.url}/` }, 'scalar(42)', WINDOW_END, ctx)).toEqual({ resultType: 'scalar', value: 42 });
  });

  it('appends /api/v1/query to a base URL, Managed Service for Prometheus included, and leaves a full one alone', () => {
    expect(queryUrl('http://p:9090')).toBe('http://p:9090/api/v1/query');
    expect(queryUrl('https://monitoring.googleapis.com/v1/projects/p/location/global/prometheus/')).toBe(
      'https://monitoring.googleapis.com/v1/projects/p/location/global/prometheus/api/v1/query',
    );
    expect(queryUrl('http://p:9090/api/v1/query')).toBe('http://p:9090/api/v1/query');
  });

  it.each([
    [400, 'bad_data', 'parse error at char 7: unexpected "}"'],
    [422, 'execution', 'query processing would load too many samples into memory'],
    [503, 'unavailable', 'the query engine is shutting down'],
  ])('turns a %i %s answer into a PrometheusError with its type and message', async (status, errorType, message) => {
    prom.failNext({ status, errorType, error: message });
    const error = await instantQuery({ url: prom.url }, 'up', WINDOW_END, gateContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusError);
    expect(error).toMatchObject({ status, errorType, message: `Prometheus answered ${status} ${errorType}: ${message}` });
  });

  it('says so when the answer is not the API (a proxy page), and when nothing answers', async () => {
    prom.failNext({ status: 502, errorType: '', error: '', raw: '<html>Bad gateway</html>' });
    await expect(instantQuery({ url: prom.url }, 'up', WINDOW_END, gateContext())).rejects.toThrow(/answered 502 without the API's JSON \(text\/html\)/);
    await expect(instantQuery({ url: 'http://127.0.0.1:9' }, 'up', WINDOW_END, gateContext())).rejects.toThrow(/^Prometheus at 127\.0\.0\.1:9: fetch failed/);
  });

  it('sends the bearer token named by token_env, and refuses to run without it', async () => {
    prom.requireToken('prom-secret-1');
    try {
      prom.define('vector(1)', () => ({ vector: [{ value: 1 }] }));
      const ok = await instantQuery({ url: prom.url, tokenEnv: 'PROM_TOKEN' }, 'vector(1)', WINDOW_END, gateContext({ env: { PROM_TOKEN: 'prom-secret-1' } }));
      expect(ok).toMatchObject({ resultType: 'vector' });
      expect(prom.requests.at(-1)?.authorization).toBe('Bearer prom-secret-1');
      await expect(instantQuery({ url: prom.url, tokenEnv: 'PROM_TOKEN' }, 'vector(1)', WINDOW_END, gateContext())).rejects.toThrow('environment variable PROM_TOKEN is not set');
      await expect(instantQuery({ url: prom.url }, 'vector(1)', WINDOW_END, gateContext())).rejects.toThrow(/answered 401 without the API's JSON/);
    } finally {
      prom.requireToken(undefined);
    }
  });

  it('with auth: google and no Application Default Credentials, says it has no token (and sends nothing)', async () => {
    const before = prom.requests.length;
    const previous = { detection: process.env.METADATA_SERVER_DETECTION, credentials: process.env.GOOGLE_APPLICATION_CREDENTIALS };
    process.env.METADATA_SERVER_DETECTION = 'none';
    process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/adc.json';
    try {
      await expect(instantQuery({ url: prom.url, auth: 'google' }, 'up', WINDOW_END, gateContext())).rejects.toThrow(/^no Google access token for Managed Service for Prometheus: /);
      expect(prom.requests.length).toBe(before);
    } finally {
      for (const [key, value] of [['METADATA_SERVER_DETECTION', previous.detection], ['GOOGLE_APPLICATION_CREDENTIALS', previous.credentials]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('refuses a range vector: it is not an instant value', async () => {
    prom.failNext({ status: 400, errorType: 'bad_data', error: 'invalid expression type "range vector" for range query, must be Scalar or instant Vector' });
    await expect(instantQuery({ url: prom.url }, 'http_requests_total[5m]', WINDOW_END, gateContext())).rejects.toThrow(/400 bad_data: invalid expression type "range vector"/);
  });
});

describe('the prometheus gate', () => {
  it('fills {canary} and {window} (the soak so far), asks at the end of the window, and holds the value to max', async () => {
    prom.define(filled, () => ({ vector: [{ value: 0.004 }] }));
    const result = await prometheusGate.measure(settings(), gateContext());
    expect(result).toEqual({ outcome: 'pass', observations: [{ name: 'value', value: 0.004, threshold: '<= 0.01', ok: true }] });
    expect(prom.requests.at(-1)).toMatchObject({ query: filled, time: WINDOW_END / 1000 });
    expect(WINDOW_END - WINDOW_START).toBe(600_000);
  });

  it('fails above max and below min, each threshold its own observation', async () => {
    prom.define(filled, () => ({ vector: [{ value: 0.03 }] }));
    expect(await prometheusGate.measure(settings(), gateContext())).toMatchObject({ outcome: 'fail', observations: [{ name: 'value', value: 0.03, ok: false }] });
    prom.define('sum(up{job="api"})', () => ({ scalar: 2 }));
    const both = prometheusSettings.parse({ url: prom.url, query: 'sum(up{job="api"})', min: 3, max: 10 });
    expect(await prometheusGate.measure(both, gateContext())).toEqual({
      outcome: 'fail',
      observations: [
        { name: 'value', value: 2, threshold: '<= 10', ok: true },
        { name: 'value', value: 2, threshold: '>= 3', ok: false },
      ],
    });
  });

  it('holds every series of a vector to the threshold, each named by its labels', async () => {
    prom.define('rate_by_region', () => ({ vector: [{ labels: { region: 'eu' }, value: 0.001 }, { labels: { region: 'us' }, value: 0.02 }] }));
    const result = await prometheusGate.measure(prometheusSettings.parse({ url: prom.url, query: 'rate_by_region', max: 0.01 }), gateContext());
    expect(result).toMatchObject({
      outcome: 'fail',
      observations: [
        { name: 'value{region="eu"}', ok: true },
        { name: 'value{region="us"}', ok: false },
      ],
    });
  });

  it('an empty vector and NaN are no data: errors, never a pass', async () => {
    expect(await prometheusGate.measure(prometheusSettings.parse({ url: prom.url, query: 'no_such_metric', max: 1 }), gateContext())).toEqual({
      outcome: 'error',
      error: 'no data: the query returned an empty vector (no series matched at the end of the window)',
    });
    prom.define('zero_over_zero', () => ({ vector: [{ labels: { revision: 'x' }, value: NaN }] }));
    const nan = await prometheusGate.measure(prometheusSettings.parse({ url: prom.url, query: 'zero_over_zero', max: 1 }), gateContext());
    expect(nan).toMatchObject({ outcome: 'error', error: 'no data: the query gave NaN for {revision="x"} (0/0: no requests in the window?)' });
  });

  it("the API's errors are gate errors with Prometheus' own words", async () => {
    prom.failNext({ status: 503, errorType: 'unavailable', error: 'too many queries' });
    expect(await prometheusGate.measure(settings(), gateContext())).toEqual({ outcome: 'error', error: 'Prometheus answered 503 unavailable: too many queries' });
  });

  it('validates its settings with clear messages', () => {
    const issues = (input: unknown) => prometheusSettings.safeParse(input).error?.issues.map((i) => i.message) ?? [];
    expect(issues({ url: prom.url, query: 'up' })).toEqual(['prometheus needs max, min, or both']);
    expect(issues({ url: prom.url, query: 'up', min: 5, max: 1 })).toEqual(['min 5 is above max 1: nothing could pass']);
    expect(issues({ url: 'ftp://x', query: 'up', max: 1 })).toEqual(['must be an http(s) URL']);
    expect(issues({ url: prom.url, query: 'up', max: 1, range: '5m' })).toEqual(['unknown key "range" in prometheus (allowed: url, query, max, min, token_env, auth)']);
  });

  it('in a simulation, answers with the canary 5xx ratio', () => {
    expect(prometheusGate.simulate(settings(), gateContext(), signals({ errorRate: 0.06 }))).toMatchObject({ outcome: 'fail', observations: [{ value: 0.06, ok: false }] });
    expect(prometheusGate.simulate(settings(), gateContext(), signals({ errorRate: 0.001 }))).toMatchObject({ outcome: 'pass' });
  });
});
