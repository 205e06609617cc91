// The `cloud_logging` gate: counts Cloud Logging entries in the soak window (a ratio of two
// filters, a count under a maximum, or events that must be present), scoped to the canary's or
// stable's revision. Logging has no count API, so entries are paged and counted up to a cap;
// past the cap a count is only a lower bound, and a bound that cannot decide is an error, never a pass.
import type { Logging } from '@google-cloud/logging';
import { createLogging } from '../cloud/clients.ts';
import { callGoogle } from '../cloud/errors.ts';
import { formatDuration } from '../domain/duration.ts';
import { atLeast, atMost, errored, measured, type Measurement, type Observation } from '../domain/measurement.ts';
import type { CanarySignals, GateContext, GateKind } from '../ports.ts';
import { cloudLoggingSchema, type CloudLoggingSpec, type RevisionScope } from './cloud-logging-schema.ts';
import { cloudRunTarget, describeFailure, projectFor, rfc3339, round } from './gcp-common.ts';

export interface CloudLoggingGateDeps {
  /** 'host:port' of a Logging emulator (plain-text gRPC); absent = the real API with ADC. */
  readonly emulatorHost?: string | undefined;
  /** Most entries read per query of one check (default 5000). */
  readonly maxEntries?: number;
  /** Entries per page (default 1000, the API's maximum). */
  readonly pageSize?: number;
}

export interface CloudLoggingGate extends GateKind<CloudLoggingSpec> {
  close(): Promise<void>;
}

interface Tally {
  readonly count: number;
  /** True when reading stopped at the cap with more entries left: `count` is a lower bound. */
  readonly capped: boolean;
}

export function cloudLoggingGate(deps: CloudLoggingGateDeps = {}): CloudLoggingGate {
  const maxEntries = deps.maxEntries ?? 5000;
  const pageSize = Math.min(deps.pageSize ?? 1000, 1000);
  const clients = new Map<string, Logging>();
  // getEntries asks the client for its project even with explicit resource names: one per project.
  const loggingFor = (project: string): Logging => {
    let client = clients.get(project);
    if (!client) {
      client = createLogging({ emulatorHost: deps.emulatorHost, projectId: project });
      clients.set(project, client);
    }
    return client;
  };

  async function count(ctx: GateContext, project: string, filter: string, cap: number): Promise<Tally> {
    const logging = loggingFor(project);
    const deadline = Date.now() + ctx.timeoutMs;
    let total = 0;
    let pageToken: string | undefined;
    for (;;) {
      ctx.signal.throwIfAborted();
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`Cloud Logging did not finish listing entries within ${formatDuration(ctx.timeoutMs)}`);
      const [entries, next] = await callGoogle(
        { action: 'list log entries', permission: 'logging.logEntries.list', resource: `projects/${project}` },
        () =>
          logging.getEntries({
            resourceNames: [`projects/${project}`],
            filter,
            orderBy: 'timestamp desc',
            pageSize: Math.min(pageSize, cap - total),
            autoPaginate: false,
            ...(pageToken ? { pageToken } : {}),
            gaxOptions: { timeout: remaining },
          }),
      );
      total += entries.length;
      pageToken = next?.pageToken ?? undefined;
      if (!pageToken) return { count: total, capped: false };
      if (total >= cap) return { count: total, capped: true };
    }
  }

  return {
    key: 'cloud_logging',
    schema: cloudLoggingSchema,
    defaultTimeoutMs: 60_000,

    async measure(spec, ctx) {
      const where = projectFor('cloud_logging', spec.project, ctx);
      if ('error' in where) return errored(where.error);
      const scope = scopeFilter(spec, ctx);
      const bounded = (filter: string) =>
        `(${filter})${scope ? ` AND ${scope}` : ''} AND timestamp >= "${rfc3339(ctx.window.start)}" AND timestamp <= "${rfc3339(ctx.window.end)}"`;
      const capNote = (what: string) => `stopped reading ${what} at ${maxEntries} entries (the gate's cap): the true count is higher`;
      try {
        switch (spec.mode) {
          case 'count': {
            const tally = await count(ctx, where.project, bounded(spec.filter), maxEntries);
            const observation = atMost('matching_entries', tally.count, spec.max);
            if (!tally.capped) return measured([observation]);
            // A lower bound above the maximum is a failure; below it, nothing is known.
            if (tally.count > spec.max) return measured([observation], capNote('the matching entries'));
            return errored(`more than ${maxEntries} matching entries: cannot compare with max ${spec.max}`, capNote('the matching entries'));
          }
          case 'presence': {
            // Reading stops as soon as enough entries were seen.
            const tally = await count(ctx, where.project, bounded(spec.present), Math.min(spec.min, maxEntries));
            if (tally.count < spec.min && tally.capped) {
              return errored(`min ${spec.min} is above the ${maxEntries} entries this gate may read`, capNote('the present entries'));
            }
            return measured([atLeast('matching_entries', tally.count, spec.min)]);
          }
          case 'ratio': {
            // Both at once, so the gate's one timeout bounds the pair.
            const [numerator, denominator] = await Promise.all([
              count(ctx, where.project, bounded(spec.numerator), maxEntries),
              count(ctx, where.project, bounded(spec.denominator), maxEntries),
            ]);
            return ratio(spec, numerator, denominator, capNote);
          }
        }
      } catch (error) {
        return errored(describeFailure(error));
      }
    },

    simulate(spec, ctx, signals) {
      const scope = effectiveScope(spec, ctx);
      const rate = simulatedRate(scope, signals);
      const requests = signals.requestCount;
      switch (spec.mode) {
        case 'ratio': {
          if (requests <= 0) return errored('no requests in the window', 'simulated');
          const bad = Math.round(requests * rate);
          return measured(
            [atMost('ratio', round(bad / requests), spec.max), { name: 'numerator_entries', value: bad, ok: true }, { name: 'denominator_entries', value: requests, ok: true }],
            'simulated',
          );
        }
        case 'count':
          return measured([atMost('matching_entries', Math.round(requests * rate), spec.max)], 'simulated');
        case 'presence':
          return measured([atLeast('matching_entries', requests, spec.min)], 'simulated');
      }
    },

    async close() {
      const open = [...clients.values()];
      clients.clear();
      // The Logging facade keeps its generated gRPC client here without typing it as an instance.
      await Promise.all(open.map((c) => (c.loggingService as unknown as { close?: () => Promise<void> } | undefined)?.close?.()));
    },
  };
}

function ratio(
  spec: Extract<CloudLoggingSpec, { mode: 'ratio' }>,
  numerator: Tally,
  denominator: Tally,
  capNote: (what: string) => string,
): Measurement {
  if (denominator.count === 0) return errored('no requests in the window');
  const value = round(numerator.count / denominator.count);
  const counts: Observation[] = [
    { name: 'numerator_entries', value: numerator.count, ok: true },
    { name: 'denominator_entries', value: denominator.count, ok: true },
  ];
  const observation = atMost('ratio', value, spec.max);
  if (!numerator.capped && !denominator.capped) return measured([observation, ...counts]);
  if (numerator.capped && denominator.capped) {
    return errored('both filters matched more entries than the gate may read: the ratio is unknown', capNote('both filters'));
  }
  // Exact numerator over a lower-bounded denominator: `value` is an upper bound (pass is sound).
  if (denominator.capped && observation.ok) return measured([observation, ...counts], `${capNote('the denominator')}; the ratio is at most ${value}`);
  // Lower-bounded numerator over an exact denominator: `value` is a lower bound (fail is sound).
  if (numerator.capped && !observation.ok) return measured([observation, ...counts], `${capNote('the numerator')}; the ratio is at least ${value}`);
  return errored(`the ratio cannot be decided within the ${spec.max} maximum`, capNote(numerator.capped ? 'the numerator' : 'the denominator'));
}

function effectiveScope(spec: CloudLoggingSpec, ctx: GateContext): RevisionScope {
  return spec.revision ?? (cloudRunTarget(ctx.service) ? 'canary' : 'any');
}

const quoted = (value: string): string => `"${value.replaceAll('"', '\\"')}"`;

/**
 * The Cloud Run revision restriction added to every filter ('' for any). On a Cloud Run service it
 * names the service and its region too: a revision name is unique only within its region, so the
 * same name in two regions (a train across them) would otherwise count both regions' entries.
 */
function scopeFilter(spec: CloudLoggingSpec, ctx: GateContext): string {
  const scope = effectiveScope(spec, ctx);
  if (scope === 'any') return '';
  const revision = scope === 'canary' ? ctx.revisions.canary : ctx.revisions.stable;
  const target = cloudRunTarget(ctx.service);
  const where = target ? ` AND resource.labels.service_name=${quoted(target.name)} AND resource.labels.location=${quoted(target.region)}` : '';
  return `resource.type="cloud_run_revision"${where} AND resource.labels.revision_name=${quoted(revision)}`;
}

function simulatedRate(scope: RevisionScope, signals: CanarySignals): number {
  if (scope === 'canary') return signals.errorRate;
  if (scope === 'stable') return signals.stableErrorRate;
  const share = signals.canaryPercent / 100;
  return signals.errorRate * share + signals.stableErrorRate * (1 - share);
}
