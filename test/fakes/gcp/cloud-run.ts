// A fake Cloud Run Admin API v2 (Services, Revisions, long-running Operations) over gRPC, built
// from the protos inside @google-cloud/run so the official ServicesClient/RevisionsClient talk
// to it unchanged. It keeps what a traffic shift touches: the traffic spec, the served split
// (traffic_statuses, updated when the operation completes), etags and generations.
import * as grpc from '@grpc/grpc-js';
import { FakeGrpcServer, GrpcFault, nextId, toTimestamp } from './grpc-server.ts';
import { encodeWith, loadProtos, protoRoots, serviceDefinition } from './protos.ts';
import type { FakeRevision, FakeService, FakeTrafficStatus, FakeTrafficTarget, UpdateRecord } from './cloud-run-types.ts';

export type * from './cloud-run-types.ts';

interface PendingOperation {
  name: string;
  service: string;
  pollsLeft: number;
  done: boolean;
  error?: { code: grpc.status; message: string };
}

const SERVICE_TYPE_URL = 'type.googleapis.com/google.cloud.run.v2.Service';
const SERVICE_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/services\/([^/]+)$/;
const REVISION_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/services\/([^/]+)\/revisions\/([^/]+)$/;

const shortName = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

export interface AddServiceOptions {
  /** Initial traffic; default: 100 % LATEST. Statuses start equal to it. */
  traffic?: Array<Partial<FakeTrafficTarget> & { percent: number }>;
  /** Short or full revision name for latest_ready_revision (default: the last added revision). */
  latestReady?: string;
  labels?: Record<string, string>;
}

export class FakeCloudRun extends FakeGrpcServer {
  readonly services = new Map<string, FakeService>();
  readonly revisions = new Map<string, FakeRevision>();
  readonly updates: UpdateRecord[] = [];
  readonly #operations = new Map<string, PendingOperation>();
  readonly #definition;
  #operationPolls = 0;
  #statusLag = 0;
  #lagLeft = new Map<string, { gets: number; statuses: FakeTrafficStatus[] }>();
  #failNextOperation: { code: grpc.status; message: string } | undefined;
  readonly #down = new Set<string>();
  /** The status a stale etag is answered with: ABORTED per AIP-154. */
  etagErrorCode: grpc.status = grpc.status.ABORTED;

  constructor() {
    super();
    const roots = protoRoots();
    const { definition, grpcObject } = loadProtos(roots.run, [
      'google/cloud/run/v2/service.proto',
      'google/cloud/run/v2/revision.proto',
      'google/longrunning/operations.proto',
    ]);
    this.#definition = definition;
    this.server.addService(serviceDefinition(grpcObject, 'google.cloud.run.v2.Services'), {
      GetService: this.unary('GetService', (req: { name: string }) => this.#getService(req.name)),
      ListServices: this.unary('ListServices', (req: { parent: string }) => ({
        services: [...this.services.values()].filter((s) => s.name.startsWith(`${req.parent}/services/`)).map((s) => this.#wire(s)),
        next_page_token: '',
      })),
      UpdateService: this.unary('UpdateService', (req: { service: Record<string, unknown> & { name: string } }) =>
        this.#update(req.service),
      ),
    });
    this.server.addService(serviceDefinition(grpcObject, 'google.cloud.run.v2.Revisions'), {
      GetRevision: this.unary('GetRevision', (req: { name: string }) => this.#revisionWire(this.#findRevision(req.name))),
      ListRevisions: this.unary('ListRevisions', (req: { parent: string }) => ({
        revisions: [...this.revisions.values()].filter((r) => r.service === req.parent).map((r) => this.#revisionWire(r)),
        next_page_token: '',
      })),
    });
    this.server.addService(serviceDefinition(grpcObject, 'google.longrunning.Operations'), {
      GetOperation: this.unary('GetOperation', (req: { name: string }) => this.#poll(req.name, false)),
      WaitOperation: this.unary('WaitOperation', (req: { name: string }) => this.#poll(req.name, true)),
    });
  }

  // ---- controls ---------------------------------------------------------------------------

  addService(name: string, options: AddServiceOptions = {}): FakeService {
    const match = SERVICE_NAME.exec(name);
    if (!match) throw new Error(`not a service name: ${name}`);
    const traffic = (options.traffic ?? [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }]).map((t) => ({
      type: t.type ?? (t.revision ? 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' : 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST'),
      revision: t.revision ?? '',
      percent: t.percent,
      tag: t.tag ?? '',
    })) as FakeTrafficTarget[];
    const service: FakeService = {
      name,
      uid: nextId('uid-'),
      description: '',
      labels: options.labels ?? {},
      annotations: {},
      template: { containers: [{ image: 'us-docker.pkg.dev/cloudrun/container/hello' }] },
      traffic,
      traffic_statuses: [],
      generation: 1,
      observed_generation: 1,
      etag: nextId('"e') + '"',
      reconciling: false,
      latest_ready_revision: options.latestReady ? `${name}/revisions/${shortName(options.latestReady)}` : '',
      latest_created_revision: '',
      uri: `https://${match[3]}-fake.a.run.app`,
      failure: '',
    };
    service.traffic_statuses = this.#statuses(service);
    this.services.set(name, service);
    return service;
  }

  /** Adds a revision `projects/P/locations/R/services/S/revisions/NAME`; the last ready one is latest. */
  addRevision(name: string, options: { ready?: boolean } = {}): FakeRevision {
    const match = REVISION_NAME.exec(name);
    if (!match) throw new Error(`not a revision name: ${name}`);
    const service = `projects/${match[1]}/locations/${match[2]}/services/${match[3]}`;
    const revision: FakeRevision = { name, service, ready: options.ready ?? true, created: Date.now() };
    this.revisions.set(name, revision);
    const owner = this.services.get(service);
    if (owner) {
      owner.latest_created_revision = name;
      if (revision.ready) owner.latest_ready_revision = name;
      owner.traffic_statuses = this.#statuses(owner);
    }
    return revision;
  }

  /** UpdateService and then this many polls answer `done: false`; the next poll completes (0 = done at once). */
  operationPolls(n: number): void {
    this.#operationPolls = n;
  }

  /** After an operation completes, GetService still shows the old served split this many times. */
  statusLag(gets: number): void {
    this.#statusLag = gets;
  }

  /** The next operation completes with an error instead of the service. */
  failNextOperation(code: grpc.status, message: string): void {
    this.#failNextOperation = { code, message };
  }

  /**
   * A regional outage: while `down`, every call naming a service, revision or operation in
   * `region` answers UNAVAILABLE (and changes nothing); other regions answer as usual.
   */
  regionDown(region: string, down = true): void {
    if (down) this.#down.add(region);
    else this.#down.delete(region);
  }

  #reachable(name: string): void {
    const region = /^projects\/[^/]+\/locations\/([^/]+)\//.exec(name)?.[1];
    if (region && this.#down.has(region)) throw new GrpcFault(grpc.status.UNAVAILABLE, `The service is currently unavailable in ${region}.`);
  }

  /** Another actor changes the service: the change settles at once and the etag moves on. */
  changeBehindYourBack(name: string, mutate: (service: FakeService) => void): void {
    const service = this.#mustService(name);
    mutate(service);
    service.generation += 1;
    service.observed_generation = service.generation;
    service.etag = nextId('"e') + '"';
    service.traffic_statuses = this.#statuses(service);
    this.#lagLeft.delete(name);
  }

  service(name: string): FakeService {
    return structuredClone(this.#mustService(name));
  }

  /** Resolves with the first update (already recorded or future) that matches. */
  waitForUpdate(predicate: (update: UpdateRecord) => boolean = () => true): Promise<UpdateRecord> {
    const existing = this.updates.find(predicate);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const onUpdate = (update: UpdateRecord) => {
        if (!predicate(update)) return;
        this.events.off('update', onUpdate);
        resolve(update);
      };
      this.events.on('update', onUpdate);
    });
  }

  // ---- handlers ---------------------------------------------------------------------------

  #mustService(name: string): FakeService {
    const service = this.services.get(name);
    if (!service) {
      const m = SERVICE_NAME.exec(name);
      throw new GrpcFault(
        grpc.status.NOT_FOUND,
        m ? `Resource '${m[3]}' of kind 'SERVICE' in region '${m[2]}' in project '${m[1]}' does not exist.` : `Service ${name} does not exist.`,
      );
    }
    return service;
  }

  #getService(name: string): object {
    this.#reachable(name);
    const service = this.#mustService(name);
    const lag = this.#lagLeft.get(name);
    if (lag && lag.gets > 0) {
      lag.gets -= 1;
      return this.#wire({ ...service, traffic_statuses: lag.statuses, reconciling: true });
    }
    if (lag) {
      this.#lagLeft.delete(name);
    }
    return this.#wire(service);
  }

  /** Revisions are unique per region: found by short name whatever service the path names. */
  #findRevision(name: string): FakeRevision {
    this.#reachable(name);
    const match = REVISION_NAME.exec(name);
    if (!match) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, `Invalid revision name: ${name}`);
    const regionPrefix = `projects/${match[1]}/locations/${match[2]}/`;
    for (const revision of this.revisions.values()) {
      if (revision.name.startsWith(regionPrefix) && shortName(revision.name) === match[4]) return revision;
    }
    throw new GrpcFault(
      grpc.status.NOT_FOUND,
      `Resource '${match[4]}' of kind 'REVISION' in region '${match[2]}' in project '${match[1]}' does not exist.`,
    );
  }

  #update(requested: Record<string, unknown> & { name: string }): object {
    const service = this.#mustService(requested.name);
    const traffic = ((requested.traffic as FakeTrafficTarget[] | undefined) ?? []).map((t) => ({
      type: t.type,
      revision: t.revision,
      percent: t.percent,
      tag: t.tag,
    }));
    const record = (code: grpc.status) => {
      const update: UpdateRecord = { at: Date.now(), name: service.name, etag: String(requested.etag ?? ''), traffic, code };
      this.updates.push(update);
      this.events.emit('update', update);
    };
    try {
      this.#reachable(requested.name);
      if (requested.etag && requested.etag !== service.etag) {
        throw new GrpcFault(this.etagErrorCode, `Precondition failed: the etag '${String(requested.etag)}' is stale; the service has changed since it was read.`);
      }
      this.#validateTraffic(service, traffic);
    } catch (error) {
      record(error instanceof GrpcFault ? error.code : grpc.status.INTERNAL);
      throw error;
    }
    service.traffic = traffic;
    if (typeof requested.description === 'string') service.description = requested.description;
    if (requested.labels) service.labels = { ...(requested.labels as Record<string, string>) };
    if (requested.annotations) service.annotations = { ...(requested.annotations as Record<string, string>) };
    service.generation += 1;
    service.etag = nextId('"e') + '"';
    service.reconciling = true;
    record(grpc.status.OK);
    const operation: PendingOperation = {
      name: `${service.name.replace(/\/services\/.*$/, '')}/operations/${nextId('op-')}`,
      service: service.name,
      pollsLeft: this.#operationPolls,
      done: false,
    };
    if (this.#failNextOperation) {
      operation.error = this.#failNextOperation;
      this.#failNextOperation = undefined;
    }
    this.#operations.set(operation.name, operation);
    if (operation.pollsLeft <= 0) this.#complete(operation);
    return this.#operationWire(operation);
  }

  #validateTraffic(service: FakeService, traffic: readonly FakeTrafficTarget[]): void {
    const total = traffic.reduce((sum, t) => sum + t.percent, 0);
    if (traffic.some((t) => t.percent < 0 || t.percent > 100)) {
      throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'Traffic percent must be between 0 and 100.');
    }
    if (total !== 100) {
      throw new GrpcFault(grpc.status.INVALID_ARGUMENT, `Traffic percentages must add up to 100, got ${total}.`);
    }
    const tags = traffic.map((t) => t.tag).filter((t) => t !== '');
    if (new Set(tags).size !== tags.length) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'Traffic tags must be unique.');
    for (const target of traffic) {
      if (target.type !== 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION') continue;
      const full = `${service.name}/revisions/${shortName(target.revision)}`;
      if (!this.revisions.has(full)) {
        throw new GrpcFault(grpc.status.NOT_FOUND, `Revision '${shortName(target.revision)}' does not exist or is not part of service '${shortName(service.name)}'.`);
      }
    }
  }

  #poll(name: string, wait: boolean): object {
    this.#reachable(name);
    const operation = this.#operations.get(name);
    if (!operation) throw new GrpcFault(grpc.status.NOT_FOUND, `Operation ${name} not found.`);
    if (!operation.done) {
      if (wait || operation.pollsLeft <= 0) this.#complete(operation);
      else operation.pollsLeft -= 1;
    }
    return this.#operationWire(operation);
  }

  #complete(operation: PendingOperation): void {
    operation.done = true;
    const service = this.services.get(operation.service);
    if (!service) return;
    service.observed_generation = service.generation;
    service.reconciling = false;
    // A failed reconciliation keeps serving the previous split, as Cloud Run does.
    service.failure = operation.error?.message ?? '';
    if (operation.error) return;
    const previous = service.traffic_statuses;
    service.traffic_statuses = this.#statuses(service);
    if (this.#statusLag > 0) this.#lagLeft.set(service.name, { gets: this.#statusLag, statuses: previous });
  }

  // ---- wire shapes ------------------------------------------------------------------------

  #statuses(service: FakeService): FakeTrafficStatus[] {
    return service.traffic
      .filter((t) => t.percent > 0 || t.tag !== '')
      .map((t) => ({
        type: t.type,
        revision: t.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' ? '' : shortName(t.revision),
        percent: t.percent,
        tag: t.tag,
        uri: t.tag ? service.uri.replace('https://', `https://${t.tag}---`) : '',
      }));
  }

  #wire(service: FakeService): object {
    return {
      ...service,
      generation: String(service.generation),
      observed_generation: String(service.observed_generation),
      update_time: toTimestamp(Date.now()),
      terminal_condition: {
        type: 'Ready',
        state: service.reconciling ? 'CONDITION_RECONCILING' : service.failure ? 'CONDITION_FAILED' : 'CONDITION_SUCCEEDED',
        message: service.failure,
      },
    };
  }

  #revisionWire(revision: FakeRevision): object {
    return {
      name: revision.name,
      service: revision.service,
      create_time: toTimestamp(revision.created),
      conditions: [
        { type: 'Ready', state: revision.ready ? 'CONDITION_SUCCEEDED' : 'CONDITION_FAILED', message: revision.ready ? '' : 'Container failed to start.' },
      ],
      reconciling: false,
    };
  }

  #operationWire(operation: PendingOperation): object {
    const service = this.services.get(operation.service);
    const packed = service
      ? { type_url: SERVICE_TYPE_URL, value: encodeWith(this.#definition, 'google.cloud.run.v2.Services', 'GetService', this.#wire(service)) }
      : undefined;
    const base = { name: operation.name, done: operation.done, metadata: packed };
    if (!operation.done) return base;
    if (operation.error) return { ...base, error: { code: operation.error.code, message: operation.error.message, details: [] } };
    return { ...base, response: packed };
  }
}

export async function startFakeCloudRun(): Promise<FakeCloudRun> {
  const fake = new FakeCloudRun();
  await fake.listen();
  return fake;
}
