// A train's evidence: one package, cohort-results.jsonl rows that carry their target, summary.json
// with each target and its last verified split, and SUMMARY.md with a table per target.
import { expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { GateRecord, Transition } from '../../src/domain/state.ts';
import { buildEvidence } from '../../src/evidence/build.ts';
import { Drive, fail, pass } from '../domain/drive.ts';
import { basePlanDocument, planFrom } from '../support/plans.ts';

function trail(transitions: ReadonlyArray<Extract<Transition, { ok: true }>>): { audit: AuditEntry[]; gates: GateRecord[] } {
  const audit: AuditEntry[] = [];
  const gates: GateRecord[] = [];
  for (const t of transitions) {
    for (const e of t.effects) if (e.type === 'announce') audit.push({ type: 'notice', at: t.state.phaseSince, version: t.state.version, notice: e.notice });
    gates.push(...t.gateResults);
  }
  return { audit, gates };
}

const split = (canary: number) => ({ canary, stable: 100 - canary, other: 0 });

/** A train of api-us and api-eu (10 and 100 %, promoted automatically) driven past its go/no-go, each step kept. */
function goneLive(extra: Record<string, unknown> = {}) {
  const doc = basePlanDocument();
  delete doc.service;
  doc.targets = [{ platform: 'simulated', name: 'api-us' }, { platform: 'simulated', name: 'api-eu' }];
  Object.assign(doc, extra);
  doc.stages = [10, 100];
  doc.promotion = 'auto';
  const plan = planFrom(doc);
  const d = new Drive(plan);
  const steps: Array<Extract<Transition, { ok: true }>> = [d.opened];
  steps.push(d.preflightPassed());
  steps.push(d.must({ type: 'approve', actor: { id: 'U0RM2', roles: ['release-manager'] } }));
  steps.push(d.must({ type: 'approve', actor: { id: 'U0OPS', roles: ['ops-lead'] } }));
  return { plan, d, steps };
}


it('a train rolled back by one target: rows per target, the failing one failed, the others interrupted, a table each', () => {
  const { plan, d, steps } = goneLive();
  const both = (canary: number) => [0, 1].map((target) => ({ target, at: d.now, split: split(canary) }));
  steps.push(d.must({ type: 'traffic_confirmed', phaseSeq: d.state.phaseSeq, percent: 10, targets: both(10) }, 1000));
  const soak = plan.stages[0]!.soakMs;
  steps.push(d.must({ type: 'gate_check', seq: d.state.monitor!.seq, results: [pass('slo@api-us', d.now), pass('slo@api-eu', d.now)] }, soak));
  steps.push(d.must({ type: 'traffic_confirmed', phaseSeq: d.state.phaseSeq, percent: 100, targets: both(100) }, 1000));
  steps.push(d.must({ type: 'gate_check', seq: d.state.monitor!.seq, results: [pass('slo@api-us', d.now), fail('slo@api-eu', d.now)] }, 1000));
  expect(d.state.phase).toBe('rolling_back');
  steps.push(d.must({ type: 'rollback_done', phaseSeq: d.state.phaseSeq, percent: 0, steps: [], targets: both(0) }, 1000));

  const files = buildEvidence({ state: d.state, plan, ...trail(steps) });
  const rows = files.get('cohort-results.jsonl')!.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(rows.map((r) => [r.cohort, r.target, r.percent, r.checks, r.soak_result])).toEqual([
    [1, 'api-us', 10, 1, 'clean'],
    [1, 'api-eu', 10, 1, 'clean'],
    [2, 'api-us', 100, 1, 'interrupted'],
    [2, 'api-eu', 100, 1, 'failed'],
  ]);
  expect(rows[3]).toMatchObject({ gates: 'slo@api-eu fail', exit_reason: 'rolled back: gate slo@api-eu failed at 100 %' });

  const summary = JSON.parse(files.get('summary.json')!);
  expect(summary).toMatchObject({ overall_status: 'rolled_back', strategy: 'lockstep' });
  expect(summary.targets).toEqual([
    { id: 'api-us', service: { platform: 'simulated', name: 'api-us', key: 'simulated:api-us' }, wave: 1, revisions: { stable: 'stable', canary: 'canary' }, final_split: split(0), dropped: null },
    { id: 'api-eu', service: { platform: 'simulated', name: 'api-eu', key: 'simulated:api-eu' }, wave: 1, revisions: { stable: 'stable', canary: 'canary' }, final_split: split(0), dropped: null },
  ]);

  const md = files.get('SUMMARY.md')!;
  expect(md).toContain('## Targets (lockstep)');
  expect(md).toContain('### api-eu: simulated api-eu');
  expect(md).toContain('| 2 | 100 % | ');
  expect(md).toMatch(/\| 2 \| 100 % \| [^|]+ \| 1 \| slo@api-eu fail \| failed \| rolled back: gate slo@api-eu failed at 100 % \|/);
  expect(md).toContain('Environment: train of 2 (lockstep): simulated:api-us, simulated:api-eu');
});

it('a train that dropped a target: completed with the other, the drop in summary.json, the dropped row and target in SUMMARY.md', () => {
  const { plan, d, steps } = goneLive({ strategy: 'waves', rollback: 'target' });
  const reports = (us: number, eu: number) => [{ target: 0, at: d.now, split: split(us) }, { target: 1, at: d.now, split: split(eu) }];
  const soak = plan.stages[0]!.soakMs;
  steps.push(d.must({ type: 'traffic_confirmed', phaseSeq: d.state.phaseSeq, percent: 10, targets: reports(10, 0) }, 1000));
  steps.push(d.must({ type: 'gate_check', seq: d.state.monitor!.seq, results: [pass('slo@api-us', d.now)] }, soak));
  steps.push(d.must({ type: 'traffic_confirmed', phaseSeq: d.state.phaseSeq, percent: 100, targets: reports(100, 0) }, 1000));
  steps.push(d.must({ type: 'gate_check', seq: d.state.monitor!.seq, results: [pass('slo@api-us', d.now)] }, soak));
  steps.push(d.must({ type: 'traffic_confirmed', phaseSeq: d.state.phaseSeq, percent: 10, targets: reports(100, 10) }, 1000));
  steps.push(d.must({ type: 'gate_check', seq: d.state.monitor!.seq, results: [pass('slo@api-us', d.now), fail('slo@api-eu', d.now)] }, 1000));
  expect(d.state).toMatchObject({ phase: 'completed', outcome: 'completed' });
  steps.push(d.must({ type: 'target_rolled_back', target: 1, steps: [], targets: [{ target: 1, at: d.now, split: split(0) }] }, 1000));

  const files = buildEvidence({ state: d.state, plan, ...trail(steps) });
  const rows = files.get('cohort-results.jsonl')!.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(rows.map((r) => [r.cohort, r.target, r.percent, r.soak_result])).toEqual([
    [1, 'api-us', 10, 'clean'],
    [2, 'api-us', 100, 'clean'],
    [3, 'api-eu', 10, 'dropped'],
  ]);
  expect(rows[2]).toMatchObject({ exit_reason: 'dropped: gate slo@api-eu failed at 10 %' });

  const summary = JSON.parse(files.get('summary.json')!);
  expect(summary).toMatchObject({ overall_status: 'completed', strategy: 'waves', rollback_scope: 'target' });
  expect(summary.dropped_targets).toEqual([
    {
      target: 'api-eu',
      index: 1,
      trigger: 'gate',
      by: null,
      reason: 'gate slo@api-eu failed at 10 %',
      at: expect.any(String),
      gates: ['slo@api-eu'],
      cohort: 3,
      percent_at_drop: 10,
      back_on_stable: true,
      back_at: expect.any(String),
    },
  ]);
  expect(summary.targets.map((t: { id: string; dropped: unknown; final_split: unknown }) => [t.id, t.dropped !== null, t.final_split])).toEqual([
    ['api-us', false, split(100)],
    ['api-eu', true, split(0)],
  ]);
  expect(summary.steps).toContainEqual({ step: 'rollback of dropped target api-eu', passed: true });

  const md = files.get('SUMMARY.md')!;
  expect(md).toContain('**COMPLETED: the canary serves 100 %.** **Completed on 1 of 2 targets; dropped: api-eu.**');
  expect(md).toContain('### api-eu: simulated api-eu (dropped)');
  expect(md).toMatch(/DROPPED at cohort 3 \(10 %\) [^,]+, automatically: gate slo@api-eu failed at 10 %; back on stable, verified /);
  expect(md).toMatch(/\| 3 \| 10 % \| [^|]+ \| 1 \| slo@api-eu fail \| dropped \| dropped: gate slo@api-eu failed at 10 % \|/);
  expect(md).toContain('Dropped targets (rollback: target): api-eu (automatic: gate slo@api-eu failed at 10 %; back on stable)');
});
