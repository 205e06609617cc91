// The HTTP side of the bot: Bolt (HTTP mode: Slack's requests at /slack/events, signatures and
// timestamps checked by Bolt; or Socket Mode) with the operator's routes on the same port: the
// probes /healthz and /readyz, /metrics, and the queue dashboard when it is on. A process without
// a Slack receiver (ROLE=worker) serves the same operator routes from a small server of its own.
//
// It listens before anything else is up: Bolt never calls auth.test itself here (its `authorize`
// answers with the identity main.ts learns from auth.test, retried in the background), so
// /healthz answers while Slack or Redis cannot be reached. Every Slack request gets an answer, even
// one no listener takes (./unanswered.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPReceiver, SocketModeReceiver, type App, type CustomRoute, type Logger as BoltLogger, type webApi } from '@slack/bolt';
import type { Logger } from '../log.ts';
import { AnsweringApp, processEventErrorHandler, refuseUnreadableBodies, unhandledRequestHandler } from './unanswered.ts';

/** A route of the operator's: an exact path, or (`prefix`) a path and everything under it. */
export interface Route {
  readonly path: string;
  readonly prefix?: boolean;
  readonly methods: readonly string[];
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface Identity {
  readonly botId: string;
  readonly botUserId: string;
}

export interface SlackAppOptions {
  readonly botToken: string;
  readonly signingSecret: string;
  readonly appToken: string | null;
  readonly port: number;
  /** The bot's identity once Slack's auth.test has answered; null until then. */
  readonly identity: () => Identity | null;
  readonly clientOptions: webApi.WebClientOptions;
  readonly logger: BoltLogger;
  /** The bot's log: requests turned away or refused, each once, by their shape. */
  readonly log: Logger;
  readonly routes: readonly Route[];
}

export interface SlackApp {
  readonly app: App;
  /** Starts listening; resolves with the HTTP port (in Socket Mode, the probes' port) once it listens. */
  start(): Promise<number>;
  stop(): Promise<void>;
}

export function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body.endsWith('\n') ? body : `${body}\n`);
}

/** /healthz: the process is up and serving. /readyz: 200 when `readiness` finds nothing missing, else 503 and what is. */
export function probes(readiness: () => Promise<string | null>): Route[] {
  return [
    { path: '/healthz', methods: ['GET'], handler: (_req, res) => send(res, 200, 'ok') },
    {
      path: '/readyz',
      methods: ['GET'],
      handler: (_req, res) => {
        readiness().then(
          (problem) => send(res, problem ? 503 : 200, problem ?? 'ready'),
          () => send(res, 503, 'readiness check failed'),
        );
      },
    },
  ];
}

const boltRoute = (route: Route): CustomRoute => ({
  // Bolt matches paths with path-to-regexp 8: `{/*rest}` is "and anything below".
  path: route.prefix ? `${route.path}{/*rest}` : route.path,
  method: [...route.methods],
  handler: route.handler,
});

export function createSlackApp(options: SlackAppOptions): SlackApp {
  const customRoutes = options.routes.map(boltRoute);
  const authorize = async () => {
    const id = options.identity();
    return { botToken: options.botToken, ...(id ? { botId: id.botId, botUserId: id.botUserId } : {}) };
  };
  // No conversation store: the bot keeps nothing per conversation in Bolt (its state is in Redis),
  // and Bolt's default in-memory one costs every request a lookup.
  const common = { authorize, logger: options.logger, clientOptions: options.clientOptions, convoStore: false as const };
  if (options.appToken) {
    // Socket Mode: no public URL; the operator's routes get a small HTTP server of their own on PORT,
    // which listens before the socket connects.
    const receiver = new SocketModeReceiver({
      appToken: options.appToken,
      logger: options.logger,
      customRoutes,
      installerOptions: { port: options.port, clientOptions: options.clientOptions },
    });
    const app = new AnsweringApp({ ...common, receiver }, options.log);
    let connecting: Promise<unknown> | undefined;
    return {
      app,
      start: async () => {
        connecting = app.start().catch((error: unknown) => options.logger.error(`Socket Mode could not connect: ${error instanceof Error ? error.message : String(error)}`));
        return options.port;
      },
      stop: async () => {
        await connecting;
        await app.stop();
      },
    };
  }
  // Bolt's HTTPReceiver verifies every request's signature and refuses timestamps older than five minutes.
  const receiver = new HTTPReceiver({
    signingSecret: options.signingSecret,
    customRoutes,
    logger: options.logger,
    processEventErrorHandler: processEventErrorHandler(options.log),
    unhandledRequestHandler: unhandledRequestHandler(options.log),
  });
  refuseUnreadableBodies(receiver, options.signingSecret, options.log);
  const app = new AnsweringApp({ ...common, receiver }, options.log);
  // Errors reach processEventErrorHandler, which answers and logs each once (Bolt's own handler logs them too).
  app.error(async (error) => {
    throw error;
  });
  let server: Server | undefined;
  return {
    app,
    start: async () => {
      server = (await app.start(options.port)) as Server;
      return (server.address() as AddressInfo).port;
    },
    stop: async () => {
      // Keep-alive connections would hold the close open.
      server?.closeIdleConnections();
      await app.stop();
    },
  };
}

/** The operator's routes alone, for a process with no Slack receiver. Anything else is 404. */
export async function serveRoutes(routes: readonly Route[], port: number): Promise<{ readonly port: number; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = routes.find((r) => (r.prefix ? path === r.path || path.startsWith(`${r.path}/`) : path === r.path) && r.methods.includes(req.method ?? ''));
    if (!route) return send(res, 404, 'not found');
    route.handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
