import type { Revisions, Split } from '../domain/service.ts';
// Pure Cloud Run traffic arithmetic: the SDK's TrafficTarget lists in and out, no I/O.
// Kept apart from the adapter so the rules (tags kept, order stable, 0 % targets dropped) are
// unit-testable on their own.

const REVISION_TYPE = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' as const;
const LATEST_TYPE = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' as const;

export interface WireTarget {
  type: typeof REVISION_TYPE | typeof LATEST_TYPE;
  revision?: string;
  percent: number;
  tag?: string;
}

/** The shape shared by the SDK's TrafficTarget and TrafficTargetStatus (enums as names or numbers). */
export interface TargetLike {
  readonly type?: unknown;
  readonly revision?: string | null;
  readonly percent?: number | null;
  readonly tag?: string | null;
}

export interface Target {
  readonly kind: 'revision' | 'latest';
  /** Short revision name; '' for a LATEST target. */
  readonly revision: string;
  readonly percent: number;
  readonly tag: string;
}

/** 'projects/p/locations/r/services/s/revisions/x' → 'x'; a short name stays as is. */
export const shortName = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

function isLatest(type: unknown): boolean {
  // The client decodes enums to their names; numbers are accepted in case options change that.
  return type === LATEST_TYPE || type === 1;
}

export function normalizeTargets(targets: readonly TargetLike[] | null | undefined): Target[] {
  return (targets ?? []).map((t) => {
    const latest = isLatest(t.type);
    return {
      kind: latest ? 'latest' : 'revision',
      revision: latest ? '' : shortName(t.revision ?? ''),
      percent: t.percent ?? 0,
      tag: t.tag ?? '',
    };
  });
}

/** The SDK shape to send back: REVISION targets by short name, an empty tag left out. */
export function toWireTargets(targets: readonly Target[]): WireTarget[] {
  return targets.map((t) => ({
    type: t.kind === 'latest' ? LATEST_TYPE : REVISION_TYPE,
    ...(t.kind === 'revision' ? { revision: t.revision } : {}),
    percent: t.percent,
    ...(t.tag ? { tag: t.tag } : {}),
  }));
}

/**
 * The traffic list that serves `canaryPercent` on the canary and the rest on stable, derived from
 * the current list so nothing else is lost:
 * - the first target of stable/canary (in the current order) carries its new percentage and keeps
 *   its tag; later targets of the same revision survive only as tag-only 0 % targets;
 * - any other target (another revision, LATEST) survives as a tag-only 0 % target if it has a
 *   tag, so URLs like https://canary---svc.run.app keep working; untagged ones are dropped;
 * - stable/canary targets not present yet are appended (stable first) when they get traffic;
 * - a 0 % target without a tag is left out.
 */
export function trafficFor(current: readonly Target[], revisions: Revisions, canaryPercent: number): Target[] {
  const wanted = new Map<string, number>([
    [revisions.stable, 100 - canaryPercent],
    [revisions.canary, canaryPercent],
  ]);
  const placed = new Set<string>();
  const next: Target[] = [];
  for (const target of current) {
    const percent = target.kind === 'revision' ? wanted.get(target.revision) : undefined;
    if (percent !== undefined && !placed.has(target.revision)) {
      placed.add(target.revision);
      if (percent > 0 || target.tag) next.push({ ...target, kind: 'revision', percent });
    } else if (target.tag) {
      next.push({ ...target, percent: 0 });
    }
  }
  for (const [revision, percent] of wanted) {
    if (!placed.has(revision) && percent > 0) next.push({ kind: 'revision', revision, percent, tag: '' });
  }
  return next;
}

const key = (t: Target): string => `${t.kind}\u0000${t.revision}\u0000${t.percent}\u0000${t.tag}`;

/** Same targets (order aside): then an update would change nothing. */
export function sameTraffic(a: readonly Target[], b: readonly Target[]): boolean {
  if (a.length !== b.length) return false;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.every((k, i) => k === right[i]);
}

/** The served split, from traffic statuses; LATEST resolves to `latestReadyRevision`. */
export function splitOf(statuses: readonly Target[], revisions: Revisions, latestReadyRevision: string): Split {
  const latest = shortName(latestReadyRevision);
  let canary = 0;
  let stable = 0;
  let other = 0;
  for (const status of statuses) {
    const revision = status.kind === 'latest' ? latest : status.revision;
    if (revision === revisions.canary) canary += status.percent;
    else if (revision === revisions.stable) stable += status.percent;
    else other += status.percent;
  }
  return { canary, stable, other };
}

export const describeSplit = (split: Split): string =>
  `canary ${split.canary}% / stable ${split.stable}%${split.other ? ` / other revisions ${split.other}%` : ''}`;
