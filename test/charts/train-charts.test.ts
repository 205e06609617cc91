// A train's charts, one per target, built from recorded trains: each target's own gates and its own
// traffic share from the per-target reports in the audit trail, the train's decisions on every one,
// all on one time axis. Pure: no rendering.
import { describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import type { AuditEntry } from '../../src/domain/audit.ts';
import { chartAltText, chartModel, chartModels, chartSpec, type ChartModel } from '../../templates/chart.ts';
import { BAD, droppedTargetTrain, healthyCutover, lockstepTrain, TARGET_HEALTHY, TRAIN_P95, TRAIN_TARGETS, wavesTrain, type Recorded } from '../support/recorded-cutover.ts';

const percents = (model: ChartModel) => model.traffic.map((s) => s.percent);
/** When the line first leaves 0 %: the target's first cohort. */
const firstShare = (model: ChartModel) => model.traffic.find((s) => s.percent > 0)!.t;
const canary = (panel: ChartModel['errorRate']) => panel.points.filter((p) => p.series === 'canary');
const values = (panel: ChartModel['errorRate'], series: 'canary' | 'stable') => new Set(panel.points.filter((p) => p.series === series).map((p) => p.value));
const kinds = (model: ChartModel) => model.markers.map((m) => `${m.kind}:${m.label}`);
/** The times of the checks that recorded `gate`. */
const checksOf = (r: Recorded, gate: string) => r.gates.filter((g) => g.gate === gate).map((g) => g.at);

describe('the charts of a lockstep train', () => {
  const recorded = lockstepTrain();
  const models = chartModels(recorded.input);

  it('are one per target, named by the target, with its own revisions', () => {
    expect(models.map((m) => m.target)).toEqual(TRAIN_TARGETS.map((id, index) => ({ index, id })));
    expect(models[1]!.title).toBe('Cutover checkout (api-eu, target 1): canary api-eu-0012 vs stable api-eu-0011');
    expect(models[1]!.subtitle).toBe('Lockstep, 3 targets · Rolled back (by U0ONCALL1): api-eu will not move');
  });

  it('step each target’s traffic from its own reports: the shift to 50 % moved api-us and the worker, not api-eu', () => {
    expect(models.map(percents)).toEqual([
      [0, 10, 50, 0, 0],
      [0, 10, 0, 0],
      [0, 10, 50, 0, 0],
    ]);
    expect(chartAltText(models[1]!)).toContain('Canary traffic: 0 % → 10 % → 0 %.');
    // The reports are in the audit trail: the traffic notices carry them.
    const failed = recorded.audit.find((e): e is Extract<AuditEntry, { type: 'notice' }> => e.type === 'notice' && e.notice.kind === 'traffic_failed');
    expect(failed?.notice).toMatchObject({ targets: [{ target: 0, split: { canary: 50 } }, { target: 1, split: null, error: 'UNAVAILABLE' }, { target: 2, split: { canary: 50 } }] });
  });

  it('draw each target’s own gate, every check of it, and no other target’s values', () => {
    for (const [t, model] of models.entries()) {
      const gate = `five-xx@${TRAIN_TARGETS[t]}`;
      expect(model.errorRate.gate).toBe(gate);
      expect(model.errorRate.wholeTrain).toBeUndefined();
      expect(canary(model.errorRate)).toHaveLength(checksOf(recorded, gate).length);
      expect(values(model.errorRate, 'canary')).toEqual(new Set([TARGET_HEALTHY[t]!.errorRate]));
      expect(values(model.errorRate, 'stable')).toEqual(new Set([TARGET_HEALTHY[t]!.stableErrorRate]));
    }
  });

  it('fall back to the whole-train gate for a metric none of the target’s own gates measures, on every target, saying so', () => {
    for (const model of models) {
      expect([model.latency.gate, model.latency.wholeTrain]).toEqual(['global-p95', true]);
      expect(values(model.latency, 'canary')).toEqual(new Set([TRAIN_P95]));
      expect(chartAltText(model)).toContain('p95 latency (gate global-p95 (whole train)): canary last 333 ms');
    }
    const spec = chartSpec(models[2]!) as any;
    expect(spec.vconcat[2].title.text).toBe('p95 latency, gate global-p95 (whole train)');
  });

  it('show the train’s decisions on every chart, on one time axis', () => {
    for (const model of models) {
      expect(kinds(model)).toEqual(['go/no-go:GO', 'promotion:→ 50 %', 'hold:hold: could not confirm 50 % on the canary: api…', 'rollback:rollback: api-eu will not move']);
      expect(model.domain).toEqual(models[0]!.domain);
      expect(() => compile(chartSpec(model) as any)).not.toThrow();
      expect(chartAltText(model).length).toBeLessThanOrEqual(1000);
    }
  });
});

describe('the charts of a train in waves', () => {
  const recorded = wavesTrain();
  const models = chartModels(recorded.input);
  const [us, eu, worker] = models as [ChartModel, ChartModel, ChartModel];

  it('hold a later wave’s target at 0 % until its wave starts, and the earlier wave’s at 100 % after theirs ended', () => {
    expect(percents(us)).toEqual([0, 10, 50, 100, 0, 0]);
    expect(percents(worker)).toEqual(percents(us));
    expect(percents(eu)).toEqual([0, 10, 0, 0]);
    // api-eu leaves 0 % only once the US wave has reached 100 %, which it keeps until the rollback.
    const usAtFull = us.traffic.find((s) => s.percent === 100)!.t;
    expect(firstShare(eu)).toBeGreaterThan(usAtFull);
    const rollback = us.markers.find((m) => m.kind === 'rollback')!.t;
    expect(us.traffic.filter((s) => s.t > usAtFull && s.t < rollback)).toEqual([]);
    expect(eu.subtitle).toBe('Wave 2 of 2 · Rolled back (automatic): gates five-xx@api-eu, p95@api-eu failed at 10 %');
    expect(us.subtitle.startsWith('Wave 1 of 2 · ')).toBe(true);
  });

  it('draw api-eu’s own checks only, from its wave’s first cohort: healthy, then the breach that rolled the train back', () => {
    expect([eu.errorRate.gate, eu.latency.gate]).toEqual(['five-xx@api-eu', 'p95@api-eu']);
    expect(canary(eu.errorRate).map((p) => [p.value, p.verdict])).toEqual([
      [TARGET_HEALTHY[1]!.errorRate, 'pass'],
      [BAD.errorRate, 'fail'],
    ]);
    expect(canary(eu.latency).map((p) => p.value)).toEqual([TARGET_HEALTHY[1]!.p95, BAD.p95]);
    for (const p of eu.errorRate.points) expect(p.t).toBeGreaterThanOrEqual(firstShare(eu));
  });

  it('draw the first wave’s targets through both waves, their own values only', () => {
    for (const [t, model] of [[0, us], [2, worker]] as const) {
      expect([model.errorRate.gate, model.latency.gate]).toEqual([`five-xx@${TRAIN_TARGETS[t]}`, `p95@${TRAIN_TARGETS[t]}`]);
      expect(canary(model.latency)).toHaveLength(checksOf(recorded, `p95@${TRAIN_TARGETS[t]}`).length);
      expect(values(model.errorRate, 'canary')).toEqual(new Set([TARGET_HEALTHY[t]!.errorRate]));
      expect(values(model.latency, 'canary')).toEqual(new Set([TARGET_HEALTHY[t]!.p95]));
      // Checked after api-eu's wave began too: a target of an earlier wave is still watched.
      expect(Math.max(...model.errorRate.points.map((p) => p.t))).toBeGreaterThan(firstShare(eu));
    }
  });

  it('mark the promotion into the second wave as such, and the rollback without a cohort share no target had', () => {
    expect(kinds(us)).toEqual(['go/no-go:GO', 'promotion:→ 50 %', 'promotion:→ 100 %', 'promotion:→ W2 10 %', 'rollback:rollback: gates five-xx@api-eu, p95@api-eu fail…']);
    const alt = chartAltText(us);
    expect(alt).toContain('promoted to wave 2 at 10 % by U0RM1');
    expect(alt).toContain('rolled back (automatic): gates five-xx@api-eu, p95@api-eu failed at 10 %.');
    expect(alt).toContain('Canary traffic: 0 % → 10 % → 50 % → 100 % → 0 %.');
  });
});

describe('which chart a cutover gets', () => {
  it('a single service gets the one chart it always had', () => {
    const recorded = healthyCutover();
    expect(chartModels(recorded.input)).toEqual([chartModel(recorded.input)]);
    expect(chartModel(recorded.input).target).toBeUndefined();
  });

  it('an audit trail recorded before notices carried the reports gives each target its share of each cohort', () => {
    const recorded = wavesTrain();
    const bare = recorded.audit.map((e) => (e.type === 'notice' && 'targets' in e.notice ? { ...e, notice: { ...e.notice, targets: undefined } } : e));
    const models = chartModels({ ...recorded.input, audit: bare });
    expect(models.map(percents)).toEqual(chartModels(recorded.input).map(percents));
  });
});

describe('the charts of a train that dropped a target (rollback: target)', () => {
  const recorded = droppedTargetTrain();
  const [us, eu, worker] = chartModels(recorded.input) as [ChartModel, ChartModel, ChartModel];

  it('step the dropped target back to 0 % from its own rollback’s report, the others staying at 100 %', () => {
    expect(percents(eu)).toEqual([0, 10, 0, 0]);
    expect(percents(us)).toEqual([0, 10, 50, 100, 100]);
    expect(percents(worker)).toEqual(percents(us));
    const back = recorded.audit.find((e): e is Extract<AuditEntry, { type: 'notice' }> => e.type === 'notice' && e.notice.kind === 'target_back');
    expect(back?.notice).toMatchObject({ targets: [{ target: 1, split: { canary: 0 } }] });
  });

  it('mark the drop, naming the target, on every chart', () => {
    for (const model of [us, eu, worker]) {
      expect(kinds(model)).toContain('rollback:drop api-eu');
      expect(model.markers.find((m) => m.label === 'drop api-eu')?.words).toBe('api-eu dropped (automatic): gates five-xx@api-eu, p95@api-eu failed at 10 %');
    }
  });
});
