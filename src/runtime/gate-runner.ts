// Runs gates through their plug-in kinds: all of a check's gates at once, each under its own
// timeout, and any throw turned into an error measurement, because a gate that cannot be
// measured must never crash the check, nor pass.
import type { GateSpec } from '../domain/plan.ts';
import type { GateResult } from '../domain/state.ts';
import { errored, type Measurement } from '../domain/measurement.ts';
import type { AnyGateKind, CanarySignals, GateContext } from '../ports.ts';
import type { Revisions, ServiceBase } from '../domain/service.ts';

export interface GateRun {
  readonly cutoverId: string;
  readonly planName: string;
  readonly service: ServiceBase;
  readonly revisions: Revisions;
  readonly stage: GateContext['stage'];
  readonly window: GateContext['window'];
  /** Answer from these simulated signals instead of reaching outside. */
  readonly signals?: CanarySignals;
}

export class GateRunner {
  readonly #kinds: ReadonlyMap<string, AnyGateKind>;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #now: () => number;
  readonly #measured: ReadonlySet<string>;

  /**
   * `measured`: kinds measured for real even when a run carries simulated signals (a rehearsal
   * whose cloud gates are aimed at local emulators); every other kind is then simulated.
   */
  constructor(
    kinds: readonly AnyGateKind[],
    env: Readonly<Record<string, string | undefined>>,
    now: () => number = Date.now,
    options: { readonly measured?: readonly string[] } = {},
  ) {
    this.#kinds = new Map(kinds.map((k) => [k.key, k]));
    this.#env = env;
    this.#now = now;
    this.#measured = new Set(options.measured ?? []);
  }

  async run(specs: readonly GateSpec[], run: GateRun, signal?: AbortSignal): Promise<GateResult[]> {
    return Promise.all(
      specs.map(async (spec): Promise<GateResult> => {
        // Data the source has not made visible yet is not looked for: the window ends that long ago.
        // (A simulation has no lag.)
        const lag = this.#simulated(spec, run) ? 0 : spec.dataLagMs;
        const end = Math.min(run.window.end, this.#now() - lag);
        if (lag > 0 && end <= run.window.start) {
          return { gate: spec.id, measurement: errored(`no data yet: ${spec.kind} data shows up ${Math.round(spec.dataLagMs / 1000)} s late`), at: this.#now(), waiting: true };
        }
        return { gate: spec.id, measurement: await this.#one(spec, { ...run, window: { start: run.window.start, end } }, signal), at: this.#now() };
      }),
    );
  }

  #simulated(spec: GateSpec, run: GateRun): boolean {
    return run.signals !== undefined && !this.#measured.has(spec.kind);
  }

  async #one(spec: GateSpec, run: GateRun, outer?: AbortSignal): Promise<Measurement> {
    const kind = this.#kinds.get(spec.kind);
    if (!kind) return errored(`no gate kind "${spec.kind}" in this bot`);
    const controller = new AbortController();
    const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
    const ctx: GateContext = {
      cutoverId: run.cutoverId,
      planName: run.planName,
      stage: run.stage,
      revisions: run.revisions,
      service: run.service,
      window: run.window,
      timeoutMs: spec.timeoutMs,
      signal,
      env: this.#env,
    };
    if (this.#simulated(spec, run) && run.signals) {
      try {
        return kind.simulate(spec.settings, ctx, run.signals);
      } catch (error) {
        return errored(`simulation: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    // A kind that ignores its abort signal is still cut off, a little after its own timeout.
    const guard = new Promise<Measurement>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve(errored(`timed out after ${spec.timeoutMs} ms`));
      }, spec.timeoutMs + 1_000);
    });
    try {
      return await Promise.race([kind.measure(spec.settings, ctx).catch((error: unknown) => errored(error instanceof Error ? error.message : String(error))), guard]);
    } finally {
      clearTimeout(timer);
    }
  }
}
