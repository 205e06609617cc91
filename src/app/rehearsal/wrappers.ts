// What makes a run a rehearsal: the real platforms and gate kinds, each wrapped so that it answers
// from the simulated world, except what --emulators aims at local fake Google APIs (those run their
// real adapter; the traffic they confirm is told to the world so simulated gates follow it).
import { answeredBySimulation, trafficInSimulation, trafficMirroredInSimulation } from '../../sim/decorators.ts';
import type { SimulatedWorld } from '../../sim/world.ts';
import type { Decorators } from '../runtime.ts';

export interface RealParts {
  /** Platforms driven by their real adapter (against emulators). */
  readonly platforms: readonly string[];
  /** Gate kinds measured by their real adapter (against emulators). */
  readonly gateKinds: readonly string[];
}

export function rehearsalWrappers(world: () => SimulatedWorld, real: RealParts): Decorators {
  return {
    platform: (platform) => {
      if (platform.platform === 'simulated') return platform;
      return real.platforms.includes(platform.platform) ? trafficMirroredInSimulation(platform, world) : trafficInSimulation(platform, world);
    },
    gateKind: (kind) => (real.gateKinds.includes(kind.key) ? kind : answeredBySimulation(kind, world, () => true)),
  };
}
