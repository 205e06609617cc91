// The evidence package of a cutover, built from what Redis holds: pure, so the writer on disk and
// the Slack upload produce the same bytes from any replica.
import type { AuditEntry } from '../domain/audit.ts';
import { formatDuration } from '../domain/duration.ts';
import { everyGate, type Plan } from '../domain/plan.ts';
import type { CutoverState, GateRecord, Notice, StepResult } from '../domain/state.ts';

export interface EvidenceInput {
  readonly state: CutoverState;
  readonly plan: Plan;
  readonly audit: readonly AuditEntry[];
  readonly gates: readonly GateRecord[];
}

/** A package's files: text, and the chart's PNG as bytes. */
export type EvidenceFiles = Map<string, string | Uint8Array>;

export interface EvidenceOptions {
  /** The chart's alt text when the package carries `chart.png` and `chart.svg`; SUMMARY.md shows and names them. */
  readonly chart?: string;
}

interface CohortResult {
  readonly cohort: number;
  readonly percent: number;
  readonly entered_at: string;
  readonly left_at: string | null;
  readonly soak: string;
  readonly checks: number;
  readonly soak_result: 'clean' | 'failed' | 'errors' | 'interrupted' | 'in_progress';
  readonly exit_reason: string;
}

type OverallStatus = 'passed' | 'rolled_back' | 'aborted' | 'failed' | 'in_progress';

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

function overallStatus(state: CutoverState): OverallStatus {
  switch (state.outcome) {
    case 'completed':
      return 'passed';
    case null:
      return 'in_progress';
    default:
      return state.outcome;
  }
}

const notices = (audit: readonly AuditEntry[]) =>
  audit.flatMap((e) => (e.type === 'notice' ? [{ at: e.at, notice: e.notice }] : [])) as Array<{ at: number; notice: Notice }>;

/** Per cohort: when it was entered, how its soak ended and why it was left. */
function cohortResults(input: EvidenceInput): CohortResult[] {
  type Open = { index: number; percent: number; at: number };
  const out: CohortResult[] = [];
  let open: Open | null = null;
  const checks = (index: number) => new Set(input.gates.filter((g) => g.phase === 'stage' && g.stage === index).map((g) => g.seq)).size;
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
  const close = (at: number, soakResult: CohortResult['soak_result'], reason: string) => {
    if (!open) return;
    out.push(result(open, at, soakResult, reason));
    open = null;
  };
  for (const { at, notice } of notices(input.audit)) {
    switch (notice.kind) {
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

function gateLine(record: GateRecord, kinds: ReadonlyMap<string, string>): Record<string, unknown> {
  const m = record.measurement;
  const observations = m.observations ?? [];
  return {
    time: iso(record.at),
    phase: record.phase,
    stage: record.stage >= 0 ? record.stage + 1 : null,
    percent: record.percent,
    gate: record.gate,
    kind: kinds.get(record.gate) ?? 'backend',
    value: observations.length === 1 ? observations[0]!.value : Object.fromEntries(observations.map((o) => [o.name, o.value])),
    threshold: observations.length === 1 ? (observations[0]!.threshold ?? null) : Object.fromEntries(observations.map((o) => [o.name, o.threshold ?? null])),
    outcome: record.verdict,
    ...(m.outcome === 'error' ? { error: m.error } : {}),
    ...(m.note ? { note: m.note } : {}),
  };
}

function steps(input: EvidenceInput, cohorts: readonly CohortResult[]): { passed: number; failed: number; total: number } {
  const all = notices(input.audit);
  // As the engine judged it (a gate that never reported fails preflight too); the last run counts.
  const preflight = all.findLast((n) => n.notice.kind === 'preflight')?.notice;
  const rollback = all.find((n) => n.notice.kind === 'rolled_back' || n.notice.kind === 'rollback_failed');
  const results = [
    ...(preflight?.kind === 'preflight' ? [preflight.passed] : []),
    ...cohorts.filter((c) => c.soak_result !== 'in_progress').map((c) => c.soak_result === 'clean'),
    ...(rollback ? [rollback.notice.kind === 'rolled_back'] : []),
  ];
  const passed = results.filter(Boolean).length;
  return { total: results.length, passed, failed: results.length - passed };
}

const rollbackSteps = (audit: readonly AuditEntry[]): readonly StepResult[] => {
  for (const { notice } of notices(audit)) if (notice.kind === 'rolled_back' || notice.kind === 'rollback_failed') return notice.steps;
  return [];
};

function logs(input: EvidenceInput): Map<string, string> {
  const files = new Map<string, string>();
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');
  for (const record of input.gates) {
    if (!record.measurement.log) continue;
    // A one-shot gate (preflight, checkpoint) keeps the log of its last run; a stage gate one per check.
    const name = record.phase === 'stage' ? `cohort${record.stage + 1}-${safe(record.gate)}-${record.seq ?? 0}.log` : `${record.phase}-${safe(record.gate)}.log`;
    files.set(`logs/${name}`, record.measurement.log);
  }
  for (const step of rollbackSteps(input.audit)) {
    const m = step.measurement;
    files.set(`logs/rollback-${safe(step.step)}.log`, m.log ?? (m.outcome === 'error' ? `error: ${m.error}\n` : `${m.outcome}\n`));
  }
  files.set('logs/audit.jsonl', input.audit.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return files;
}

export function buildEvidence(input: EvidenceInput, options: EvidenceOptions = {}): Map<string, string> {
  const { state, plan } = input;
  const cohorts = cohortResults(input);
  const count = steps(input, cohorts);
  const checkpoints = timeline(input);
  const kinds = gateKinds(plan);
  const gateRecords = input.gates;
  const summary = {
    cutover_id: state.id,
    plan: plan.name,
    service: { platform: plan.service.platform, name: plan.service.name, key: plan.serviceKey },
    overall_status: overallStatus(state),
    step_count: count.total,
    passed: count.passed,
    failed: count.failed,
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
    rollback: state.rollback ? { ...state.rollback, at: iso(state.rollback.at) } : null,
    t0: iso(state.t0),
    timeline: checkpoints,
    sign_off: plan.signOff.map((s, i) => ({ role: s.role, item: s.item, by: state.signoffs[i]?.by ?? null, at: iso(state.signoffs[i]?.at) })),
    hypercare: state.hypercare ? { started_at: iso(state.hypercare.startedAt), planned_end: iso(state.hypercare.endsAt) } : null,
  };
  const files = new Map<string, string>();
  files.set('summary.json', JSON.stringify(summary, null, 2) + '\n');
  files.set('SUMMARY.md', summaryMarkdown(input, summary, cohorts, checkpoints, options.chart));
  files.set('gate-results.jsonl', gateRecords.map((g) => JSON.stringify(gateLine(g, kinds))).join('\n') + (gateRecords.length ? '\n' : ''));
  files.set('cohort-results.jsonl', cohorts.map((c) => JSON.stringify(c)).join('\n') + (cohorts.length ? '\n' : ''));
  const sloGates = new Set(plan.gates.stage.filter((s) => s.kind === 'slo_snapshot').map((s) => s.id));
  const slo = gateRecords.filter((g) => sloGates.has(g.gate));
  if (slo.length) files.set('slo-results.jsonl', slo.map((g) => JSON.stringify(gateLine(g, kinds))).join('\n') + '\n');
  for (const [name, content] of logs(input)) files.set(name, content);
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
  passed: 'PASSED: the canary serves 100 %',
  rolled_back: 'ROLLED BACK: all traffic is on the stable revision',
  aborted: 'ABORTED before traffic moved',
  failed: 'FAILED: the rollback could not be confirmed; check traffic by hand',
  in_progress: 'IN PROGRESS',
};

function summaryMarkdown(
  input: EvidenceInput,
  summary: { overall_status: OverallStatus; step_count: number; passed: number; failed: number },
  cohorts: readonly CohortResult[],
  checkpoints: ReturnType<typeof timeline>,
  chart: string | undefined,
): string {
  const { state, plan } = input;
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
    `# Cutover evidence: ${plan.name}`,
    '',
    `**${STATUS_WORDS[summary.overall_status]}**: ${summary.step_count} steps, ${summary.passed} passed, ${summary.failed} failed.`,
    '',
    '```text',
    `Cutover ticket ID: ${state.id}`,
    `Environment: ${plan.service.platform} ${plan.service.name} (${plan.serviceKey})`,
    `Operator: ${state.startedBy}`,
    `Revisions: stable ${state.revisions.stable}, canary ${state.revisions.canary}`,
    `Gate results (${preflight.map(([id]) => id).join(', ') || 'none'}): ${preflight.map(([id, r]) => `${id} ${r.verdict.toUpperCase()}`).join(', ') || 'not run'}`,
    `T-60 evidence: ${at('T-60', `preflight at ${iso(Object.values(state.preflight)[0]?.at) ?? 'not run'}${input.gates.some((g) => g.phase === 'preflight' && g.measurement.log) ? ' (output in logs/)' : ''}`)}`,
    `T-30 evidence: ${at('T-30', `see gate-results.jsonl (phase "preflight"${t30Gates ? ', and phase "checkpoint" for the T-30 gates' : ''})`)}`,
    `T-10 decision: ${at('T-10', goNoGo.length ? `GO by ${goNoGo.map((d) => `${d.by} (${d.role})`).join(', ')} at ${iso(goNoGo.at(-1)!.at)}` : byAction('reject').length ? `NO-GO by ${byAction('reject').map((d) => d.by).join(', ')}` : 'no go/no-go decision')}`,
    `T0 execution reference: ${firstShift ? `${state.id}, first traffic at ${iso(firstShift.at)}` : 'no traffic was shifted'}`,
    `T+10 verification: ${at('T+10', firstCohort ? `cohort 1 (${firstCohort.percent} %): ${firstCohort.soak_result} after ${firstCohort.checks} checks` : 'none')}`,
    `T+30 closure decision: ${at('T+30', `${summary.overall_status === 'passed' ? 'keep the release' : summary.overall_status === 'in_progress' ? 'pending' : summary.overall_status.replace('_', ' ')} at ${iso(state.endedAt) ?? 'n/a'}`)}`,
    `Rollback trigger (if any): ${state.rollback ? `${state.rollback.trigger === 'gate' ? 'automatic' : `manual by ${state.rollback.by}`}: ${state.rollback.reason}` : 'none'}`,
    '```',
    '',
    '## Cohorts',
    '',
    '| cohort | traffic | entered | soak | checks | result | exit |',
    '|---|---|---|---|---|---|---|',
    ...cohorts.map((c) => `| ${c.cohort} | ${c.percent} % | ${c.entered_at} | ${c.soak} | ${c.checks} | ${c.soak_result} | ${c.exit_reason} |`),
    '',
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
    '## Decisions',
    '',
    '| when | action | by | role | cohort | reason |',
    '|---|---|---|---|---|---|',
    ...state.decisions.map((d) => `| ${iso(d.at)} | ${d.action} | ${d.by} | ${d.role ?? ''} | ${d.stage >= 0 ? d.stage + 1 : ''} | ${d.reason ?? ''} |`),
    '',
    ...(chart
      ? [
          '## Chart',
          '',
          '![Canary against stable: error rate, p95 latency, traffic share and decisions](chart.png)',
          '',
          // The same in words (it is the image's alt text in Slack), for whoever reads this as text.
          chart,
          '',
          'Drawn from `gate-results.jsonl` and the audit trail; `chart.svg` is the same picture as a vector.',
          '',
        ]
      : []),
    '## Files',
    '',
    '- `summary.json`: overall status, step counts, revisions, times, approvals',
    '- `gate-results.jsonl`: every gate evaluation (time, cohort, gate, value, threshold, outcome)',
    '- `cohort-results.jsonl`: each cohort entered, its soak result and why it was left',
    ...(chart ? ['- `chart.png`, `chart.svg`: the chart above'] : []),
    '- `logs/`: command output and the full audit trail (`logs/audit.jsonl`)',
    '',
  ];
  return lines.join('\n');
}
