// The cloud_monitoring gate against the fake Monitoring API, through the official client.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cloudMonitoringGate, type CloudMonitoringGate } from '../../src/gates/cloud-monitoring.ts';
import { startFakeMonitoring, type FakeMonitoring, type RevisionSample } from '../fakes/gcp/monitoring.ts';
import { CLOUD_RUN_SERVICE as SVC, WINDOW_END, WINDOW_START, gateContext, signals } from './context.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

let fake: FakeMonitoring;
let gate: CloudMonitoringGate;

beforeAll(async () => {
  fake = await startFakeMonitoring();
  gate = cloudMonitoringGate({ emulatorHost: fake.address });
});
afterAll(async () => {
  await gate.close();
  await fake.close();
});
beforeEach(() => {
  fake.clearFaults();
  fake.requests.length = 0;
});

/** The same sample in every aligned period of the window (10 periods of 60s). */
function data(canary: RevisionSample | undefined, stable: RevisionSample | undefined): void {
  fake.setData([SVC.stable, SVC.canary], (revision) => (revision === SVC.canary ? canary : stable));
}

const spec = (settings: unknown) => cloudMonitoringGate().schema.parse(settings);
const errorRatio = spec({ metric: 'error_ratio', max: 0.01 });

describe('error_ratio', () => {
  it('passes when the canary’s 5xx share is under max, per revision', async () => {
    data({ counts: { '2xx': 995, '4xx': 3, '5xx': 2 } }, { counts: { '2xx': 900, '5xx': 100 } });
    await expect(gate.measure(errorRatio, gateContext())).resolves.toEqual({
      outcome: 'pass',
      observations: [
        { name: '5xx_ratio', value: 0.002, threshold: '<= 0.01', ok: true },
        { name: 'canary_requests', value: 10_000, ok: true },
        { name: 'stable_5xx_ratio', value: 0.1, ok: true },
      ],
    });
    expect(fake.requests[0]).toMatchObject({
      name: `projects/${SVC.project}`,
      interval: { start: WINDOW_START, end: WINDOW_END },
      alignmentSeconds: 60,
      aligner: 'ALIGN_DELTA',
      reducer: 'REDUCE_SUM',
      groupBy: ['resource.label.revision_name', 'metric.label.response_code_class'],
    });
    expect(fake.requests[0]?.filter).toBe(
      `metric.type = "run.googleapis.com/request_count" AND resource.type = "cloud_run_revision" AND resource.labels.service_name = "${SVC.name}" AND resource.labels.location = "${SVC.region}" AND resource.labels.revision_name = one_of("${SVC.canary}", "${SVC.stable}")`,
    );
  });

  it('reads the region of the service it judges: the same revision names elsewhere are not mixed in', async () => {
    // us-central1's canary is healthy, europe-west1's (same service and revision names) is failing.
    fake.setData([SVC.stable, SVC.canary], (revision, _interval, scope) =>
      revision === SVC.canary ? { counts: scope.location === 'europe-west1' ? { '2xx': 80, '5xx': 20 } : { '2xx': 1000 } } : { counts: { '2xx': 1000 } },
    );
    await expect(gate.measure(errorRatio, gateContext())).resolves.toMatchObject({ outcome: 'pass', observations: [{ name: '5xx_ratio', value: 0 }, {}, {}] });
    const europe = gateContext({ service: { ...SVC, region: 'europe-west1' } });
    await expect(gate.measure(errorRatio, europe)).resolves.toMatchObject({ outcome: 'fail', observations: [{ name: '5xx_ratio', value: 0.2 }, {}, {}] });
  });

  it('fails when the canary’s 5xx share is over max', async () => {
    data({ counts: { '2xx': 97, '5xx': 3 } }, { counts: { '2xx': 1000 } });
    await expect(gate.measure(errorRatio, gateContext())).resolves.toMatchObject({
      outcome: 'fail',
      observations: [{ name: '5xx_ratio', value: 0.03, ok: false }, { value: 1000 }, { name: 'stable_5xx_ratio', value: 0 }],
    });
  });

  it('no canary requests is an error', async () => {
    data(undefined, { counts: { '2xx': 1000 } });
    await expect(gate.measure(errorRatio, gateContext())).resolves.toEqual({
      outcome: 'error',
      error: `no requests recorded for canary revision ${SVC.canary} in the 10m window`,
    });
  });
});

describe('p95_latency', () => {
  it('fails a canary more than 20 % slower than stable over the same window', async () => {
    data({ p95Ms: 250 }, { p95Ms: 200 });
    const result = await gate.measure(spec({ metric: 'p95_latency', max_regression: 0.2 }), gateContext());
    expect(result).toEqual({
      outcome: 'fail',
      observations: [
        { name: 'p95_latency_ms', value: 250, ok: true },
        { name: 'stable_p95_latency_ms', value: 200, ok: true },
        { name: 'p95_regression', value: 0.25, threshold: '<= 0.2', ok: false },
      ],
    });
    expect(fake.requests[0]).toMatchObject({ reducer: 'REDUCE_PERCENTILE_95', groupBy: ['resource.label.revision_name'] });
  });

  it('passes within the regression limit and an absolute max', async () => {
    data({ p95Ms: 230 }, { p95Ms: 200 });
    await expect(gate.measure(spec({ metric: 'p95_latency', max: 300, max_regression: 0.2 }), gateContext())).resolves.toMatchObject({
      outcome: 'pass',
      observations: [{ name: 'p95_latency_ms', value: 230, threshold: '<= 300' }, { value: 200 }, { name: 'p95_regression', value: 0.15 }],
    });
  });

  it('judges the worst aligned period', async () => {
    fake.setData([SVC.stable, SVC.canary], (revision, interval) =>
      revision === SVC.canary ? { p95Ms: interval.start === WINDOW_START + 5 * 60_000 ? 900 : 120 } : { p95Ms: 110 },
    );
    await expect(gate.measure(spec({ metric: 'p95_latency', max: 600 }), gateContext())).resolves.toMatchObject({
      outcome: 'fail',
      observations: [{ name: 'p95_latency_ms', value: 900, threshold: '<= 600', ok: false }, { value: 110 }],
    });
    const whole = await gate.measure(spec({ metric: 'p95_latency', max: 600, alignment: '10m' }), gateContext());
    expect(fake.requests.at(-1)?.alignmentSeconds).toBe(600);
    expect(whole.outcome).toBe('pass');
  });

  it('no canary data, or no stable data when comparing, is an error', async () => {
    data(undefined, { p95Ms: 200 });
    await expect(gate.measure(spec({ metric: 'p95_latency', max: 300 }), gateContext())).resolves.toMatchObject({
      outcome: 'error',
      error: `no latency data for canary revision ${SVC.canary} in the 10m window`,
    });
    data({ p95Ms: 100 }, undefined);
    await expect(gate.measure(spec({ metric: 'p95_latency', max_regression: 0.2 }), gateContext())).resolves.toMatchObject({
      outcome: 'error',
      error: `no latency data for stable revision ${SVC.stable} in the 10m window nor in the 1h before it: cannot compare the canary with it`,
    });
    // Without a regression limit the stable revision is not needed.
    await expect(gate.measure(spec({ metric: 'p95_latency', max: 300 }), gateContext())).resolves.toMatchObject({ outcome: 'pass' });
  });
});

describe('p95_latency at the 100 % cohort', () => {
  // Stable serves nothing in the window: its baseline is its last p95 before the window.
  const beforeWindow = (interval: { end: number }) => interval.end <= WINDOW_START;

  it('compares the canary with stable’s most recent p95 before the window', async () => {
    fake.setData([SVC.stable, SVC.canary], (revision, interval) => {
      if (revision === SVC.canary) return beforeWindow(interval) ? undefined : { p95Ms: 260 };
      if (!beforeWindow(interval)) return undefined;
      // Older periods were slower; the baseline is the latest one (ending at the window's start).
      return { p95Ms: interval.end === WINDOW_START ? 200 : 400 };
    });
    const result = await gate.measure(spec({ metric: 'p95_latency', max_regression: 0.2 }), gateContext({ stage: { index: 5, percent: 100 } }));
    expect(result).toEqual({
      outcome: 'fail',
      observations: [
        { name: 'p95_latency_ms', value: 260, ok: true },
        { name: 'stable_p95_latency_ms', value: 200, ok: true },
        { name: 'p95_regression', value: 0.3, threshold: '<= 0.2', ok: false },
      ],
      note: `stable served no traffic in the 10m window: compared with its baseline, its p95 in the period ending ${new Date(WINDOW_START).toISOString()}`,
    });
    const baselineQuery = fake.requests[1]!;
    expect(baselineQuery.interval).toEqual({ start: WINDOW_START - 3_600_000, end: WINDOW_START });
    expect(baselineQuery.filter).toContain(`resource.labels.revision_name = one_of("${SVC.stable}")`);
  });

  it('honours baseline_lookback and stays an error without any stable data', async () => {
    fake.setData([SVC.stable, SVC.canary], (revision) => (revision === SVC.canary ? { p95Ms: 150 } : undefined));
    await expect(gate.measure(spec({ metric: 'p95_latency', max_regression: 0.2, baseline_lookback: '2h' }), gateContext())).resolves.toEqual({
      outcome: 'error',
      error: `no latency data for stable revision ${SVC.stable} in the 10m window nor in the 2h before it: cannot compare the canary with it`,
    });
    expect(fake.requests.at(-1)?.interval).toEqual({ start: WINDOW_START - 7_200_000, end: WINDOW_START });
  });
});

describe('errors, simulation and settings', () => {
  it('PERMISSION_DENIED names the permission; a non-Cloud Run service is an error', async () => {
    fake.failNext('ListTimeSeries', status.PERMISSION_DENIED, 1, 'Permission monitoring.timeSeries.list denied (or the resource may not exist).');
    await expect(gate.measure(errorRatio, gateContext())).resolves.toMatchObject({
      outcome: 'error',
      error: expect.stringMatching(/^missing permission monitoring\.timeSeries\.list on projects\/openagentsgemini/),
    });
    const flag = gateContext({ service: { platform: 'http-flag', name: 'pags', stable: 'stable', canary: 'canary' } });
    await expect(gate.measure(errorRatio, flag)).resolves.toMatchObject({ outcome: 'error', error: expect.stringContaining('not cloud-run') });
  });

  it('simulates from the signals', () => {
    expect(gate.simulate(errorRatio, gateContext(), signals({ errorRate: 0.004 }))).toMatchObject({ outcome: 'pass', note: 'simulated', observations: [{ name: '5xx_ratio', value: 0.004 }, {}, {}] });
    expect(gate.simulate(errorRatio, gateContext(), signals({ requestCount: 0 }))).toMatchObject({ outcome: 'error', note: 'simulated' });
    expect(gate.simulate(spec({ metric: 'p95_latency', max_regression: 0.2 }), gateContext(), signals({ p95LatencyMs: 260, stableP95LatencyMs: 200 }))).toMatchObject({
      outcome: 'fail',
      note: 'simulated',
      observations: [{}, {}, { name: 'p95_regression', value: 0.3, ok: false }],
    });
  });

  const messages = (input: unknown) => cloudMonitoringGate().schema.safeParse(input).error?.issues.map((i) => i.message) ?? [];
  it.each([
    [{ metric: 'error_ratio' }, 'cloud_monitoring needs max, max_regression, or both'],
    [{ metric: 'errors', max: 1 }, 'metric must be error_ratio (5xx share of requests) or p95_latency (ms)'],
    [{ metric: 'error_ratio', max: 2 }, 'max of error_ratio is a fraction from 0 to 1 (e.g. 0.01 for 1 %)'],
    [{ metric: 'error_ratio', max: 0.01, max_regression: 0.2 }, 'max_regression applies to p95_latency; for error_ratio use max'],
    [{ metric: 'p95_latency', max: 300, alignment: '30s' }, 'alignment must be whole seconds and at least 60s (a Cloud Monitoring limit)'],
    [{ metric: 'p95_latency', max: 300, alignment: 'often' }, 'must be a duration like 90s, 10m or 1h'],
    [{ metric: 'p95_latency', max: 300, window: '10m' }, 'unknown key "window" in cloud_monitoring (allowed: metric, max, max_regression, project, alignment, baseline_lookback)'],
    [{ metric: 'p95_latency', max_regression: 0.2, baseline_lookback: '30s' }, 'baseline_lookback must be at least 60s (one aligned period)'],
  ])('explains %j', (input, message) => {
    expect(messages(input)).toContain(message);
  });
});
