// A local fake of Slack's Web API for end-to-end tests: the real WebClient (and Bolt's
// `client`, `respond()`) talk HTTP to it. It answers like Slack (HTTP 200 `{ok, ...}`), checks
// Block Kit limits, models the channel, and can inject rate limits and errors.
// Waiting is event-driven: `waitFor` re-checks its predicate on every recorded request.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { checkMessage } from './block-kit.ts';
import { METHODS, blocked, fail, type MethodContext } from './slack-methods.ts';
import {
  SlackModel,
  type FakeEphemeral,
  type FakeFault,
  type FakeFile,
  type FakeMessage,
  type FakeView,
  type FakeResponse,
  type Json,
  type RecordedCall,
} from './slack-model.ts';

export { checkBlocks, checkMessage, checkView, validateBlocks, LIMITS } from './block-kit.ts';
export type * from './slack-model.ts';

/** `method` names under which the two non-API endpoints are recorded and faulted. */
export const UPLOAD = 'upload';
export const RESPONSE_URL = 'response_url';

export interface FakeSlackOptions {
  /** The only accepted bot token. Default `xoxb-test-token`. */
  token?: string;
  botUserId?: string;
  botId?: string;
  teamId?: string;
  /** usergroups.users.list: subteam id → member user ids. */
  usergroups?: Record<string, string[]>;
  /** id → name. When given, other channel ids are `channel_not_found`; by default any id exists. */
  channels?: Record<string, string>;
  /** Replies a response_url accepts (Slack: 5 within 30 min); later ones get HTTP 404 `used_url`. */
  responseUrlMaxUses?: number;
  /** Listen on this port (Slack coming back where a bot expects it); default a free one. */
  port?: number;
}

export interface WaitForOptions {
  /** Default 5,000 ms. */
  timeoutMs?: number;
}

type Reply = { status: number; json?: unknown; text?: string; headers?: Record<string, string> };
type Route = { kind: 'api'; method: string } | { kind: 'upload'; fileId: string } | { kind: 'response'; id: string };

const JSON_FIELDS = ['blocks', 'attachments', 'files', 'metadata'] as const;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'authorization' || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Form, JSON or multipart → object; JSON-string fields the WebClient form-encodes are decoded. */
async function parseBody(raw: Buffer, contentType: string): Promise<{ body: Json; file?: Buffer } | 'invalid_json'> {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  let body: Json = {};
  let file: Buffer | undefined;
  if (type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8') || '{}');
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'invalid_json';
      body = parsed as Json;
    } catch {
      return 'invalid_json';
    }
  } else if (type === 'application/x-www-form-urlencoded') {
    body = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  } else if (type === 'multipart/form-data') {
    // The fetch Response parses multipart for us; no extra dependency.
    const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
    for (const [key, value] of form) {
      if (typeof value === 'string') body[key] = value;
      else file ??= Buffer.from(await value.arrayBuffer());
    }
  } else {
    return { body: {}, file: raw };
  }
  for (const key of JSON_FIELDS) {
    const value = body[key];
    if (typeof value !== 'string') continue;
    try {
      body[key] = JSON.parse(value);
    } catch {
      // Left as a string: the method reports it (e.g. invalid_blocks_format).
    }
  }
  return file === undefined ? { body } : { body, file };
}

function route(pathname: string): Route | undefined {
  const api = /^\/api\/([\w.]+)$/.exec(pathname);
  if (api?.[1]) return { kind: 'api', method: api[1] };
  const upload = /^\/upload\/(\w+)$/.exec(pathname);
  if (upload?.[1]) return { kind: 'upload', fileId: upload[1] };
  const response = /^\/response\/([\w-]+)$/.exec(pathname);
  if (response?.[1]) return { kind: 'response', id: response[1] };
  return undefined;
}

function faultReply(fault: FakeFault): Reply {
  if ('error' in fault) return { status: 200, json: fail(fault.error, fault.extra) };
  if (fault.status === 429) {
    // Slack's shape: HTTP 429, Retry-After in seconds; the WebClient sleeps that long, then retries.
    return { status: 429, json: fail('ratelimited'), headers: { 'retry-after': String(fault.retryAfter ?? 1) } };
  }
  return { status: fault.status, text: fault.body ?? 'fake server error' };
}

export class FakeSlack {
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly baseUrl: string;
  /** For `new WebClient(token, { slackApiUrl })` / Bolt `clientOptions.slackApiUrl` (trailing slash). */
  readonly apiUrl: string;
  readonly token: string;
  private readonly server: Server;
  private readonly model = new SlackModel();
  private readonly events = new EventEmitter();
  private readonly faults = new Map<string, FakeFault[]>();
  private readonly ctx: MethodContext;
  private readonly responseUrlMaxUses: number;
  private latencyMs = 0;
  private responseSeq = 0;

  constructor(server: Server, options: FakeSlackOptions) {
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.baseUrl = `http://127.0.0.1:${this.port}`;
    this.apiUrl = `${this.baseUrl}/api/`;
    this.token = options.token ?? 'xoxb-test-token';
    this.responseUrlMaxUses = options.responseUrlMaxUses ?? 5;
    this.ctx = {
      model: this.model,
      botUserId: options.botUserId ?? 'U0BOT',
      botId: options.botId ?? 'B1',
      teamId: options.teamId ?? 'T0FAKE',
      usergroups: options.usergroups ?? {},
      channels: options.channels,
      baseUrl: this.baseUrl,
    };
    this.events.setMaxListeners(0); // many concurrent waitFor calls are fine
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake slack crashed: ${String(error)}`);
      });
    });
  }

  // ---- recorded state ------------------------------------------------------------------------

  get calls(): readonly RecordedCall[] {
    return this.model.calls;
  }

  /** Every message posted (top-level, replies, file shares), in order, as currently edited. */
  get messages(): readonly FakeMessage[] {
    return this.model.messages;
  }

  get ephemerals(): readonly FakeEphemeral[] {
    return this.model.ephemerals;
  }

  get files(): readonly FakeFile[] {
    return this.model.files;
  }

  callsTo(method: string): RecordedCall[] {
    return this.model.calls.filter((c) => c.method === method);
  }

  channelMessages(channel: string): FakeMessage[] {
    return this.model.channelMessages(channel);
  }

  thread(channel: string, ts: string): FakeMessage[] {
    return this.model.thread(channel, ts);
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.model.message(channel, ts);
  }

  responses(id?: string): FakeResponse[] {
    return this.model.responses(id);
  }

  file(id: string): FakeFile | undefined {
    return this.model.file(id);
  }

  /** The Home view last published for `user`. */
  home(user: string): Json | undefined {
    return this.model.homes.get(user);
  }

  /** Modals opened (views.open) and as last updated, oldest first. */
  get views(): FakeView[] {
    return [...this.model.views.values()];
  }

  /** A response_url to put in a request payload; replies to it are kept under `id`. */
  responseUrl(id?: string): string {
    this.responseSeq += 1;
    return `${this.baseUrl}/response/${id ?? `r${this.responseSeq}`}`;
  }

  // ---- steering ------------------------------------------------------------------------------

  /** The next `times` requests to `method` (or '*' for any) get `fault` instead of an answer. */
  failNext(method: string, fault: FakeFault, times = 1): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(fault);
    this.faults.set(method, queue);
  }

  /** Delay every answer by `ms` (simulated network latency). */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Forget calls, messages, files, replies, faults and latency. ts and ids keep increasing. */
  reset(): void {
    this.model.reset();
    this.faults.clear();
    this.latencyMs = 0;
  }

  /**
   * Resolves with the first value of `predicate(fake)` that is not undefined/null/false, checking
   * now and after every recorded request. Rejects on timeout with the last calls in the message.
   */
  waitFor<T>(predicate: (fake: FakeSlack) => T | undefined | null | false, options: WaitForOptions = {}): Promise<Exclude<T, undefined | null | false>> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.events.off('change', check);
        this.events.off('close', onClose);
      };
      const check = (): void => {
        let value: T | undefined | null | false;
        try {
          value = predicate(this);
        } catch (error) {
          cleanup();
          reject(error);
          return;
        }
        if (value === undefined || value === null || value === false) return;
        cleanup();
        resolve(value as Exclude<T, undefined | null | false>);
      };
      const onClose = (): void => {
        cleanup();
        reject(new Error(`fake Slack closed while waiting${this.recentCalls()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake Slack: waitFor timed out after ${timeoutMs} ms${this.recentCalls()}`));
      }, timeoutMs);
      this.events.on('change', check);
      this.events.on('close', onClose);
      check();
    });
  }

  async close(): Promise<void> {
    this.events.emit('close');
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Keep-alive sockets from fetch would otherwise hold close() open.
    this.server.closeAllConnections();
    await closed;
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private recentCalls(count = 5): string {
    const last = this.model.calls.slice(-count);
    if (last.length === 0) return '; no calls recorded';
    const lines = last.map((c) => {
      const outcome = typeof c.response === 'object' && c.response !== null && 'error' in c.response ? `error=${String(c.response.error)}` : 'ok';
      return `  ${c.method} → ${c.status} ${outcome} ${JSON.stringify(c.body).slice(0, 200)}`;
    });
    return `; last ${last.length} of ${this.model.calls.length} calls:\n${lines.join('\n')}`;
  }

  private takeFault(method: string): FakeFault | undefined {
    for (const key of [method, '*']) {
      const queue = this.faults.get(key);
      const fault = queue?.shift();
      if (queue?.length === 0) this.faults.delete(key);
      if (fault) return fault;
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (this.latencyMs > 0) await delay(this.latencyMs);
    const url = new URL(req.url ?? '/', this.baseUrl);
    const target = req.method === 'POST' ? route(url.pathname) : undefined;
    if (target === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`fake slack: no route for ${req.method ?? '?'} ${url.pathname}`);
      return;
    }
    const method = target.kind === 'api' ? target.method : target.kind === 'upload' ? UPLOAD : RESPONSE_URL;
    const parsed = await parseBody(raw, req.headers['content-type'] ?? '');
    const body = parsed === 'invalid_json' ? {} : parsed.body;
    const authorization = req.headers.authorization;
    const fault = this.takeFault(method);
    let reply: Reply;
    if (fault) reply = faultReply(fault);
    else if (parsed === 'invalid_json') reply = { status: target.kind === 'api' ? 200 : 400, json: fail('invalid_json') };
    else if (target.kind === 'api') reply = this.apiCall(target.method, body, authorization);
    else if (target.kind === 'upload') reply = this.upload(target.fileId, parsed.file ?? raw);
    else reply = this.respond(target.id, body);

    const call: RecordedCall = {
      method,
      body: target.kind === 'upload' ? { bytes: (parsed === 'invalid_json' ? raw : (parsed.file ?? raw)).length } : body,
      at: Date.now(),
      headers: flatHeaders(req),
      authorization,
      status: reply.status,
      response: reply.json ?? reply.text,
    };
    if (fault) call.fault = fault;
    this.model.calls.push(call);
    this.events.emit('change');

    const contentType = reply.json !== undefined ? 'application/json; charset=utf-8' : 'text/plain';
    res.writeHead(reply.status, { 'content-type': contentType, ...reply.headers });
    res.end(reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? ''));
  }

  private apiCall(method: string, body: Json, authorization: string | undefined): Reply {
    // Slack takes the token from the Authorization header or a `token` form field.
    const bearer = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined;
    const token = bearer ?? (typeof body.token === 'string' ? body.token : undefined);
    if (token === undefined || token === '') return { status: 200, json: fail('not_authed') };
    if (token !== this.token) return { status: 200, json: fail('invalid_auth') };
    const handler = METHODS[method];
    if (handler === undefined) return { status: 200, json: fail('unknown_method', { req_method: method }) };
    return { status: 200, json: handler(body, this.ctx) };
  }

  private upload(fileId: string, bytes: Buffer): Reply {
    // The upload URL is pre-signed in Slack: no token needed.
    const file = this.model.file(fileId);
    if (file === undefined) return { status: 404, text: 'file not found' };
    file.content = bytes;
    return { status: 200, text: `OK - ${bytes.length}` };
  }

  private respond(id: string, body: Json): Reply {
    const used = this.model.responseLog.filter((r) => r.id === id).length;
    if (used >= this.responseUrlMaxUses) return { status: 404, json: fail('used_url') };
    // A delete needs no content; anything else is checked like a message.
    if (body.delete_original !== true) {
      const problem = checkMessage(body);
      // Non-2xx, so Bolt's respond() throws RespondError instead of succeeding silently.
      if (problem) return { status: 400, json: blocked(problem) };
    }
    const response: FakeResponse = { id, body, at: Date.now() };
    if (typeof body.text === 'string') response.text = body.text;
    if (Array.isArray(body.blocks)) response.blocks = body.blocks;
    if (typeof body.response_type === 'string') response.response_type = body.response_type;
    if (typeof body.replace_original === 'boolean') response.replace_original = body.replace_original;
    if (typeof body.delete_original === 'boolean') response.delete_original = body.delete_original;
    this.model.responseLog.push(response);
    return { status: 200, json: { ok: true } };
  }
}

/** Starts a fake on 127.0.0.1 and a free port (or `options.port`). */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new FakeSlack(server, options);
}
