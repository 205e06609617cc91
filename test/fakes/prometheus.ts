// A local fake Prometheus HTTP API: `GET|POST /api/v1/query` with the real JSON shapes. Tests
// register what an expression evaluates to (by its exact text, whitespace-normalised) as a function
// of the evaluation time; an unregistered expression gives an empty vector, as a Prometheus that
// has no such series does. Errors as Prometheus answers them: `{"status":"error","errorType",
// "error"}` with 400 (bad_data), 422 (execution) or 503 (unavailable). Every request is recorded.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface PromSeries {
  readonly labels?: Record<string, string>;
  /** The sample's value; NaN and ±Infinity are written as Prometheus writes them. */
  readonly value: number;
}

/** What an expression is at `timeSeconds`: a vector of series, or a scalar. */
export type PromAnswer = { readonly vector: readonly PromSeries[] } | { readonly scalar: number };

export interface PromRequest {
  readonly method: string;
  readonly query: string;
  readonly time: number | undefined;
  readonly authorization: string | undefined;
  readonly at: number;
}

interface PromFault {
  readonly status: number;
  readonly errorType: string;
  readonly error: string;
  /** Not the API's JSON at all (a proxy's page, say). */
  readonly raw?: string;
}

export interface FakePrometheus {
  /** Base URL, e.g. http://127.0.0.1:PORT (the API is under /api/v1). */
  readonly url: string;
  readonly requests: PromRequest[];
  /** What `expression` evaluates to at a time (seconds since epoch). */
  define(expression: string, answer: (timeSeconds: number) => PromAnswer): void;
  /** Requests must carry `Authorization: Bearer <token>` (401, as a proxy in front would answer); undefined: none needed. */
  requireToken(token: string | undefined): void;
  /** The next `times` queries answer with this error. */
  failNext(fault: PromFault, times?: number): void;
  close(): Promise<void>;
}

const normalise = (expression: string): string => expression.replace(/\s+/g, ' ').trim();

const promNumber = (n: number): string => (Number.isNaN(n) ? 'NaN' : n === Infinity ? '+Inf' : n === -Infinity ? '-Inf' : String(n));

export async function startFakePrometheus(): Promise<FakePrometheus> {
  const definitions = new Map<string, (t: number) => PromAnswer>();
  const requests: PromRequest[] = [];
  const faults: PromFault[] = [];
  let token: string | undefined;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, errorType: string, message: string) => json(res, status, { status: 'error', errorType, error: message });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://prometheus');
    const form = new URLSearchParams(req.method === 'POST' ? Buffer.concat(chunks).toString('utf8') : url.search);
    const query = form.get('query') ?? '';
    const timeText = form.get('time');
    const time = timeText === null ? undefined : Number(timeText);
    requests.push({ method: req.method ?? 'GET', query, time, authorization: req.headers.authorization, at: Date.now() });
    if (url.pathname !== '/api/v1/query') return error(res, 404, 'not_found', `no such endpoint ${url.pathname}`);
    if (req.method !== 'GET' && req.method !== 'POST') return error(res, 405, 'bad_data', 'method not allowed');
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      return void res.end('Unauthorized\n');
    }
    const fault = faults.shift();
    if (fault) {
      if (fault.raw !== undefined) {
        res.writeHead(fault.status, { 'content-type': 'text/html' });
        return void res.end(fault.raw);
      }
      return error(res, fault.status, fault.errorType, fault.error);
    }
    if (!query) return error(res, 400, 'bad_data', 'invalid parameter "query": 1:1: parse error: no expression found in input');
    if (timeText !== null && !Number.isFinite(time)) return error(res, 400, 'bad_data', `invalid parameter "time": cannot parse "${timeText}" to a valid timestamp`);
    const at = time ?? Date.now() / 1000;
    const define = definitions.get(normalise(query));
    const answer: PromAnswer = define ? define(at) : { vector: [] };
    if ('scalar' in answer) return json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [at, promNumber(answer.scalar)] } });
    return json(res, 200, {
      status: 'success',
      data: { resultType: 'vector', result: answer.vector.map((s) => ({ metric: s.labels ?? {}, value: [at, promNumber(s.value)] })) },
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => error(res, 500, 'internal', String(e)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the fake Prometheus has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    define: (expression, answer) => void definitions.set(normalise(expression), answer),
    requireToken: (t) => void (token = t),
    failNext: (fault, times = 1) => {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
