// The simulation as a wrapper around real parts, never a mode inside them: a gate kind or a traffic
// platform keeps its name and its schema, and answers from the simulated world where the wrapper
// says so. The composition root wraps every gate kind for `simulated` services; a rehearsal wraps
// everything it does not aim at an emulator.
import type { Split } from '../domain/service.ts';
import { errored } from '../domain/measurement.ts';
import type { AnyGateKind, GateContext, TrafficBackend, TrafficPlatform } from '../ports.ts';
import type { SimulatedWorld } from './world.ts';

/** `kind`, answered from the world's signals whenever `simulates(ctx)`; measured for real otherwise. */
export function answeredBySimulation(kind: AnyGateKind, world: () => SimulatedWorld, simulates: (ctx: GateContext) => boolean): AnyGateKind {
  return {
    ...kind,
    // A simulation has no data lag: its signals are there at once.
    dataLagMs: (planned, ctx) => (simulates(ctx) ? 0 : (kind.dataLagMs?.(planned, ctx) ?? planned)),
    measure: async (spec, ctx) => {
      if (!simulates(ctx)) return kind.measure(spec, ctx);
      const signals = await world().signals(ctx.serviceKey, ctx.window.end);
      try {
        return kind.simulate(spec, ctx, signals);
      } catch (error) {
        return errored(`simulation: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  };
}

/** A service of a plan's gates that a `simulated` service answers from the world (unless `gates: real`). */
export const simulatedService = (ctx: GateContext): boolean => ctx.service.platform === 'simulated' && ctx.service.gates !== 'real';

/** `platform` with its traffic moved in the simulated world instead of on the real service. */
export function trafficInSimulation<Spec extends TrafficPlatform<any>>(platform: Spec, world: () => SimulatedWorld): Spec {
  return {
    ...platform,
    create: (spec) => world().backend(platform.serviceKey(spec), `${platform.platform} service ${spec.name}`, { stable: spec.stable, canary: spec.canary }),
  };
}

/**
 * `platform` driving its real adapter (aimed at local emulators), with every split it reads or
 * confirms told to the world, so gates the simulation still answers see the traffic served.
 */
export function trafficMirroredInSimulation<Spec extends TrafficPlatform<any>>(platform: Spec, world: () => SimulatedWorld): Spec {
  return {
    ...platform,
    create: (spec) => {
      const backend = platform.create(spec);
      const observe = (split: Split) => world().observe(platform.serviceKey(spec), split.canary);
      return {
        label: backend.label,
        preflight: (revisions, signal) => backend.preflight(revisions, signal),
        // The wrapped backend checks the signal before each of its own calls too. Observing a split
        // it did read or confirm records a fact, so it goes ahead even if the signal aborted since.
        read: async (revisions, signal) => {
          signal?.throwIfAborted();
          const split = await backend.read(revisions, signal);
          await observe(split);
          return split;
        },
        shift: async (revisions, canaryPercent, signal) => {
          signal?.throwIfAborted();
          const split = await backend.shift(revisions, canaryPercent, signal);
          await observe(split);
          return split;
        },
        ...(backend.revisions ? { revisions: backend.revisions.bind(backend) } : {}),
      } satisfies TrafficBackend;
    },
  };
}
