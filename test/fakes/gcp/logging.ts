// A fake Cloud Logging API (LoggingServiceV2/ListLogEntries) over gRPC, built from the protos in
// @google-cloud/logging-api: entries inserted by tests, filtered with the query-language subset
// in logging-filter.ts, ordered and paged like the real API; every request is recorded.
import * as grpc from '@grpc/grpc-js';
import { FakeGrpcServer, GrpcFault, toTimestamp } from './grpc-server.ts';
import { FilterSyntaxError, matches, parseFilter } from './logging-filter.ts';
import { loadProtos, protoRoots, serviceDefinition } from './protos.ts';

/** An entry as tests write it: the field names the filter language uses (camelCase). */
export interface FakeLogEntry {
  /** RFC3339 string or ms since epoch. */
  timestamp: string | number;
  severity?: string;
  logName?: string;
  resource?: { type: string; labels?: Record<string, string> };
  labels?: Record<string, string>;
  jsonPayload?: Record<string, unknown>;
  textPayload?: string;
  httpRequest?: { status?: number; requestMethod?: string; requestUrl?: string };
  insertId?: string;
}

export interface ListRequestRecord {
  readonly at: number;
  readonly resource_names: readonly string[];
  readonly filter: string;
  readonly order_by: string;
  readonly page_size: number;
  readonly page_token: string;
}

/** The real API's default and maximum page size. */
const MAX_PAGE_SIZE = 1000;

interface Normalized extends Omit<FakeLogEntry, 'timestamp'> {
  timestamp: string;
  insertId: string;
}

export class FakeLogging extends FakeGrpcServer {
  readonly requests: ListRequestRecord[] = [];
  #entries: Normalized[] = [];
  #source: (() => Iterable<FakeLogEntry>) | undefined;
  #inserted = 0;

  constructor() {
    super();
    const { grpcObject } = loadProtos(protoRoots().logging, ['google/logging/v2/logging.proto']);
    this.server.addService(serviceDefinition(grpcObject, 'google.logging.v2.LoggingServiceV2'), {
      ListLogEntries: this.unary('ListLogEntries', (req: ListRequestRecord) => this.#list(req)),
    });
  }

  addEntries(entries: readonly FakeLogEntry[]): void {
    for (const entry of entries) this.#entries.push(this.#normalize(entry));
  }

  /** Entries come from `source` on every request instead (e.g. thousands generated lazily). */
  entriesFrom(source: () => Iterable<FakeLogEntry>): void {
    this.#source = source;
  }

  clear(): void {
    this.#entries = [];
    this.#source = undefined;
    this.requests.length = 0;
  }

  #normalize(entry: FakeLogEntry): Normalized {
    this.#inserted += 1;
    const timestamp = new Date(entry.timestamp).toISOString();
    return { ...entry, timestamp, severity: entry.severity ?? 'DEFAULT', insertId: entry.insertId ?? `i${this.#inserted}` };
  }

  #list(req: ListRequestRecord): object {
    this.requests.push({ ...req, at: Date.now() });
    if (req.resource_names.length === 0) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'resource_names is required');
    let filter;
    try {
      filter = parseFilter(req.filter);
    } catch (error) {
      if (error instanceof FilterSyntaxError) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, `Invalid filter: ${error.message}`);
      throw error;
    }
    const all = this.#source ? [...this.#source()].map((e) => this.#normalize(e)) : this.#entries;
    const selected = all.filter((entry) => matches(filter, entry));
    const descending = /timestamp\s+desc/i.test(req.order_by);
    selected.sort((a, b) => (descending ? -1 : 1) * (Date.parse(a.timestamp) - Date.parse(b.timestamp)));
    const offset = req.page_token ? Number(/^offset-(\d+)$/.exec(req.page_token)?.[1] ?? Number.NaN) : 0;
    if (Number.isNaN(offset)) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'Invalid page token');
    const size = req.page_size > 0 ? Math.min(req.page_size, MAX_PAGE_SIZE) : MAX_PAGE_SIZE;
    const page = selected.slice(offset, offset + size);
    const next = offset + size < selected.length ? `offset-${offset + size}` : '';
    return { entries: page.map(toWire), next_page_token: next };
  }
}

function toStructValue(value: unknown): object {
  // protobufjs bundles google.protobuf.Struct/Value: their fields stay camelCase even with keepCase.
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toStructValue) } };
  return { structValue: toStruct(value as Record<string, unknown>) };
}

function toStruct(object: Record<string, unknown>): object {
  return { fields: Object.fromEntries(Object.entries(object).map(([k, v]) => [k, toStructValue(v)])) };
}

function toWire(entry: Normalized): object {
  return {
    log_name: entry.logName ?? 'projects/p/logs/run.googleapis.com%2Fstdout',
    resource: { type: entry.resource?.type ?? 'global', labels: entry.resource?.labels ?? {} },
    timestamp: toTimestamp(Date.parse(entry.timestamp)),
    severity: entry.severity ?? 'DEFAULT',
    insert_id: entry.insertId,
    labels: entry.labels ?? {},
    ...(entry.httpRequest
      ? {
          http_request: {
            status: entry.httpRequest.status ?? 0,
            request_method: entry.httpRequest.requestMethod ?? '',
            request_url: entry.httpRequest.requestUrl ?? '',
          },
        }
      : {}),
    ...(entry.jsonPayload ? { json_payload: toStruct(entry.jsonPayload) } : {}),
    ...(entry.textPayload !== undefined ? { text_payload: entry.textPayload } : {}),
  };
}

export async function startFakeLogging(): Promise<FakeLogging> {
  const fake = new FakeLogging();
  await fake.listen();
  return fake;
}
