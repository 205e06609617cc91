// Shared plumbing of the fake Google servers: a grpc-js server on 127.0.0.1 with insecure
// credentials, per-method fault injection (failures, latency), call records and call events.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';

/** An error a handler throws to answer with a gRPC status. */
export class GrpcFault extends Error {
  readonly code: grpc.status;
  constructor(code: grpc.status, message: string) {
    super(message);
    this.code = code;
  }
}

export interface CallRecord {
  readonly method: string;
  readonly at: number;
  readonly request: unknown;
  /** The status code answered (0 = OK). */
  code: grpc.status;
}

type Handler = (request: any) => unknown | Promise<unknown>;

export class FakeGrpcServer {
  readonly server = new grpc.Server();
  readonly events = new EventEmitter();
  readonly calls: CallRecord[] = [];
  #failures = new Map<string, Array<{ code: grpc.status; message: string }>>();
  #delays = new Map<string, number>();
  #after = new Map<string, Array<() => void>>();
  #before = new Map<string, Array<() => void>>();
  #port = 0;

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  /** The next `times` calls of `method` (e.g. 'UpdateService') fail with `code`. */
  failNext(method: string, code: grpc.status, times = 1, message?: string): void {
    const queue = this.#failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push({ code, message: message ?? `injected ${grpc.status[code]} on ${method}` });
    this.#failures.set(method, queue);
  }

  /** Drops pending injected failures and delays. */
  clearFaults(): void {
    this.#failures.clear();
    this.#delays.clear();
  }

  /** Every call of `method` answers `ms` later (0 removes the delay): latency, not synchronisation. */
  delay(method: string, ms: number): void {
    this.#delays.set(method, ms);
  }

  /** Runs `fn` right after the next successful answer of `method` has been sent. */
  afterNext(method: string, fn: () => void): void {
    const list = this.#after.get(method) ?? [];
    list.push(fn);
    this.#after.set(method, list);
  }

  /**
   * Runs `fn` when the next call of `method` arrives, before it is answered: another actor's change
   * lands between the client's last read and this call, whatever the client read before it.
   */
  beforeNext(method: string, fn: () => void): void {
    const list = this.#before.get(method) ?? [];
    list.push(fn);
    this.#before.set(method, list);
  }

  callCount(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  /** Wraps a handler with recording, injected latency and failures. */
  unary(method: string, impl: Handler): grpc.handleUnaryCall<any, any> {
    return (call, callback) => {
      const record: CallRecord = { method, at: Date.now(), request: call.request, code: grpc.status.OK };
      this.calls.push(record);
      void (async () => {
        const ms = this.#delays.get(method) ?? 0;
        if (ms > 0) await sleep(ms);
        this.#before.get(method)?.shift()?.();
        const injected = this.#failures.get(method)?.shift();
        if (injected) throw new GrpcFault(injected.code, injected.message);
        return impl(call.request);
      })().then(
        (response) => {
          callback(null, response);
          this.events.emit('call', record);
          const after = this.#after.get(method)?.shift();
          after?.();
        },
        (error: unknown) => {
          const code = error instanceof GrpcFault ? error.code : grpc.status.INTERNAL;
          record.code = code;
          callback({ code, details: error instanceof Error ? error.message : String(error) } as grpc.ServiceError);
          this.events.emit('call', record);
        },
      );
    };
  }

  async listen(): Promise<void> {
    this.#port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      );
    });
  }

  /** Stops at once: tests close their clients first; a delayed call must not hold the suite. */
  async close(): Promise<void> {
    this.server.forceShutdown();
  }
}

/** A short deterministic-enough unique id for operation names and etags. */
let counter = 0;
export function nextId(prefix: string): string {
  counter += 1;
  return `${prefix}${counter.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export function toTimestamp(ms: number): { seconds: string; nanos: number } {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

export function fromTimestamp(ts: { seconds?: string | number; nanos?: number } | null | undefined): number | undefined {
  if (!ts) return undefined;
  return Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1_000_000);
}
