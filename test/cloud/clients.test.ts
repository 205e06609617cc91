// The client factory: emulator hosts give plain-text gRPC clients that reach a local server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientOptions,
  createLogging,
  createMetricServiceClient,
  createRevisionsClient,
  createServicesClient,
  emulatorHostsFromEnv,
  parseEmulatorHost,
} from '../../src/cloud/clients.ts';
import { startFakeGoogleCloud, type FakeGoogleCloud } from '../fakes/gcp/index.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

describe('emulator host parsing', () => {
  it('splits host and port, IPv6 included', () => {
    expect(parseEmulatorHost('127.0.0.1:8085')).toEqual({ host: '127.0.0.1', port: 8085 });
    expect(parseEmulatorHost('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
  });

  it.each(['localhost', 'http://127.0.0.1:8085', '127.0.0.1:0', 'h:99999'])('rejects %s with a readable message', (text) => {
    expect(() => parseEmulatorHost(text)).toThrow(/host:port/);
  });

  it('reads the three variables from an env object, ignoring empty ones', () => {
    expect(
      emulatorHostsFromEnv({ CLOUD_RUN_EMULATOR_HOST: '127.0.0.1:1', CLOUD_LOGGING_EMULATOR_HOST: ' ', CLOUD_MONITORING_EMULATOR_HOST: '127.0.0.1:3' }),
    ).toEqual({ run: '127.0.0.1:1', monitoring: '127.0.0.1:3' });
  });

  it('without an emulator, options carry no endpoint or credentials (ADC applies)', () => {
    expect(clientOptions({ projectId: 'p' })).toEqual({ projectId: 'p' });
  });
});

describe('clients built for an emulator reach the local fakes', () => {
  let cloud: FakeGoogleCloud;
  beforeAll(async () => {
    cloud = await startFakeGoogleCloud();
    cloud.run.addService('projects/p/locations/r/services/s');
    cloud.run.addRevision('projects/p/locations/r/services/s/revisions/s-1');
  });
  afterAll(async () => cloud.close());

  it('run, logging and monitoring', async () => {
    const services = createServicesClient({ emulatorHost: cloud.run.address });
    const revisions = createRevisionsClient({ emulatorHost: cloud.run.address });
    const logging = createLogging({ emulatorHost: cloud.logging.address, projectId: 'p' });
    const metrics = createMetricServiceClient({ emulatorHost: cloud.monitoring.address });
    try {
      const [svc] = await services.getService({ name: 'projects/p/locations/r/services/s' });
      expect(svc.name).toBe('projects/p/locations/r/services/s');
      const [list] = await revisions.listRevisions({ parent: 'projects/p/locations/r/services/s' });
      expect(list).toHaveLength(1);
      const [entries] = await logging.getEntries({ filter: 'timestamp >= "2026-01-01T00:00:00Z"', autoPaginate: false });
      expect(entries).toEqual([]);
      await expect(metrics.listTimeSeries({ name: 'projects/p', filter: 'metric.type = "x"' })).rejects.toMatchObject({ code: 3 });
    } finally {
      await Promise.all([services.close(), revisions.close(), metrics.close()]);
    }
  });
});
