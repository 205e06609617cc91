// Rendered examples of the war room's messages, for reviewers to paste into Slack's Block Kit
// Builder. The states come from the real plan example and the pure state machine, driven through
// a cutover of control-service on a fixed clock, and the blocks from the real templates; a test
// checks that docs/block-kit/ holds exactly what this renders, so the examples never drift.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { cloudAdapters } from '../src/app/adapters.ts';
import type { AuditEntry } from '../src/domain/audit.ts';
import { openCutover, step } from '../src/domain/machine.ts';
import { measured, type Observation } from '../src/domain/measurement.ts';
import type { Plan } from '../src/domain/plan.ts';
import type { CutoverEvent, CutoverState, Escalation, GateRecord, GateResult, Transition } from '../src/domain/state.ts';
import { buildEvidence } from '../src/evidence/build.ts';
import { parsePlanText } from '../src/plans/parse.ts';
import { auditFor } from '../src/runtime/engine.ts';
import { buildVocabulary } from '../src/app/runtime.ts';
import type { SlackMessage } from '../templates/blocks.ts';
import { statusCard } from '../templates/card.ts';
import { checklistMessage, signOffMessage } from '../templates/checklist.ts';
import { closingMessage, escalationMessage, updateMessage } from '../templates/messages.ts';
import { homeView } from '../templates/home.ts';
import { startDialog } from '../templates/start-dialog.ts';

const ROOT = resolve(import.meta.dirname, '..');
export const EXAMPLES_DIR = resolve(ROOT, 'docs/block-kit');

const T0 = Date.UTC(2026, 10, 23, 15, 47, 0);
const MINUTE = 60_000;
const RELEASE = { id: 'U01RELEASE', roles: ['release-manager'] };
const OPS = { id: 'U02OPS', roles: ['ops-lead'] };

/** A reading that holds; an empty threshold marks a value recorded for context only. */
const ok = (name: string, value: number | string, threshold: string): Observation => ({ name, value, ...(threshold ? { threshold } : {}), ok: true });

/** What each stage gate of the example plan reads on a healthy canary, or on one whose latency broke. */
function stageReadings(plan: Plan, at: number, broken: boolean): GateResult[] {
  const readings: Record<string, Observation[]> = {
    slo: broken ? [{ name: 'p95_latency_ms', value: 912, threshold: '<= 600', ok: false }, ok('error_budget_ratio', 0.0046, '<= 0.02')] : [ok('p95_latency_ms', 192, '<= 600'), ok('error_budget_ratio', 0.0012, '<= 0.02')],
    'cohort-probe': [ok('status', 200, 'in 200')],
    'five-xx': [ok('5xx_ratio', broken ? 0.0061 : 0.0008, '<= 0.01'), ok('canary_requests', broken ? 120_455 : 48_211, ''), ok('stable_5xx_ratio', 0.0007, '')],
    'p95-regression': [ok('p95_latency_ms', broken ? 905 : 187, ''), ok('stable_p95_latency_ms', 180, ''), ok('p95_regression', broken ? 4.0278 : 0.0389, '<= 0.2')],
  };
  return plan.gates.stage.map((g) => ({ gate: g.id, measurement: measured(readings[g.id] ?? [ok('value', 1, '<= 1')]), at }));
}

/** A cutover of an example plan, stepped through the pure machine on a fixed clock; minutes count from `origin`. */
class Story {
  readonly plan: Plan;
  readonly origin: number;
  state: CutoverState;
  now: number;
  readonly audit: AuditEntry[] = [];
  readonly gates: GateRecord[] = [];
  readonly escalations: Escalation[] = [];

  /** Started at `origin`, or (with `scheduledAt`, minutes before it) scheduled with T0 at `origin`. */
  constructor(plan: Plan, id = 'control-service-20261123t154700z-3fa2', options: { origin?: number; scheduledAt?: number } = {}) {
    this.plan = plan;
    this.origin = options.origin ?? T0;
    this.now = this.origin + (options.scheduledAt ?? 0) * MINUTE;
    const t0 = options.scheduledAt === undefined ? {} : { t0: this.origin };
    const opened = openCutover({ id, plan, actor: RELEASE, revisions: { stable: plan.service.stable, canary: plan.service.canary }, now: this.now, ...t0 });
    this.state = this.#record(opened);
  }

  #record(transition: Transition): CutoverState {
    if (!transition.ok) throw new Error(`the example cutover was refused: ${transition.refusal.code}`);
    this.audit.push(...auditFor(transition, this.now));
    this.gates.push(...transition.gateResults);
    for (const effect of transition.effects) if (effect.type === 'escalate') this.escalations.push(effect.escalation);
    return transition.state;
  }

  at(minutes: number, event: CutoverEvent): this {
    this.now = this.origin + minutes * MINUTE;
    this.state = this.#record(step(this.plan, this.state, event, this.now));
    return this;
  }

  preflight(minutes: number): this {
    const gates = [...this.plan.gates.preflight, ...(this.plan.gates.rollbackDrill ? [this.plan.gates.rollbackDrill] : [])];
    const at = this.origin + minutes * MINUTE;
    const results: GateResult[] = [
      { gate: 'traffic-backend', measurement: measured([ok('revision control-00010-abc ready', 'yes', ''), ok('revision control-00011-def ready', 'yes', '')]), at },
      ...gates.map((g) => ({ gate: g.id, measurement: measured([g.kind === 'http' ? ok('status', 200, 'in 200') : ok('exit_code', 0, '== 0')]), at })),
    ];
    return this.at(minutes, { type: 'preflight_done', phaseSeq: this.state.phaseSeq, results });
  }

  confirm(minutes: number): this {
    return this.at(minutes, { type: 'traffic_confirmed', phaseSeq: this.state.phaseSeq, percent: this.plan.stages[this.state.stage]!.percent });
  }

  /** Stage-gate checks every check_every, up to `minutes` (or the end of the soak). */
  checksUntil(minutes: number, broken = false): this {
    while (this.state.monitor && this.state.phase === 'soaking' && this.state.monitor.nextAt <= this.origin + minutes * MINUTE) {
      const at = this.state.monitor.nextAt;
      this.at((at - this.origin) / MINUTE, { type: 'gate_check', seq: this.state.monitor.seq, results: stageReadings(this.plan, at, broken) });
    }
    return this;
  }

  /** The owner ticks `items` of checkpoint `index`. */
  tick(minutes: number, index: number, actor: { id: string; roles: string[] }, items: readonly number[]): this {
    for (const item of items) this.at(minutes, { type: 'tick', actor, checkpoint: index, item });
    return this;
  }

  /** Every cohort from here to 100 %: confirm, a clean soak, promote (T+30, which blocks promotion, must be done first). */
  cohortsToTheEnd(minutes: number): this {
    let m = minutes;
    for (let cohort = 0; cohort < this.plan.stages.length && this.phase() === 'shifting'; cohort++) {
      this.confirm(m).checksUntil(m + 60);
      m = (this.now - this.origin) / MINUTE + 1;
      if (this.phase() === 'awaiting_promotion') this.promote(m++);
    }
    return this;
  }

  /** Read through a method: the phase changes under the caller's narrowing. */
  phase(): CutoverState['phase'] {
    return this.state.phase;
  }

  /** Minutes from `origin` to now. */
  minutes(): number {
    return (this.now - this.origin) / MINUTE;
  }

  promote(minutes: number): this {
    return this.at(minutes, { type: 'promote', actor: RELEASE });
  }

  view() {
    return { state: this.state, plan: this.plan };
  }
}

const asBuilderPayload = (message: SlackMessage) => ({ blocks: message.blocks });

/** file name → what to paste into the Block Kit Builder. */
export async function renderExamples(): Promise<Map<string, unknown>> {
  const vocabulary = buildVocabulary(cloudAdapters({}), () => {
    throw new Error('the examples need no simulated world');
  });
  const plan = await loadExample('control-service.yaml', vocabulary);
  const out = new Map<string, unknown>();

  const story = new Story(plan).preflight(3).at(9, { type: 'approve', actor: RELEASE });
  out.set('go-no-go.json', asBuilderPayload(statusCard(story.view())));

  story.at(12, { type: 'approve', actor: OPS }).confirm(13).checksUntil(43).promote(45).confirm(46).checksUntil(76).promote(80).confirm(81).checksUntil(93);
  out.set('status-card.json', asBuilderPayload(statusCard(story.view())));
  // The start dialog as it looked before this cutover: control-service picked, its revisions listed.
  out.set(
    'start-dialog.json',
    startDialog({
      context: { channel: plan.channel, user: RELEASE.id, responseUrl: 'https://hooks.slack.com/commands/T0123/1/example' },
      plans: ['control-service', 'simulated-service', 'timeline-service'],
      chosen: {
        name: plan.name,
        plan,
        problems: [],
        revisions: [
          { name: 'control-00011-def', createdAt: T0 - 50 * MINUTE, percent: 0 },
          { name: 'control-00010-abc', createdAt: T0 - 6 * 24 * 60 * MINUTE, percent: 100 },
          { name: 'control-00009-xyz', createdAt: T0 - 13 * 24 * 60 * MINUTE, percent: 0 },
        ],
      },
    }),
  );
  out.set('update.json', asBuilderPayload(updateMessage(story.view(), T0 + 93.5 * MINUTE)));

  story.checksUntil(111);
  out.set('status-card-awaiting-promotion.json', asBuilderPayload(statusCard(story.view())));

  story.promote(114).confirm(115).checksUntil(121).checksUntil(122, true);
  const escalation = story.escalations.at(-1);
  if (!escalation) throw new Error('the example cutover never escalated');
  out.set('escalation.json', asBuilderPayload(escalationMessage(escalation, story.view())));

  story.at(123, { type: 'rollback_done', phaseSeq: story.state.phaseSeq, percent: 0, steps: [] });
  const files = buildEvidence({ state: story.state, plan, audit: story.audit, gates: story.gates });
  out.set('closing.json', asBuilderPayload(closingMessage(story.view(), files.get('SUMMARY.md') ?? '', { path: `./evidence/${plan.name}/20261123T154700Z`, files: files.size })));

  const timeline = timelineExamples(await loadExample('timeline-service.yaml', vocabulary));
  for (const [name, payload] of timeline.out) out.set(name, payload);

  // The App Home of the release manager: the timeline cutover in hypercare, control-service rolled back, the plans.
  const broken = parsePlanText((await readFile(resolve(ROOT, 'examples/plans/simulated-service.yaml'), 'utf8')).replace('name: simulated-service', 'name: checkout-service').replace('stages: [1, 5, 10, 25, 50, 100]', 'stages: [50, 10]'), vocabulary);
  out.set(
    'home.json',
    homeView({
      viewer: RELEASE.id,
      running: [{ ...timeline.view, permalink: 'https://example.slack.com/archives/C0123WARROOM/p1795960800000100' }],
      finished: [{ ...story.view(), permalink: 'https://example.slack.com/archives/C0123WARROOM/p1795880820000100' }],
      plans: [
        { name: 'checkout-service', plan: null, problems: broken.ok ? [] : broken.errors, roles: [] },
        { name: plan.name, plan, problems: [], roles: ['release-manager'] },
        { name: timeline.view.plan.name, plan: timeline.view.plan, problems: [], roles: ['release-manager'] },
      ],
      now: timeline.view.state.phaseSince + 45 * MINUTE,
    }),
  );
  return out;
}

async function loadExample(file: string, vocabulary: ReturnType<typeof buildVocabulary>): Promise<Plan> {
  const parsed = parsePlanText(await readFile(resolve(ROOT, 'examples/plans', file), 'utf8'), vocabulary);
  if (!parsed.ok) throw new Error(`examples/plans/${file}: ${parsed.errors.join('; ')}`);
  return parsed.plan;
}

/** Seed 001's timeline (examples/plans/timeline-service.yaml), scheduled for 14:00 UTC the next day. */
function timelineExamples(plan: Plan): { out: Map<string, unknown>; view: ReturnType<Story['view']> } {
  const out = new Map<string, unknown>();
  const person = (id: string, role: string) => ({ id, roles: [role] });
  const [operator, qa, oncall, owner] = [person('U05OPERATOR', 'release-operator'), person('U06QA', 'qa-owner'), person('U03ONCALL', 'oncall-ops'), person('U07OWNER', 'project-owner')];
  const story = new Story(plan, 'timeline-service-20261124t124500z-5b1c', { origin: Date.UTC(2026, 10, 24, 14, 0, 0), scheduledAt: -75 });
  out.set('status-card-scheduled.json', asBuilderPayload(statusCard(story.view())));

  story.at(-60, { type: 'start_due' }).at(-60, { type: 'checkpoint_due', index: 0 }).preflight(-57).tick(-50, 0, operator, [0, 1, 2, 3, 4]);
  story.at(-30, { type: 'checkpoint_due', index: 1 }).tick(-24, 1, qa, [0, 1, 2]);
  story.at(-10, { type: 'checkpoint_due', index: 2 }).tick(-7, 2, RELEASE, [0, 1]);
  out.set('status-card-timeline.json', asBuilderPayload(statusCard(story.view())));
  out.set('checklist.json', asBuilderPayload(checklistMessage(story.view(), 2)));

  story.tick(-4, 2, RELEASE, [2, 3]).at(-3, { type: 'approve', actor: RELEASE }).at(-2, { type: 'approve', actor: OPS });
  story.at(0, { type: 'checkpoint_due', index: 3 }).at(0, { type: 't0_due' }).tick(2, 3, RELEASE, [0]);
  story.confirm(1).checksUntil(10).at(10, { type: 'checkpoint_due', index: 4 });
  story.at(11, { type: 'checkpoint_gates', index: 4, run: 1, results: [{ gate: 'healthz', measurement: measured([ok('status', 200, 'in 200')]), at: story.now }] }).tick(14, 4, oncall, [0, 1]);
  story.checksUntil(30).at(30, { type: 'checkpoint_due', index: 5 }).checksUntil(31).tick(33, 5, owner, [0]).promote(34);
  story.cohortsToTheEnd(35);
  if (story.phase() !== 'hypercare') throw new Error(`the timeline example never reached hypercare (${story.phase()})`);
  story.at(story.minutes() + 30, { type: 'sign_off', actor: operator, item: 0 }).at(story.minutes() + 5, { type: 'sign_off', actor: qa, item: 1 });
  out.set('sign-off.json', asBuilderPayload(signOffMessage(story.view())));
  out.set('status-card-hypercare.json', asBuilderPayload(statusCard(story.view())));
  return { out, view: story.view() };
}

export const exampleJson = (payload: unknown): string => `${JSON.stringify(payload, null, 2)}\n`;
