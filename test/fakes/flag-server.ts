// A small local feature-flag HTTP API (seed 003's ${FEATURE_FLAG_API}/flags/<name>): GET answers
// the flag's JSON document, POST replaces it. Faults are injected per method; requests recorded.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface FlagRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: string;
  readonly at: number;
}

/** A POST that changed a flag (refused and ignored writes are not here). */
export interface FlagWrite {
  readonly name: string;
  readonly document: unknown;
  readonly at: number;
}

type Method = 'GET' | 'POST';

interface Fault {
  status: number;
  body: string;
}

export interface FakeFlagServer {
  /** e.g. http://127.0.0.1:PORT */
  readonly url: string;
  readonly requests: FlagRequest[];
  /** Every write that changed a flag, in order. */
  readonly writes: FlagWrite[];
  readonly events: EventEmitter;
  /** The stored JSON document of a flag (undefined when never set). */
  flag(name: string): unknown;
  setFlag(name: string, document: unknown): void;
  /** Requests must carry `Authorization: Bearer <token>` (401 otherwise). */
  requireToken(token: string): void;
  /** The next `times` requests of `method` answer `status` (body may echo the request's headers: "{authorization}"). */
  failNext(method: Method, status: number, times?: number, body?: string): void;
  /** The next `times` requests of `method` get no answer at all (the client must time out). */
  hangNext(method: Method, times?: number): void;
  /** The next `times` POSTs answer 200 but change nothing. */
  ignoreWrites(times?: number): void;
  count(method: Method): number;
  /** Drops pending failures, hangs and ignored writes. */
  clearFaults(): void;
  close(): Promise<void>;
}

export async function startFakeFlagServer(): Promise<FakeFlagServer> {
  const flags = new Map<string, unknown>();
  const requests: FlagRequest[] = [];
  const writes: FlagWrite[] = [];
  const events = new EventEmitter();
  const faults: Record<Method, Fault[]> = { GET: [], POST: [] };
  const hangs: Record<Method, number> = { GET: 0, POST: 0 };
  let ignoredWrites = 0;
  let token: string | undefined;

  const send = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const method = (req.method ?? 'GET') as Method;
    const path = new URL(req.url ?? '/', 'http://flags').pathname;
    const record: FlagRequest = { method, path, authorization: req.headers.authorization, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
    requests.push(record);
    events.emit('request', record);
    if (hangs[method] > 0) {
      hangs[method] -= 1;
      return; // never answered; the client's timeout ends it
    }
    const fault = faults[method].shift();
    if (fault) return send(res, fault.status, fault.body.replaceAll('{authorization}', record.authorization ?? ''));
    if (token !== undefined && record.authorization !== `Bearer ${token}`) return send(res, 401, '{"error":"invalid token"}');
    const match = /^\/flags\/([\w.-]+)$/.exec(path);
    if (!match) return send(res, 404, '{"error":"no such flag"}');
    const name = match[1]!;
    if (method === 'GET') {
      if (!flags.has(name)) return send(res, 404, '{"error":"no such flag"}');
      return send(res, 200, JSON.stringify(flags.get(name)));
    }
    if (method === 'POST') {
      let document: unknown;
      try {
        document = JSON.parse(record.body);
      } catch {
        return send(res, 400, '{"error":"body is not JSON"}');
      }
      if (ignoredWrites > 0) ignoredWrites -= 1;
      else {
        flags.set(name, document);
        writes.push({ name, document, at: Date.now() });
      }
      return send(res, 200, JSON.stringify(document));
    }
    return send(res, 405, '{"error":"method not allowed"}');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, JSON.stringify({ error: String(error) })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    writes,
    events,
    flag: (name) => flags.get(name),
    setFlag: (name, document) => {
      flags.set(name, document);
      writes.push({ name, document, at: Date.now() });
    },
    requireToken: (value) => void (token = value),
    failNext(method, status, times = 1, body = '{"error":"injected"}') {
      for (let i = 0; i < times; i++) faults[method].push({ status, body });
    },
    hangNext(method, times = 1) {
      hangs[method] += times;
    },
    ignoreWrites(times = 1) {
      ignoredWrites += times;
    },
    count: (method) => requests.filter((r) => r.method === method).length,
    clearFaults() {
      faults.GET.length = 0;
      faults.POST.length = 0;
      hangs.GET = 0;
      hangs.POST = 0;
      ignoredWrites = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
