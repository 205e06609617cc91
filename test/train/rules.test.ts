// The pure rules of a train: what each cohort means for each target, which gates judge, and
// whether the splits the targets serve allow the next shift.
import { describe, expect, it } from 'vitest';
import type { Split } from '../../src/domain/service.ts';
import { agreedSplit, beforeTrainShift, isTrain, mergeReports, nextStage, stageGates, targetPercents, type TrainPlan } from '../../src/domain/train.ts';
import { basePlanDocument, planFrom } from '../support/plans.ts';

function train(strategy?: unknown): TrainPlan {
  const doc = basePlanDocument();
  delete doc.service;
  doc.targets = ['a', 'b', 'c'].map((name) => ({ platform: 'simulated', name }));
  if (strategy !== undefined) doc.strategy = strategy;
  doc.stages = [10, 50, 100];
  const plan = planFrom(doc);
  if (!isTrain(plan)) throw new Error('not a train');
  return plan;
}

const at = (canary: number): Split => ({ canary, stable: 100 - canary, other: 0 });

describe('cohorts per target', () => {
  it('lockstep: every target at the cohort', () => {
    const plan = train();
    expect(targetPercents(plan, 1, 50)).toEqual([50, 50, 50]);
  });

  it('waves: earlier waves stay at 100 %, later ones at 0 %', () => {
    const plan = train({ waves: [[0], [1, 2]] });
    expect(plan.stages.map((s) => s.percent)).toEqual([10, 50, 100, 10, 50, 100]);
    expect(targetPercents(plan, 1, 50)).toEqual([50, 0, 0]);
    expect(targetPercents(plan, 3, 10)).toEqual([100, 10, 10]);
    expect(targetPercents(plan, -1, 0)).toEqual([0, 0, 0]);
  });

  it('judges the gates of the targets whose wave has started, and the whole cutover’s', () => {
    const plan = train({ waves: [[0], [1, 2]] });
    expect(stageGates(plan, 0).map((g) => g.id)).toEqual(['slo@a']);
    expect(stageGates(plan, 4).map((g) => g.id)).toEqual(['slo@a', 'slo@b', 'slo@c']);
    expect(stageGates(train(), 0).map((g) => g.id)).toEqual(['slo@a', 'slo@b', 'slo@c']);
  });
});

describe('before a train shifts', () => {
  const lockstep = train();
  it('confirms when every target already serves the cohort (a crash between shift and record)', () => {
    expect(beforeTrainShift(lockstep, 1, 50, 10, [at(50), at(50), at(50)])).toEqual({ do: 'confirm' });
  });

  it('shifts every target, or only the ones left behind by a failure or a crash', () => {
    expect(beforeTrainShift(lockstep, 1, 50, 10, [at(10), at(10), at(10)])).toEqual({ do: 'shift', percents: [50, 50, 50] });
    expect(beforeTrainShift(lockstep, 1, 50, 10, [at(50), at(10), at(50)])).toEqual({ do: 'shift', percents: [50, 50, 50] });
  });

  it('holds naming the target that serves neither the cohort nor where the cutover left it', () => {
    const action = beforeTrainShift(lockstep, 1, 50, 10, [at(10), at(10), at(30)]);
    expect(action).toMatchObject({ do: 'hold', target: 2 });
    expect(action.do === 'hold' && action.message).toMatch(/^c \(target 2\) serves 30 % on the canary, not the 10 % or 50 %/);
    expect(beforeTrainShift(lockstep, 1, 50, 10, [at(10), { canary: 10, stable: 80, other: 10 }, at(10)])).toMatchObject({ do: 'hold', target: 1 });
  });

  it('enters a wave from 0 %, with the waves before at 100 % and after at 0 %', () => {
    const waves = train({ waves: [[0], [1, 2]] });
    // The last confirmed 100 % was wave 0's: wave 1's targets start from nothing.
    expect(beforeTrainShift(waves, 3, 10, 100, [at(100), at(0), at(0)])).toEqual({ do: 'shift', percents: [100, 10, 10] });
    expect(beforeTrainShift(waves, 3, 10, 100, [at(100), at(10), at(0)])).toEqual({ do: 'shift', percents: [100, 10, 10] });
    expect(beforeTrainShift(waves, 3, 10, 100, [at(100), at(100), at(0)])).toMatchObject({ do: 'hold', target: 1 });
    expect(beforeTrainShift(waves, 3, 10, 100, [at(50), at(0), at(0)])).toMatchObject({ do: 'hold', target: 0 });
    expect(beforeTrainShift(waves, 1, 50, 10, [at(10), at(0), at(5)])).toMatchObject({ do: 'hold', target: 2 });
  });

  it('reads the split of the cohort’s wave when its targets agree', () => {
    const waves = train({ waves: [[0], [1, 2]] });
    expect(agreedSplit(waves, 3, [at(100), at(10), at(10)])).toEqual(at(10));
    expect(agreedSplit(waves, 3, [at(100), at(10), at(0)])).toBeNull();
  });
});

describe('with targets dropped (rollback: target)', () => {
  const waves = train({ waves: [[0], [1, 2]] });

  it('a dropped target wants 0 % whatever its wave, and its gates no longer judge', () => {
    expect(targetPercents(waves, 3, 10, [1])).toEqual([100, 0, 10]);
    expect(targetPercents(waves, 3, 10, [0])).toEqual([0, 10, 10]);
    expect(stageGates(waves, 4, [1]).map((g) => g.id)).toEqual(['slo@a', 'slo@c']);
    expect(stageGates(waves, 0, [0]).map((g) => g.id)).toEqual([]);
  });

  it('never holds on a dropped target (its rollback may be moving it) and takes it to 0 % if it serves anything', () => {
    // b was dropped at 10 % and its rollback has not run yet: the next cohort moves it to 0 %, c to 50 %.
    expect(beforeTrainShift(waves, 4, 50, 10, [at(100), at(10), at(10)], [1])).toEqual({ do: 'shift', percents: [100, 0, 50] });
    // Its rollback half-way, or done: no hold, nothing to hold on.
    expect(beforeTrainShift(waves, 4, 50, 10, [at(100), at(3), at(50)], [1])).toEqual({ do: 'shift', percents: [100, 0, 50] });
    expect(beforeTrainShift(waves, 4, 50, 10, [at(100), at(0), at(50)], [1])).toEqual({ do: 'confirm' });
    // The others are held on as before.
    expect(beforeTrainShift(waves, 4, 50, 10, [at(100), at(0), at(30)], [1])).toMatchObject({ do: 'hold', target: 2 });
  });

  it('agrees on the split of the wave’s live targets only', () => {
    expect(agreedSplit(waves, 3, [at(100), at(0), at(10)], [1])).toEqual(at(10));
    expect(agreedSplit(waves, 3, [at(100), at(0), at(0)], [1, 2])).toBeNull();
  });

  it('the next cohort skips every wave whose targets were all dropped; none left is null', () => {
    const three = train('waves');
    expect(nextStage(three, [], 2)).toBe(3);
    expect(nextStage(three, [1], 1)).toBe(2);
    expect(nextStage(three, [1], 2)).toBe(6);
    expect(nextStage(three, [1], 4)).toBe(6);
    expect(nextStage(three, [1, 2], 2)).toBeNull();
    expect(nextStage(three, [], 8)).toBeNull();
    // A wave with one target left still runs.
    expect(nextStage(waves, [1], 2)).toBe(3);
  });
});

it('merges per-target reports, newest per target', () => {
  const plan = train();
  const merged = mergeReports(plan, [{ target: 0, at: 1, split: at(10) }, null, null], [{ target: 2, at: 2, split: null, error: 'UNAVAILABLE' }]);
  expect(merged).toEqual([{ target: 0, at: 1, split: at(10) }, null, { target: 2, at: 2, split: null, error: 'UNAVAILABLE' }]);
});
