// Runs gates through their plug-in kinds: all of a check's gates at once, each under its own
// timeout, and any throw turned into an error measurement, because a gate that cannot be
// measured must never crash the check, nor pass.
import type { GateSpec, Plan } from '../domain/plan.ts';
import type { CutoverState, GateResult } from '../domain/state.ts';
import { errored, type Measurement } from '../domain/measurement.ts';
import { lookbackWindow } from '../domain/traffic.ts';
import { droppedTargets, isTrain, revisionsOf, targetPercents } from '../domain/train.ts';
import type { AnyGateKind, GateContext } from '../ports.ts';

/** What a gate scoped to one target of a train sees instead of the plan's service. */
export type TargetScope = Pick<GateContext, 'service' | 'serviceKey' | 'revisions' | 'stage'>;

/**
 * What a run of gates is about: the cutover, its service and revisions, the cohort and the window
 * judged; per judge gate, the end of the data its judge has taken in; in a train, each target's
 * own (a gate with a `target` sees that target's instead).
 */
export type GateRun = Omit<GateContext, 'timeoutMs' | 'signal' | 'env' | 'judgedThrough'> & {
  readonly judgedThrough?: Readonly<Record<string, number>>;
  readonly targets?: readonly TargetScope[];
};

/**
 * The one way a job describes its gate run: `stage` null and no window for a moment with no cohort
 * soaking (preflight, a checkpoint, the rollback steps), which judges the lookback before `now`.
 */
export function gateRun(plan: Plan, state: CutoverState, now: number, soak?: { readonly stage: GateContext['stage']; readonly window: GateContext['window'] }): GateRun {
  const judgedThrough = Object.fromEntries(
    Object.entries(state.gates).flatMap(([id, track]) => (track.judge?.through != null ? [[id, track.judge.through] as const] : [])),
  );
  const stage = soak?.stage ?? null;
  const run: GateRun = {
    ...(soak && Object.keys(judgedThrough).length > 0 ? { judgedThrough } : {}),
    cutoverId: state.id,
    planName: plan.name,
    service: plan.service,
    serviceKey: plan.serviceKey,
    revisions: state.revisions,
    stage,
    window: soak?.window ?? lookbackWindow(now),
  };
  if (!isTrain(plan)) return run;
  // Each target at its own share of the cohort (earlier waves at 100 %, later ones and dropped ones at none).
  const percents = stage ? targetPercents(plan, stage.index, stage.percent, droppedTargets(state)) : [];
  const targets = plan.train.targets.map((t, i): TargetScope => ({
    service: t.service,
    serviceKey: t.serviceKey,
    revisions: revisionsOf(t),
    stage: stage ? { index: stage.index, percent: percents[i] ?? 0 } : null,
  }));
  // A gate for the whole train speaks of its first target, whose service the plan's is.
  return { ...run, serviceKey: targets[0]?.serviceKey ?? run.serviceKey, targets };
}

export class GateRunner {
  readonly #kinds: ReadonlyMap<string, AnyGateKind>;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #now: () => number;

  constructor(kinds: readonly AnyGateKind[], env: Readonly<Record<string, string | undefined>>, now: () => number = Date.now) {
    this.#kinds = new Map(kinds.map((k) => [k.key, k]));
    this.#env = env;
    this.#now = now;
  }

  async run(specs: readonly GateSpec[], whole: GateRun, signal?: AbortSignal): Promise<GateResult[]> {
    const { targets, ...common } = whole;
    return Promise.all(
      specs.map(async (spec): Promise<GateResult> => {
        const scope = spec.target === undefined ? undefined : targets?.[spec.target];
        const run = scope ? { ...common, ...scope } : common;
        const kind = this.#kinds.get(spec.kind);
        if (!kind) return { gate: spec.id, measurement: errored(`no gate kind "${spec.kind}" in this bot`), at: this.#now() };
        const controller = new AbortController();
        const { judgedThrough, ...about } = run;
        const through = judgedThrough?.[spec.id];
        const ctx: GateContext = {
          ...about,
          timeoutMs: spec.timeoutMs,
          signal: signal ? AbortSignal.any([signal, controller.signal]) : controller.signal,
          env: this.#env,
          ...(through === undefined ? {} : { judgedThrough: through }),
        };
        // Data the source has not made visible yet is not looked for: the window ends that long ago.
        const lag = kind.dataLagMs ? kind.dataLagMs(spec.dataLagMs, ctx) : spec.dataLagMs;
        const end = Math.min(run.window.end, this.#now() - lag);
        if (lag > 0 && end <= run.window.start) {
          return { gate: spec.id, measurement: errored(`no data yet: ${spec.kind} data shows up ${Math.round(lag / 1000)} s late`), at: this.#now(), waiting: true };
        }
        const measurement = await this.#one(kind, spec, { ...ctx, window: { start: run.window.start, end } }, controller);
        // A source with no data for the window yet says so: waiting, like the data lag above.
        if (measurement.outcome === 'error' && measurement.waiting) return { gate: spec.id, measurement, at: this.#now(), waiting: true };
        return { gate: spec.id, measurement, at: this.#now() };
      }),
    );
  }

  async #one(kind: AnyGateKind, spec: GateSpec, ctx: GateContext, controller: AbortController): Promise<Measurement> {
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
