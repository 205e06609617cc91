// What the Google Cloud gates share: the plan's Cloud Run service (for the default project and
// the revision labels), RFC 3339 window bounds, and readable gRPC failures.
import { z } from 'zod';
import { CloudCallError, describeCallError } from '../cloud/errors.ts';
import type { GateContext } from '../ports.ts';
import type { ServiceBase } from '../domain/service.ts';

/** A Google Cloud project ID; `required` is the message when the value is missing or not a string. */
export const projectId = (required?: string) =>
  z
    .string(required === undefined ? undefined : { error: required })
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'project must be a Google Cloud project ID: 6 to 30 lowercase letters, digits or hyphens, starting with a letter');

export const projectIdSchema = projectId();

export interface CloudRunTarget {
  readonly project: string;
  readonly region: string;
  readonly name: string;
}

/** The plan's service when it runs on Cloud Run (the cloud-run block carries project and region). */
export function cloudRunTarget(service: ServiceBase): CloudRunTarget | undefined {
  if (service.platform !== 'cloud-run') return undefined;
  const { project, region } = service as ServiceBase & { project?: unknown; region?: unknown };
  if (typeof project !== 'string' || typeof region !== 'string') return undefined;
  return { project, region, name: service.name };
}

/** The project to query: the gate's own, else the Cloud Run service's; an error text otherwise. */
export function projectFor(gateKey: string, project: string | undefined, ctx: GateContext): { project: string } | { error: string } {
  if (project) return { project };
  const target = cloudRunTarget(ctx.service);
  if (target) return { project: target.project };
  return { error: `${gateKey}: set "project" (the service is on ${ctx.service.platform}, not cloud-run, so there is no default project)` };
}

export const rfc3339 = (ms: number): string => new Date(ms).toISOString();

export const round = (value: number, digits = 6): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** A Google call failure in one line; anything else by its message. */
export function describeFailure(error: unknown): string {
  if (error instanceof CloudCallError) return describeCallError(error);
  return error instanceof Error ? error.message : String(error);
}
