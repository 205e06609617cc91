// Checks at a fixed rate: `check_every: 1m` means a check every minute of the soak, however long
// each check takes. Check k of a soak is due at soak start + k × check_every; a slot already past
// when the check before it ends is skipped and counted, not run late. Driven on a fake clock.
import { describe, expect, it } from 'vitest';
import { nextSlot } from '../../src/domain/moves.ts';
import type { Effect } from '../../src/domain/state.ts';
import { makePlan } from '../support/plans.ts';
import { Drive, ok, pass, reach, STARTER } from './drive.ts';

const MIN = 60_000;
// One cohort's 30-minute soak, a check every minute, promotion by hand.
const plan = makePlan((p) => {
  p.stages = [10, 100];
  p.soak = '30m';
  p.check_every = '1m';
});

const scheduled = (effects: readonly Effect[]) => effects.filter((e): e is Extract<Effect, { type: 'schedule_check' }> => e.type === 'schedule_check');

/**
 * Runs the soak of the current cohort: each check starts `lag` after its slot and its gates take
 * `duration`, as a worker would run it. Returns the slots the checks were due at.
 */
function soak(d: Drive, duration: number, lag = 0): number[] {
  const slots: number[] = [];
  let guard = 0;
  while (d.state.phase === 'soaking' && guard++ < 1_000) {
    const slot = d.state.monitor!.nextAt;
    slots.push(slot);
    // The gates are measured from the moment the check starts; the machine judges when they answer.
    const started = slot + lag;
    d.now = started + duration;
    ok(d.apply({ type: 'gate_check', seq: d.state.monitor!.seq, results: d.plan.gates.stage.map((g) => pass(g.id, started)) }));
  }
  return slots;
}

describe('nextSlot', () => {
  it('a cadence that starts: the first slot after now, nothing skipped', () => {
    expect(nextSlot(1_000, 100, null, 1_000)).toEqual({ at: 1_100, skipped: 0 });
    expect(nextSlot(1_000, 100, null, 1_250)).toEqual({ at: 1_300, skipped: 0 });
  });

  it('the slot after the last one, when it is still ahead', () => {
    expect(nextSlot(0, 100, 300, 330)).toEqual({ at: 400, skipped: 0 });
    // A slot that is exactly now is already past: the check would start late.
    expect(nextSlot(0, 100, 300, 399)).toEqual({ at: 400, skipped: 0 });
  });

  it('slots that came due while the last check ran are skipped and counted', () => {
    expect(nextSlot(0, 100, 300, 400)).toEqual({ at: 500, skipped: 1 });
    expect(nextSlot(0, 100, 300, 650)).toEqual({ at: 700, skipped: 3 });
  });

  it('a last slot off the grid (a soak’s end) or before the anchor (an earlier cadence) is followed by the next grid slot', () => {
    expect(nextSlot(0, 60, 100, 101)).toEqual({ at: 120, skipped: 0 });
    expect(nextSlot(1_000, 100, 400, 1_010)).toEqual({ at: 1_100, skipped: 0 });
  });
});

describe('checks at a fixed rate during a soak', () => {
  it('a 30-minute soak checked every minute gets 30 checks, on the minute, even when each check takes 20 s', () => {
    const d = reach(plan, 'soaking');
    const start = d.state.soak!.startedAt;
    const slots = soak(d, 20_000);
    expect(slots).toHaveLength(30);
    expect(slots).toEqual(Array.from({ length: 30 }, (_, i) => start + (i + 1) * MIN));
    expect(d.state.phase).toBe('awaiting_promotion');
    expect(d.state.checksSkipped).toBe(0);
  });

  it('checks that start late still keep the cadence: the lag does not add up', () => {
    const d = reach(plan, 'soaking');
    const start = d.state.soak!.startedAt;
    const slots = soak(d, 5_000, 30_000);
    expect(slots).toEqual(Array.from({ length: 30 }, (_, i) => start + (i + 1) * MIN));
  });

  it('checks that take longer than check_every: the slots that passed meanwhile are skipped and counted, never bunched', () => {
    const d = reach(plan, 'soaking');
    const start = d.state.soak!.startedAt;
    // 70 s per check: the slot after each check has already passed when it ends.
    const slots = soak(d, 70_000);
    // Minutes 1, 3, 5, … 29 are checked; 2, 4, … 30 had passed when the check before them ended (the
    // check of minute 29 ends the soak at 30:10, clean).
    expect(slots).toEqual(Array.from({ length: 15 }, (_, i) => start + (2 * i + 1) * MIN));
    expect(d.state.checksSkipped).toBe(15);
    expect(slots.length + d.state.checksSkipped!).toBe(30);
    // No two checks closer than check_every: nothing ran to catch up.
    for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBeGreaterThanOrEqual(MIN);
    expect(d.state.phase).toBe('awaiting_promotion');
  });

  it('a soak whose length is not a multiple of check_every still ends with a check on its last moment', () => {
    const odd = makePlan((p) => {
      p.stages = [10, 100];
      p.soak = '150s';
      p.check_every = '1m';
    });
    const d = reach(odd, 'soaking');
    const start = d.state.soak!.startedAt;
    expect(soak(d, 1_000)).toEqual([start + MIN, start + 2 * MIN, start + 150_000]);
    expect(d.state.phase).toBe('awaiting_promotion');
  });

  it('a check that ends the soak late counts the soak’s slots it overtook, whatever comes next', () => {
    for (const promotion of ['manual', 'auto']) {
      const odd = makePlan((p) => {
        p.stages = [10, 100];
        p.soak = '150s';
        p.check_every = '1m';
        p.promotion = promotion;
      });
      const d = reach(odd, 'soaking');
      // The check of minute 1 takes 100 s and ends at 2:40: the soak (2:30) is over, and clean.
      expect(soak(d, 100_000)).toHaveLength(1);
      expect(d.state.phase, promotion).toBe(promotion === 'auto' ? 'shifting' : 'awaiting_promotion');
      // Minute 2 and the end (2:30): ⌈150 s / 1 min⌉ = 3 slots, one checked.
      expect(d.state.checksSkipped, promotion).toBe(2);
      if (promotion === 'manual') expect(d.state.monitor!.nextAt).toBe(d.state.soak!.startedAt + 3 * MIN);
    }
  });

  it('after a clean soak, awaiting promotion, the checks go on at the soak’s cadence', () => {
    const d = reach(plan, 'soaking');
    const start = d.state.soak!.startedAt;
    soak(d, 20_000);
    expect(d.state.monitor!.nextAt).toBe(start + 31 * MIN);
    const t = ok(d.check('pass', start + 31 * MIN + 45_000 - d.now));
    expect(scheduled(t.effects).map((e) => e.at)).toEqual([start + 32 * MIN]);
  });

  it('a new cohort starts a new cadence at its own soak start', () => {
    const d = reach(plan, 'soaking');
    soak(d, 20_000);
    d.now += 7_777;
    d.must({ type: 'promote', actor: STARTER });
    const confirmed = d.confirm();
    const start = d.state.soak!.startedAt;
    expect(start).toBe(d.now);
    expect(scheduled(confirmed.effects).map((e) => e.at)).toEqual([start + MIN]);
  });

  it('hypercare checks at its own cadence, from its own start', () => {
    const withHypercare = makePlan((p) => {
      p.stages = [100];
      p.soak = '5m';
      p.check_every = '1m';
      p.hypercare = { duration: '72h', check_every: '1h', summary_every: '24h' };
    });
    const d = reach(withHypercare, 'hypercare');
    const start = d.state.hypercare!.startedAt;
    expect(d.state.monitor!.nextAt).toBe(start + 3_600_000);
    // A check that takes 10 minutes does not push the next hour.
    const t = ok(d.check('pass', d.state.monitor!.nextAt + 600_000 - d.now));
    expect(scheduled(t.effects).map((e) => e.at)).toEqual([start + 2 * 3_600_000]);
  });

  it('a state stored before the cadence had an anchor carries on from its last slot', () => {
    const d = reach(plan, 'soaking');
    soak(d, 1_000);
    const last = d.state.monitor!.nextAt;
    const { anchor: _gone, ...monitor } = d.state.monitor!;
    d.state = { ...d.state, monitor };
    const t = ok(d.check('pass', last + 2_000 - d.now));
    expect(scheduled(t.effects).map((e) => e.at)).toEqual([last + MIN]);
  });
});

describe('the check schedule the machine hands the dispatcher', () => {
  it('each schedule_check names its slot, which is also the monitor’s nextAt', () => {
    const d = new Drive(plan);
    d.goNoGo();
    const t = d.confirm();
    const [effect] = scheduled(t.effects);
    expect(effect).toEqual({ type: 'schedule_check', seq: d.state.monitor!.seq, at: d.state.soak!.startedAt + MIN });
    expect(d.state.monitor).toEqual({ seq: effect!.seq, nextAt: effect!.at, anchor: d.state.soak!.startedAt });
  });
});
