// The simulated world: a service's split, its shift log and its scenario, in Redis, so every
// replica and every test process sees the same simulated service; each shift is logged so tests
// can prove no traffic step ran twice or was skipped. The simulated platform drives it, and a
// rehearsal answers gates and traffic from it in place of the real services.
import type { Redis } from 'ioredis';
import { measured } from '../domain/measurement.ts';
import type { CanarySignals, TrafficBackend } from '../ports.ts';
import { scenarioSpec, signalsFor, type ScenarioInput, type ScenarioSpec } from './scenario.ts';
import { servedCounters } from './served.ts';
import type { Revisions, Split } from '../domain/service.ts';

export interface ShiftRecord {
  readonly percent: number;
  readonly at: number;
}

/** The scenario of a service nobody set one for. */
const HEALTHY: ScenarioSpec = Object.freeze(scenarioSpec.parse({ name: 'healthy' }));

export class SimulatedWorld {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #key(serviceKey: string, part: 'split' | 'shifts' | 'scenario'): string {
    return `${this.#prefix}:sim:{${serviceKey}}:${part}`;
  }

  async setScenario(serviceKey: string, input: ScenarioInput): Promise<ScenarioSpec> {
    const spec = scenarioSpec.parse(input);
    await this.#redis.set(this.#key(serviceKey, 'scenario'), JSON.stringify(spec));
    return spec;
  }

  async scenario(serviceKey: string): Promise<ScenarioSpec> {
    const json = await this.#redis.get(this.#key(serviceKey, 'scenario'));
    // setScenario stored it validated: no need to validate it again on every gate check.
    return json ? (JSON.parse(json) as ScenarioSpec) : HEALTHY;
  }

  async split(serviceKey: string): Promise<Split> {
    const canary = Number((await this.#redis.hget(this.#key(serviceKey, 'split'), 'canary')) ?? 0);
    return { canary, stable: 100 - canary, other: 0 };
  }

  async shifts(serviceKey: string): Promise<ShiftRecord[]> {
    const rows = await this.#redis.lrange(this.#key(serviceKey, 'shifts'), 0, -1);
    return rows.map((r) => JSON.parse(r) as ShiftRecord);
  }

  async shift(serviceKey: string, canaryPercent: number, now = Date.now()): Promise<Split> {
    await this.#record(serviceKey, canaryPercent, now);
    return { canary: canaryPercent, stable: 100 - canaryPercent, other: 0 };
  }

  /**
   * Records a split a real backend read or confirmed (a rehearsal against emulators), so the
   * simulated signals follow the traffic actually served. Only changes are logged as shifts.
   */
  async observe(serviceKey: string, canaryPercent: number, now = Date.now()): Promise<void> {
    const current = await this.#redis.hget(this.#key(serviceKey, 'split'), 'canary');
    if ((current === null ? 0 : Number(current)) === canaryPercent) return;
    await this.#record(serviceKey, canaryPercent, now);
  }

  /** Sets the split and logs the shift, atomically. */
  async #record(serviceKey: string, canaryPercent: number, now: number): Promise<void> {
    await this.#redis
      .multi()
      .hset(this.#key(serviceKey, 'split'), 'canary', canaryPercent, 'since', now)
      .rpush(this.#key(serviceKey, 'shifts'), JSON.stringify({ percent: canaryPercent, at: now } satisfies ShiftRecord))
      .exec();
  }

  /** What the canary is doing now, per the service's scenario. */
  async signals(serviceKey: string, now = Date.now()): Promise<CanarySignals> {
    const [spec, split, shifts] = await Promise.all([this.scenario(serviceKey), this.split(serviceKey), this.shifts(serviceKey)]);
    const firstAt = shifts[0]?.at ?? now;
    return {
      ...signalsFor(spec, { canaryPercent: split.canary, sinceFirstShiftMs: split.canary > 0 ? now - firstAt : 0 }),
      served: servedCounters(serviceKey, spec, shifts, now),
    };
  }

  /** `offered`: the two revisions a simulated service has, offered to the start dialog (stable serving what the split leaves). */
  backend(serviceKey: string, label: string, offered?: Revisions): TrafficBackend {
    return {
      ...(offered
        ? {
            revisions: async (signal?: AbortSignal) => {
              signal?.throwIfAborted();
              const split = await this.split(serviceKey);
              return [
                { name: offered.canary, createdAt: null, percent: split.canary },
                { name: offered.stable, createdAt: null, percent: split.stable },
              ];
            },
          }
        : {}),
      label: `simulated ${label}`,
      preflight: async (revisions: Revisions) =>
        measured(
          [
            { name: `revision ${revisions.stable} ready`, value: 'yes', ok: true },
            { name: `revision ${revisions.canary} ready`, value: 'yes', ok: true },
          ],
          'simulated',
        ),
      // The simulated platform call is the whole operation: checked once, before it.
      read: async (_revisions: Revisions, signal?: AbortSignal) => {
        signal?.throwIfAborted();
        return this.split(serviceKey);
      },
      shift: async (_revisions: Revisions, percent: number, signal?: AbortSignal) => {
        signal?.throwIfAborted();
        return this.shift(serviceKey, percent);
      },
    };
  }
}

