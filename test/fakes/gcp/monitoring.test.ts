// The official MetricServiceClient reads the fake's time series; int64 points arrive as strings.
import * as grpc from '@grpc/grpc-js';
import { MetricServiceClient } from '@google-cloud/monitoring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGoogleCloud, type FakeGoogleCloud } from './index.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

const END = Date.parse('2026-03-01T10:10:00Z');
const START = END - 120_000;
const seconds = (ms: number) => ({ seconds: Math.floor(ms / 1000) });

describe('fake Cloud Monitoring with the official client', () => {
  let cloud: FakeGoogleCloud;
  let client: MetricServiceClient;

  beforeAll(async () => {
    cloud = await startFakeGoogleCloud();
    client = new MetricServiceClient({ apiEndpoint: '127.0.0.1', port: cloud.monitoring.port, sslCreds: grpc.credentials.createInsecure(), projectId: 'p' });
    cloud.monitoring.setData(['api-stable', 'api-canary'], (revision) =>
      revision === 'api-canary' ? { counts: { '2xx': 90, '5xx': 10 }, p95Ms: 240.5 } : { counts: { '2xx': 1000 }, p95Ms: 200 },
    );
  });

  afterAll(async () => {
    await client.close();
    await cloud.close();
  });

  it('request_count grouped by revision and response_code_class, one point per aligned period', async () => {
    const [series] = await client.listTimeSeries(
      {
        name: 'projects/p',
        filter: 'metric.type = "run.googleapis.com/request_count" AND resource.type = "cloud_run_revision" AND resource.labels.service_name = "api"',
        interval: { startTime: seconds(START), endTime: seconds(END) },
        aggregation: {
          alignmentPeriod: { seconds: 60 },
          perSeriesAligner: 'ALIGN_DELTA',
          crossSeriesReducer: 'REDUCE_SUM',
          groupByFields: ['resource.label.revision_name', 'metric.label.response_code_class'],
        },
      },
      { autoPaginate: false },
    );
    const canary5xx = series.find((s) => s.resource?.labels?.revision_name === 'api-canary' && s.metric?.labels?.response_code_class === '5xx');
    expect(canary5xx?.points).toHaveLength(2);
    expect(canary5xx?.points?.[0]?.value?.int64Value).toBe('10');
    expect(series.map((s) => `${s.resource?.labels?.revision_name}/${s.metric?.labels?.response_code_class}`).sort()).toEqual([
      'api-canary/2xx',
      'api-canary/5xx',
      'api-stable/2xx',
    ]);
    expect(cloud.monitoring.requests.at(-1)).toMatchObject({ alignmentSeconds: 60, interval: { start: START, end: END } });
  });

  it('request_latencies p95 grouped by revision as doubles', async () => {
    const [series] = await client.listTimeSeries(
      {
        name: 'projects/p',
        filter: 'metric.type = "run.googleapis.com/request_latencies" AND resource.type = "cloud_run_revision" AND resource.labels.revision_name = one_of("api-canary")',
        interval: { startTime: seconds(START), endTime: seconds(END) },
        aggregation: { alignmentPeriod: { seconds: 120 }, perSeriesAligner: 'ALIGN_DELTA', crossSeriesReducer: 'REDUCE_PERCENTILE_95', groupByFields: ['resource.label.revision_name'] },
      },
      { autoPaginate: false },
    );
    expect(series).toHaveLength(1);
    expect(series[0]?.points?.[0]?.value?.doubleValue).toBe(240.5);
  });

  it('a query the fake does not serve is INVALID_ARGUMENT', async () => {
    await expect(
      client.listTimeSeries({ name: 'projects/p', filter: 'metric.type = "x" AND resource.type = "cloud_run_revision"', interval: { startTime: seconds(START), endTime: seconds(END) }, aggregation: { alignmentPeriod: { seconds: 60 }, groupByFields: ['resource.label.revision_name'] } }),
    ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });
});
