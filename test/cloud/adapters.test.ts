// The composition root's view: adapters built from env reach the emulators named there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudAdapters } from '../../src/app/adapters.ts';
import { startFakeGoogleCloud, type FakeGoogleCloud } from '../fakes/gcp/index.ts';
import { CLOUD_RUN_SERVICE, gateContext } from '../gates/context.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

describe('cloudAdapters', () => {
  let cloud: FakeGoogleCloud;
  beforeAll(async () => {
    cloud = await startFakeGoogleCloud();
  });
  afterAll(async () => cloud.close());

  it('registers cloud-run, http-flag, cloud_logging, cloud_monitoring and judge, wired to the emulator hosts', async () => {
    const adapters = cloudAdapters({
      CLOUD_RUN_EMULATOR_HOST: cloud.run.address,
      CLOUD_LOGGING_EMULATOR_HOST: cloud.logging.address,
      CLOUD_MONITORING_EMULATOR_HOST: cloud.monitoring.address,
    });
    try {
      expect(adapters.platforms.map((p) => p.platform)).toEqual(['cloud-run', 'http-flag']);
      expect(adapters.gateKinds.map((g) => g.key)).toEqual(['cloud_logging', 'cloud_monitoring', 'judge']);
      const { project, region, name: service, stable, canary } = CLOUD_RUN_SERVICE;
      const name = `projects/${project}/locations/${region}/services/${service}`;
      cloud.run.addService(name);
      cloud.run.addRevision(`${name}/revisions/${stable}`);
      cloud.run.addRevision(`${name}/revisions/${canary}`);
      const platform = adapters.platforms[0]!;
      const spec = platform.schema.parse(CLOUD_RUN_SERVICE);
      await expect(platform.create(spec).preflight({ stable: spec.stable, canary: spec.canary })).resolves.toMatchObject({ outcome: 'pass' });
      const presence = adapters.gateKinds[0]!;
      await expect(presence.measure(presence.schema.parse({ present: 'jsonPayload.event="route.split.decision"' }), gateContext())).resolves.toMatchObject({
        outcome: 'fail',
      });
      expect(cloud.logging.requests).toHaveLength(1);
      // The judge reaches the same emulators: Monitoring here.
      const judge = adapters.gateKinds[2]!;
      await expect(judge.measure(judge.schema.parse({ metric: 'error_rate', source: 'cloud_monitoring' }), gateContext())).resolves.toMatchObject({ outcome: 'pass', sample: { errors: { canary: { requests: 0 } } } });
      expect(cloud.monitoring.requests).toHaveLength(1);
    } finally {
      await adapters.close?.();
    }
  });
});
