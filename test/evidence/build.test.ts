// The evidence package says what the engine decided: a preflight held because a gate never
// reported is a failed step, even though every gate that did report passed; and a checkpoint's
// gates carry their own kind and phase in gate-results.jsonl.
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { GateRecord, Transition } from '../../src/domain/state.ts';
import { buildEvidence } from '../../src/evidence/build.ts';
import { makePlan } from '../support/plans.ts';
import { Drive, pass } from '../domain/drive.ts';

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
