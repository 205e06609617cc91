// The judge gate's sources through the real adapters: Cloud Monitoring and Cloud Logging through the
// official clients against the gRPC fakes, Prometheus against the HTTP fake. Each must hand the
// judge exact per-revision counts, say where they start, and report what it could not count as an
// error (or "waiting"), never as a count.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { judgeGate, type JudgeGate } from '../../src/gates/judge.ts';
import type { JudgeSpec } from '../../src/gates/judge-schema.ts';
import { startFakeLogging, startFakeMonitoring, type FakeLogging, type FakeMonitoring } from '../fakes/gcp/index.ts';
import type { FakeLogEntry } from '../fakes/gcp/logging.ts';
import { startFakePrometheus, type FakePrometheus } from '../fakes/prometheus.ts';
import { CLOUD_RUN_SERVICE as SVC, gateContext, signals, WINDOW_END, WINDOW_START } from './context.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

let monitoring: FakeMonitoring;
let logging: FakeLogging;
let prom: FakePrometheus;
let gate: JudgeGate;

beforeAll(async () => {
  [monitoring, logging, prom] = await Promise.all([startFakeMonitoring(), startFakeLogging(), startFakePrometheus()]);
  gate = judgeGate({ monitoringEmulatorHost: monitoring.address, loggingEmulatorHost: logging.address, maxLogEntries: 2_500 });
});
afterAll(async () => {
  await gate.close();
  await Promise.all([monitoring.close(), logging.close(), prom.close()]);
});
beforeEach(() => {
  monitoring.clearFaults();
  monitoring.requests.length = 0;
  logging.clear();
});

const spec = (settings: Record<string, unknown>): JudgeSpec => judgeGate().schema.parse(settings);
const MINUTE = 60_000;

describe('source cloud_monitoring', () => {
  const errors = () => spec({ metric: 'error_rate', source: 'cloud_monitoring' });

  it('sums request_count per revision and code class over the whole minutes of the window, scoped to the service', async () => {
    monitoring.setData([SVC.stable, SVC.canary, 'other-revision'], (revision) =>
      revision === SVC.canary ? { counts: { '2xx': 95, '4xx': 2, '5xx': 3 } } : revision === SVC.stable ? { counts: { '2xx': 1_990, '5xx': 10 } } : { counts: { '5xx': 1_000 } },
    );
    // A window that starts and ends within minutes: only the whole minutes between are read.
    const ctx = gateContext({ window: { start: WINDOW_START + 20_000, end: WINDOW_END + 30_000 } });
    const result = await gate.measure(errors(), ctx);
    expect(result).toMatchObject({
      outcome: 'pass',
      sample: { since: WINDOW_START + MINUTE, through: WINDOW_END, errors: { canary: { requests: 900, errors: 27 }, stable: { requests: 18_000, errors: 90 } } },
      note: `cloud_monitoring: counts since ${new Date(WINDOW_START + MINUTE).toISOString()}`,
    });
    expect(result.outcome === 'pass' && result.observations).toEqual([
      { name: 'canary_requests', value: 900, ok: true },
      { name: 'canary_5xx', value: 27, ok: true },
      { name: 'stable_requests', value: 18_000, ok: true },
      { name: 'stable_5xx', value: 90, ok: true },
    ]);
    expect(monitoring.requests[0]).toMatchObject({
      name: `projects/${SVC.project}`,
      interval: { start: WINDOW_START + MINUTE, end: WINDOW_END },
      alignmentSeconds: 60,
      aligner: 'ALIGN_DELTA',
      reducer: 'REDUCE_SUM',
      groupBy: ['resource.label.revision_name', 'metric.label.response_code_class'],
    });
    expect(monitoring.requests[0]?.filter).toBe(
      `metric.type = "run.googleapis.com/request_count" AND resource.type = "cloud_run_revision" AND resource.labels.location = "${SVC.region}" AND resource.labels.service_name = "${SVC.name}" AND resource.labels.revision_name = one_of("${SVC.canary}", "${SVC.stable}")`,
    );
  });

  it('a window without one whole minute yet is waiting, not an error and not a count', async () => {
    const result = await gate.measure(errors(), gateContext({ window: { start: WINDOW_START + 5_000, end: WINDOW_START + 50_000 } }));
    expect(result).toEqual({ outcome: 'error', error: 'no whole minute of Cloud Monitoring data in the window yet', waiting: true });
    // Checked again within the minute the judge already took in: nothing new, waiting again.
    const again = await gate.measure(errors(), gateContext({ window: { start: WINDOW_START, end: WINDOW_END + 30_000 }, judgedThrough: WINDOW_END }));
    expect(again).toEqual({ outcome: 'error', error: 'no new minute of Cloud Monitoring data since the last check', waiting: true });
    expect(monitoring.requests).toHaveLength(0);
  });

  it('reads request_latencies buckets in the layout each point carries (trailing zeros left out), summed per revision', async () => {
    const layout = { explicit: [50, 100, 200, 400] };
    monitoring.setData([SVC.stable, SVC.canary], (revision) => ({ latency: { layout, counts: revision === SVC.canary ? [1, 5, 3, 1] : [10, 60, 25, 4, 1] } }));
    const result = await gate.measure(spec({ metric: 'latency', source: 'cloud_monitoring' }), gateContext());
    expect(result).toMatchObject({ outcome: 'pass', sample: { since: WINDOW_START, through: WINDOW_END, latency: { bounds: [50, 100, 200, 400], canary: [10, 50, 30, 10, 0], stable: [100, 600, 250, 40, 10] } } });
    expect(monitoring.requests[0]).toMatchObject({ reducer: 'REDUCE_SUM', aligner: 'ALIGN_DELTA', groupBy: ['resource.label.revision_name'] });
  });

  it('exponential and linear layouts become their bounds', async () => {
    monitoring.setData([SVC.stable, SVC.canary], () => ({ latency: { layout: { exponential: { numFiniteBuckets: 3, growthFactor: 2, scale: 10 } }, counts: [0, 1, 2, 3, 4] } }));
    expect(await gate.measure(spec({ metric: 'latency', source: 'cloud_monitoring' }), gateContext())).toMatchObject({ sample: { latency: { bounds: [10, 20, 40, 80], canary: [0, 10, 20, 30, 40] } } });
    monitoring.setData([SVC.stable, SVC.canary], () => ({ latency: { layout: { linear: { numFiniteBuckets: 2, width: 100, offset: 0 } }, counts: [1, 1, 1, 1] } }));
    expect(await gate.measure(spec({ metric: 'latency', source: 'cloud_monitoring' }), gateContext())).toMatchObject({ sample: { latency: { bounds: [0, 100, 200] } } });
  });

  it('a layout that changes within the window, or no latency data at all, is an error, never a count', async () => {
    monitoring.setData([SVC.stable, SVC.canary], (_revision, period) => ({
      latency: { layout: { explicit: period.start < WINDOW_START + 5 * MINUTE ? [100, 200] : [100, 250] }, counts: [1, 1, 1] },
    }));
    expect(await gate.measure(spec({ metric: 'latency', source: 'cloud_monitoring' }), gateContext())).toMatchObject({
      outcome: 'error',
      error: expect.stringMatching(/^the request_latencies buckets changed within the 10m from 2026-03-01T10:00:00.000Z: the judge cannot add counts of different layouts$/),
    });
    monitoring.setData([SVC.stable, SVC.canary], () => undefined);
    expect(await gate.measure(spec({ metric: 'latency', source: 'cloud_monitoring' }), gateContext())).toMatchObject({ outcome: 'error', error: expect.stringMatching(/^no request_latencies data for /) });
  });

  it('a refused call says which permission is missing', async () => {
    monitoring.failNext('ListTimeSeries', status.PERMISSION_DENIED, 1, 'Permission monitoring.timeSeries.list denied');
    const result = await gate.measure(errors(), gateContext());
    expect(result).toMatchObject({ outcome: 'error', error: expect.stringContaining('monitoring.timeSeries.list') });
  });

  it('only reads Cloud Run services', async () => {
    const result = await gate.measure(errors(), gateContext({ service: { platform: 'http-flag', name: 'x', stable: 'a', canary: 'b' } }));
    expect(result).toEqual({ outcome: 'error', error: "the judge reads Cloud Run revision metrics from Cloud Monitoring: the plan's service is on http-flag, not cloud-run" });
  });
});

describe('source cloud_logging', () => {
  const errors = (extra: Record<string, unknown> = {}) => spec({ metric: 'error_rate', source: 'cloud_logging', ...extra });
  const entry = (at: number, revision: string, status: number, over: Partial<FakeLogEntry> = {}): FakeLogEntry => ({
    timestamp: at,
    logName: `projects/${SVC.project}/logs/run.googleapis.com%2Frequests`,
    resource: { type: 'cloud_run_revision', labels: { project_id: SVC.project, location: SVC.region, service_name: SVC.name, revision_name: revision } },
    httpRequest: { status, requestUrl: '/api/v1/x' },
    ...over,
  });

  function traffic(): void {
    const entries: FakeLogEntry[] = [];
    for (let i = 0; i < 600; i++) {
      const at = WINDOW_START + i * 1_000;
      entries.push(entry(at, SVC.stable, i % 100 === 0 ? 503 : 200));
      if (i % 10 === 0) entries.push(entry(at, SVC.canary, i % 50 === 0 ? 500 : 200));
    }
    // Noise the filter must leave out: another service, another region, another log, a third revision.
    entries.push(entry(WINDOW_START + 1, SVC.canary, 500, { resource: { type: 'cloud_run_revision', labels: { project_id: SVC.project, location: SVC.region, service_name: 'other', revision_name: SVC.canary } } }));
    entries.push(entry(WINDOW_START + 1, SVC.canary, 500, { resource: { type: 'cloud_run_revision', labels: { project_id: SVC.project, location: 'europe-west1', service_name: SVC.name, revision_name: SVC.canary } } }));
    entries.push(entry(WINDOW_START + 1, SVC.canary, 500, { logName: `projects/${SVC.project}/logs/run.googleapis.com%2Fstdout` }));
    entries.push(entry(WINDOW_START + 1, 'third-revision', 500));
    logging.addEntries(entries);
  }

  it('counts request log entries and 5xx per revision, scoped to project, region, service and the two revisions', async () => {
    traffic();
    const result = await gate.measure(errors(), gateContext());
    expect(result).toMatchObject({ outcome: 'pass', sample: { since: WINDOW_START, through: WINDOW_END, errors: { canary: { requests: 60, errors: 12 }, stable: { requests: 600, errors: 6 } } } });
    const filter = logging.requests[0]?.filter ?? '';
    for (const clause of [
      `logName="projects/${SVC.project}/logs/run.googleapis.com%2Frequests"`,
      `resource.labels.location="${SVC.region}"`,
      `resource.labels.service_name="${SVC.name}"`,
      `(resource.labels.revision_name="${SVC.canary}" OR resource.labels.revision_name="${SVC.stable}")`,
      `timestamp>="${new Date(WINDOW_START).toISOString()}"`,
      `timestamp<"${new Date(WINDOW_END).toISOString()}"`,
    ]) {
      expect(filter).toContain(clause);
    }
  });

  it('reads only what the judge has not taken in (half-open: no entry counted twice), and adds the plan filter', async () => {
    traffic();
    const through = WINDOW_START + 300_000;
    const result = await gate.measure(errors({ filter: 'httpRequest.requestUrl:"/api/"' }), gateContext({ judgedThrough: through }));
    expect(result).toMatchObject({ sample: { since: through, through: WINDOW_END, errors: { canary: { requests: 30, errors: 6 }, stable: { requests: 300, errors: 3 } } } });
    expect(logging.requests.at(-1)?.filter).toContain('AND (httpRequest.requestUrl:"/api/")');
    const early = await gate.measure(errors(), gateContext({ judgedThrough: WINDOW_START - 60_000 }));
    expect(early).toMatchObject({ sample: { since: WINDOW_START } });
  });

  it('past the cap a count is not exact: an error, saying what to do', async () => {
    const entries: FakeLogEntry[] = [];
    for (let i = 0; i < 3_000; i++) entries.push(entry(WINDOW_START + i * 100, SVC.stable, 200));
    logging.addEntries(entries);
    const result = await gate.measure(errors(), gateContext());
    expect(result).toEqual({
      outcome: 'error',
      error:
        'more than 2500 request log entries in the 10m since the last check: too many to count exactly from Cloud Logging (check more often, or use source cloud_monitoring or prometheus)',
    });
  });

  it('nothing new since the last check is waiting', async () => {
    expect(await gate.measure(errors(), gateContext({ judgedThrough: WINDOW_END }))).toEqual({ outcome: 'error', error: 'no new log time since the last check', waiting: true });
  });
});

describe('source prometheus', () => {
  const settings = (metric: 'error_rate' | 'latency', extra: Record<string, unknown> = {}) =>
    spec({
      metric,
      source: 'prometheus',
      prometheus:
        metric === 'error_rate'
          ? { url: prom.url, requests: 'sum(http_requests_total{revision="{revision}"})', errors: 'sum(http_requests_total{revision="{revision}",code=~"5.."})', ...extra }
          : { url: prom.url, buckets: 'sum by (le) (http_request_duration_seconds_bucket{revision="{revision}"})', ...extra },
    });
  const q = (what: 'requests' | 'errors', revision: string) =>
    what === 'requests' ? `sum(http_requests_total{revision="${revision}"})` : `sum(http_requests_total{revision="${revision}",code=~"5.."})`;

  it('asks each revision for its running counters at the end of the window', async () => {
    prom.define(q('requests', SVC.canary), () => ({ vector: [{ value: 1_000 }] }));
    prom.define(q('errors', SVC.canary), () => ({ vector: [{ value: 7 }] }));
    prom.define(q('requests', SVC.stable), () => ({ vector: [{ value: 99_000 }] }));
    prom.define(q('errors', SVC.stable), () => ({ vector: [] })); // a 5xx counter that never fired has no series
    const before = prom.requests.length;
    const result = await gate.measure(settings('error_rate'), gateContext());
    expect(result).toMatchObject({ outcome: 'pass', sample: { since: null, through: WINDOW_END, errors: { canary: { requests: 1_000, errors: 7 }, stable: { requests: 99_000, errors: 0 } } }, note: 'prometheus: running counters' });
    expect(prom.requests.slice(before).map((r) => r.time)).toEqual([WINDOW_END / 1000, WINDOW_END / 1000, WINDOW_END / 1000, WINDOW_END / 1000]);
  });

  it('no request series is no data; several series or a broken counter cannot be counted', async () => {
    prom.define(q('requests', SVC.canary), () => ({ vector: [] }));
    expect(await gate.measure(settings('error_rate'), gateContext())).toMatchObject({ outcome: 'error', error: `no data: requests for ${SVC.canary} gave an empty vector (no series matched)` });
    prom.define(q('requests', SVC.canary), () => ({ vector: [{ labels: { pod: 'a' }, value: 1 }, { labels: { pod: 'b' }, value: 2 }] }));
    expect(await gate.measure(settings('error_rate'), gateContext())).toMatchObject({ outcome: 'error', error: `requests for ${SVC.canary} gave 2 series: sum them into one (sum(…))` });
    prom.define(q('requests', SVC.canary), () => ({ vector: [{ value: NaN }] }));
    expect(await gate.measure(settings('error_rate'), gateContext())).toMatchObject({ outcome: 'error', error: 'a count came back NaN, infinite or negative: the queries must give running counters' });
  });

  it("the API's errors are the gate's errors", async () => {
    prom.failNext({ status: 422, errorType: 'execution', error: 'query timed out in expression evaluation' });
    expect(await gate.measure(settings('error_rate'), gateContext())).toMatchObject({ outcome: 'error', error: 'Prometheus answered 422 execution: query timed out in expression evaluation' });
  });

  it('turns cumulative le buckets (seconds) into per-bucket counts in milliseconds', async () => {
    const bucketQuery = (revision: string) => `sum by (le) (http_request_duration_seconds_bucket{revision="${revision}"})`;
    const le = (pairs: [string, number][]) => ({ vector: pairs.map(([l, value]) => ({ labels: { le: l }, value })) });
    prom.define(bucketQuery(SVC.canary), () => le([['+Inf', 100], ['0.1', 40], ['0.25', 90], ['0.05', 10]]));
    prom.define(bucketQuery(SVC.stable), () => le([['0.05', 300], ['0.1', 800], ['0.25', 990], ['+Inf', 1_000]]));
    expect(await gate.measure(settings('latency'), gateContext())).toMatchObject({ sample: { since: null, latency: { bounds: [50, 100, 250], canary: [10, 30, 50, 10], stable: [300, 500, 190, 10] } } });
    prom.define(bucketQuery(SVC.stable), () => le([['0.05', 300], ['0.5', 990], ['+Inf', 1_000]]));
    expect(await gate.measure(settings('latency'), gateContext())).toMatchObject({ outcome: 'error', error: 'the canary and stable histograms have different buckets: the judge compares them bucket by bucket' });
    prom.define(bucketQuery(SVC.stable), () => le([['0.05', 300]]));
    expect(await gate.measure(settings('latency'), gateContext())).toMatchObject({ outcome: 'error', error: `buckets for ${SVC.stable} has no le="+Inf" bucket: every Prometheus histogram has one` });
  });
});

describe('in a simulation', () => {
  it('hands over the running counters of the simulated traffic', () => {
    const served = { bounds: [10, 20], canary: { requests: 50, errors: 2, latency: [10, 30, 10] }, stable: { requests: 950, errors: 3, latency: [200, 700, 50] } };
    expect(gate.simulate(spec({ metric: 'error_rate', source: 'cloud_monitoring' }), gateContext(), signals({ served }))).toMatchObject({
      outcome: 'pass',
      sample: { since: null, through: WINDOW_END, errors: { canary: { requests: 50, errors: 2 }, stable: { requests: 950, errors: 3 } } },
    });
    expect(gate.simulate(spec({ metric: 'latency', source: 'cloud_monitoring' }), gateContext(), signals({ served }))).toMatchObject({ sample: { latency: { bounds: [10, 20], canary: [10, 30, 10] } } });
    expect(gate.simulate(spec({ metric: 'latency', source: 'cloud_monitoring' }), gateContext(), signals())).toEqual({ outcome: 'error', error: 'the simulation kept no request counts for this service' });
  });
});
