// The Google Cloud and HTTP-flag adapters, configured from the environment: the composition
// root's one place that reads CLOUD_*_EMULATOR_HOST (the adapters themselves never read env).
// Clients are created lazily, so building the adapters opens no connection.
import { cloudLoggingGate } from '../gates/cloud-logging.ts';
import { cloudMonitoringGate } from '../gates/cloud-monitoring.ts';
import { judgeGate } from '../gates/judge.ts';
import type { Logger } from '../log.ts';
import type { AnyGateKind, TrafficPlatform } from '../ports.ts';
import { cloudRunPlatform, type CloudRunObserver, type CloudRunTiming } from '../traffic/cloud-run.ts';
import { httpFlagPlatform, type HttpFlagTiming } from '../traffic/http-flag.ts';
import { emulatorHostsFromEnv } from '../cloud/clients.ts';

export interface Adapters {
  readonly platforms: readonly TrafficPlatform<any>[];
  readonly gateKinds: readonly AnyGateKind[];
  /** Closes the gRPC channels the adapters opened. */
  readonly close?: () => Promise<void>;
}

export interface CloudAdapterOptions {
  /** false: ignore the *_EMULATOR_HOST variables and always talk to Google. Default: honour them. */
  readonly emulators?: boolean;
  readonly log?: Logger;
  /** Retry and confirmation timing of the traffic platforms (tests shorten them); defaults otherwise. */
  readonly retry?: { readonly cloudRun?: Partial<CloudRunTiming>; readonly httpFlag?: Partial<HttpFlagTiming> };
  /** Told of every Cloud Run Admin API call and its outcome (metrics). */
  readonly observeCloudRun?: CloudRunObserver;
}

export function cloudAdapters(env: Readonly<Record<string, string | undefined>>, options: CloudAdapterOptions = {}): Adapters {
  const hosts = options.emulators === false ? {} : emulatorHostsFromEnv(env);
  const log = options.log ? { log: options.log } : {};
  const cloudRun = cloudRunPlatform({
    emulatorHost: hosts.run,
    ...log,
    ...(options.retry?.cloudRun ? { retry: options.retry.cloudRun } : {}),
    ...(options.observeCloudRun ? { observe: options.observeCloudRun } : {}),
  });
  const logging = cloudLoggingGate({ emulatorHost: hosts.logging });
  const monitoring = cloudMonitoringGate({ emulatorHost: hosts.monitoring });
  // The judge reads Google's APIs too (and Prometheus over HTTP): it opens its own clients, lazily.
  const judge = judgeGate({ monitoringEmulatorHost: hosts.monitoring, loggingEmulatorHost: hosts.logging });
  return {
    platforms: [cloudRun, httpFlagPlatform({ env, ...log, ...(options.retry?.httpFlag ? { retry: options.retry.httpFlag } : {}) })],
    gateKinds: [logging, monitoring, judge],
    async close() {
      await Promise.all([cloudRun.close(), logging.close(), monitoring.close(), judge.close()]);
    },
  };
}
