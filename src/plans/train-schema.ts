// A train's part of the plan: `targets:` (the services or regions moved as one cutover) and
// `strategy:` (lockstep, or waves), and what they do to the rest of the plan once validated: the
// cohorts expanded per wave, and each gate that runs per target expanded into one gate per target,
// its placeholders filled and its id suffixed with the target. The `service:` schema is passed in
// (it lives with the plan schema) so this file needs nothing from it.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TARGET_ID, type GateSpec, type Stage, type Train, type TrainTarget } from '../domain/plan.ts';
import type { ServiceBase } from '../domain/service.ts';

export const MAX_TARGETS = 20;

export interface ParsedService {
  readonly spec: ServiceBase;
  readonly key: string;
}

export interface ParsedTarget extends ParsedService {
  readonly id: string | undefined;
}

/** A `targets:` entry: a `service:` block of any platform, plus an optional `id` naming the target. */
export function targetSchema(service: z.ZodType<ParsedService>) {
  return z
    .unknown()
    .meta({ title: 'target' })
    .transform((value, ctx): ParsedTarget => {
      let id: string | undefined;
      let rest = value;
      if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'id' in value) {
        const { id: raw, ...others } = value as Record<string, unknown>;
        rest = others;
        if (typeof raw !== 'string' || !TARGET_ID.test(raw)) {
          ctx.addIssue({ code: 'custom', path: ['id'], message: 'must be a short name of lowercase letters, digits and "-" (at most 40), e.g. api-eu' });
        } else id = raw;
      }
      const parsed = service.safeParse(rest);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message, path: issue.path } as never);
        return z.NEVER;
      }
      return { ...parsed.data, id };
    });
}

const waveList = z.array(z.array(z.int().min(0)).min(1, { error: 'a wave needs at least one target' })).min(1);

/** `lockstep`, `waves` (one target per wave, in order), or `{ waves: [[0], [1, 2]] }`. */
export const strategySchema = z.union(
  [z.enum(['lockstep', 'waves']), z.object({ waves: waveList }).strict()],
  { error: 'must be lockstep, waves, or { waves: [[0], [1, 2]] } (target indexes per wave)' },
);

export type StrategyInput = z.infer<typeof strategySchema>;

/** What a failure rolls back in a train: every target (`train`), or only the failing target's release (`target`, waves only). */
export const rollbackScopeSchema = z.enum(['train', 'target']);
export type RollbackScope = z.infer<typeof rollbackScopeSchema>;

/** Where a gate runs in a train: once for the whole cutover, or once per target. */
export const gateScopeSchema = z.enum(['target', 'once']);
export type GateScope = z.infer<typeof gateScopeSchema>;

/** `api-us-central1`, from the service's name and its region when it has one. */
function defaultId(spec: ServiceBase): string {
  const region = (spec as ServiceBase & { region?: unknown }).region;
  const base = typeof region === 'string' ? `${spec.name}-${region}` : spec.name;
  return base.slice(0, 40).replace(/-+$/, '');
}

/**
 * The train, or the issues that make it invalid (reported under `path`): targets that repeat a
 * service, ids that repeat, waves that miss a target, name one twice or one that does not exist.
 */
export function buildTrain(
  planName: string,
  service: ParsedService | undefined,
  targets: readonly ParsedTarget[],
  strategy: StrategyInput | undefined,
  ctx: z.RefinementCtx,
  rollback: RollbackScope = 'train',
): { train: Train; serviceKey: string } | null {
  const all: ParsedTarget[] = [...(service ? [{ ...service, id: undefined }] : []), ...targets];
  const offset = service ? 1 : 0;
  const where = (t: number): PropertyKey[] => (t < offset ? ['service'] : ['targets', t - offset]);
  if (all.length > MAX_TARGETS) {
    ctx.addIssue({ code: 'custom', path: ['targets'], message: `has too many targets (at most ${MAX_TARGETS} in one train, the service: block included)` });
    return null;
  }
  let ok = true;
  const keys = new Map<string, number>();
  const ids = new Map<string, number>();
  const named: string[] = [];
  all.forEach((target, t) => {
    const first = keys.get(target.key);
    if (first !== undefined) {
      ok = false;
      ctx.addIssue({ code: 'custom', path: where(t), message: `moves the same service as target ${first}: each service (in each region) may appear once in a train` });
    } else keys.set(target.key, t);
    let id = target.id ?? defaultId(target.spec);
    // Default ids may collide (the same name on two platforms, or with no region): number them apart.
    if (target.id === undefined && ids.has(id)) id = `${id.slice(0, 36)}-${t}`;
    const again = ids.get(id);
    if (again !== undefined) {
      ok = false;
      ctx.addIssue({ code: 'custom', path: [...where(t), 'id'], message: `"${id}" already names target ${again}: give each target its own id` });
    } else ids.set(id, t);
    named.push(id);
  });
  const waves = wavesOf(strategy, all.length, ctx);
  if (!waves || !ok) return null;
  const waveIndex = new Map<number, number>();
  waves.forEach((wave, w) => wave.forEach((t) => waveIndex.set(t, w)));
  const trainTargets: TrainTarget[] = all.map((target, t) => ({
    id: named[t]!,
    service: target.spec as TrainTarget['service'],
    serviceKey: target.key,
    wave: waveIndex.get(t) ?? 0,
  }));
  const strategyName = strategy === undefined || strategy === 'lockstep' ? 'lockstep' : 'waves';
  if (rollback === 'target' && (strategyName === 'lockstep' || waves.length <= 1)) {
    ctx.addIssue({
      code: 'custom',
      path: ['rollback', 'scope'],
      message:
        strategyName === 'lockstep'
          ? "drops one target's release only in waves: in lockstep every target moves together; use strategy: waves"
          : "drops one target's release only in waves: this train has one wave, so every target moves together; give it several waves",
    });
    return null;
  }
  // The train's own key (its traffic lease, the backend registry's cache): the plan and its targets.
  const digest = createHash('sha256').update([...keys.keys()].join('\n')).digest('hex').slice(0, 12);
  return { train: { strategy: strategyName, targets: trainTargets, waves, rollback }, serviceKey: `train:${planName}:${digest}` };
}

function wavesOf(strategy: StrategyInput | undefined, count: number, ctx: z.RefinementCtx): number[][] | null {
  if (strategy === undefined || strategy === 'lockstep') return [Array.from({ length: count }, (_x, t) => t)];
  if (strategy === 'waves') return Array.from({ length: count }, (_x, t) => [t]);
  const seen = new Map<number, number>();
  let ok = true;
  strategy.waves.forEach((wave, w) =>
    wave.forEach((t, i) => {
      if (t >= count) {
        ok = false;
        ctx.addIssue({ code: 'custom', path: ['strategy', 'waves', w, i], message: `there is no target ${t} (targets are numbered from 0${count > 1 ? ` to ${count - 1}` : ''}, the service: block first)` });
      } else if (seen.has(t)) {
        ok = false;
        ctx.addIssue({ code: 'custom', path: ['strategy', 'waves', w, i], message: `target ${t} is already in wave ${seen.get(t)}` });
      } else seen.set(t, w);
    }),
  );
  const missing = Array.from({ length: count }, (_x, t) => t).filter((t) => !seen.has(t));
  if (ok && missing.length > 0) {
    ok = false;
    ctx.addIssue({ code: 'custom', path: ['strategy', 'waves'], message: `every target must be in a wave: target${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} in none` });
  }
  return ok ? strategy.waves.map((wave) => [...wave]) : null;
}

/** The plan's cohorts, once per wave: wave 0's targets go through all of them, then wave 1's, … */
export function expandStages(stages: readonly Stage[], train: Train): Stage[] {
  if (train.waves.length <= 1) return stages.map((s) => ({ ...s, wave: 0 }));
  return train.waves.flatMap((_wave, w) => stages.map((s) => ({ ...s, wave: w })));
}

/** Values filled into a per-target gate's settings. Others (`{percent}`, …) are left for run time. */
export function targetVars(target: TrainTarget): Record<string, string> {
  const spec = target.service as ServiceBase & { region?: unknown; project?: unknown };
  return {
    target: target.id,
    service: spec.name,
    region: typeof spec.region === 'string' ? spec.region : '',
    project: typeof spec.project === 'string' ? spec.project : '',
  };
}

const PLACEHOLDER = /\{(target|service|region|project)\}/g;

/** `value` with the target's placeholders filled in every string of it (plain data only). */
export function fillTarget<T>(value: T, vars: Readonly<Record<string, string>>): T {
  if (typeof value === 'string') return value.replace(PLACEHOLDER, (whole, key: string) => vars[key] ?? whole) as T;
  if (Array.isArray(value)) return value.map((v) => fillTarget(v, vars)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillTarget(v, vars)])) as T;
  }
  return value;
}

/** `gate` as run per target: one gate each, `five-xx@api-us-central1`, scoped to its target. */
export function perTarget(gate: GateSpec, train: Train): GateSpec[] {
  return train.targets.map((target, t) => ({
    ...gate,
    id: `${gate.id}@${target.id}`,
    name: `${gate.name} (${target.id})`,
    settings: fillTarget(gate.settings, targetVars(target)),
    target: t,
  }));
}
