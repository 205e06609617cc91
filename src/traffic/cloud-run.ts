// Cloud Run traffic platform: moves a service's traffic between two revisions through the Cloud
// Run Admin API v2 and confirms what is actually served. It translates SDK shapes and gRPC errors
// into the port's terms and holds no cutover policy: the engine decides when and how far to shift.
import { setTimeout as sleep } from 'node:timers/promises';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { RevisionsClient, ServicesClient, protos } from '@google-cloud/run';
import { createRevisionsClient, createServicesClient } from '../cloud/clients.ts';
import { CloudCallError, callGoogle, codeName, describeCallError, type CallContext } from '../cloud/errors.ts';
import { formatDuration } from '../domain/duration.ts';
import { errored, measured, type Measurement, type Observation } from '../domain/measurement.ts';
import { RetriesExhaustedError, retryWithin, type RetryBudget } from '../infra/retry.ts';
import type { Logger } from '../log.ts';
import { TrafficError, type TrafficBackend, type TrafficPlatform } from '../ports.ts';
import {
  describeSplit,
  normalizeTargets,
  sameTraffic,
  shortName,
  splitOf,
  toWireTargets,
  trafficFor,
} from './cloud-run-traffic.ts';
import { cloudRunServiceSchema, serviceResource, type CloudRunService } from './cloud-run-schema.ts';
import type { RevisionChoice, Revisions, Split } from '../domain/service.ts';

export type { CloudRunService };

type Service = protos.google.cloud.run.v2.IService;
type Revision = protos.google.cloud.run.v2.IRevision;

// ---- timing ----------------------------------------------------------------------------------

/** Retries (RetryBudget): per operation, on transient gRPC errors (UNAVAILABLE, DEADLINE_EXCEEDED, …). */
export interface CloudRunTiming extends RetryBudget {
  /** Re-reads after a stale etag before giving up with a conflict. */
  readonly conflictAttempts: number;
  /** Deadline of one RPC, ms. */
  readonly rpcTimeoutMs: number;
  /** Long-running operation polling: first delay, longest delay, total budget (ms). */
  readonly operationPollMs: number;
  readonly operationPollMaxMs: number;
  readonly operationTimeoutMs: number;
  /** How long to wait for traffic_statuses to serve the requested split, and how often to look. */
  readonly confirmTimeoutMs: number;
  readonly confirmPollMs: number;
}

const DEFAULT_CLOUD_RUN_TIMING: CloudRunTiming = {
  maxAttempts: 5,
  baseMs: 500,
  capMs: 8_000,
  deadlineMs: 120_000,
  conflictAttempts: 5,
  rpcTimeoutMs: 30_000,
  operationPollMs: 1_000,
  operationPollMaxMs: 5_000,
  operationTimeoutMs: 300_000,
  confirmTimeoutMs: 120_000,
  confirmPollMs: 2_000,
};

export interface CloudRunPlatformDeps {
  /** 'host:port' of a Cloud Run emulator (plain-text gRPC); absent = the real API with ADC. */
  readonly emulatorHost?: string | undefined;
  readonly retry?: Partial<CloudRunTiming>;
  readonly log?: Logger;
  /** Told of every Admin API call made (metrics): which method, and `OK` or the gRPC code's name. */
  readonly observe?: CloudRunObserver;
}

/** The Admin API methods the platform calls; `Operation` is waiting for an update's long-running operation. */
export type CloudRunMethod = 'GetService' | 'UpdateService' | 'Operation' | 'GetRevision';
export type CloudRunObserver = (method: CloudRunMethod, outcome: string) => void;

export interface CloudRunPlatform extends TrafficPlatform<CloudRunService> {
  /** Closes the gRPC channels this platform opened. */
  close(): Promise<void>;
}

interface Clients {
  readonly services: ServicesClient;
  readonly revisions: RevisionsClient;
}

export function cloudRunPlatform(deps: CloudRunPlatformDeps = {}): CloudRunPlatform {
  const timing: CloudRunTiming = { ...DEFAULT_CLOUD_RUN_TIMING, ...deps.retry };
  let clients: Clients | undefined;
  const connect = (): Clients =>
    (clients ??= {
      services: createServicesClient({ emulatorHost: deps.emulatorHost }),
      revisions: createRevisionsClient({ emulatorHost: deps.emulatorHost }),
    });
  return {
    platform: 'cloud-run',
    schema: cloudRunServiceSchema,
    serviceKey: (spec) => `cloud-run:${serviceResource(spec)}`,
    create: (spec) => new CloudRunBackend(spec, connect, timing, deps.log, deps.observe),
    async close() {
      const open = clients;
      clients = undefined;
      if (open) await Promise.all([open.services.close(), open.revisions.close()]);
    },
  };
}

// ---- the backend -----------------------------------------------------------------------------

const isConflict = (error: unknown): boolean =>
  error instanceof CloudCallError &&
  (error.code === GrpcStatus.ABORTED || (error.code === GrpcStatus.FAILED_PRECONDITION && /etag/i.test(error.details)));

class CloudRunBackend implements TrafficBackend {
  readonly label: string;
  readonly #spec: CloudRunService;
  readonly #resource: string;
  readonly #connect: () => Clients;
  readonly #timing: CloudRunTiming;
  readonly #log: Logger | undefined;
  readonly #observe: CloudRunObserver | undefined;

  constructor(spec: CloudRunService, connect: () => Clients, timing: CloudRunTiming, log: Logger | undefined, observe: CloudRunObserver | undefined) {
    this.#observe = observe;
    this.#spec = spec;
    this.#resource = serviceResource(spec);
    this.#connect = connect;
    this.#timing = timing;
    this.#log = log?.child({ platform: 'cloud-run', service: this.#resource });
    this.label = `Cloud Run ${this.#resource}`;
  }

  async preflight(revisions: Revisions, signal?: AbortSignal): Promise<Measurement> {
    try {
      return await this.#retrying(() => this.#preflightOnce(revisions, signal), signal);
    } catch (error) {
      return errored(this.#describe(error));
    }
  }

  async read(revisions: Revisions, signal?: AbortSignal): Promise<Split> {
    try {
      const service = await this.#retrying(() => this.#getService(signal), signal);
      return this.#served(service, revisions);
    } catch (error) {
      // Stopped by the caller: its reason, not whatever the last call said, is the outcome.
      signal?.throwIfAborted();
      throw this.#translate(error, revisions);
    }
  }

  async shift(revisions: Revisions, canaryPercent: number, signal?: AbortSignal): Promise<Split> {
    if (!Number.isInteger(canaryPercent) || canaryPercent < 0 || canaryPercent > 100) {
      throw new TrafficError('invalid', `Cloud Run splits traffic in whole percents: ${canaryPercent} is not an integer from 0 to 100`);
    }
    if (revisions.stable === revisions.canary) {
      throw new TrafficError('invalid', `stable and canary are the same revision (${revisions.stable})`);
    }
    try {
      // A transient failure anywhere restarts from a fresh read: the update is skipped when the
      // spec already holds the target, so a retry never applies a change twice.
      return await this.#retrying(() => this.#shiftOnce(revisions, canaryPercent, signal), signal);
    } catch (error) {
      signal?.throwIfAborted();
      throw this.#translate(error, revisions);
    }
  }

  /**
   * The start dialog's choice: the service's ready revisions (ListRevisions; permission
   * run.revisions.list), newest first, each with the share the service serves it now.
   */
  async revisions(signal?: AbortSignal): Promise<RevisionChoice[]> {
    try {
      const [service, listed] = await Promise.all([this.#retrying(() => this.#getService(signal), signal), this.#retrying(() => this.#listRevisions(signal), signal)]);
      const served = new Map<string, number>();
      for (const t of normalizeTargets(service.trafficStatuses)) {
        const name = t.kind === 'latest' ? shortName(service.latestReadyRevision ?? '') : t.revision;
        served.set(name, (served.get(name) ?? 0) + t.percent);
      }
      return listed
        .filter((r) => r.conditions?.some((c) => c.type === 'Ready' && c.state === 'CONDITION_SUCCEEDED'))
        .map((r) => ({ name: shortName(r.name ?? ''), createdAt: millisOf(r.createTime) }))
        .filter((r) => r.name !== '')
        // Newest first; revision names carry a sequence number, which breaks ties of equal times.
        .sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0) || b.name.localeCompare(a.name))
        .map((r) => ({ ...r, percent: served.get(r.name) ?? 0 }));
    } catch (error) {
      signal?.throwIfAborted();
      throw this.#translate(error, { stable: '', canary: '' });
    }
  }

  async #listRevisions(signal: AbortSignal | undefined): Promise<Revision[]> {
    signal?.throwIfAborted();
    const { revisions } = this.#connect();
    const [listed] = await callGoogle({ action: 'list the revisions of the service', permission: 'run.revisions.list', resource: this.#resource }, () =>
      revisions.listRevisions({ parent: this.#resource }, this.#callOptions()),
    );
    return listed;
  }

  async #shiftOnce(revisions: Revisions, canaryPercent: number, signal: AbortSignal | undefined): Promise<Split> {
    for (let attempt = 1; attempt <= this.#timing.conflictAttempts; attempt++) {
      const service = await this.#getService(signal);
      const current = normalizeTargets(service.traffic);
      const desired = trafficFor(current, revisions, canaryPercent);
      if (sameTraffic(current, desired)) return this.#confirm(revisions, canaryPercent, signal);
      try {
        await this.#update(service, desired, signal);
      } catch (error) {
        if (!isConflict(error)) throw error;
        // Someone else changed the service since we read it: read again and rebuild on their change.
        this.#log?.warn({ attempt, etag: service.etag }, 'Cloud Run service changed while shifting traffic; re-reading');
        continue;
      }
      return this.#confirm(revisions, canaryPercent, signal);
    }
    throw new TrafficError(
      'conflict',
      `${this.#resource} kept changing while the traffic shift was being applied (${this.#timing.conflictAttempts} stale-etag refusals); nothing was overwritten`,
    );
  }

  async #update(service: Service, traffic: ReturnType<typeof trafficFor>, signal: AbortSignal | undefined): Promise<void> {
    // The call that moves traffic: never made by a holder that lost its lease. Once sent it runs
    // to the end (an operation cannot be recalled), and the confirmation polls stop instead.
    signal?.throwIfAborted();
    const { services } = this.#connect();
    const context: CallContext = { action: 'update the traffic of the service', permission: 'run.services.update', resource: this.#resource };
    this.#log?.info({ traffic: toWireTargets(traffic), etag: service.etag }, 'updating Cloud Run traffic');
    // The whole service as read, with its etag: the server refuses it if anything changed since.
    const [operation] = await this.#call('UpdateService', context, () =>
      services.updateService(
        { service: { ...service, traffic: toWireTargets(traffic) } },
        {
          ...this.#callOptions(),
          longrunning: {
            initialRetryDelayMillis: this.#timing.operationPollMs,
            retryDelayMultiplier: 1.5,
            maxRetryDelayMillis: this.#timing.operationPollMaxMs,
            totalTimeoutMillis: this.#timing.operationTimeoutMs,
          },
        },
      ),
    );
    await this.#call('Operation', { ...context, action: 'apply the traffic update' }, () => operation.promise());
  }

  /** Waits (bounded) until traffic_statuses serve exactly the requested split. */
  async #confirm(revisions: Revisions, canaryPercent: number, signal: AbortSignal | undefined): Promise<Split> {
    const deadline = Date.now() + this.#timing.confirmTimeoutMs;
    for (;;) {
      const service = await this.#getService(signal);
      const split = this.#served(service, revisions);
      if (split.canary === canaryPercent && split.stable === 100 - canaryPercent && split.other === 0) return split;
      const failed = service.terminalCondition?.state === 'CONDITION_FAILED' && !service.reconciling;
      if (failed || Date.now() >= deadline) {
        const why = failed
          ? `Cloud Run reports: ${service.terminalCondition?.message || 'the service is not ready'}`
          : `still not served after ${formatDuration(this.#timing.confirmTimeoutMs)}`;
        throw new TrafficError(
          'unconfirmed',
          `asked ${this.#resource} for canary ${canaryPercent}% / stable ${100 - canaryPercent}%, it serves ${describeSplit(split)}: ${why}`,
        );
      }
      await sleep(this.#timing.confirmPollMs, undefined, signal ? { signal } : undefined);
    }
  }

  #served(service: Service, revisions: Revisions): Split {
    return splitOf(normalizeTargets(service.trafficStatuses), revisions, service.latestReadyRevision ?? '');
  }

  async #preflightOnce(revisions: Revisions, signal: AbortSignal | undefined): Promise<Measurement> {
    try {
      await this.#getService(signal);
    } catch (error) {
      if (!(error instanceof CloudCallError) || error.code !== GrpcStatus.NOT_FOUND) throw error;
      return measured(
        [{ name: 'service', value: 'not found', threshold: 'exists', ok: false }],
        `service ${this.#spec.name} does not exist in project ${this.#spec.project}, region ${this.#spec.region}`,
      );
    }
    const observations: Observation[] = [{ name: 'service', value: this.#spec.name, threshold: 'exists', ok: true }];
    const problems: string[] = [];
    for (const side of ['stable', 'canary'] as const) {
      const name = revisions[side];
      const revision = await this.#getRevision(name, signal);
      const owner = revision ? shortName(revision.service || (revision.name ?? '').replace(/\/revisions\/[^/]*$/, '')) : '';
      const belongs = revision !== undefined && owner === this.#spec.name;
      let found: string;
      if (!revision) {
        found = `${name} not found`;
        problems.push(`${side} revision ${name} not found in ${this.#spec.region}`);
      } else if (!belongs) {
        found = `${name} belongs to service ${owner}`;
        problems.push(`${side} revision ${name} belongs to service ${owner}, not ${this.#spec.name}`);
      } else {
        found = name;
      }
      observations.push({ name: `${side}_revision`, value: found, threshold: `in service ${this.#spec.name}`, ok: belongs });
      const ready = revision?.conditions?.find((c) => c.type === 'Ready');
      const isReady = belongs && ready?.state === 'CONDITION_SUCCEEDED';
      if (belongs && !isReady) {
        const message = ready?.message ? `: ${ready.message}` : '';
        problems.push(`${side} revision ${name} is not ready${message}`);
      }
      observations.push({
        name: `${side}_ready`,
        value: !belongs ? null : isReady ? 'ready' : `not ready${ready?.message ? `: ${ready.message}` : ''}`,
        threshold: 'ready',
        ok: isReady,
      });
    }
    return measured(observations, problems.length > 0 ? problems.join('; ') : undefined);
  }

  async #getService(signal?: AbortSignal): Promise<Service> {
    signal?.throwIfAborted();
    const { services } = this.#connect();
    const [service] = await this.#call('GetService', { action: 'read the service', permission: 'run.services.get', resource: this.#resource }, () =>
      services.getService({ name: this.#resource }, this.#callOptions()),
    );
    return service;
  }

  /** The revision, or undefined when it does not exist. */
  async #getRevision(name: string, signal: AbortSignal | undefined): Promise<Revision | undefined> {
    signal?.throwIfAborted();
    const { revisions } = this.#connect();
    const resource = `${this.#resource}/revisions/${name}`;
    try {
      const [revision] = await this.#call('GetRevision', { action: `read revision ${name}`, permission: 'run.revisions.get', resource }, () =>
        revisions.getRevision({ name: resource }, this.#callOptions()),
      );
      return revision;
    } catch (error) {
      if (error instanceof CloudCallError && error.code === GrpcStatus.NOT_FOUND) return undefined;
      throw error;
    }
  }

  /** One Admin API call, told to the observer with its outcome. */
  async #call<T>(method: CloudRunMethod, context: CallContext, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await callGoogle(context, fn);
      this.#observe?.(method, 'OK');
      return result;
    } catch (error) {
      this.#observe?.(method, error instanceof CloudCallError ? codeName(error.code) : 'error');
      throw error;
    }
  }

  /** The client's own retries are off: ours are the single, bounded, observable policy. */
  #callOptions(): { retry: null; timeout: number } {
    return { retry: null, timeout: this.#timing.rpcTimeoutMs };
  }

  #retrying<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return retryWithin(
      fn,
      this.#timing,
      (error) => error instanceof CloudCallError && error.transient,
      ({ attempt, delayMs, error }) => this.#log?.warn({ attempt, delayMs, err: error instanceof Error ? error.message : String(error) }, 'transient Cloud Run error; retrying'),
      signal,
    );
  }


  #describe(error: unknown): string {
    if (error instanceof RetriesExhaustedError) {
      const cause = error.cause;
      const what = cause instanceof CloudCallError ? `${cause.context.action} (${codeName(cause.code)}: ${cause.details})` : String(cause);
      return `Cloud Run did not answer after ${error.attempts} attempts: could not ${what}`;
    }
    if (error instanceof CloudCallError) return describeCallError(error);
    return error instanceof Error ? error.message : String(error);
  }

  #translate(error: unknown, revisions: Revisions): TrafficError {
    if (error instanceof TrafficError) return error;
    const message = this.#describe(error);
    if (error instanceof RetriesExhaustedError) return new TrafficError('transient', message, { cause: error });
    if (!(error instanceof CloudCallError)) return new TrafficError('unconfirmed', message, { cause: error });
    switch (error.code) {
      case GrpcStatus.PERMISSION_DENIED:
      case GrpcStatus.UNAUTHENTICATED:
        return new TrafficError('permission_denied', message, { cause: error });
      case GrpcStatus.NOT_FOUND: {
        if (error.context.permission === 'run.services.get') {
          return new TrafficError('not_found', `service ${this.#spec.name} not found in project ${this.#spec.project}, region ${this.#spec.region}`, { cause: error });
        }
        const named = [revisions.canary, revisions.stable].filter((r) => error.details.includes(r));
        const which = named.length > 0 ? named.join(' and ') : `${revisions.canary} or ${revisions.stable}`;
        return new TrafficError('not_found', `revision ${which} not found in ${this.#resource} (${error.details})`, { cause: error });
      }
      case GrpcStatus.ABORTED:
        return new TrafficError('conflict', message, { cause: error });
      case GrpcStatus.INVALID_ARGUMENT:
        return new TrafficError('invalid', `Cloud Run refused the traffic change: ${error.details}`, { cause: error });
      default:
        return new TrafficError('unconfirmed', message, { cause: error });
    }
  }
}

function millisOf(ts: { seconds?: number | string | { toString(): string } | null; nanos?: number | null } | null | undefined): number | null {
  if (!ts) return null;
  const seconds = Number(String(ts.seconds ?? 0));
  return Number.isFinite(seconds) ? seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1_000_000) : null;
}
