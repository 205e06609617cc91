// The simulated world as a test sees it (the same Redis keys the bot's simulated platform uses), and
// the test's own fault: shifts that take a while to land, so a kill can fall in the middle of one.
// The delay is kept in Redis, so child-process replicas honour it too.
import type { Redis } from 'ioredis';
import type { Decorators } from '../../src/app/runtime.ts';
import type { TrafficPlatform } from '../../src/ports.ts';
import { SimulatedWorld } from '../../src/sim/world.ts';

/** The world of a runtime's prefix. */
export const worldOf = (runtime: { readonly redis: Redis; readonly store: { readonly prefix: string } }): SimulatedWorld => new SimulatedWorld(runtime.redis, runtime.store.prefix);

const slowKey = (prefix: string, serviceKey: string) => `${prefix}:test:slow-shifts:{${serviceKey}}`;

/** Makes every shift of `serviceKey` take `ms` before it lands. */
export async function slowShifts(runtime: { readonly redis: Redis; readonly store: { readonly prefix: string } }, serviceKey: string, ms: number): Promise<void> {
  await runtime.redis.set(slowKey(runtime.store.prefix, serviceKey), String(ms));
}

/** Wraps every platform so that its shifts wait out the delay slowShifts set for their service. */
export function slowableShifts(redis: () => Redis, prefix: string): Decorators {
  return {
    platform: (platform: TrafficPlatform<any>) => ({
      ...platform,
      create: (spec) => {
        const backend = platform.create(spec);
        const key = slowKey(prefix, platform.serviceKey(spec));
        return {
          label: backend.label,
          preflight: (revisions, signal) => backend.preflight(revisions, signal),
          read: (revisions, ...rest) => backend.read(revisions, ...rest),
          ...(backend.revisions ? { revisions: backend.revisions.bind(backend) } : {}),
          shift: async (revisions, percent, ...rest) => {
            const ms = Number((await redis().get(key)) ?? 0);
            // A test's fault: a shift that takes this long to land, not a synchronisation.
            if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
            return backend.shift(revisions, percent, ...rest);
          },
        };
      },
    }),
  };
}
