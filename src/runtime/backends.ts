// Which traffic backend a cutover uses: its plan's platform, one backend per service, created on
// first use; a train's is a TrainTraffic over the backends of its targets. What a platform is
// (real, simulated, or wrapped by a rehearsal) is the composition root's business, not this registry's.
import type { Plan } from '../domain/plan.ts';
import type { RevisionChoice, Revisions, ServiceBase, Split } from '../domain/service.ts';
import { isTrain } from '../domain/train.ts';
import type { TrafficBackend, TrafficPlatform } from '../ports.ts';
import { TrainTraffic } from './train-traffic.ts';

export class Backends {
  readonly #platforms: ReadonlyMap<string, TrafficPlatform<any>>;
  readonly #cache = new Map<string, TrafficBackend>();

  constructor(platforms: readonly TrafficPlatform<any>[]) {
    this.#platforms = new Map(platforms.map((p) => [p.platform, p]));
  }

  for(plan: Plan): TrafficBackend {
    // A train is made afresh from the plan each time (its targets' revisions are in the plan, not
    // passed per call, and may differ from one cutover to the next); its targets' backends are shared.
    if (isTrain(plan)) return new TrainTraffic(plan, (target) => this.#service(target.service, target.serviceKey));
    return this.#service(plan.service, plan.serviceKey);
  }

  #service(spec: ServiceBase, key: string): TrafficBackend {
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const platform = this.#platforms.get(spec.platform);
    if (!platform) throw new Error(`no traffic platform "${spec.platform}" in this bot`);
    const backend = platform.create(spec);
    this.#cache.set(key, backend);
    return backend;
  }

  /** The revisions of the plan's service people may choose from; null when its platform cannot list them. */
  async revisions(plan: Plan): Promise<RevisionChoice[] | null> {
    const backend = this.for(plan);
    return backend.revisions ? backend.revisions() : null;
  }

  /** The split the plan's service serves now (a train's: see TrainTraffic.read). */
  served(plan: Plan, revisions: Revisions): Promise<Split> {
    return this.for(plan).read(revisions);
  }
}
