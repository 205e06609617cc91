// The evidence package says what the engine decided: a preflight held because a gate never
// reported is a failed step, even though every gate that did report passed; and a checkpoint's
// gates carry their own kind and phase in gate-results.jsonl.
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { GateRecord, Transition } from '../../src/domain/state.ts';
import { buildEvidence } from '../../src/evidence/build.ts';
import { measured } from '../../src/domain/measurement.ts';
import { makePlan } from '../support/plans.ts';
import { Drive, OPS, RM2, STARTER, ok, pass } from '../domain/drive.ts';

/** What the store would hold after these transitions: their notices and gate records. */
function trail(transitions: ReadonlyArray<Extract<Transition, { ok: true }>>): { audit: AuditEntry[]; gates: GateRecord[] } {
  const audit: AuditEntry[] = [];
  const gates: GateRecord[] = [];
  for (const t of transitions) {
    for (const e of t.effects) if (e.type === 'announce') audit.push({ type: 'notice', at: t.state.phaseSince, version: t.state.version, notice: e.notice });
    gates.push(...t.gateResults);
  }
  return { audit, gates };
}

describe('buildEvidence', () => {
  it('a preflight held for a gate that never reported counts as failed, not passed', () => {
    const plan = makePlan((doc) => {
      doc.gates.preflight = [
        { id: 'G1', command: 'true' },
        { id: 'G2', command: 'true' },
      ];
    });
    const d = new Drive(plan);
    const held = d.must({ type: 'preflight_done', phaseSeq: d.state.phaseSeq, results: [pass('G1', d.now)] });
    expect(held.state.phase).toBe('held');
    const summary = JSON.parse(buildEvidence({ state: d.state, plan, ...trail([d.opened, held]) }).get('summary.json')!) as Record<string, unknown>;
    expect(summary).toMatchObject({ step_count: 1, passed: 0, failed: 1 });
  });

  it('a checkpoint gate is listed with its kind, in its own phase, its output under its own name', () => {
    const plan = makePlan((doc) => {
      doc.timeline = [{ at: 'T-60', name: 'Preparation', owner: 'ops-lead', checklist: ['Ready'], gates: [{ id: 'G9', command: 'true' }] }];
    });
    const d = new Drive(plan);
    const result = pass('G9', d.now);
    const run = d.must({ type: 'checkpoint_gates', index: 0, run: 1, results: [{ ...result, measurement: { ...result.measurement, log: 'g9 said ok\n' } }] });
    const files = buildEvidence({ state: d.state, plan, ...trail([d.opened, run]) });
    const lines = files
      .get('gate-results.jsonl')!
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { gate: string; kind: string; phase: string });
    expect(lines).toContainEqual(expect.objectContaining({ gate: 'T-60/G9', kind: 'command', phase: 'checkpoint' }));
    expect(files.get('logs/checkpoint-T-60_G9.log')).toBe('g9 said ok\n');
  });

  it('the T-30 line points at the checkpoint phase only when the T-30 checkpoint has gates of its own', () => {
    const t30 = (gates: { id: string; command: string }[]) => {
      const plan = makePlan((doc) => {
        doc.timeline = [{ at: 'T-30', name: 'System verification', owner: 'ops-lead', checklist: ['Synthetics green'], gates }];
      });
      const d = new Drive(plan);
      return /^T-30 evidence: .*$/m.exec(buildEvidence({ state: d.state, plan, ...trail([d.opened]) }).get('SUMMARY.md')!)?.[0];
    };
    expect(t30([{ id: 'synthetics', command: 'true' }])).toContain('(phase "preflight", and phase "checkpoint" for the T-30 gates)');
    expect(t30([])).toMatch(/\(phase "preflight"\)$/);
  });
});

/** A Drive that keeps every committed transition: the audit trail and gate records the store would hold. */
class Recorded extends Drive {
  transitions: Array<Extract<Transition, { ok: true }>> = [this.opened];
  override apply(event: Parameters<Drive['apply']>[0], advanceMs = 0): Transition {
    const t = super.apply(event, advanceMs);
    if (t.ok) this.transitions.push(t);
    return t;
  }
  override check(results: 'pass' | 'fail' | 'error', advanceMs: number): Transition {
    const t = super.check(results, advanceMs);
    if (t.ok) this.transitions.push(t);
    return t;
  }
  input() {
    return { state: this.state, plan: this.plan, ...trail(this.transitions) };
  }
}

const REHEARSAL = { scenario: 'bad-canary', breachAt: 25, seed: 7, speed: 1000, emulators: false };

/** A cutover whose slo gate fails at the second cohort, rolled back after a route override step. */
function rolledBack(): Recorded {
  const plan = makePlan((doc) => {
    doc.rollback = { before: [{ id: 'route-override', http: { method: 'POST', url: 'https://control.example/override', json: { target: 'legacy' }, token_env: 'CONTROL_TOKEN' } }] };
  });
  const d = new Recorded(plan);
  d.goNoGo();
  d.confirm();
  d.soakClean();
  d.must({ type: 'promote', actor: STARTER });
  d.confirm();
  d.now += 60_000;
  d.must({
    type: 'gate_check',
    seq: d.state.monitor!.seq,
    results: [{ gate: 'slo', at: d.now, measurement: measured([{ name: 'p95_latency_ms', value: 900, threshold: '<= 600', ok: false }, { name: 'error_budget_ratio', value: 0.001, threshold: '<= 0.02', ok: true }]) }],
  });
  expect(d.state.phase).toBe('rolling_back');
  const step = { step: 'route-override', at: d.now, measurement: { outcome: 'pass' as const, observations: [{ name: 'status', value: 200, threshold: 'in 200', ok: true }], note: 'simulated' } };
  d.must({ type: 'rollback_done', phaseSeq: d.state.phaseSeq, percent: 0, steps: [step] });
  return d;
}

function completed(): Recorded {
  const plan = makePlan((doc) => {
    doc.stages = [50, 100];
    doc.gates.stage.push({ id: 'probe', http: { url: 'http://127.0.0.1:9/probe' } });
    doc.gates.preflight = [{ id: 'G1', command: 'bash preflight.sh' }];
  });
  const d = new Recorded(plan);
  d.clearBlocking('go_no_go');
  d.must({ type: 'preflight_done', phaseSeq: d.state.phaseSeq, results: [{ ...pass('G1', d.now), measurement: { ...pass('G1', d.now).measurement, log: 'preflight ok\n' } }] });
  d.must({ type: 'approve', actor: RM2 });
  d.must({ type: 'approve', actor: OPS });
  d.confirm();
  d.soakClean();
  d.must({ type: 'promote', actor: STARTER });
  d.confirm();
  d.soakClean();
  expect(d.state.phase).toBe('completed');
  return d;
}

describe('a rehearsal package never looks like a production one', () => {
  it('says REHEARSAL in the title of SUMMARY.md, in summary.json, on every line of every JSONL file and atop every log', () => {
    for (const d of [rolledBack(), completed()]) {
      const files = buildEvidence(d.input(), { rehearsal: REHEARSAL });
      expect(files.get('SUMMARY.md')!.split('\n')[0]).toBe(`# REHEARSAL, not a production cutover: ${d.plan.name}`);
      expect(files.get('SUMMARY.md')).toContain('Not evidence for a change ticket.');
      expect(JSON.parse(files.get('summary.json')!)).toMatchObject({ rehearsal: true, rehearsal_settings: { scenario: 'bad-canary', breach_at: 25, seed: 7, speed: 1000, emulators: false } });
      const logs = [...files.keys()].filter((name) => name.endsWith('.log'));
      expect(logs.length).toBeGreaterThan(0);
      for (const name of logs) expect(files.get(name)!.split('\n')[0], name).toMatch(/^# REHEARSAL, not a production cutover: scenario bad-canary, breach at 25 %, seed 7, x1000 speed/);
      for (const [name, content] of files) {
        if (!name.endsWith('.jsonl')) continue;
        const lines = content.trim().split('\n');
        expect(lines.length, name).toBeGreaterThan(0);
        for (const line of lines) expect((JSON.parse(line) as { rehearsal?: boolean }).rehearsal, name).toBe(true);
      }
    }
  });

  it('a production package says rehearsal: false and carries no rehearsal words', () => {
    for (const d of [rolledBack(), completed()]) {
      const files = buildEvidence(d.input());
      expect(JSON.parse(files.get('summary.json')!)).toMatchObject({ rehearsal: false, rehearsal_settings: null });
      expect(files.get('SUMMARY.md')!.split('\n')[0]).toBe(`# Cutover evidence: ${d.plan.name}`);
      for (const [name, content] of files) {
        if (name !== 'summary.json') expect(content, name).not.toMatch(/rehears/i);
        if (name.endsWith('.jsonl')) for (const line of content.trim().split('\n')) expect(JSON.parse(line), name).not.toHaveProperty('rehearsal');
      }
    }
  });
});

describe('evidence details', () => {
  it('the outcome is one word everywhere: completed, as the engine and the terminal say it', () => {
    const files = buildEvidence(completed().input());
    expect(JSON.parse(files.get('summary.json')!)).toMatchObject({ overall_status: 'completed' });
    expect(files.get('SUMMARY.md')).toContain('**COMPLETED: the canary serves 100 %.**');
    expect(files.get('SUMMARY.md')).not.toMatch(/PASSED/);
  });

  it('says what a step is and lists each one with its result', () => {
    const files = buildEvidence(rolledBack().input());
    const summary = JSON.parse(files.get('summary.json')!) as { step_count: number; passed: number; failed: number; steps: unknown[] };
    expect(summary).toMatchObject({ step_count: 4, passed: 3, failed: 1 });
    expect(summary.steps).toEqual([
      { step: 'preflight', passed: true },
      { step: 'cohort 1 soak (1 %)', passed: true },
      { step: 'cohort 2 soak (5 %)', passed: false },
      { step: 'rollback', passed: true },
    ]);
    expect(files.get('SUMMARY.md')).toContain(
      "Steps (the preflight, each cohort's soak, the rollback): 3 of 4 passed: preflight passed; cohort 1 soak (1 %) passed; cohort 2 soak (5 %) FAILED; rollback passed.",
    );
  });

  it('SUMMARY.md gives the failing values of the gates that rolled the cutover back', () => {
    const d = rolledBack();
    const files = buildEvidence(d.input());
    const md = files.get('SUMMARY.md')!;
    expect(md).toContain(`  slo failed at 5 % (${new Date(d.state.rollback!.at).toISOString()}): p95_latency_ms 900 (<= 600)`);
    expect(md).toContain('| slo |');
    expect(md).toMatch(/\| p95_latency_ms 900 \(<= 600\) \| p95_latency_ms 900 \(<= 600\), error_budget_ratio 0\.001 \(<= 0\.02\) \|/);
    expect(JSON.parse(files.get('summary.json')!).rollback.failing).toEqual([
      expect.objectContaining({ gate: 'slo', percent: 5, values: 'p95_latency_ms 900 (<= 600), error_budget_ratio 0.001 (<= 0.02)' }),
    ]);
  });

  it('a rollback step log says what was called and what came back, or that it was simulated', () => {
    const d = rolledBack();
    const log = buildEvidence(d.input()).get('logs/rollback-route-override.log')!;
    expect(log).toContain('would call: POST https://control.example/override with a JSON body and a bearer token from $CONTROL_TOKEN');
    expect(log).toContain('SIMULATED: nothing was called');
    expect(log).toContain('came back: pass: status 200 (in 200) [simulated]');
    // A real one: called, and what the endpoint answered.
    const real = d.input();
    const audit = real.audit.map((e) =>
      e.type === 'notice' && e.notice.kind === 'rolled_back'
        ? { ...e, notice: { ...e.notice, steps: e.notice.steps.map((s) => ({ ...s, measurement: { outcome: 'fail' as const, observations: [{ name: 'status', value: 502, threshold: 'in 200', ok: false }] } })) } }
        : e,
    );
    const realLog = buildEvidence({ ...real, audit }).get('logs/rollback-route-override.log')!;
    expect(realLog).toContain('called: POST https://control.example/override');
    expect(realLog).toContain('came back: fail: status 502 (in 200)');
    expect(realLog).not.toContain('SIMULATED');
  });

  it('audit.jsonl gives its times in ISO 8601, like every other file', () => {
    const d = rolledBack();
    const lines = buildEvidence(d.input()).get('logs/audit.jsonl')!.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines.length).toBe(d.input().audit.length);
    for (const line of lines) expect(line.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const check = lines.find((l) => l.notice?.kind === 'gate_check')!;
    expect(check.notice.gates[0].reading.at).toMatch(/Z$/);
    expect(check.version).toEqual(expect.any(Number));
  });

  it('lists slo-results.jsonl with the other files when the plan has SLO gates', () => {
    const files = buildEvidence(completed().input());
    expect(files.has('slo-results.jsonl')).toBe(true);
    expect(files.get('SUMMARY.md')).toContain('- `slo-results.jsonl`: the SLO snapshot evaluations');
    const noSlo = makePlan((doc) => {
      doc.gates.stage = [{ id: 'probe', http: { url: 'http://127.0.0.1:9/probe' } }];
    });
    const d = new Recorded(noSlo);
    const none = buildEvidence(d.input());
    expect(none.has('slo-results.jsonl')).toBe(false);
    expect(none.get('SUMMARY.md')).not.toContain('slo-results.jsonl');
  });

  it('hypercare checks are in the evidence as phase "hypercare", apart from the last soak', () => {
    const plan = makePlan((doc) => {
      doc.stages = [100];
      doc.hypercare = { duration: '72h', check_every: '1h', summary_every: '24h' };
    });
    const d = new Recorded(plan);
    d.goNoGo();
    d.confirm();
    d.soakClean();
    expect(d.state.phase).toBe('hypercare');
    for (let i = 0; i < 3; i++) ok(d.check('pass', 3_600_000));
    d.must({ type: 'close', actor: STARTER, reason: 'done' });
    const files = buildEvidence(d.input());
    const phases = files.get('gate-results.jsonl')!.trim().split('\n').map((l) => (JSON.parse(l) as { phase: string }).phase);
    expect(phases.filter((p) => p === 'hypercare')).toHaveLength(3);
    expect(phases.filter((p) => p === 'stage')).toHaveLength(10); // the 10-minute soak, checked every minute
    expect(JSON.parse(files.get('summary.json')!).hypercare).toMatchObject({ checks: 3 });
    expect(JSON.parse(files.get('cohort-results.jsonl')!.trim())).toMatchObject({ checks: 10 });
    expect(files.get('SUMMARY.md')).toMatch(/## Hypercare\n\nStarted .*; 3 checks of the stage gates/);
  });
});
