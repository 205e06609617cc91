// Every signed request gets a fast answer: 200 (acked) or a 4xx, never a 500, never Bolt's 404
// after its 3 s ack deadline, never an open socket. Three places, in the order a request meets them:
//
// 1. Before Bolt parses a request to /slack/events (`refuseUnreadableBodies`): a signed body that
//    is not a JSON object (`payload=null`, a number, a string, not JSON) is refused with 400. Bolt
//    5.1 cannot answer these: on `null` its receiver throws reading `body.ssl_check`, out of reach
//    of every hook, and never answers. The signature is checked first with Bolt's own function,
//    and anything unsigned goes on to Bolt, which refuses it (401) as before.
// 2. The App (`AnsweringApp.processEvent`): a request Bolt cannot type, or one the listeners could
//    not read (commands/unrouted.ts), is turned away before them; one no listener acked (a button
//    from an older version of the bot) is turned away after them. Both are acked (200).
// 3. The receiver's hooks: an error before the ack (Bolt choking on a field, or a listener failing)
//    is answered 400 by `processEventErrorHandler`; `unhandledRequestHandler`, for a listener still
//    busy at 3 s (Slack has given up by then), answers as Bolt does but names the request in the log.
//
// Each is logged once, by its shape (commands/unrouted.ts), never with the payload's values.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  App,
  ErrorCode,
  HTTPModuleFunctions,
  defaultBodyLimit,
  isRawBodyError,
  isValidSlackRequest,
  type AppOptions,
  type HTTPReceiver,
  type ReceiverEvent,
  type ReceiverProcessEventErrorHandlerArgs,
  type ReceiverUnhandledRequestHandlerArgs,
} from '@slack/bolt';
// Bolt's own rule for what kind of request a body is (not re-exported by the package): a body it
// cannot type reaches no listener and is never acked.
import { getTypeAndConversation } from '@slack/bolt/dist/helpers.js';
import { shapeOf, turnAway, unreadable } from '../../commands/unrouted.ts';
import type { Logger } from '../log.ts';

/** The parsed body of each request to the endpoint, for the hooks' log lines. */
const bodies = new WeakMap<IncomingMessage, unknown>();

const ENDPOINT = '/slack/events';

/** Bolt's App, answering whatever its listeners do not. */
export class AnsweringApp extends App {
  readonly #log: Logger;

  constructor(options: AppOptions, log: Logger) {
    super(options);
    this.#log = log;
  }

  override async processEvent(event: ReceiverEvent): Promise<void> {
    let acked = false;
    const ack = async (response?: unknown): Promise<void> => {
      acked = true;
      await event.ack(response);
    };
    const deps = { log: this.#log, client: this.client };
    const why = unreadable(event.body) ?? (typed(event.body) ? null : 'not a kind of request Bolt knows');
    if (why) return turnAway(event.body, ack, why, deps);
    await super.processEvent({ ...event, ack });
    if (!acked) await turnAway(event.body, ack, 'no listener takes it', deps);
  }
}

/** Whether Bolt can tell what kind of request this is; a body it fails on goes on, to fail in Bolt and reach processEventErrorHandler. */
function typed(body: unknown): boolean {
  try {
    return getTypeAndConversation(body).type !== undefined;
  } catch {
    return true;
  }
}

function refuse(res: ServerResponse, status: number, log: Logger, shape: Record<string, unknown>, why: string): void {
  log.warn({ ...shape, status, why }, 'refused a request Bolt cannot read');
  res.writeHead(status);
  res.end();
}

function isEndpoint(req: IncomingMessage): boolean {
  try {
    return req.method?.toUpperCase() === 'POST' && new URL(req.url ?? '', 'http://localhost').pathname === ENDPOINT;
  } catch {
    return false;
  }
}

/** Signed as Bolt checks it: anything else goes on to Bolt, which refuses it and says why. */
function signed(req: IncomingMessage, rawBody: Buffer, signingSecret: string): boolean {
  const signature = req.headers['x-slack-signature'];
  const timestamp = req.headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || typeof timestamp !== 'string') return false;
  return isValidSlackRequest({ signingSecret, body: rawBody.toString(), headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(timestamp) } });
}

/**
 * Answers a request to the endpoint that Bolt could not; true when it did. A readable body goes on
 * to Bolt, which checks its signature; the signature is checked here only for a body Bolt could not
 * read (a signed one is refused 400 with a reason, an unsigned one goes on to Bolt's 401), so that
 * the common request pays for one HMAC, not two.
 */
async function screen(req: IncomingMessage, res: ServerResponse, signingSecret: string, log: Logger): Promise<boolean> {
  let buffered: Awaited<ReturnType<typeof HTTPModuleFunctions.bufferIncomingMessage>>;
  try {
    // Bolt reads the body from here on instead of the stream.
    buffered = await HTTPModuleFunctions.bufferIncomingMessage(req, defaultBodyLimit);
  } catch (error) {
    const tooLarge = isRawBodyError(error) && (error.type === 'entity.too.large' || error.statusCode === 413);
    refuse(res, tooLarge ? 413 : 400, log, {}, tooLarge ? `body over ${defaultBodyLimit} bytes` : 'body could not be read');
    return true;
  }
  let body: unknown;
  try {
    body = HTTPModuleFunctions.parseHTTPRequestBody(buffered);
  } catch {
    if (!signed(req, buffered.rawBody, signingSecret)) return false;
    refuse(res, 400, log, { body: 'not JSON' }, 'payload is not JSON');
    return true;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    if (!signed(req, buffered.rawBody, signingSecret)) return false;
    refuse(res, 400, log, shapeOf(body), 'payload is not a JSON object');
    return true;
  }
  bodies.set(req, body);
  return false;
}

/** Puts `screen` in front of the receiver's handling of /slack/events; every other request goes straight to Bolt. */
export function refuseUnreadableBodies(receiver: HTTPReceiver, signingSecret: string, log: Logger): void {
  const bolt = receiver.requestListener;
  receiver.requestListener = (req, res) => {
    if (!isEndpoint(req)) return bolt(req, res);
    screen(req, res, signingSecret, log)
      .then((answered) => {
        if (!answered) bolt(req, res);
      })
      .catch((error: unknown) => {
        log.error({ err: error instanceof Error ? error.message : String(error) }, 'could not screen a request');
        if (!res.headersSent) res.writeHead(400);
        res.end();
      });
  };
}

const message = (error: unknown): string => {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
};

/** An error in Bolt or a listener: before the ack, 400 (never Bolt's 500); after it, a line saying so. Either way logged once. */
export const processEventErrorHandler =
  (log: Logger) =>
  async ({ error, request, response }: ReceiverProcessEventErrorHandlerArgs): Promise<boolean> => {
    const shape = shapeOf(bodies.get(request));
    if (response.headersSent) {
      log.error({ err: message(error), ...shape }, 'a listener failed after its ack');
      return false;
    }
    if ('code' in error && error.code === ErrorCode.AuthorizationError) {
      // As Bolt answers it; the App has logged it.
      response.writeHead(401);
      response.end();
      return true;
    }
    log.warn({ err: message(error), ...shape }, 'refused a request the bot failed on before its ack');
    response.writeHead(400);
    response.end();
    return true;
  };

/** A listener still busy at 3 s (Slack has given up by now): as Bolt answers it, but saying which request it was. */
export const unhandledRequestHandler =
  (log: Logger) =>
  ({ request, response }: ReceiverUnhandledRequestHandlerArgs): void => {
    log.error({ ...shapeOf(bodies.get(request)) }, 'a request was not acked within 3 s: Slack showed the person an error');
    if (!response.headersSent) {
      response.writeHead(404);
      response.end();
    }
  };
