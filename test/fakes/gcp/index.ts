// All three fake Google APIs at once, each on its own port.
import { startFakeCloudRun, type FakeCloudRun } from './cloud-run.ts';
import { startFakeLogging, type FakeLogging } from './logging.ts';
import { startFakeMonitoring, type FakeMonitoring } from './monitoring.ts';

export { startFakeCloudRun, startFakeLogging, startFakeMonitoring };
export type { FakeCloudRun, FakeLogging, FakeMonitoring };

export interface FakeGoogleCloud {
  readonly run: FakeCloudRun;
  readonly logging: FakeLogging;
  readonly monitoring: FakeMonitoring;
  close(): Promise<void>;
}

export async function startFakeGoogleCloud(): Promise<FakeGoogleCloud> {
  const [run, logging, monitoring] = await Promise.all([startFakeCloudRun(), startFakeLogging(), startFakeMonitoring()]);
  return {
    run,
    logging,
    monitoring,
    async close() {
      await Promise.all([run.close(), logging.close(), monitoring.close()]);
    },
  };
}
