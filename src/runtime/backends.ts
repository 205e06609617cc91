// Which traffic backend a cutover uses: its plan's platform, one backend per service, created on
// first use. What a platform is (real, simulated, or wrapped by a rehearsal) is the composition
// root's business, not this registry's.
import type { Plan } from '../domain/plan.ts';
import type { RevisionChoice, Revisions, Split } from '../domain/service.ts';
import type { TrafficBackend, TrafficPlatform } from '../ports.ts';

export class Backends {
  readonly #platforms: ReadonlyMap<string, TrafficPlatform<any>>;
  readonly #cache = new Map<string, TrafficBackend>();

  constructor(platforms: readonly TrafficPlatform<any>[]) {
    this.#platforms = new Map(platforms.map((p) => [p.platform, p]));
  }

  for(plan: Plan): TrafficBackend {
    const cached = this.#cache.get(plan.serviceKey);
    if (cached) return cached;
    const platform = this.#platforms.get(plan.service.platform);
    if (!platform) throw new Error(`no traffic platform "${plan.service.platform}" in this bot`);
    const backend = platform.create(plan.service);
    this.#cache.set(plan.serviceKey, backend);
    return backend;
  }

  /** The revisions of the plan's service people may choose from; null when its platform cannot list them. */
  async revisions(plan: Plan): Promise<RevisionChoice[] | null> {
    const backend = this.for(plan);
    return backend.revisions ? backend.revisions() : null;
  }

  /** The split the plan's service serves now. */
  served(plan: Plan, revisions: Revisions): Promise<Split> {
    return this.for(plan).read(revisions);
  }
}
