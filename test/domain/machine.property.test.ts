// Random event sequences against the invariants that make the machine safe to drive blind.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tally } from '../../src/domain/approvals.ts';
import { blocking } from '../../src/domain/timeline.ts';
import { step } from '../../src/domain/machine.ts';
import { isTerminal, type Actor, type CutoverEvent, type CutoverState } from '../../src/domain/state.ts';
import { makePlan } from '../support/plans.ts';
import { err, fail, ONCALL, OPS, pass, reach, RM2, STARTER, STRANGER } from './drive.ts';

const plans = [
  makePlan(),
  makePlan((p) => { p.promotion = 'auto'; p.gates.stage[0].for = '3m'; p.max_errors = 2; }),
  // The runbook timeline: a checkpoint blocking the go/no-go, one blocking promotion, sign-off, hypercare.
  makePlan((p) => {
    p.timeline = [
      { at: 'T-10', name: 'Go/no-go meeting', owner: 'ops-lead', checklist: ['G1-G5 pass'], blocks: 'go_no_go' },
      { at: 'T+5', name: 'Keep or roll back', owner: 'release-manager', checklist: ['decided'], blocks: 'promote' },
    ];
    p.sign_off = [{ role: 'release-manager', item: 'signed' }];
    p.hypercare = { duration: '2h', check_every: '10m' };
  }),
];
const actors: Actor[] = [STARTER, RM2, OPS, ONCALL, STRANGER];

type Gen = (s: CutoverState) => CutoverEvent;

const seqChoice = fc.constantFrom<'right' | 'old' | 'future'>('right', 'right', 'right', 'old', 'future');
const pick = (which: 'right' | 'old' | 'future', right: number) => (which === 'right' ? right : which === 'old' ? right - 1 : right + 1);

const eventGen: fc.Arbitrary<{ make: Gen; advance: number }> = fc.record({
  advance: fc.integer({ min: 0, max: 6 * 60_000 }),
  make: fc.oneof(
    // Weighted towards progress, so runs get deep into the cutover before something stops it.
    { weight: 3, arbitrary: fc.record({ type: fc.constantFrom('approve', 'promote', 'promote', 'resume'), actor: fc.constantFrom(STARTER, RM2, OPS, STRANGER), stale: fc.option(seqChoice, { freq: 4 }) }).map(
      ({ type, actor, stale }): Gen => (s) => ({ type, actor, ...(stale ? { expect: pick(stale, s.phaseSeq) } : {}) }) as CutoverEvent,
    ) },
    { weight: 4, arbitrary: fc.constantFrom<Gen>((s) => ({ type: 'gate_check', seq: s.monitor?.seq ?? 0, results: [pass('slo', 0)] }), (s) => ({ type: 'traffic_confirmed', phaseSeq: s.phaseSeq, percent: s.stage >= 0 ? [1, 5, 25, 100][s.stage]! : 0 })) },
    fc.record({ type: fc.constantFrom('approve', 'reject', 'promote', 'hold', 'resume', 'rollback', 'abort'), actor: fc.constantFrom(...actors), stale: fc.option(seqChoice) }).map(
      ({ type, actor, stale }): Gen => (s) => ({ type, actor, ...(stale ? { expect: pick(stale, s.phaseSeq) } : {}) }) as CutoverEvent,
    ),
    seqChoice.map((w): Gen => (s) => ({ type: 'preflight_done', phaseSeq: pick(w, s.phaseSeq), results: [pass('G1', 0)] })),
    fc.tuple(seqChoice, fc.boolean()).map(([w, right]): Gen => (s) => ({ type: 'traffic_confirmed', phaseSeq: pick(w, s.phaseSeq), percent: right && s.stage >= 0 ? [1, 5, 25, 100][s.stage]! : 37 })),
    seqChoice.map((w): Gen => (s) => ({ type: 'traffic_failed', phaseSeq: pick(w, s.phaseSeq), code: 'transient', message: 'x' })),
    fc.tuple(seqChoice, fc.constantFrom(pass, pass, pass, fail, err)).map(([w, make]): Gen => (s) => ({ type: 'gate_check', seq: pick(w, s.monitor?.seq ?? s.checkSeq), results: [make('slo', 0)] })),
    seqChoice.map((w): Gen => (s) => ({ type: 'rollback_done', phaseSeq: pick(w, s.phaseSeq), percent: 0, steps: [] })),
    seqChoice.map((w): Gen => (s) => ({ type: 'rollback_failed', phaseSeq: pick(w, s.phaseSeq), code: 'transient', message: 'x', steps: [] })),
    seqChoice.map((w): Gen => (s) => ({ type: 'approval_stuck', phaseSeq: pick(w, s.phaseSeq) })),
    // The timeline: ticks by the right and wrong people, timers, sign-off and closing.
    fc.record({ checkpoint: fc.constantFrom(0, 1, 2), item: fc.constantFrom(0, 1), actor: fc.constantFrom(...actors) }).map(({ checkpoint, item, actor }): Gen => () => ({ type: 'tick', actor, checkpoint, item })),
    fc.record({ item: fc.constantFrom(0, 1), actor: fc.constantFrom(...actors) }).map(({ item, actor }): Gen => () => ({ type: 'sign_off', actor, item })),
    fc.constantFrom(...actors).map((actor): Gen => () => ({ type: 'close', actor, reason: 'quiet' })),
    fc.constantFrom<Gen>(
      () => ({ type: 'start_due' }),
      () => ({ type: 't0_due' }),
      () => ({ type: 'hypercare_end' }),
      () => ({ type: 'checkpoint_due', index: 1 }),
      () => ({ type: 'checkpoint_overdue', index: 0, level: 1 }),
      () => ({ type: 'checkpoint_overdue', index: 0, level: 2 }),
    ),
  ),
});

const STARTS = ['preflight', 'awaiting_go_no_go', 'shifting', 'soaking', 'awaiting_promotion', 'held_soaking', 'final_soak'] as const;
const TIMELINE_STARTS = ['scheduled', 'preflight', 'awaiting_go_no_go', 'ready', 'soaking', 'hypercare'] as const;

describe('state machine properties', () => {
  it('holds its invariants over random event sequences', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2), fc.constantFrom(...STARTS), fc.array(eventGen, { minLength: 1, maxLength: 150 }), (planIndex, start, events) => {
        const plan = plans[planIndex]!;
        // The timeline plan's go/no-go waits for a checkpoint: its runs start before it.
        const d = planIndex === 2 ? reach(plan, TIMELINE_STARTS[STARTS.indexOf(start) % TIMELINE_STARTS.length]!) : reach(plan, start);
        seen.add(d.state.phase);
        let rolledBack = false;
        for (const { make, advance } of events) {
          const prev = d.state;
          const event = make(prev);
          d.now += advance;
          const t = step(plan, prev, event, d.now);
          if (!t.ok) continue;
          const next = t.state;
          // Nothing happens after the end but a sign-off, which changes nothing else.
          if (isTerminal(prev.phase)) {
            expect(event.type).toBe('sign_off');
            expect({ ...next, signoffs: prev.signoffs, version: prev.version }).toEqual(prev);
            d.state = next;
            continue;
          }
          // A go/no-go or a promotion waits for the checkpoint that blocks it.
          if (prev.phase === 'awaiting_go_no_go' && (next.phase === 'shifting' || next.phase === 'ready')) expect(blocking(plan, prev, 'go_no_go')).toBeNull();
          if (prev.phase === 'awaiting_promotion' && next.phase === 'shifting') expect(blocking(plan, prev, 'promote')).toBeNull();
          // Hypercare never rolls back by itself: only a person's rollback does.
          if (prev.phase === 'hypercare' && next.phase === 'rolling_back') expect(event.type).toBe('rollback');
          // Only the owner's role ticks a checkpoint.
          if (event.type === 'tick') expect(event.actor.roles).toContain(plan.timeline[event.checkpoint]!.owner);
          expect(next.version).toBe(prev.version + 1);
          expect(next.phaseSeq).toBeGreaterThanOrEqual(prev.phaseSeq);
          // Traffic changes only when a backend confirmed it.
          if (next.traffic !== prev.traffic) expect(['traffic_confirmed', 'rollback_done']).toContain(event.type);
          for (const effect of t.effects) {
            if (effect.type === 'shift_traffic') {
              // Never a cohort skipped, never a percent not in the plan, never after a rollback began.
              expect(rolledBack).toBe(false);
              expect(effect.percent).toBe(plan.stages[effect.stage]!.percent);
              expect([prev.stage, prev.stage + 1]).toContain(effect.stage);
              expect(next.phase).toBe('shifting');
            }
          }
          // Leaving the go/no-go for traffic needs enough distinct, authorised approvers.
          if (prev.phase === 'awaiting_go_no_go' && next.phase === 'shifting') {
            const approvals = next.approvals.go_no_go;
            expect(tally(plan.approvals.go_no_go, approvals, next.startedBy).satisfied).toBe(true);
            for (const a of approvals) expect(plan.approvals.go_no_go.roles).toContain(a.role);
          }
          // A promotion by hand needs someone with the promote role.
          if (prev.phase === 'awaiting_promotion' && next.phase === 'shifting') {
            expect(event.type).toBe('promote');
            expect(plan.approvals.promote.roles.some((r) => (event as { actor: Actor }).actor.roles.includes(r))).toBe(true);
          }
          const rollbackEffects = t.effects.filter((e) => e.type === 'roll_back').length;
          expect(rollbackEffects).toBe(next.phase === 'rolling_back' && prev.phase !== 'rolling_back' ? 1 : 0);
          if (next.phase === 'rolling_back') rolledBack = true;
          seen.add(next.phase);
          if (rolledBack) expect(['rolling_back', 'rolled_back', 'failed']).toContain(next.phase);
          if (next.phase === 'completed') expect(next.traffic).toBe(100);
          if (next.monitor) expect(next.traffic).toBeGreaterThan(0);
          d.state = next;
        }
      }),
      { numRuns: 3000 },
    );
    // The runs must reach every phase, or the invariants above were never really exercised.
    expect([...seen].sort()).toEqual(['aborted', 'awaiting_go_no_go', 'awaiting_promotion', 'completed', 'failed', 'held', 'hypercare', 'preflight', 'ready', 'rolled_back', 'rolling_back', 'scheduled', 'shifting', 'soaking']);
  });
});
