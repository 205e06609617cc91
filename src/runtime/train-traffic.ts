// A train's traffic: every target driven through its own platform's backend (Cloud Run in its
// region, a flag, the simulation), in parallel. Each target's backend verifies its own split and
// retries within its own bounds; this only fans out, gathers, and names the targets that failed.
// What a train should serve at each cohort, and whether a shift may go ahead, is the domain's
// (src/domain/train.ts). As a plain TrafficBackend it moves every target to the same percent.
import { errored, measured, type Measurement, type Observation } from '../domain/measurement.ts';
import type { Revisions, Split, TargetReport } from '../domain/service.ts';
import { revisionsOf, targetName, type TrainPlan } from '../domain/train.ts';
import type { TrainTarget } from '../domain/plan.ts';
import { TrafficError, TrainTrafficError, type TargetFailure, type TrafficBackend } from '../ports.ts';

interface Leg {
  readonly name: string;
  readonly backend: TrafficBackend;
  readonly revisions: Revisions;
}

const serves = (split: Split, percent: number): boolean => split.canary === percent && split.stable === 100 - percent && split.other === 0;

export class TrainTraffic implements TrafficBackend {
  readonly label: string;
  readonly #legs: readonly Leg[];
  readonly #now: () => number;

  constructor(plan: TrainPlan, backendOf: (target: TrainTarget) => TrafficBackend, now: () => number = Date.now) {
    this.#legs = plan.train.targets.map((target, t) => ({ name: targetName(plan, t), backend: backendOf(target), revisions: revisionsOf(target) }));
    this.#now = now;
    this.label = `train of ${this.#legs.length}: ${this.#legs.map((l) => l.backend.label).join(', ')}`;
  }

  get size(): number {
    return this.#legs.length;
  }

  /** Each target's own preflight (service and both revisions there and ready), in parallel. */
  preflightTargets(signal?: AbortSignal): Promise<Measurement[]> {
    return Promise.all(
      this.#legs.map((leg) => leg.backend.preflight(leg.revisions, signal).catch((error: unknown) => errored(error instanceof Error ? error.message : String(error)))),
    );
  }

  /** Every target's preflight as one: its observations named by target; an error anywhere is the whole's. */
  async preflight(_revisions: Revisions, signal?: AbortSignal): Promise<Measurement> {
    const results = await this.preflightTargets(signal);
    const observations: Observation[] = results.flatMap((m, t) => (m.observations ?? []).map((o) => ({ ...o, name: `${this.#legs[t]!.name}: ${o.name}` })));
    const errors = results.flatMap((m, t) => (m.outcome === 'error' ? [`${this.#legs[t]!.name}: ${m.error}`] : []));
    if (errors.length > 0) return { outcome: 'error', error: errors.join('; '), observations };
    const notes = results.flatMap((m, t) => (m.note ? [`${this.#legs[t]!.name}: ${m.note}`] : []));
    return measured(observations, notes.length > 0 ? notes.join('; ') : undefined);
  }

  /** What every target serves, index by index; throws TrainTrafficError naming those that could not be read. */
  async readTargets(signal?: AbortSignal): Promise<Split[]> {
    const settled = await Promise.allSettled(this.#legs.map((leg) => leg.backend.read(leg.revisions, signal)));
    signal?.throwIfAborted();
    return this.#gather('read', settled).map((r) => r.split as Split);
  }

  /**
   * Moves each target to its own percent (null: leave it) in parallel: each is read first (or
   * taken from `served`) and shifted only if it serves something else, then verified by its own
   * backend. Resolves with every target's report; throws TrainTrafficError naming those that failed
   * (the others went ahead, and its reports say where everyone is).
   */
  async shiftTargets(percents: readonly (number | null)[], signal?: AbortSignal, served?: readonly Split[]): Promise<TargetReport[]> {
    const settled = await Promise.allSettled(
      this.#legs.map(async (leg, t): Promise<Split> => {
        const wanted = percents[t];
        const current = served?.[t] ?? (await leg.backend.read(leg.revisions, signal));
        if (wanted === null || wanted === undefined || serves(current, wanted)) return current;
        return leg.backend.shift(leg.revisions, wanted, signal);
      }),
    );
    // Stopped by the caller (a lost lease): its reason, not whatever the targets said, is the outcome.
    signal?.throwIfAborted();
    return this.#gather('shift', settled);
  }

  /**
   * Moves target `target` alone to `percent` (read first; shifted only if it serves something
   * else), verified by its own backend; no other target is read or moved, so one region that cannot
   * be reached does not stand in the way of another's. Throws TrainTrafficError naming it.
   */
  async shiftTarget(target: number, percent: number, signal?: AbortSignal): Promise<TargetReport> {
    const leg = this.#legs[target];
    if (!leg) throw new RangeError(`the train has no target ${target}`);
    let split: Split;
    try {
      const current = await leg.backend.read(leg.revisions, signal);
      split = serves(current, percent) ? current : await leg.backend.shift(leg.revisions, percent, signal);
    } catch (error) {
      signal?.throwIfAborted();
      if (!(error instanceof TrafficError)) throw error;
      const report: TargetReport = { target, at: this.#now(), split: null, error: error.message };
      throw new TrainTrafficError(`could not shift ${leg.name}: ${error.message}`, [{ target, code: error.code, message: error.message }], [report]);
    }
    signal?.throwIfAborted();
    return { target, at: this.#now(), split };
  }

  /** The split the train serves as one: what all targets agree on; else the most canary any serves. */
  async read(_revisions: Revisions, signal?: AbortSignal): Promise<Split> {
    return whole(await this.readTargets(signal));
  }

  /** Every target to `canaryPercent`; `shift(_, 0)` is the rollback of them all. */
  async shift(_revisions: Revisions, canaryPercent: number, signal?: AbortSignal): Promise<Split> {
    const reports = await this.shiftTargets(this.#legs.map(() => canaryPercent), signal);
    return whole(reports.map((r) => r.split as Split));
  }

  #gather(what: 'read' | 'shift', settled: readonly PromiseSettledResult<Split>[]): TargetReport[] {
    const at = this.#now();
    const failures: TargetFailure[] = [];
    const reports = settled.map((result, target): TargetReport => {
      if (result.status === 'fulfilled') return { target, at, split: result.value };
      const error: unknown = result.reason;
      // Not a traffic error (a bug, a lost lease): nothing to name a target for; let it through.
      if (!(error instanceof TrafficError)) throw error;
      failures.push({ target, code: error.code, message: error.message });
      return { target, at, split: null, error: error.message };
    });
    if (failures.length === 0) return reports;
    const message = failures.map((f) => `${this.#legs[f.target]!.name}: ${f.message}`).join('; ');
    throw new TrainTrafficError(`could not ${what} ${failures.length} of ${this.#legs.length} targets: ${message}`, failures, reports);
  }
}

/** The train's split as one number: the targets' common split, or (when they differ) the most canary any serves. */
export function whole(splits: readonly Split[]): Split {
  const first = splits[0] ?? { canary: 0, stable: 100, other: 0 };
  if (splits.every((s) => s.canary === first.canary && s.stable === first.stable && s.other === first.other)) return first;
  const canary = Math.max(...splits.map((s) => s.canary));
  const other = Math.max(...splits.map((s) => s.other));
  return { canary, stable: Math.max(0, 100 - canary - other), other };
}

export const isTrainTraffic = (backend: TrafficBackend): backend is TrainTraffic => backend instanceof TrainTraffic;
