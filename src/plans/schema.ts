// The plan's YAML schema: written by a release manager, validated once at the edge into the frozen,
// typed Plan of src/domain/plan.ts. YAML keys stay snake_case (they are the plan's public
// vocabulary); the parsed Plan is camelCase. Gate kinds and traffic platforms are plug-ins whose
// schemas are composed here.
import { z } from 'zod';
import { splitAlpha } from '../domain/judge/alpha.ts';
import { deepFreeze, parseOffset, PLAN_NAME, type ApprovalRule, type GateSpec, type JudgeRule, type Plan, type Stage } from '../domain/plan.ts';
import type { AnyGateKind, TrafficPlatform } from '../ports.ts';
import { durationSchema } from './duration.ts';
import type { ServiceBase } from '../domain/service.ts';
import { buildTrain, expandStages, gateScopeSchema, perTarget, rollbackScopeSchema, strategySchema, targetSchema, type GateScope, type ParsedService } from './train-schema.ts';

export { PLAN_NAME };

export interface PlanVocabulary {
  readonly gateKinds: readonly AnyGateKind[];
  readonly platforms: readonly TrafficPlatform<any>[];
}

/** Gates a train may run at each check (or preflight, or rollback) once per-target gates are counted per target. */
const MAX_EXPANDED_GATES = 200;

const GATE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const CHANNEL_ID = /^[CG][A-Z0-9]{2,20}$/;
const USER_ID = /^[UW][A-Z0-9]{2,20}$/;
const GROUP_ID = /^S[A-Z0-9]{2,20}$/;
const ROLE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

const DEFAULTS = {
  soak: '30m',
  checkEvery: '1m',
  maxErrors: 3,
  stuckAfter: '15m',
  updatesEvery: '30m',
  chartGap: '10m',
  stepTimeoutMs: 10_000,
  stages: [1, 5, 10, 25, 50, 100],
  grace: '10m',
  hypercare: { duration: '72h', check_every: '1h', summary_every: '24h' },
} as const;


const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'must be an IANA time zone like UTC or Europe/Berlin' },
);

const typeName = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value === 'object' ? 'mapping' : typeof value);

/** Zod's default messages speak to programmers; these speak to whoever wrote the plan. */
export const planErrorMap = (issue: z.core.$ZodRawIssue): string | undefined => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`} (got ${typeName(issue.input)})`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling; see schemas/plan.schema.json)`;
    case 'too_small':
      if (issue.origin === 'array') return `needs at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `has too many items (at most ${issue.maximum})`;
      if (issue.origin === 'string') return `is too long (at most ${issue.maximum} characters)`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return undefined;
  }
};

const member = z
  .string()
  .refine((id) => USER_ID.test(id) || GROUP_ID.test(id), {
    error: 'must be a Slack user id (U…) or user-group id (S…)',
  });

const roleName = z.string().regex(ROLE_NAME, { error: 'must be a role name like release-manager' });

const roleList = z.array(roleName).min(1, {
  error: 'must name at least one role',
});

const approvalRuleInput = z
  .object({
    roles: roleList,
    min: z.int().min(1).max(10).optional(),
    two_person: z.boolean().optional(),
  })
  .strict();

/**
 * A gate as parsed at field level; `maxErrors` null means "the plan's max_errors"; `scope` is a
 * train's. A judge's `alpha` is its share of the plan's false-rollback budget, known only once every
 * gate is parsed.
 */
type ParsedGate = Omit<GateSpec, 'maxErrors' | 'judge'> & { readonly maxErrors: number | null; readonly judge?: Omit<JudgeRule, 'alpha'>; readonly scope: GateScope | undefined };

function gateSchema(kinds: readonly AnyGateKind[], options: { defaultTimeoutMs?: number; kindsAllowed?: readonly string[]; defaultId?: string } = {}) {
  const allowed = kinds.filter((k) => !options.kindsAllowed || options.kindsAllowed.includes(k.key));
  const kindKeys = allowed.map((k) => k.key);
  const shape: Record<string, z.ZodType> = {
    id: z.string().regex(GATE_ID, { error: 'must be a short id of letters, digits, ".", "_" or "-"' }),
    name: z.string().min(1).max(200).optional(),
    for: durationSchema.optional(),
    max_errors: z.int().min(1).max(100).optional(),
    timeout: durationSchema.optional(),
    data_lag: durationSchema.optional(),
    scope: gateScopeSchema.optional().meta({ description: 'In a train: target (once per target; stage gates by default) or once (for the whole cutover)' }),
  };
  for (const kind of allowed) shape[kind.key] = kind.schema.optional();
  const withDefaultId = (value: unknown) =>
    options.defaultId && typeof value === 'object' && value !== null && !Array.isArray(value) && !('id' in value) ? { id: options.defaultId, ...value } : value;
  return z.preprocess(withDefaultId, z
    .object(shape)
    .strict()
    .superRefine((gate, ctx) => {
      const present = kindKeys.filter((key) => gate[key] !== undefined);
      if (present.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message:
            present.length === 0
              ? `needs exactly one of ${kindKeys.join(', ')}`
              : `has ${present.join(' and ')}: a gate checks exactly one thing; split it into separate gates`,
        });
      } else if (gate.for !== undefined && allowed.find((k) => k.key === present[0])?.judgeRule) {
        ctx.addIssue({
          code: 'custom',
          path: ['for'],
          message: `a ${present[0]} gate takes no for: it rolls back as soon as its evidence is strong enough, and never before (put a for: window on a separate threshold gate)`,
        });
      }
    })
    .transform((gate): ParsedGate => {
      const key = kindKeys.find((k) => gate[k] !== undefined) as string;
      const kind = allowed.find((k) => k.key === key) as AnyGateKind;
      const judge = kind.judgeRule?.(gate[key]);
      return {
        id: gate.id as string,
        name: (gate.name as string | undefined) ?? (gate.id as string),
        kind: key,
        settings: gate[key],
        forMs: (gate.for as number | undefined) ?? 0,
        maxErrors: (gate.max_errors as number | undefined) ?? null,
        timeoutMs: (gate.timeout as number | undefined) ?? options.defaultTimeoutMs ?? kind.defaultTimeoutMs,
        dataLagMs: (gate.data_lag as number | undefined) ?? kind.dataLagFor?.(gate[key]) ?? kind.defaultDataLagMs ?? 0,
        ...(judge ? { judge } : {}),
        scope: gate.scope as GateScope | undefined,
      };
    }));
}

/** The `service:` block: dispatched to the platform named by `platform`, errors reported in place. */
function serviceSchema(platforms: readonly TrafficPlatform<any>[]): z.ZodType<ParsedService> {
  const names = platforms.map((p) => p.platform);
  return z.unknown().meta({ title: 'service' }).transform((value, ctx): ParsedService => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: 'must be a mapping with platform, name, stable and canary' });
      return z.NEVER;
    }
    const platformName = (value as { platform?: unknown }).platform;
    const platform = platforms.find((p) => p.platform === platformName);
    if (!platform) {
      ctx.addIssue({
        code: 'custom',
        path: ['platform'],
        message: `must be one of ${names.join(', ')}${platformName === undefined ? '' : ` (got ${JSON.stringify(platformName)})`}`,
      });
      return z.NEVER;
    }
    const parsed = platform.schema.safeParse(value, { error: planErrorMap });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message, path: issue.path } as never);
      return z.NEVER;
    }
    return { spec: parsed.data as ServiceBase, key: platform.serviceKey(parsed.data) };
  });
}

export function buildPlanSchema(vocabulary: PlanVocabulary) {
  const stageHint = 'must be a whole percent from 1 to 100, or {percent, soak, promotion}';
  const stageInput = z.union([
    z.int({ error: stageHint }).meta({ minimum: 1, maximum: 100 }),
    z
      .object({
        percent: z.int().meta({ minimum: 1, maximum: 100 }),
        soak: durationSchema.optional(),
        promotion: z.enum(['manual', 'auto']).optional(),
      })
      .strict(),
  ], { error: stageHint });
  const gate = gateSchema(vocabulary.gateKinds);
  const step = gateSchema(vocabulary.gateKinds, { defaultTimeoutMs: DEFAULTS.stepTimeoutMs, kindsAllowed: ['http', 'command'] });
  return z
    .object({
      name: z.string().regex(PLAN_NAME, { error: 'must be lowercase letters, digits and "-" (it is used in commands, e.g. /cutover start control-service)' }),
      service: serviceSchema(vocabulary.platforms).optional(),
      targets: z
        .array(targetSchema(serviceSchema(vocabulary.platforms)))
        .min(1)
        .optional()
        .meta({ description: 'A train: several services or regions moved as one cutover (service:, when given, is the first target)' }),
      strategy: strategySchema.optional().meta({ description: 'How a train moves: lockstep (every target at each cohort together, the default) or waves' }),
      channel: z.string().regex(CHANNEL_ID, { error: 'must be a Slack channel id like C0123WARROOM (not a #name)' }),
      stages: z
        .array(stageInput)
        .min(1)
        .max(20)
        .default([...DEFAULTS.stages])
        .superRefine((stages, ctx) => checkStages(stages.map((st) => (typeof st === 'number' ? st : st.percent)), ctx)),
      soak: durationSchema.prefault(DEFAULTS.soak),
      check_every: durationSchema.prefault(DEFAULTS.checkEvery),
      promotion: z.enum(['manual', 'auto']).default('manual'),
      max_errors: z.int().min(1).max(100).default(DEFAULTS.maxErrors),
      gates: z
        .object({
          preflight: z.array(gate).min(1, { error: 'needs at least one gate: preflight decides whether the go/no-go may be asked for' }),
          stage: z.array(gate).min(1, { error: 'needs at least one gate: a soak with no gate has nothing to judge the canary on' }),
          rollback_drill: gateSchema(vocabulary.gateKinds, { defaultId: 'rollback-drill' }).optional(),
        })
        .strict(),
      approvals: z
        .object({
          go_no_go: approvalRuleInput,
          promote: approvalRuleInput,
          rollback: approvalRuleInput,
          start: approvalRuleInput.optional(),
          close: approvalRuleInput.optional(),
          hold: approvalRuleInput.optional(),
          resume: approvalRuleInput.optional(),
          abort: approvalRuleInput.optional(),
        })
        .strict(),
      roles: z.record(roleName, z.array(member).min(1)),
      escalation: z
        .object({
          mention: z.array(member).default([]),
          stuck_after: durationSchema.prefault(DEFAULTS.stuckAfter),
        })
        .strict()
        .prefault({}),
      updates: z
        .object({
          every: durationSchema.prefault(DEFAULTS.updatesEvery),
          chart_gap: durationSchema
            .prefault(DEFAULTS.chartGap)
            .meta({ description: 'The least time between two charts of a cutover in the war room (the final chart always comes); 0s: a chart with every update, promotion and hold' }),
        })
        .strict()
        .prefault({}),
      // `rollback: target` / `rollback: train` is short for `rollback: { scope: … }`.
      rollback: z
        .preprocess(
          (value) => (typeof value === 'string' ? { scope: value } : value),
          z
            .object({
              scope: rollbackScopeSchema
                .optional()
                .meta({ description: "In a train in waves: train (the default: any failure rolls back every target) or target (a per-target gate's failure, or /rollback <plan> <target>, drops that target's release alone)" }),
              before: z.array(step).default([]),
            })
            .strict(),
        )
        .optional()
        .meta({ title: 'rollback' }),
      timezone: timeZone.default('UTC'),
      timeline: z
        .array(
          z
            .object({
              at: z.string().refine((t) => parseOffset(t) !== null, { error: 'must be a time relative to T0 like T-60, T0 or T+30 (minutes), or T+2h' }),
              name: z.string().min(1).max(150),
              owner: roleName,
              checklist: z.array(z.string().min(1).max(300)).min(1, { error: 'needs at least one item to tick' }).max(20),
              gates: z.array(gate).default([]),
              blocks: z.enum(['go_no_go', 'promote']).optional(),
              grace: durationSchema.prefault(DEFAULTS.grace),
            })
            .strict(),
        )
        .max(30)
        .default([])
        .superRefine((entries, ctx) => {
          entries.forEach((entry, i) => {
            const previous = entries[i - 1];
            if (previous && (parseOffset(entry.at) ?? 0) < (parseOffset(previous.at) ?? 0)) {
              ctx.addIssue({ code: 'custom', path: [i, 'at'], message: `must not come before timeline[${i - 1}] (${previous.at}): list checkpoints in time order` });
            }
          });
        }),
      sign_off: z
        .array(z.object({ role: roleName, item: z.string().min(1).max(300) }).strict())
        .max(20)
        .default([]),
      hypercare: z
        .object({
          duration: durationSchema.prefault(DEFAULTS.hypercare.duration),
          check_every: durationSchema.prefault(DEFAULTS.hypercare.check_every),
          summary_every: durationSchema.prefault(DEFAULTS.hypercare.summary_every),
        })
        .strict()
        .optional(),
    })
    .strict()
    // Reported with every other problem of the plan, not only once the rest is valid.
    .refine((raw) => (raw as Partial<typeof raw> | null)?.service !== undefined || (raw as Partial<typeof raw> | null)?.targets !== undefined, {
      path: ['service'],
      message: 'is required: the service the cutover moves (or targets: for a train of several)',
      when: () => true,
    })
    .transform((raw, ctx): Plan => {
      const shares = judgeShares(raw.gates.stage, ctx);
      const resolve = ({ scope: _, judge, ...rest }: ParsedGate): GateSpec => {
        const alpha = shares?.alphas[rest.id];
        return {
          ...rest,
          maxErrors: rest.maxErrors ?? raw.max_errors,
          ...(judge && shares && alpha !== undefined ? { judge: { ...judge, falseRollback: shares.budget, alpha } } : {}),
        };
      };
      checkJudgesPlaced(raw, ctx);
      if (!raw.targets && raw.strategy !== undefined) ctx.addIssue({ code: 'custom', path: ['strategy'], message: 'applies to a train: list its services under targets:' });
      if (!raw.targets && raw.rollback?.scope === 'target') {
        ctx.addIssue({ code: 'custom', path: ['rollback', 'scope'], message: "drops one target's release only in a train in waves (a plan with targets: and strategy: waves): this plan moves one service" });
      }
      const built = raw.targets ? buildTrain(raw.name, raw.service, raw.targets, raw.strategy, ctx, raw.rollback?.scope) : null;
      if (raw.targets && !built) return z.NEVER;
      const train = built?.train;
      checkScopes(raw, train !== undefined, ctx);
      // In a train a stage gate runs per target unless it says `scope: once`; other gates run once unless they say `scope: target`.
      const expand = (gates: readonly ParsedGate[], scope: GateScope, path: PropertyKey[]): GateSpec[] => {
        const expanded = gates.flatMap((g) => (train && (g.scope ?? scope) === 'target' ? perTargetJudged(perTarget(resolve(g), train)) : [resolve(g)]));
        // Every check runs them all: a train multiplies its gates by its targets, within reason.
        if (train && expanded.length > MAX_EXPANDED_GATES) {
          ctx.addIssue({ code: 'custom', path, message: `is ${expanded.length} gates once each per-target gate counts once per target (at most ${MAX_EXPANDED_GATES}): mark whole-train gates scope: once, or split the train` });
        }
        return expanded;
      };
      const planned: Stage[] = raw.stages.map((s) =>
        typeof s === 'number'
          ? { percent: s, soakMs: raw.soak, promotion: raw.promotion }
          : { percent: s.percent, soakMs: s.soak ?? raw.soak, promotion: s.promotion ?? raw.promotion },
      );
      const stages = train ? expandStages(planned, train) : planned;
      if (raw.check_every < 1_000) ctx.addIssue({ code: 'custom', path: ['check_every'], message: 'must be at least 1s' });
      checkRoles(raw.approvals, raw.roles, ctx);
      raw.timeline.forEach((c, i) => checkRole(c.owner, raw.roles, ['timeline', i, 'owner'], ctx));
      raw.sign_off.forEach((c, i) => checkRole(c.role, raw.roles, ['sign_off', i, 'role'], ctx));
      checkUniqueGateIds(raw.gates, ctx);
      return deepFreeze({
        name: raw.name,
        service: (raw.service?.spec ?? train?.targets[0]?.service) as Plan['service'],
        serviceKey: built?.serviceKey ?? (raw.service?.key as string),
        channel: raw.channel,
        stages,
        checkEveryMs: raw.check_every,
        gates: {
          preflight: expand(raw.gates.preflight, 'once', ['gates', 'preflight']),
          stage: expand(raw.gates.stage, 'target', ['gates', 'stage']),
          rollbackDrill: raw.gates.rollback_drill ? resolve(raw.gates.rollback_drill) : null,
        },
        approvals: resolveApprovals(raw.approvals, raw.roles),
        roles: raw.roles,
        escalation: { mention: raw.escalation.mention, stuckAfterMs: raw.escalation.stuck_after },
        updates: { everyMs: raw.updates.every, chartGapMs: raw.updates.chart_gap },
        rollback: { before: expand(raw.rollback?.before ?? [], 'once', ['rollback', 'before']) },
        timezone: raw.timezone,
        timeline: raw.timeline.map((c) => ({
          offsetMs: parseOffset(c.at) as number,
          label: c.at,
          name: c.name,
          owner: c.owner,
          checklist: c.checklist,
          gates: c.gates.map(resolve),
          blocks: c.blocks ?? null,
          graceMs: c.grace,
        })),
        signOff: raw.sign_off,
        hypercare: raw.hypercare ? { durationMs: raw.hypercare.duration, checkEveryMs: raw.hypercare.check_every, summaryEveryMs: raw.hypercare.summary_every } : null,
        ...(train ? { train } : {}),
      });
    });
}

/**
 * Each stage judge's α: the plan's judges share one false-rollback budget, the smallest
 * `false_rollback` any of them names (so every judge's promise holds for the whole cutover), split
 * equally (Bonferroni: the chances of a false rollback by each add up to at most the budget).
 */
function judgeShares(stage: readonly ParsedGate[], ctx: z.RefinementCtx): { budget: number; alphas: Readonly<Record<string, number>> } | null {
  const judges = stage.filter((g) => g.judge);
  if (judges.length === 0) return null;
  const budget = Math.min(...judges.map((g) => g.judge!.falseRollback));
  const ids = [...new Set(judges.map((g) => g.id))];
  const alphas = splitAlpha(budget, ids);
  // Every judge is watched by nothing at 100 % (stable serves nothing to compare with): another
  // gate, or a judge's own max: guard, must watch the last cohort.
  if (stage.every((g) => g.judge && g.judge.max === null)) {
    ctx.addIssue({
      code: 'custom',
      path: ['gates', 'stage'],
      message:
        'every stage gate is a judge without max:, so nothing would watch the canary at 100 % (stable then serves nothing and a judge cannot compare): add a threshold gate, or a max: guard to a judge',
    });
  }
  return { budget, alphas };
}

/** A judge compares canary and stable while both serve: only a stage gate can be one. */
function checkJudgesPlaced(
  raw: { gates: { preflight: readonly ParsedGate[]; rollback_drill?: ParsedGate | undefined }; timeline: readonly { gates: readonly ParsedGate[] }[] },
  ctx: z.RefinementCtx,
): void {
  const refuse = (path: PropertyKey[], gate: ParsedGate) =>
    ctx.addIssue({ code: 'custom', path, message: `${gate.kind} compares the canary with stable while both serve traffic: it can only be a stage gate (gates.stage)` });
  raw.gates.preflight.forEach((g, i) => g.judge && refuse(['gates', 'preflight', i], g));
  if (raw.gates.rollback_drill?.judge) refuse(['gates', 'rollback_drill'], raw.gates.rollback_drill);
  raw.timeline.forEach((c, i) => c.gates.forEach((g, j) => g.judge && refuse(['timeline', i, 'gates', j], g)));
}

/**
 * A judge run once per target is several judges: its share of the budget is split between its
 * copies, so the train's false-rollback chance stays within the plan's budget (Bonferroni again).
 */
function perTargetJudged(copies: readonly GateSpec[]): GateSpec[] {
  return copies.map((g) => (g.judge ? { ...g, judge: { ...g.judge, alpha: g.judge.alpha / copies.length } } : g));
}

/** `scope:` says where a gate runs in a train: refused outside one, and where one gate cannot become several. */
function checkScopes(
  raw: {
    gates: { preflight: readonly ParsedGate[]; stage: readonly ParsedGate[]; rollback_drill?: ParsedGate | undefined };
    rollback?: { before: readonly ParsedGate[] } | undefined;
    timeline: readonly { gates: readonly ParsedGate[] }[];
  },
  train: boolean,
  ctx: z.RefinementCtx,
): void {
  const lists: Array<[PropertyKey[], readonly ParsedGate[]]> = [
    [['gates', 'preflight'], raw.gates.preflight],
    [['gates', 'stage'], raw.gates.stage],
    [['rollback', 'before'], raw.rollback?.before ?? []],
  ];
  if (!train) {
    for (const [path, gates] of lists) {
      gates.forEach((g, i) => {
        if (g.scope !== undefined) ctx.addIssue({ code: 'custom', path: [...path, i, 'scope'], message: 'applies to a train (a plan with targets:): this plan moves one service' });
      });
    }
  }
  if (raw.gates.rollback_drill?.scope === 'target') {
    ctx.addIssue({ code: 'custom', path: ['gates', 'rollback_drill', 'scope'], message: 'the rollback drill runs once for the cutover: it cannot be scope: target' });
  }
  raw.timeline.forEach((c, i) =>
    c.gates.forEach((g, j) => {
      if (g.scope !== undefined) ctx.addIssue({ code: 'custom', path: ['timeline', i, 'gates', j, 'scope'], message: 'a checkpoint runs its gates once for the cutover: scope does not apply here' });
    }),
  );
}

function checkStages(percents: readonly number[], ctx: z.RefinementCtx): void {
  percents.forEach((percent, i) => {
    if (percent < 1 || percent > 100) {
      ctx.addIssue({ code: 'custom', path: [i], message: `must be between 1 and 100 (got ${percent})` });
    } else if (i > 0) {
      const previous = percents[i - 1] as number;
      if (percent <= previous) ctx.addIssue({ code: 'custom', path: [i], message: `must be greater than stages[${i - 1}] (${previous})` });
    }
  });
  const last = percents.at(-1);
  if (last !== undefined && last !== 100) {
    ctx.addIssue({ code: 'custom', path: [percents.length - 1], message: `the last stage must be 100: a cutover ends with the canary serving all traffic (got ${last})` });
  }
}

type RawRule = { roles: string[]; min?: number | undefined; two_person?: boolean | undefined };

function checkRole(role: string, roles: Record<string, string[]>, path: PropertyKey[], ctx: z.RefinementCtx): void {
  if (!(role in roles)) {
    ctx.addIssue({ code: 'custom', path, message: `role "${role}" is not defined under roles (defined: ${Object.keys(roles).join(', ') || 'none'})` });
  }
}

function checkRoles(approvals: Record<string, RawRule | undefined>, roles: Record<string, string[]>, ctx: z.RefinementCtx): void {
  for (const [action, rule] of Object.entries(approvals)) {
    rule?.roles.forEach((role, i) => checkRole(role, roles, ['approvals', action, 'roles', i], ctx));
  }
}

function resolveApprovals(raw: Record<string, RawRule | undefined>, roles: Record<string, string[]>): Plan['approvals'] {
  const rule = (r: RawRule | undefined, fallback: ApprovalRule): ApprovalRule =>
    r ? { roles: r.roles, min: r.min ?? 1, twoPerson: r.two_person ?? fallback.twoPerson } : fallback;
  const everyRole: ApprovalRule = { roles: Object.keys(roles), min: 1, twoPerson: false };
  const goNoGo = rule(raw.go_no_go, { roles: [], min: 1, twoPerson: true });
  const promote = rule(raw.promote, { roles: [], min: 1, twoPerson: false });
  const rollback = rule(raw.rollback, { roles: [], min: 1, twoPerson: false });
  const union = (...rules: ApprovalRule[]) => [...new Set(rules.flatMap((r) => r.roles))];
  return {
    go_no_go: goNoGo,
    promote,
    rollback,
    // Defaults: anyone with a role may start or hold (holding is the safe direction);
    // resuming moves traffic again, so it needs a promoter; aborting needs a go/no-go or rollback role.
    start: rule(raw.start, everyRole),
    hold: rule(raw.hold, everyRole),
    resume: rule(raw.resume, { roles: promote.roles, min: 1, twoPerson: false }),
    abort: rule(raw.abort, { roles: union(goNoGo, rollback), min: 1, twoPerson: false }),
    // Ending hypercare early is the go/no-go deciders' call, as the keep-or-rollback decision is.
    close: rule(raw.close, { roles: goNoGo.roles, min: 1, twoPerson: false }),
  };
}

function checkUniqueGateIds(gates: { preflight: readonly ParsedGate[]; stage: readonly ParsedGate[] }, ctx: z.RefinementCtx): void {
  for (const list of ['preflight', 'stage'] as const) {
    const seen = new Map<string, number>();
    gates[list].forEach((gate, i) => {
      const first = seen.get(gate.id);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['gates', list, i, 'id'], message: `"${gate.id}" is already used by gates.${list}[${first}]` });
      } else seen.set(gate.id, i);
    });
  }
}
