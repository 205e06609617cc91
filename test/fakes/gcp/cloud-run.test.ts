// The official @google-cloud/run clients work against the fake, unchanged.
import * as grpc from '@grpc/grpc-js';
import { RevisionsClient, ServicesClient } from '@google-cloud/run';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCloudRun, type FakeCloudRun } from './cloud-run.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

const SVC = 'projects/p/locations/us-central1/services/api';
const fastPolling = { longrunning: { initialRetryDelayMillis: 5, retryDelayMultiplier: 1, maxRetryDelayMillis: 5, totalTimeoutMillis: 5_000 } };

describe('fake Cloud Run with the official clients', () => {
  let fake: FakeCloudRun;
  let services: ServicesClient;
  let revisions: RevisionsClient;

  beforeAll(async () => {
    fake = await startFakeCloudRun();
    const options = { apiEndpoint: '127.0.0.1', port: fake.port, sslCreds: grpc.credentials.createInsecure(), projectId: 'p' };
    services = new ServicesClient(options);
    revisions = new RevisionsClient(options);
    fake.addService(SVC, { traffic: [{ revision: 'api-00001-aaa', percent: 100 }] });
    fake.addRevision(`${SVC}/revisions/api-00001-aaa`);
    fake.addRevision(`${SVC}/revisions/api-00002-bbb`);
    fake.addRevision(`${SVC}/revisions/api-00003-ccc`, { ready: false });
  });

  afterAll(async () => {
    await services.close();
    await revisions.close();
    await fake.close();
  });

  it('getService returns traffic, statuses, etag and int64 generations as strings', async () => {
    const [svc] = await services.getService({ name: SVC });
    expect(svc.name).toBe(SVC);
    expect(svc.etag).toMatch(/^"e/);
    expect(svc.traffic).toEqual([
      expect.objectContaining({ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: 'api-00001-aaa', percent: 100 }),
    ]);
    expect(svc.trafficStatuses?.[0]).toMatchObject({ revision: 'api-00001-aaa', percent: 100 });
    expect(svc.latestReadyRevision).toBe(`${SVC}/revisions/api-00002-bbb`);
    // int64 fields arrive as decimal strings, enums as their names.
    expect(svc.generation).toBe('1');
    expect(svc.terminalCondition?.state).toBe('CONDITION_SUCCEEDED');
  });

  it('getService of a missing service is NOT_FOUND', async () => {
    await expect(services.getService({ name: 'projects/p/locations/us-central1/services/nope' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
  });

  it('updateService returns an operation whose promise() polls GetOperation and yields the Service', async () => {
    fake.operationPolls(2);
    const [before] = await services.getService({ name: SVC });
    const traffic = [
      { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' as const, revision: 'api-00001-aaa', percent: 95 },
      { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' as const, revision: 'api-00002-bbb', percent: 5, tag: 'canary' },
    ];
    const polls = fake.callCount('GetOperation');
    const [operation] = await services.updateService({ service: { ...before, traffic } }, fastPolling);
    expect(operation.done).toBe(false);
    const [result] = await operation.promise();
    expect(fake.callCount('GetOperation') - polls).toBe(3);
    expect(result.trafficStatuses?.map((t) => [t.revision, t.percent, t.tag])).toEqual([
      ['api-00001-aaa', 95, ''],
      ['api-00002-bbb', 5, 'canary'],
    ]);
    expect(result.etag).not.toBe(before.etag);
    const update = await fake.waitForUpdate((u) => u.traffic.some((t) => t.percent === 5));
    expect(update.etag).toBe(before.etag);
    fake.operationPolls(0);
  });

  it('a stale etag is refused with ABORTED and recorded', async () => {
    const [before] = await services.getService({ name: SVC });
    fake.changeBehindYourBack(SVC, (s) => {
      s.labels = { owner: 'someone-else' };
    });
    await expect(services.updateService({ service: before })).rejects.toMatchObject({ code: grpc.status.ABORTED });
    expect(fake.updates.at(-1)?.code).toBe(grpc.status.ABORTED);
  });

  it('injected failures surface as gRPC errors', async () => {
    fake.failNext('GetRevision', grpc.status.PERMISSION_DENIED, 1, "Permission 'run.revisions.get' denied");
    await expect(revisions.getRevision({ name: `${SVC}/revisions/api-00001-aaa` })).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
  });

  it('listRevisions lists the revisions of a service with their Ready condition', async () => {
    const [list] = await revisions.listRevisions({ parent: SVC });
    expect(list.map((r) => r.name?.split('/').pop())).toEqual(['api-00001-aaa', 'api-00002-bbb', 'api-00003-ccc']);
    const notReady = list.find((r) => r.name?.endsWith('api-00003-ccc'));
    expect(notReady?.conditions?.find((c) => c.type === 'Ready')?.state).toBe('CONDITION_FAILED');
    expect(notReady?.service).toBe(SVC);
  });
});
