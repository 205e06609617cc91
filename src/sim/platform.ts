// The `simulated` traffic platform: a service that exists only in the simulated world, for a dry
// run of a plan in the real war room. Its gates are answered by the simulation too, unless the plan
// says `gates: real` (see answeredBySimulation).
import { z } from 'zod';
import type { ServiceBase } from '../domain/service.ts';
import type { TrafficPlatform } from '../ports.ts';
import type { SimulatedWorld } from './world.ts';

const SIMULATED_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface SimulatedService extends ServiceBase {
  readonly platform: 'simulated';
  /** `real`: traffic is simulated but gates are measured for real (a dry run of the gates). */
  readonly gates: 'simulated' | 'real';
}

/** `world` may be a getter: plans can be validated before Redis is up. */
export function simulatedPlatform(world: SimulatedWorld | (() => SimulatedWorld)): TrafficPlatform<SimulatedService> {
  const resolve = () => (typeof world === 'function' ? world() : world);
  return {
    platform: 'simulated',
    schema: z
      .object({
        platform: z.literal('simulated'),
        name: z.string().regex(SIMULATED_NAME, { error: 'must be lowercase letters, digits and "-"' }),
        stable: z.string().min(1).default('stable'),
        canary: z.string().min(1).default('canary'),
        gates: z.enum(['simulated', 'real']).default('simulated'),
      })
      .strict(),
    serviceKey: (spec) => `simulated:${spec.name}`,
    create: (spec) => resolve().backend(`simulated:${spec.name}`, `service ${spec.name}`, { stable: spec.stable, canary: spec.canary }),
  };
}
