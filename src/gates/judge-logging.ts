// The judge's counts from Cloud Run's request logs in Cloud Logging: every request entry of the two
// revisions since the data the judge last took in, counted per revision, with 5xx (httpRequest.status
// ≥ 500) apart. Logging has no count API and bills every entry read, so only what is new is read
// (the context's judgedThrough) and reading stops at a cap: a count that reached it is not exact,
// and the judge needs exact counts, so that check is an error, never a guess.
import type { Logging } from '@google-cloud/logging';
import { callGoogle } from '../cloud/errors.ts';
import { formatDuration } from '../domain/duration.ts';
import type { GateContext } from '../ports.ts';
import { cloudRunTarget, rfc3339 } from './gcp-common.ts';
import type { SourceAnswer } from './judge-monitoring.ts';
import type { JudgeSpec } from './judge-schema.ts';

export interface LoggingSourceOptions {
  /** Most entries read per check (both revisions together). */
  readonly maxEntries: number;
  readonly pageSize: number;
}

const quote = (v: string) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/** The request-log filter of the service's two revisions, within [since, through). */
export function requestLogFilter(spec: JudgeSpec, ctx: GateContext, project: string, since: number, through: number): string | { error: string } {
  const target = cloudRunTarget(ctx.service);
  if (!target) return { error: `the judge reads Cloud Run request logs: the plan's service is on ${ctx.service.platform}, not cloud-run` };
  const { canary, stable } = ctx.revisions;
  return [
    `logName=${quote(`projects/${project}/logs/run.googleapis.com%2Frequests`)}`,
    'resource.type="cloud_run_revision"',
    `resource.labels.project_id=${quote(target.project)}`,
    `resource.labels.location=${quote(target.region)}`,
    `resource.labels.service_name=${quote(target.name)}`,
    `(resource.labels.revision_name=${quote(canary)} OR resource.labels.revision_name=${quote(stable)})`,
    `timestamp>=${quote(rfc3339(since))}`,
    `timestamp<${quote(rfc3339(through))}`,
    ...(spec.filter ? [`(${spec.filter})`] : []),
  ].join(' AND ');
}

export function loggingSource(loggingFor: (project: string) => Logging, options: LoggingSourceOptions) {
  return async function measure(spec: JudgeSpec, ctx: GateContext): Promise<SourceAnswer> {
    const target = cloudRunTarget(ctx.service);
    const project = spec.project ?? target?.project;
    if (!project) return { error: `the judge reads Cloud Run request logs: the plan's service is on ${ctx.service.platform}, not cloud-run` };
    // Only what the judge has not taken in yet: half-open windows, so no entry is counted twice.
    const since = Math.max(ctx.window.start, ctx.judgedThrough ?? ctx.window.start);
    const through = ctx.window.end;
    if (through <= since) return { error: 'no new log time since the last check', waiting: true };
    const filter = requestLogFilter(spec, ctx, project, since, through);
    if (typeof filter !== 'string') return filter;
    const tallies = new Map([
      [ctx.revisions.canary, { requests: 0, errors: 0 }],
      [ctx.revisions.stable, { requests: 0, errors: 0 }],
    ]);
    const logging = loggingFor(project);
    const deadline = Date.now() + ctx.timeoutMs;
    let read = 0;
    let pageToken: string | undefined;
    do {
      ctx.signal.throwIfAborted();
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`Cloud Logging did not finish listing entries within ${formatDuration(ctx.timeoutMs)}`);
      const [entries, next] = await callGoogle({ action: 'list log entries', permission: 'logging.logEntries.list', resource: `projects/${project}` }, () =>
        logging.getEntries({
          resourceNames: [`projects/${project}`],
          filter,
          orderBy: 'timestamp asc',
          pageSize: Math.min(options.pageSize, options.maxEntries - read),
          autoPaginate: false,
          ...(pageToken ? { pageToken } : {}),
          gaxOptions: { timeout: remaining },
        }),
      );
      for (const entry of entries) {
        const tally = tallies.get(entry.metadata.resource?.labels?.revision_name ?? '');
        const status = Number(entry.metadata.httpRequest?.status ?? 0);
        if (!tally || !(status > 0)) continue;
        tally.requests += 1;
        if (status >= 500) tally.errors += 1;
      }
      read += entries.length;
      pageToken = next?.pageToken ?? undefined;
      if (pageToken && read >= options.maxEntries) {
        return {
          error: `more than ${options.maxEntries} request log entries in the ${formatDuration(through - since)} since the last check: too many to count exactly from Cloud Logging (check more often, or use source cloud_monitoring or prometheus)`,
        };
      }
    } while (pageToken);
    return { since, through, errors: { canary: tallies.get(ctx.revisions.canary)!, stable: tallies.get(ctx.revisions.stable)! } };
  };
}
