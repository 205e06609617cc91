// The rules the traffic and check jobs follow, on their own: what a shift does with the split
// served, when a rollback moves traffic or gives up, and which window a check judges.
import { describe, expect, it } from 'vitest';
import { abortReadsServed, beforeShift, checkWindow, lookbackWindow, LOOKBACK_MS, rollbackGivesUp, rollbackNeeded } from '../../src/domain/traffic.ts';
import { makePlan } from '../support/plans.ts';
import { reach } from './drive.ts';

describe('beforeShift', () => {
  it('confirms a cohort already served, shifts from the last confirmed split, holds on any other', () => {
    expect(beforeShift({ canary: 5, stable: 95, other: 0 }, 5, 1)).toEqual({ do: 'confirm' });
    expect(beforeShift({ canary: 1, stable: 99, other: 0 }, 5, 1)).toEqual({ do: 'shift' });
    // The cohort on the canary but a third revision still serving: set it cleanly.
    expect(beforeShift({ canary: 5, stable: 90, other: 5 }, 5, 1)).toEqual({ do: 'shift' });
    const held = beforeShift({ canary: 0, stable: 100, other: 0 }, 5, 1);
    expect(held).toMatchObject({ do: 'hold' });
    expect(held.do === 'hold' && held.message).toContain('serves 0 % on the canary, not the 1 % this cutover last confirmed');
  });
});

describe('rollback', () => {
  it('moves traffic only when something but stable serves, and gives up at once only on hopeless errors', () => {
    expect(rollbackNeeded({ canary: 0, stable: 100, other: 0 })).toBe(false);
    expect(rollbackNeeded({ canary: 0, stable: 90, other: 10 })).toBe(true);
    expect(rollbackNeeded({ canary: 25, stable: 75, other: 0 })).toBe(true);
    for (const code of ['permission_denied', 'not_found', 'invalid']) expect(rollbackGivesUp(code, false)).toBe(true);
    for (const code of ['transient', 'conflict', 'unconfirmed']) {
      expect(rollbackGivesUp(code, false)).toBe(false);
      expect(rollbackGivesUp(code, true)).toBe(true);
    }
  });
});

describe('abort', () => {
  it('reads the served split once T0 has passed and until the cutover ends', () => {
    expect(abortReadsServed({ phase: 'scheduled' })).toBe(false);
    for (const phase of ['preflight', 'awaiting_go_no_go', 'held'] as const) expect(abortReadsServed({ phase }), phase).toBe(true);
    for (const phase of ['aborted', 'completed', 'rolled_back', 'failed'] as const) expect(abortReadsServed({ phase }), phase).toBe(false);
  });
});

describe('the window a gate judges', () => {
  it('a soak check judges the soak so far; a moment looks back ten minutes', () => {
    const d = reach(makePlan(), 'soaking');
    const now = d.now + 42_000;
    expect(checkWindow(d.plan, d.state, now)).toEqual({ start: d.state.soak!.startedAt, end: now });
    expect(lookbackWindow(now)).toEqual({ start: now - LOOKBACK_MS, end: now });
  });

  it('a hypercare check judges only the time since the previous check, not all of hypercare', () => {
    const plan = makePlan((doc) => {
      doc.hypercare = { duration: '72h', check_every: '1h' };
    });
    const d = reach(plan, 'hypercare');
    const hour = 3_600_000;
    expect(checkWindow(plan, d.state, d.now + 30 * 60_000)).toEqual({ start: d.state.phaseSince, end: d.now + 30 * 60_000 });
    const later = d.state.phaseSince + 48 * hour;
    expect(checkWindow(plan, d.state, later)).toEqual({ start: later - hour, end: later });
  });
});
