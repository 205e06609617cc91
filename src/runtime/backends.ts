// Which traffic backend and which signals a cutover uses. A simulated service (and every
// service in a rehearsal) is driven by the simulation; anything else by its platform adapter.
import type { Plan } from '../domain/plan.ts';
import type { CanarySignals, Revisions, Split, TrafficBackend, TrafficPlatform } from '../ports.ts';
import type { SimulatedWorld } from '../sim/simulated-traffic.ts';

export interface BackendOptions {
  readonly platforms: readonly TrafficPlatform<any>[];
  readonly world: SimulatedWorld;
  /** Rehearsal: simulate traffic and gates whatever the plan's platform says. */
  readonly rehearsal?: boolean;
  /** With rehearsal: these platforms still use their real adapter (aimed at local emulators). */
  readonly realPlatforms?: readonly string[];
}

export class Backends {
  readonly #options: BackendOptions;
  readonly #cache = new Map<string, TrafficBackend>();

  constructor(options: BackendOptions) {
    this.#options = options;
  }

  /** True when traffic for this plan is the simulation's. */
  simulatedTraffic(plan: Plan): boolean {
    if (plan.service.platform === 'simulated') return true;
    return Boolean(this.#options.rehearsal) && !this.#options.realPlatforms?.includes(plan.service.platform);
  }

  /** True when this plan's gates are answered by the simulation. */
  simulatedGates(plan: Plan): boolean {
    if (this.#options.rehearsal) return true;
    return plan.service.platform === 'simulated' && plan.service.gates !== 'real';
  }

  for(plan: Plan): TrafficBackend {
    const cached = this.#cache.get(plan.serviceKey);
    if (cached) return cached;
    let backend: TrafficBackend;
    if (this.simulatedTraffic(plan)) {
      backend = this.#options.world.backend(plan.serviceKey, `${plan.service.platform} service ${plan.service.name}`);
    } else {
      const platform = this.#options.platforms.find((p) => p.platform === plan.service.platform);
      if (!platform) throw new Error(`no traffic platform "${plan.service.platform}" in this bot`);
      backend = platform.create(plan.service);
      // A rehearsal driving a real adapter (against emulators) still simulates some gates: they
      // must see the split the real backend confirmed, so every confirmed split is mirrored.
      if (this.#options.rehearsal) backend = mirrored(backend, (split) => this.#options.world.observe(plan.serviceKey, split.canary));
    }
    this.#cache.set(plan.serviceKey, backend);
    return backend;
  }

  /** The split the plan's service serves now. */
  served(plan: Plan, revisions: Revisions): Promise<Split> {
    return this.for(plan).read(revisions);
  }

  async signals(plan: Plan, now: number): Promise<CanarySignals | undefined> {
    return this.simulatedGates(plan) ? this.#options.world.signals(plan.serviceKey, now) : undefined;
  }
}

/** The same backend, telling `observe` every split it read or confirmed. */
function mirrored(backend: TrafficBackend, observe: (split: Split) => Promise<void>): TrafficBackend {
  return {
    label: backend.label,
    preflight: (revisions: Revisions, signal?: AbortSignal) => backend.preflight(revisions, signal),
    // The wrapped backend checks the signal before each of its own calls too. Observing a split
    // it did read or confirm records a fact, so it goes ahead even if the signal aborted since.
    read: async (revisions: Revisions, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      const split = await backend.read(revisions, signal);
      await observe(split);
      return split;
    },
    shift: async (revisions: Revisions, canaryPercent: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      const split = await backend.shift(revisions, canaryPercent, signal);
      await observe(split);
      return split;
    },
  };
}
