// The evidence package of a cutover, built from what Redis holds: pure, so the writer on disk and
// the Slack upload produce the same bytes from any replica.
import type { AuditEntry } from '../domain/audit.ts';
import { formatDuration } from '../domain/duration.ts';
import type { JudgeReading } from '../domain/judge/gate.ts';
import type { Measurement, Observation } from '../domain/measurement.ts';
import { everyGate, type GateSpec, type Plan } from '../domain/plan.ts';
import { isTrain, revisionsOf, waveLive, waveOf } from '../domain/train.ts';
import type { CutoverState, GateRecord, Notice, StepResult, TargetDrop } from '../domain/state.ts';

export interface EvidenceInput {
  readonly state: CutoverState;
  readonly plan: Plan;
  readonly audit: readonly AuditEntry[];
  readonly gates: readonly GateRecord[];
}

/** How a rehearsal ran: its package says so everywhere, so it is never taken for a production cutover's. */
export interface RehearsalFacts {
  readonly scenario: string;
  /** The cohort percent from which the canary misbehaves; null when the scenario has none. */
  readonly breachAt: number | null;
  /** The seed of the random requests the canary judges counted: the same seed replays the run. */
  readonly seed: number;
  /** Plan time ran this many times faster than the clock. */
  readonly speed: number;
  /** Cloud Run and the Cloud gates ran against local emulators rather than the simulation. */
  readonly emulators: boolean;
}

/** One target's chart in a train's package: its files' name without the extension, the target, the chart in words. */
export interface TargetChart {
  readonly file: string;
  readonly target: string;
  readonly alt: string;
}

/** A package's files: text, and the chart's PNG as bytes. */
export type EvidenceFiles = Map<string, string | Uint8Array>;

export interface EvidenceOptions {
  /** The chart's alt text when the package carries `chart.png` and `chart.svg`; SUMMARY.md shows and names them. */
  readonly chart?: string;
  /** A train's charts, one per target, when the package carries `<file>.png` and `<file>.svg` for each; SUMMARY.md shows and names them. */
  readonly targetCharts?: readonly TargetChart[];
  /** Set for a rehearsal's package; production packages leave it out. */
  readonly rehearsal?: RehearsalFacts | null;
}

interface CohortResult {
  readonly cohort: number;
  readonly percent: number;
  readonly entered_at: string;
  readonly left_at: string | null;
  readonly soak: string;
  readonly checks: number;
  /** `dropped`: a train's cohort whose wave lost every target to `rollback: target` drops. */
  readonly soak_result: 'clean' | 'failed' | 'errors' | 'interrupted' | 'in_progress' | 'dropped';
  readonly exit_reason: string;
}

/** The cutover's outcome in the engine's own words (the terminal and the war room say the same). */
type OverallStatus = 'completed' | 'rolled_back' | 'aborted' | 'failed' | 'in_progress';

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

const overallStatus = (state: CutoverState): OverallStatus => state.outcome ?? 'in_progress';

/** A stage gate's check taken after hypercare began (the last soak's checks were measured before). */
const inHypercare = (state: CutoverState, record: GateRecord) => record.phase === 'stage' && state.hypercare !== null && record.at > state.hypercare.startedAt;

const notices = (audit: readonly AuditEntry[]) =>
  audit.flatMap((e) => (e.type === 'notice' ? [{ at: e.at, notice: e.notice }] : [])) as Array<{ at: number; notice: Notice }>;

/** Per cohort: when it was entered, how its soak ended and why it was left. */
function cohortResults(input: EvidenceInput): CohortResult[] {
  type Open = { index: number; percent: number; at: number };
  const out: CohortResult[] = [];
  let open: Open | null = null;
  const checks = (index: number) => new Set(input.gates.filter((g) => g.phase === 'stage' && g.stage === index && !inHypercare(input.state, g)).map((g) => g.seq)).size;
  const result = (o: Open, leftAt: number | null, soakResult: CohortResult['soak_result'], reason: string): CohortResult => ({
    cohort: o.index + 1,
    percent: o.percent,
    entered_at: iso(o.at) as string,
    left_at: iso(leftAt),
    soak: formatDuration(input.plan.stages[o.index]?.soakMs ?? 0),
    checks: checks(o.index),
    soak_result: soakResult,
    exit_reason: reason,
  });
  // A train's targets dropped so far (`rollback: target`): a cohort whose wave has none left ends as dropped.
  const dropped: number[] = [];
  const dead = (o: Open) => !waveLive(input.plan, dropped, waveOf(input.plan, o.index));
  const close = (at: number, soakResult: CohortResult['soak_result'], reason: string) => {
    if (!open) return;
    out.push(dead(open) && soakResult !== 'failed' ? result(open, at, 'dropped', `every target of its wave was dropped (back to stable); ${reason}`) : result(open, at, soakResult, reason));
    open = null;
  };
  for (const { at, notice } of notices(input.audit)) {
    switch (notice.kind) {
      case 'target_dropped':
        dropped.push(notice.target);
        break;
      case 'completed':
        close(at, 'clean', 'cutover completed');
        break;
      case 'traffic_confirmed':
        if (notice.percent > 0 && (!open || open.index !== notice.stage)) {
          close(at, 'interrupted', 'left without a clean soak');
          open = { index: notice.stage, percent: notice.percent, at };
        }
        break;
      case 'soak_clean':
        if (open) {
          const reason =
            notice.next === 'complete' ? 'cutover completed' : notice.next === 'hypercare' ? 'clean; hypercare began' : notice.next === 'auto' ? 'promoted automatically' : 'clean soak; promoted by hand';
          // With manual promotion the cohort is left when someone promotes it.
          if (notice.next !== 'promotion') close(at, 'clean', reason);
        }
        break;
      case 'promoted':
        close(at, 'clean', `promoted by ${notice.by}`);
        break;
      case 'rollback_started':
        close(at, notice.trigger === 'gate' ? 'failed' : 'interrupted', notice.trigger === 'gate' ? `rolled back: ${notice.reason}` : `rolled back by ${notice.by}: ${notice.reason}`);
        break;
      default:
        break;
    }
  }
  if (open) out.push(result(open as Open, null, 'in_progress', input.state.phase));
  return out;
}

/** Gate id → kind, the first gate of `everyGate` order winning; records of other ids are the traffic backend's. */
function gateKinds(plan: Plan): Map<string, string> {
  const kinds = new Map<string, string>();
  for (const g of everyGate(plan)) if (!kinds.has(g.id)) kinds.set(g.id, g.kind);
  // A checkpoint's gates are recorded under its label (`T-60/G1`), apart from the stage gates.
  for (const c of plan.timeline) for (const g of c.gates) kinds.set(`${c.label}/${g.id}`, g.kind);
  return kinds;
}

function gateLine(record: GateRecord, kinds: ReadonlyMap<string, string>, state: CutoverState): Record<string, unknown> {
  const m = record.measurement;
  const observations = m.observations ?? [];
  return {
    time: iso(record.at),
    phase: inHypercare(state, record) ? 'hypercare' : record.phase,
    stage: record.stage >= 0 ? record.stage + 1 : null,
    percent: record.percent,
    gate: record.gate,
    kind: kinds.get(record.gate) ?? 'backend',
    value: observations.length === 1 ? observations[0]!.value : Object.fromEntries(observations.map((o) => [o.name, o.value])),
    threshold: observations.length === 1 ? (observations[0]!.threshold ?? null) : Object.fromEntries(observations.map((o) => [o.name, o.threshold ?? null])),
    outcome: record.verdict,
    ...(m.outcome === 'error' ? { error: m.error } : {}),
    ...(m.note ? { note: m.note } : {}),
    ...(record.judge ? { judge: judgeLine(record.judge) } : {}),
  };
}

/** A judge's state at one check: its trajectory, check by check, is what the change ticket keeps. */
function judgeLine(j: JudgeReading): Record<string, unknown> {
  return {
    metric: j.metric,
    decision: j.decision,
    ...(j.reason ? { reason: j.reason } : {}),
    evidence: j.figures.evidence,
    needed: j.figures.threshold,
    canary: j.figures.canary,
    stable: j.figures.stable,
    batches: j.figures.batches,
    resets: j.figures.resets,
    ...('thresholdMs' in j.figures ? { slow_threshold_ms: j.figures.thresholdMs } : {}),
    ...(j.guard ? { guard: j.guard } : {}),
    summary: j.summary,
  };
}

/** "12 of 500 (2.4 %)" for errors, "60 of 500 slow (12.0 %)" for latency. */
function sideText(j: JudgeReading, side: 'canary' | 'stable'): string {
  const f = j.figures[side] as { requests: number; errors?: number; slow?: number };
  const part = f.errors ?? f.slow ?? 0;
  const share = f.requests > 0 ? ` (${((100 * part) / f.requests).toFixed(part / f.requests >= 0.001 ? 1 : 3)} %)` : '';
  return `${part.toLocaleString('en-US')} of ${f.requests.toLocaleString('en-US')}${j.metric === 'latency' ? ' slow' : ''}${share}`;
}

const evidenceNumber = (e: number): string => (e < 10 ? e.toFixed(2) : e < 1e6 ? Math.round(e).toLocaleString('en-US') : e.toExponential(2));

/** SUMMARY.md's section on the judges: each one's rule, then its decision at every check. */
function judgeSection(plan: Plan, records: readonly GateRecord[]): string[] {
  const judges = plan.gates.stage.filter((g) => g.judge);
  if (judges.length === 0) return [];
  const lines = ['## Canary judges', ''];
  const budget = judges[0]!.judge!.falseRollback;
  lines.push(
    `False-rollback budget of the cutover: ${+(budget * 100).toPrecision(3)} %, shared by ${judges.length} judge${judges.length === 1 ? '' : 's'} (each at most its α; together at most the budget, whatever they see).`,
    '',
  );
  for (const g of judges) {
    const rule = g.judge!;
    const worse = rule.metric === 'error_rate' ? `${rule.worseBy}× stable's error rate` : `${+(rule.worseBy * 100).toPrecision(3)} % slower than stable`;
    const guard = rule.max === null ? 'no guard' : `guard max ${rule.metric === 'error_rate' ? `${+(rule.max * 100).toPrecision(3)} %` : `${rule.max} ms`}`;
    lines.push(`### ${g.id} (${rule.metric}, α ${+(rule.alpha * 100).toPrecision(3)} %: rolls back at evidence ${Math.round(1 / rule.alpha)}; aimed at ${worse}; ${guard})`, '');
    const trail = records.filter((r) => r.gate === g.id && r.phase === 'stage');
    if (trail.length === 0) {
      lines.push('Never checked.', '');
      continue;
    }
    lines.push('| time | cohort | outcome | evidence | canary | stable | note |', '|---|---|---|---|---|---|---|');
    for (const r of trail) {
      const j = r.judge;
      const note = j ? (j.reason ?? (j.guard && !j.guard.ok ? 'guard exceeded' : '')) : r.measurement.outcome === 'error' ? r.measurement.error : '';
      lines.push(
        `| ${iso(r.at)} | ${r.stage + 1} (${r.percent} %) | ${j ? (r.verdict === 'fail' && j.decision !== 'rollback' ? 'rollback (guard)' : j.decision) : r.verdict} | ${j ? `${evidenceNumber(j.figures.evidence)} / ${Math.round(j.figures.threshold)}` : ''} | ${j ? sideText(j, 'canary') : ''} | ${j ? sideText(j, 'stable') : ''} | ${note.replaceAll('|', '/')} |`,
      );
    }
    const last = trail.findLast((r) => r.judge)?.judge;
    if (last) lines.push('', `Last: ${last.summary}`);
    lines.push('');
  }
  return lines;
}

interface Step {
  readonly step: string;
  readonly passed: boolean;
}

/** A step is the preflight, one cohort's soak, or the rollback: the one-shot runner's step_count, passed and failed. */
function steps(input: EvidenceInput, cohorts: readonly CohortResult[]): { list: Step[]; passed: number; failed: number; total: number } {
  const all = notices(input.audit);
  // As the engine judged it (a gate that never reported fails preflight too); the last run counts.
  const preflight = all.findLast((n) => n.notice.kind === 'preflight')?.notice;
  const rollback = all.find((n) => n.notice.kind === 'rolled_back' || n.notice.kind === 'rollback_failed');
  const list: Step[] = [
    ...(preflight?.kind === 'preflight' ? [{ step: 'preflight', passed: preflight.passed }] : []),
    ...cohorts.filter((c) => c.soak_result !== 'in_progress').map((c) => ({ step: `cohort ${c.cohort} soak (${c.percent} %)`, passed: c.soak_result === 'clean' })),
    ...(rollback ? [{ step: 'rollback', passed: rollback.notice.kind === 'rolled_back' }] : []),
    // A train's dropped targets: each one's own rollback, passed once it was confirmed back on stable.
    ...(input.state.dropped ?? []).map((d) => ({ step: `rollback of dropped target ${input.plan.train?.targets[d.target]?.id ?? d.target}`, passed: d.backAt !== undefined })),
  ];
  const passed = list.filter((s) => s.passed).length;
  return { list, total: list.length, passed, failed: list.length - passed };
}

const rollbackSteps = (audit: readonly AuditEntry[]): readonly StepResult[] => {
  for (const { notice } of notices(audit)) if (notice.kind === 'rolled_back' || notice.kind === 'rollback_failed') return notice.steps;
  return [];
};

const observationsText = (observations: readonly Observation[]) =>
  observations.map((o) => `${o.name} ${typeof o.value === 'number' ? Number(o.value.toFixed(4)) : o.value}${o.threshold ? ` (${o.threshold})` : ''}`).join(', ');

const measurementText = (m: Measurement) =>
  [m.outcome === 'error' ? `error: ${m.error}` : m.outcome, observationsText(m.observations ?? [])].filter(Boolean).join(': ') + (m.note ? ` [${m.note}]` : '');

/** What a rollback step calls, in words: the method and URL, or the program; never a header or a token. */
function describeCall(spec: GateSpec | undefined): string {
  if (!spec) return 'a step no longer in the plan';
  const settings = (spec.settings ?? {}) as Record<string, unknown>;
  if (spec.kind === 'http') {
    const extras = [settings.json !== undefined ? 'a JSON body' : '', typeof settings.token_env === 'string' ? `a bearer token from $${settings.token_env}` : ''].filter(Boolean);
    return `${String(settings.method ?? 'GET')} ${String(settings.url)}${extras.length ? ` with ${extras.join(' and ')}` : ''}`;
  }
  if (spec.kind === 'command' && Array.isArray(settings.argv)) return `the program ${settings.argv.join(' ')} (no shell)`;
  return `a ${spec.kind} step`;
}

/** One rollback step: what was called, when, and what came back (or that nothing was called). */
function rollbackStepLog(step: StepResult, plan: Plan): string {
  const spec = plan.rollback.before.find((s) => s.id === step.step);
  const m = step.measurement;
  const simulated = m.note?.startsWith('simulated') ?? false;
  return [
    `rollback step ${step.step} (${spec?.kind ?? 'unknown kind'}), before traffic went back to stable`,
    `at: ${iso(step.at)}`,
    `${simulated ? 'would call' : 'called'}: ${describeCall(spec)}`,
    simulated ? 'SIMULATED: nothing was called; the simulation answered as a healthy control plane would' : null,
    `came back: ${measurementText(m)}`,
    ...(m.log ? ['output:', m.log.trimEnd()] : []),
    '',
  ]
    .filter((line) => line !== null)
    .join('\n');
}

/** Audit entries with their times as ISO 8601, like every other file of the package. */
const TIME_KEYS = new Set(['at', 't0', 'startsAt', 'endsAt']);
function isoTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(isoTimes);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, TIME_KEYS.has(k) && typeof v === 'number' && Number.isFinite(v) ? new Date(v).toISOString() : isoTimes(v)]));
}

function logs(input: EvidenceInput, rehearsal: RehearsalFacts | null): Map<string, string> {
  const files = new Map<string, string>();
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');
  // A log file travels alone (pasted in a ticket, attached to a mail): a rehearsal's says so on its first line.
  const banner = rehearsal ? `# ${rehearsalLine(rehearsal)}\n` : '';
  for (const record of input.gates) {
    if (!record.measurement.log) continue;
    // A one-shot gate (preflight, checkpoint) keeps the log of its last run; a stage gate one per check.
    const name = record.phase === 'stage' ? `cohort${record.stage + 1}-${safe(record.gate)}-${record.seq ?? 0}.log` : `${record.phase}-${safe(record.gate)}.log`;
    files.set(`logs/${name}`, banner + record.measurement.log);
  }
  for (const step of rollbackSteps(input.audit)) files.set(`logs/rollback-${safe(step.step)}.log`, banner + rollbackStepLog(step, input.plan));
  files.set('logs/audit.jsonl', jsonl(input.audit.map(isoTimes) as object[], rehearsal));
  return files;
}

/** A cohort as one target of a train went through it: the train's cohort, that target's share, checks and result. */
interface TargetCohortResult extends Omit<CohortResult, 'checks'> {
  readonly target: string;
  readonly wave: number;
  readonly checks: number;
  readonly gates: string;
}

/**
 * A train's cohorts per target: each cohort for the targets of its wave (the ones it moved), with
 * the checks of that target's own gates; a cohort that failed failed on the target whose gate
 * failed, and was left unfinished (rolled back with it) by the others.
 */
function targetCohorts(input: EvidenceInput, cohorts: readonly CohortResult[]): TargetCohortResult[] {
  const { plan, state } = input;
  if (!isTrain(plan)) return [];
  return cohorts.flatMap((c) => {
    const index = c.cohort - 1;
    const wave = waveOf(plan, index);
    return plan.train.targets.flatMap((target, t): TargetCohortResult[] => {
      if (target.wave !== wave) return [];
      // A dropped target took no cohort after the one it was dropped in; that one is its last, dropped.
      const drop = state.dropped?.find((d) => d.target === t);
      if (drop && index > drop.stage) return [];
      const own = new Set(plan.gates.stage.filter((g) => g.target === t).map((g) => g.id));
      const records = input.gates.filter((g) => g.phase === 'stage' && g.stage === index && own.has(g.gate));
      const failedHere = state.rollback?.trigger === 'gate' && state.rollback.gates.some((g) => own.has(g));
      const soakResult = c.soak_result === 'failed' && !failedHere ? 'interrupted' : c.soak_result;
      const verdicts = [...own].map((id) => `${id} ${records.filter((r) => r.gate === id).at(-1)?.verdict ?? 'not run'}`);
      const row = { ...c, target: target.id, wave: wave + 1, checks: new Set(records.map((r) => r.seq)).size, gates: verdicts.join(', '), soak_result: soakResult };
      return [drop && index === drop.stage ? { ...row, soak_result: 'dropped' as const, exit_reason: `dropped: ${drop.reason}` } : row];
    });
  });
}

/** summary.json's view of a train: each target, its revisions and the split it was last verified serving. */
function trainSummary(input: EvidenceInput) {
  const { plan, state } = input;
  if (!isTrain(plan)) return {};
  return {
    strategy: plan.train.strategy,
    waves: plan.train.waves,
    targets: plan.train.targets.map((t, i) => {
      const report = state.targets?.[i] ?? null;
      return {
        id: t.id,
        service: { platform: t.service.platform, name: t.service.name, key: t.serviceKey },
        wave: t.wave + 1,
        revisions: revisionsOf(t),
        final_split: report?.split ?? null,
        ...(report?.error ? { error: report.error } : {}),
        dropped: dropFacts(input, i),
      };
    }),
    // `rollback: target`: the targets whose release was dropped, why, and whether each is back on stable.
    rollback_scope: plan.train.rollback,
    dropped_targets: (state.dropped ?? []).map((d) => ({ target: plan.train.targets[d.target]?.id ?? String(d.target), index: d.target, ...dropFacts(input, d.target) })),
  };
}

/** A dropped target's facts for summary.json; null when it was not dropped. */
function dropFacts({ plan, state }: EvidenceInput, t: number) {
  const d = state.dropped?.find((x) => x.target === t);
  if (!d) return null;
  return {
    trigger: d.trigger,
    by: d.by,
    reason: d.reason,
    at: iso(d.at),
    gates: d.gates,
    cohort: d.stage >= 0 ? d.stage + 1 : null,
    percent_at_drop: plan.stages[d.stage]?.percent ?? null,
    back_on_stable: d.backAt !== undefined,
    back_at: iso(d.backAt),
    ...(d.rollbackError ? { rollback_error: d.rollbackError } : {}),
  };
}

/** SUMMARY.md's words for a dropped target: when, why, and whether it is back on stable. */
function dropWords({ plan, state }: EvidenceInput, t: number): string | null {
  const d = state.dropped?.find((x) => x.target === t);
  if (!d) return null;
  const back = d.backAt !== undefined ? `back on stable, verified ${iso(d.backAt)}` : d.rollbackError ? `NOT back on stable: ${d.rollbackError}` : backWords(d);
  return `DROPPED at cohort ${d.stage + 1} (${plan.stages[d.stage]?.percent ?? '?'} %) ${iso(d.at)}, ${d.trigger === 'gate' ? 'automatically' : `by ${d.by}`}: ${d.reason}; ${back}`;
}

/** Whether a dropped target is back on stable, in a few words. */
const backWords = (d: TargetDrop): string => (d.backAt !== undefined ? 'back on stable' : d.rollbackError ? 'NOT back on stable' : 'not confirmed back on stable yet');

/** SUMMARY.md's table per target of a train. */
function targetTables(input: EvidenceInput, rows: readonly TargetCohortResult[]): string[] {
  const { plan, state } = input;
  if (!isTrain(plan)) return [];
  return [
    `## Targets (${plan.train.strategy === 'lockstep' ? 'lockstep' : `${plan.train.waves.length} waves`})`,
    '',
    ...plan.train.targets.flatMap((t, i) => {
      const report = state.targets?.[i] ?? null;
      const split = report?.split;
      const final = report?.error ? `NOT CONFIRMED: ${report.error}` : split ? `${split.canary} % canary / ${split.stable} % stable${split.other ? ` / ${split.other} % other` : ''}, verified ${iso(report.at)}` : 'never verified';
      const own = rows.filter((r) => r.target === t.id);
      const dropped = dropWords(input, i);
      return [
        `### ${t.id}: ${t.service.platform} ${t.service.name}${typeof (t.service as { region?: unknown }).region === 'string' ? ` in ${String((t.service as { region?: unknown }).region)}` : ''}${dropped ? ' (dropped)' : ''}`,
        '',
        `Service ${t.serviceKey}; wave ${t.wave + 1}; stable ${t.service.stable}, canary ${t.service.canary}; final split: ${final}.`,
        '',
        ...(dropped ? [`${dropped}.`, ''] : []),
        '| cohort | traffic | entered | checks | gates | result | exit |',
        '|---|---|---|---|---|---|---|',
        ...own.map((r) => `| ${r.cohort} | ${r.percent} % | ${r.entered_at} | ${r.checks} | ${r.gates} | ${r.soak_result} | ${r.exit_reason} |`),
        '',
      ];
    }),
  ];
}

/** One JSON object a line; in a rehearsal every line carries `"rehearsal": true`. */
function jsonl(records: readonly object[], rehearsal: RehearsalFacts | null): string {
  return records.map((r) => JSON.stringify(rehearsal ? { rehearsal: true, ...r } : r)).join('\n') + (records.length ? '\n' : '');
}

function rehearsalLine(r: RehearsalFacts): string {
  const breach = r.breachAt === null ? '' : `, breach at ${r.breachAt} %`;
  const world = r.emulators ? 'Cloud Run, Cloud Logging and Cloud Monitoring were local emulators, every other gate simulated' : 'traffic and every gate were simulated';
  return `REHEARSAL, not a production cutover: scenario ${r.scenario}${breach}, seed ${r.seed}, x${r.speed} speed; ${world}; nothing outside this machine was called.`;
}

/** The gates whose failure triggered an automatic rollback, with the values they failed on. */
function rollbackCause(input: EvidenceInput): Array<{ gate: string; at: string | null; percent: number; failed: string; all: string }> {
  const rollback = input.state.rollback;
  if (!rollback || rollback.trigger !== 'gate') return [];
  return rollback.gates.flatMap((gate) => {
    const record = input.gates.findLast((g) => g.gate === gate && g.verdict === 'fail' && g.at <= rollback.at);
    if (!record) return [];
    const observations = record.measurement.observations ?? [];
    return [{ gate, at: iso(record.at), percent: record.percent, failed: observationsText(observations.filter((o) => !o.ok)), all: observationsText(observations) }];
  });
}

export function buildEvidence(input: EvidenceInput, options: EvidenceOptions = {}): Map<string, string> {
  const { state, plan } = input;
  const rehearsal = options.rehearsal ?? null;
  const cohorts = cohortResults(input);
  const perTarget = targetCohorts(input, cohorts);
  const count = steps(input, cohorts);
  const checkpoints = timeline(input);
  const kinds = gateKinds(plan);
  const gateRecords = input.gates;
  const cause = rollbackCause(input);
  const summary = {
    cutover_id: state.id,
    plan: plan.name,
    // Always present: false in production, so a reader never has to guess from a missing key.
    rehearsal: rehearsal !== null,
    rehearsal_settings: rehearsal ? { scenario: rehearsal.scenario, breach_at: rehearsal.breachAt, seed: rehearsal.seed, speed: rehearsal.speed, emulators: rehearsal.emulators } : null,
    service: { platform: plan.service.platform, name: plan.service.name, key: plan.serviceKey },
    overall_status: overallStatus(state),
    step_count: count.total,
    passed: count.passed,
    failed: count.failed,
    steps: count.list,
    revisions: state.revisions,
    started_at: iso(state.startedAt),
    ended_at: iso(state.endedAt),
    started_by: state.startedBy,
    final_traffic: { canary: state.traffic, stable: 100 - state.traffic },
    cohorts_completed: cohorts.filter((c) => c.soak_result === 'clean').map((c) => c.percent),
    approvals: state.decisions.map((d) => ({ action: d.action, by: d.by, role: d.role, at: iso(d.at), cohort: d.stage >= 0 ? d.stage + 1 : null, ...(d.reason ? { reason: d.reason } : {}) })),
    gate_evaluations: gateRecords.length,
    gate_failures: gateRecords.filter((g) => g.verdict === 'fail').length,
    gate_errors: gateRecords.filter((g) => g.verdict === 'error' || g.verdict === 'errors_exhausted').length,
    judges: plan.gates.stage
      .filter((g) => g.judge)
      .map((g) => {
        const last = gateRecords.findLast((r) => r.gate === g.id && r.judge)?.judge;
        return {
          gate: g.id,
          metric: g.judge!.metric,
          alpha: g.judge!.alpha,
          false_rollback_budget: g.judge!.falseRollback,
          decision: last?.decision ?? null,
          evidence: last?.figures.evidence ?? null,
          needed: 1 / g.judge!.alpha,
          summary: last?.summary ?? null,
        };
      }),
    rollback: state.rollback ? { ...state.rollback, at: iso(state.rollback.at), ...(cause.length ? { failing: cause.map(({ gate, at, percent, all }) => ({ gate, at, percent, values: all })) } : {}) } : null,
    t0: iso(state.t0),
    timeline: checkpoints,
    sign_off: plan.signOff.map((s, i) => ({ role: s.role, item: s.item, by: state.signoffs[i]?.by ?? null, at: iso(state.signoffs[i]?.at) })),
    hypercare: state.hypercare
      ? { started_at: iso(state.hypercare.startedAt), planned_end: iso(state.hypercare.endsAt), checks: new Set(gateRecords.filter((g) => inHypercare(state, g)).map((g) => g.seq)).size }
      : null,
    ...trainSummary(input),
  };
  const sloGates = new Set(plan.gates.stage.filter((s) => s.kind === 'slo_snapshot').map((s) => s.id));
  const slo = gateRecords.filter((g) => sloGates.has(g.gate));
  const files = new Map<string, string>();
  files.set('summary.json', JSON.stringify(summary, null, 2) + '\n');
  files.set('SUMMARY.md', summaryMarkdown(input, summary, cohorts, checkpoints, { rehearsal, cause, steps: count.list, slo: slo.length > 0, chart: options.chart, targetCharts: options.targetCharts ?? [] }, targetTables(input, perTarget)));
  files.set('gate-results.jsonl', jsonl(gateRecords.map((g) => gateLine(g, kinds, state)), rehearsal));
  // A train's rows carry their target: one per cohort and target it moved.
  files.set('cohort-results.jsonl', jsonl(isTrain(plan) ? perTarget : cohorts, rehearsal));
  if (slo.length) files.set('slo-results.jsonl', jsonl(slo.map((g) => gateLine(g, kinds, state)), rehearsal));
  for (const [name, content] of logs(input, rehearsal)) files.set(name, content);
  return files;
}

/** Every checkpoint, item, tick and checkpoint gate, for the change ticket. */
function timeline({ state, plan }: EvidenceInput) {
  return plan.timeline.map((c, i) => {
    const run = state.checkpoints[i];
    return {
      at: c.label,
      name: c.name,
      owner: c.owner,
      due_at: iso(state.t0 + c.offsetMs),
      status: run?.status ?? 'pending',
      opened_at: iso(run?.openedAt),
      done_at: iso(run?.doneAt),
      nudged: run?.nudged ?? false,
      escalated: run?.escalated ?? false,
      items: c.checklist.map((item, j) => ({ item, ticked_by: run?.ticks[j]?.by ?? null, ticked_at: iso(run?.ticks[j]?.at) })),
      gates: run?.gates ? Object.fromEntries(Object.entries(run.gates).map(([id, g]) => [id, g.verdict])) : null,
    };
  });
}

/** ` **Completed on 2 of 3 targets; dropped: api-eu.**`: a completed train that dropped targets says so in its headline. */
function droppedNote({ plan, state }: EvidenceInput): string {
  if (state.outcome !== 'completed' || !isTrain(plan) || !state.dropped?.length) return '';
  const total = plan.train.targets.length;
  return ` **Completed on ${total - state.dropped.length} of ${total} targets; dropped: ${state.dropped.map((d) => plan.train.targets[d.target]?.id ?? d.target).join(', ')}.**`;
}

/** "done by U1, U2 at …" for a checkpoint named by its label, for seed 001's template lines. */
function checkpointLine({ state, plan }: EvidenceInput, label: string): string | null {
  const i = plan.timeline.findIndex((c) => c.label === label);
  if (i < 0) return null;
  const c = plan.timeline[i]!;
  const run = state.checkpoints[i];
  const ticked = run?.ticks.filter(Boolean).length ?? 0;
  const by = [...new Set((run?.ticks ?? []).flatMap((t) => (t ? [t.by] : [])))].join(', ');
  const status = run?.status === 'done' ? `done at ${iso(run.doneAt)}` : run?.status === 'open' ? 'NOT DONE' : 'not reached';
  return `${c.name} (${c.owner}): ${status}; ${ticked}/${c.checklist.length} items ticked${by ? ` by ${by}` : ''}`;
}

const STATUS_WORDS: Record<OverallStatus, string> = {
  completed: 'COMPLETED: the canary serves 100 %',
  rolled_back: 'ROLLED BACK: all traffic is on the stable revision',
  aborted: 'ABORTED before traffic moved',
  failed: 'FAILED: the rollback could not be confirmed; check traffic by hand',
  in_progress: 'IN PROGRESS',
};

const REHEARSAL_STATUS_WORDS: Record<OverallStatus, string> = {
  completed: 'COMPLETED IN A REHEARSAL: the simulated canary reached 100 %; nothing in production changed',
  rolled_back: 'ROLLED BACK IN A REHEARSAL: the simulated traffic went back to the stable revision',
  aborted: 'ABORTED IN A REHEARSAL before the simulated traffic moved',
  failed: 'FAILED IN A REHEARSAL: the simulated rollback could not be confirmed',
  in_progress: 'REHEARSAL IN PROGRESS',
};

/** A train's charts in SUMMARY.md: one per target, each with the same in words. */
function targetChartSection(charts: readonly TargetChart[]): string[] {
  if (charts.length === 0) return [];
  return [
    '## Charts, one per target',
    '',
    "Each target's own gates (canary against stable) and traffic share, with the train's decisions, on one time axis. Drawn from `gate-results.jsonl` and the audit trail; each `.svg` is the same picture as a vector.",
    '',
    ...charts.flatMap((c) => [
      `### ${c.target}`,
      '',
      `![${c.target}: canary against stable: error rate, p95 latency, traffic share and decisions](${c.file}.png)`,
      '',
      // The same in words (it is the image's alt text in Slack), for whoever reads this as text.
      c.alt,
      '',
    ]),
  ];
}

function summaryMarkdown(
  input: EvidenceInput,
  summary: { overall_status: OverallStatus; step_count: number; passed: number; failed: number },
  cohorts: readonly CohortResult[],
  checkpoints: ReturnType<typeof timeline>,
  extra: { rehearsal: RehearsalFacts | null; cause: ReturnType<typeof rollbackCause>; steps: readonly Step[]; slo: boolean; chart?: string | undefined; targetCharts: readonly TargetChart[] },
  targets: readonly string[] = [],
): string {
  const { state, plan } = input;
  const { rehearsal } = extra;
  const hypercareChecks = state.hypercare ? new Set(input.gates.filter((g) => inHypercare(state, g)).map((g) => g.seq)).size : 0;
  const at = (label: string, fallback: string) => {
    const line = checkpointLine(input, label);
    return line ? `${line}; ${fallback}` : fallback;
  };
  const byAction = (action: string) => state.decisions.filter((d) => d.action === action);
  const goNoGo = byAction('go_no_go');
  const firstShift = notices(input.audit).find((n) => n.notice.kind === 'traffic_confirmed' && n.notice.percent > 0);
  const firstCohort = cohorts[0];
  const preflight = Object.entries(state.preflight);
  // The T-30 checkpoint's own gates are recorded under their own phase, apart from the preflight's.
  const t30Gates = plan.timeline.some((c) => c.label === 'T-30' && c.gates.length > 0);
  const lines: string[] = [
    rehearsal ? `# REHEARSAL, not a production cutover: ${plan.name}` : `# Cutover evidence: ${plan.name}`,
    '',
    ...(rehearsal ? [`> **${rehearsalLine(rehearsal)}** Not evidence for a change ticket.`, ''] : []),
    `**${(rehearsal ? REHEARSAL_STATUS_WORDS : STATUS_WORDS)[summary.overall_status]}.**${droppedNote(input)}`,
    '',
    // A step is the preflight, one cohort's soak, or the rollback.
    `Steps (the preflight, each cohort's soak, the rollback): ${summary.passed} of ${summary.step_count} passed${extra.steps.length ? `: ${extra.steps.map((s) => `${s.step} ${s.passed ? 'passed' : 'FAILED'}`).join('; ')}` : ''}.`,
    '',
    '```text',
    rehearsal ? `Rehearsal ID (not a change ticket): ${state.id}` : `Cutover ticket ID: ${state.id}`,
    rehearsal
      ? `Environment: REHEARSAL of ${plan.service.platform} ${plan.service.name} (${plan.serviceKey}); ${rehearsal.emulators ? 'local emulators' : 'simulated'}, nothing in production was called`
      : `Environment: ${isTrain(plan) ? `train of ${plan.train.targets.length} (${plan.train.strategy}): ${plan.train.targets.map((t) => t.serviceKey).join(', ')}` : `${plan.service.platform} ${plan.service.name} (${plan.serviceKey})`}`,
    `Operator: ${state.startedBy}`,
    `Revisions: ${isTrain(plan) ? 'per target (see Targets)' : `stable ${state.revisions.stable}, canary ${state.revisions.canary}`}`,
    `Gate results (${preflight.map(([id]) => id).join(', ') || 'none'}): ${preflight.map(([id, r]) => `${id} ${r.verdict.toUpperCase()}`).join(', ') || 'not run'}`,
    `T-60 evidence: ${at('T-60', `preflight at ${iso(Object.values(state.preflight)[0]?.at) ?? 'not run'}${input.gates.some((g) => g.phase === 'preflight' && g.measurement.log) ? ' (output in logs/)' : ''}`)}`,
    `T-30 evidence: ${at('T-30', `see gate-results.jsonl (phase "preflight"${t30Gates ? ', and phase "checkpoint" for the T-30 gates' : ''})`)}`,
    `T-10 decision: ${at('T-10', goNoGo.length ? `GO by ${goNoGo.map((d) => `${d.by} (${d.role})`).join(', ')} at ${iso(goNoGo.at(-1)!.at)}` : byAction('reject').length ? `NO-GO by ${byAction('reject').map((d) => d.by).join(', ')}` : 'no go/no-go decision')}`,
    `T0 execution reference: ${firstShift ? `${state.id}, first traffic at ${iso(firstShift.at)}` : 'no traffic was shifted'}`,
    `T+10 verification: ${at('T+10', firstCohort ? `cohort 1 (${firstCohort.percent} %): ${firstCohort.soak_result} after ${firstCohort.checks} checks` : 'none')}`,
    `T+30 closure decision: ${at('T+30', `${summary.overall_status === 'completed' ? 'keep the release' : summary.overall_status === 'in_progress' ? 'pending' : summary.overall_status.replace('_', ' ')} at ${iso(state.endedAt) ?? 'n/a'}`)}`,
    `Rollback trigger (if any): ${state.rollback ? `${state.rollback.trigger === 'gate' ? 'automatic' : `manual by ${state.rollback.by}`}: ${state.rollback.reason}` : 'none'}`,
    ...(isTrain(plan) && state.dropped?.length
      ? [`Dropped targets (rollback: target): ${state.dropped.map((d) => `${plan.train.targets[d.target]?.id ?? d.target} (${d.trigger === 'gate' ? 'automatic' : `by ${d.by}`}: ${d.reason}; ${backWords(d)})`).join('; ')}`]
      : []),
    ...extra.cause.map((c) => `  ${c.gate} failed at ${c.percent} % (${c.at}): ${c.failed || c.all}`),
    '```',
    '',
    ...(extra.cause.length
      ? [
          '## What triggered the rollback',
          '',
          '| gate | at | traffic | failing values (threshold) | all values |',
          '|---|---|---|---|---|',
          ...extra.cause.map((c) => `| ${c.gate} | ${c.at} | ${c.percent} % | ${c.failed || 'see all values'} | ${c.all} |`),
          '',
        ]
      : []),
    '## Cohorts',
    '',
    '| cohort | traffic | entered | soak | checks | result | exit |',
    '|---|---|---|---|---|---|---|',
    ...cohorts.map((c) => `| ${c.cohort} | ${c.percent} % | ${c.entered_at} | ${c.soak} | ${c.checks} | ${c.soak_result} | ${c.exit_reason} |`),
    '',
    ...(state.hypercare
      ? [
          '## Hypercare',
          '',
          `Started ${iso(state.hypercare.startedAt)}, planned to end ${iso(state.hypercare.endsAt)}; ${hypercareChecks} check${hypercareChecks === 1 ? '' : 's'} of the stage gates (phase "hypercare" in gate-results.jsonl).`,
          '',
        ]
      : []),
    ...targets,
    ...(plan.timeline.length
      ? [
          '## Timeline',
          '',
          '| at | checkpoint | owner | due | status | items ticked | by |',
          '|---|---|---|---|---|---|---|',
          ...checkpoints.map((c) => `| ${c.at} | ${c.name} | ${c.owner} | ${c.due_at} | ${c.status}${c.escalated ? ' (escalated)' : c.nudged ? ' (nudged)' : ''} | ${c.items.filter((i) => i.ticked_by).length}/${c.items.length} | ${[...new Set(c.items.flatMap((i) => (i.ticked_by ? [i.ticked_by] : [])))].join(', ')} |`),
          '',
        ]
      : []),
    ...(plan.signOff.length
      ? [
          '## Sign-off',
          '',
          ...plan.signOff.map((s, i) => {
            const signed = state.signoffs[i];
            return `- [${signed ? 'x' : ' '}] \`<${s.role}>\`: ${s.item}${signed ? ` (${signed.by}, ${iso(signed.at)})` : ''}`;
          }),
          '',
        ]
      : []),
    ...judgeSection(plan, input.gates),
    '## Decisions',
    '',
    '| when | action | by | role | cohort | reason |',
    '|---|---|---|---|---|---|',
    ...state.decisions.map((d) => `| ${iso(d.at)} | ${d.action} | ${d.by} | ${d.role ?? ''} | ${d.stage >= 0 ? d.stage + 1 : ''} | ${d.reason ?? ''} |`),
    '',
    ...(extra.chart
      ? [
          '## Chart',
          '',
          '![Canary against stable: error rate, p95 latency, traffic share and decisions](chart.png)',
          '',
          // The same in words (it is the image's alt text in Slack), for whoever reads this as text.
          extra.chart,
          '',
          'Drawn from `gate-results.jsonl` and the audit trail; `chart.svg` is the same picture as a vector.',
          '',
        ]
      : []),
    ...targetChartSection(extra.targetCharts),
    '## Files',
    '',
    '- `summary.json`: overall status, steps, revisions, times, approvals',
    '- `gate-results.jsonl`: every gate evaluation (time, cohort, gate, value, threshold, outcome; a judge\'s evidence and counts under `judge`)',
    '- `cohort-results.jsonl`: each cohort entered, its soak result and why it was left',
    ...(extra.slo ? ['- `slo-results.jsonl`: the SLO snapshot evaluations'] : []),
    ...(extra.chart ? ['- `chart.png`, `chart.svg`: the chart above'] : []),
    ...(extra.targetCharts.length ? [`- ${extra.targetCharts.map((c) => `\`${c.file}.png\``).join(', ')} (and each as \`.svg\`): the charts above, one per target`] : []),
    '- `logs/`: command output, what each rollback step called and what came back, and the full audit trail (`logs/audit.jsonl`)',
    '',
  ];
  return lines.join('\n');
}
