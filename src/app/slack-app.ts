// The Bolt app: HTTP mode (Slack's requests at /slack/events, signatures and timestamps checked
// by Bolt) or Socket Mode, with the probes /healthz and /readyz served on the same port. Every
// request gets an answer, even one no listener takes (./unanswered.ts).
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPReceiver, SocketModeReceiver, type App, type CustomRoute, type Logger as BoltLogger, type webApi } from '@slack/bolt';
import type { Logger } from '../log.ts';
import { AnsweringApp, processEventErrorHandler, refuseUnreadableBodies, unhandledRequestHandler } from './unanswered.ts';

export interface SlackAppOptions {
  readonly botToken: string;
  readonly signingSecret: string;
  readonly appToken: string | null;
  readonly port: number;
  /** From auth.test: given, Bolt does not call auth.test again. */
  readonly identity: { readonly botId?: string | undefined; readonly botUserId?: string | undefined };
  readonly clientOptions: webApi.WebClientOptions;
  readonly logger: BoltLogger;
  /** The bot's log: requests turned away or refused, each once, by their shape. */
  readonly log: Logger;
  /** null when ready; otherwise why not (answered on /readyz with 503). */
  readonly readiness: () => Promise<string | null>;
}

export interface SlackApp {
  readonly app: App;
  /** Starts listening; resolves with the HTTP port (in Socket Mode, the probes' port). */
  start(): Promise<number>;
  stop(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${body}\n`);
}

function probes(readiness: () => Promise<string | null>): CustomRoute[] {
  return [
    { path: '/healthz', method: ['GET'], handler: (_req, res) => send(res, 200, 'ok') },
    {
      path: '/readyz',
      method: ['GET'],
      handler: (_req, res) => {
        readiness().then(
          (problem) => send(res, problem ? 503 : 200, problem ?? 'ready'),
          () => send(res, 503, 'readiness check failed'),
        );
      },
    },
  ];
}

export function createSlackApp(options: SlackAppOptions): SlackApp {
  const customRoutes = probes(options.readiness);
  const { botId, botUserId } = options.identity;
  const common = {
    token: options.botToken,
    ...(botId && botUserId ? { botId, botUserId } : {}),
    logger: options.logger,
    clientOptions: options.clientOptions,
  };
  if (options.appToken) {
    // Socket Mode: no public URL; the probes get a small HTTP server of their own on PORT.
    const receiver = new SocketModeReceiver({
      appToken: options.appToken,
      logger: options.logger,
      customRoutes,
      installerOptions: { port: options.port, clientOptions: options.clientOptions },
    });
    const app = new AnsweringApp({ ...common, receiver }, options.log);
    return {
      app,
      start: async () => {
        await app.start();
        return options.port;
      },
      stop: async () => {
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
  return {
    app,
    start: async () => {
      const server = (await app.start(options.port)) as Server;
      return (server.address() as AddressInfo).port;
    },
    stop: async () => {
      await app.stop();
    },
  };
}
