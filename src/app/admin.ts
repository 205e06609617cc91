// The queue dashboard (bull-board) at /admin/queues, for the people who run the bot. Off unless
// ADMIN_PASSWORD is set: then every request needs HTTP basic auth (user `admin`), compared in
// constant time; read-only unless ADMIN_QUEUES_WRITE=true (bull-board's readOnlyMode, which its
// API enforces too: a retry or a pause on a read-only queue answers 405).
//
// The adapter is @bull-board/express: its router is an express app, and an express app is a plain
// node `(req, res)` handler, which is what a custom route of Bolt's HTTPReceiver (and the worker's
// own small server) hands over; no express server of our own, and express is already in the tree
// through Bolt. (The hono or h3 adapters would need a bridge from node's request to a fetch Request.)
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import { QUEUE } from '../../jobs/queues.ts';
import type { Runtime } from './runtime.ts';

export const ADMIN_PATH = '/admin/queues';
const USER = 'admin';

export interface AdminOptions {
  readonly password: string;
  /** Retries, removals, pauses allowed; otherwise the dashboard only shows. */
  readonly write: boolean;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Basic auth, user `admin`: hashed first so the comparison takes the same time whatever the lengths. */
function authorised(header: string | undefined, password: string): boolean {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), digest(USER));
  const passwordOk = timingSafeEqual(digest(decoded.slice(colon + 1)), digest(password));
  return userOk && passwordOk;
}

/**
 * The handler of every request under /admin/queues. The board is built once the runtime is up
 * (its queues live in Redis); until then an authorised request is told to wait.
 */
export function adminHandler(options: AdminOptions, runtime: () => Runtime | null): (req: IncomingMessage, res: ServerResponse) => void {
  let board: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const build = (r: Runtime) => {
    const adapter = new ExpressAdapter();
    adapter.setBasePath(ADMIN_PATH);
    // On the store's fail-fast connection: a dashboard open while Redis is away errors at once.
    const queues = Object.values(QUEUE).map((name) => new Queue(name, { connection: r.redis, prefix: `${r.store.prefix}:bull` }));
    createBullBoard({
      queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: !options.write })),
      serverAdapter: adapter,
      options: { uiConfig: { boardTitle: options.write ? 'cutover-bot queues' : 'cutover-bot queues (read-only)' } },
    });
    return adapter.getRouter() as unknown as (req: IncomingMessage, res: ServerResponse) => void;
  };
  return (req, res) => {
    if (!authorised(req.headers.authorization, options.password)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="cutover-bot queues", charset="UTF-8"', 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end('authentication required\n');
      return;
    }
    const r = runtime();
    if (!r) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' });
      res.end('starting: Redis has not answered yet\n');
      return;
    }
    board ??= build(r);
    // The board's routes are relative to where it is mounted.
    req.url = req.url!.slice(ADMIN_PATH.length) || '/';
    res.setHeader('cache-control', 'no-store');
    board(req, res);
  };
}
