// Builds the Google Cloud clients. With an emulator host ('host:port') they speak plain-text gRPC
// with no credentials, the way Google's own emulators are addressed (and how the tests reach the
// local fakes); without one they use Application Default Credentials.
// Adapters never read process.env: the config layer reads the *_EMULATOR_HOST variables named
// here and passes the values in.
import * as grpc from '@grpc/grpc-js';
import { Logging } from '@google-cloud/logging';
import { MetricServiceClient } from '@google-cloud/monitoring';
import { RevisionsClient, ServicesClient } from '@google-cloud/run';

/** The generated clients' options (google-gax ClientOptions), without depending on google-gax directly. */
export type ClientOptions = NonNullable<ConstructorParameters<typeof ServicesClient>[0]>;

export const EMULATOR_ENV = {
  run: 'CLOUD_RUN_EMULATOR_HOST',
  logging: 'CLOUD_LOGGING_EMULATOR_HOST',
  monitoring: 'CLOUD_MONITORING_EMULATOR_HOST',
} as const;

export interface CloudClientOptions {
  /** 'host:port' of a local gRPC server; absent = the real API with Application Default Credentials. */
  readonly emulatorHost?: string | undefined;
  /** Needed by the Logging client to name its default resource; ADC's project otherwise. */
  readonly projectId?: string | undefined;
}

export interface EmulatorHosts {
  readonly run?: string;
  readonly logging?: string;
  readonly monitoring?: string;
}

/** For the config layer: the emulator hosts set in `env` (an empty value counts as unset). */
export function emulatorHostsFromEnv(env: Readonly<Record<string, string | undefined>>): EmulatorHosts {
  const pick = (name: string): string | undefined => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const run = pick(EMULATOR_ENV.run);
  const logging = pick(EMULATOR_ENV.logging);
  const monitoring = pick(EMULATOR_ENV.monitoring);
  return { ...(run ? { run } : {}), ...(logging ? { logging } : {}), ...(monitoring ? { monitoring } : {}) };
}

/** Splits 'host:port' ('[::1]:8085' too); throws a readable error on anything else. */
export function parseEmulatorHost(hostPort: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(hostPort.trim());
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port < 1 || port > 65535) {
    throw new Error(`emulator host must look like host:port (e.g. 127.0.0.1:8085), got "${hostPort}"`);
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

export function clientOptions(options: CloudClientOptions = {}): ClientOptions {
  const projectId = options.projectId ? { projectId: options.projectId } : {};
  if (!options.emulatorHost) return { ...projectId };
  const { host, port } = parseEmulatorHost(options.emulatorHost);
  return { apiEndpoint: host, port, sslCreds: grpc.credentials.createInsecure(), ...projectId };
}

export function createServicesClient(options: CloudClientOptions = {}): ServicesClient {
  return new ServicesClient(clientOptions(options));
}

export function createRevisionsClient(options: CloudClientOptions = {}): RevisionsClient {
  return new RevisionsClient(clientOptions(options));
}

export function createLogging(options: CloudClientOptions = {}): Logging {
  // LoggingOptions does not declare sslCreds, but the options reach the generated gRPC client as is.
  const gaxOptions: ClientOptions = clientOptions(options);
  return new Logging(gaxOptions);
}

export function createMetricServiceClient(options: CloudClientOptions = {}): MetricServiceClient {
  return new MetricServiceClient(clientOptions(options));
}
