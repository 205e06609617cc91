// gRPC errors from the Google clients, read in the terms a release manager acts on.
import { status as GrpcStatus } from '@grpc/grpc-js';

/** Codes worth retrying: the call may well succeed a moment later. */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.INTERNAL,
]);

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const codeName = (code: number | undefined): string =>
  code === undefined ? 'error' : (GrpcStatus[code] ?? `code ${code}`);

/** The server's own words: `details` without the client's "7 PERMISSION_DENIED: " prefix. */
function grpcDetails(error: unknown): string {
  const details = (error as { details?: unknown } | null)?.details;
  if (typeof details === 'string' && details.trim()) return details.trim();
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^\d+ [A-Z_]+: /, '');
}

/** A failed call to a Google API, with what was being done and the IAM permission it needs. */
export interface CallContext {
  /** e.g. 'read the service' */
  readonly action: string;
  /** e.g. 'run.services.get' */
  readonly permission: string;
  /** The resource acted on, e.g. the service's full name. */
  readonly resource: string;
}

export class CloudCallError extends Error {
  readonly code: number | undefined;
  readonly details: string;
  readonly context: CallContext;
  constructor(cause: unknown, context: CallContext) {
    const code = grpcCode(cause);
    const details = grpcDetails(cause);
    super(`could not ${context.action} (${codeName(code)}): ${details}`, { cause });
    this.name = 'CloudCallError';
    this.code = code;
    this.details = details;
    this.context = context;
  }

  get transient(): boolean {
    return TRANSIENT_CODES.has(this.code ?? -1);
  }

  /** The permission the server named ("Permission 'run.services.update' denied"), else the expected one. */
  get permission(): string {
    return /'([a-z]+(?:\.[a-zA-Z]+){2,})'/.exec(this.details)?.[1] ?? this.context.permission;
  }
}

export async function callGoogle<T>(context: CallContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw error instanceof CloudCallError ? error : new CloudCallError(error, context);
  }
}

/** One line for a measurement or a Slack message. */
export function describeCallError(error: CloudCallError): string {
  switch (error.code) {
    case GrpcStatus.PERMISSION_DENIED:
      return `missing permission ${error.permission} on ${error.context.resource} (${error.details})`;
    case GrpcStatus.UNAUTHENTICATED:
      return `not authenticated to ${error.context.action}: check the Application Default Credentials (${error.details})`;
    case GrpcStatus.NOT_FOUND:
      return `${error.context.resource} not found (${error.details})`;
    case GrpcStatus.INVALID_ARGUMENT:
      return `${error.context.resource} rejected the request: ${error.details}`;
    default:
      return error.message;
  }
}
