// The chart's view model and Vega-Lite spec, built from recorded cutovers: pure, no rendering.
import { describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import { chartAltText, chartModel, chartSpec, type ChartModel } from '../../templates/chart.ts';
import { healthyCutover, heldCutover, rolledBackCutover, Recorded, chartPlan, HEALTHY } from '../support/recorded-cutover.ts';
import { makePlan } from '../support/plans.ts';

const layersOf = (spec: any): any[] => spec.vconcat.flatMap((row: any) => row.layer);
const kinds = (model: ChartModel) => model.markers.map((m) => `${m.kind}:${m.label}`);

describe('the chart of a healthy cutover', () => {
  const recorded = healthyCutover();
  const model = chartModel(recorded.input);

  it('draws the error rate and p95 of canary and stable from the gates that recorded both', () => {
    expect(recorded.input.state.phase).toBe('completed');
    expect(model.errorRate.gate).toBe('five-xx');
    expect(model.latency.gate).toBe('p95');
    const checks = recorded.gates.filter((g) => g.gate === 'five-xx').length;
    expect(checks).toBeGreaterThan(10);
    // One canary and one stable point per recorded check: nothing measured, nothing dropped.
    expect(model.errorRate.points.filter((p) => p.series === 'canary')).toHaveLength(checks);
    expect(model.errorRate.points.filter((p) => p.series === 'stable')).toHaveLength(checks);
    expect(new Set(model.errorRate.points.map((p) => p.value))).toEqual(new Set([HEALTHY.errorRate, HEALTHY.stableErrorRate]));
    expect(new Set(model.latency.points.map((p) => p.value))).toEqual(new Set([HEALTHY.p95, HEALTHY.stableP95]));
    expect(model.errorRate.limit).toBe(0.01);
    expect(model.latency.limit).toBeNull();
  });

  it('steps the traffic through every cohort and marks the go and each promotion', () => {
    expect(model.traffic.map((s) => s.percent)).toEqual([0, 1, 5, 25, 100, 100]);
    expect(kinds(model)).toEqual(['go/no-go:GO', 'promotion:→ 5 %', 'promotion:→ 25 %', 'promotion:→ 100 %']);
    // Minutes since T0, on the plan's clock: four 10-minute soaks and the minutes between them.
    expect(model.unit).toBe('minutes');
    expect(model.domain[0]).toBe(0);
    expect(model.domain[1]).toBeGreaterThan(40);
    expect(model.subtitle).toBe('Completed: the canary serves 100 %');
  });

  it('is a valid Vega-Lite spec whose rows share one time axis', () => {
    const spec = chartSpec(model) as any;
    expect(() => compile(spec)).not.toThrow();
    expect(spec.vconcat).toHaveLength(4);
    const domains = layersOf(spec).map((l) => l.encoding?.x?.scale?.domain).filter(Boolean);
    expect(new Set(domains.map((d: number[]) => d.join()))).toEqual(new Set([model.domain.join()]));
    expect(spec.config.font).toBe('DejaVu Sans');
  });

  it('says the same in words, within Slack’s alt-text limit', () => {
    const alt = chartAltText(model);
    expect(alt.length).toBeLessThanOrEqual(1000);
    expect(alt).toContain('Error rate (gate five-xx, limit 1 %): canary last 0.2 % against stable 0.1 %');
    expect(alt).toContain('p95 latency (gate p95): canary last 210 ms against stable 200 ms');
    expect(alt).toContain('Canary traffic: 0 % → 1 % → 5 % → 25 % → 100 %.');
    expect(alt).toMatch(/Decisions: T\+\d+(\.\d)? min GO given by U0RM2, U0OPS; /);
  });
});

describe('the chart of a rolled-back cutover', () => {
  const recorded = rolledBackCutover();
  const model = chartModel(recorded.input);

  it('marks the rollback with its reason, in the subtitle too, and rings the failing checks', () => {
    expect(recorded.input.state.phase).toBe('rolled_back');
    const rollback = model.markers.find((m) => m.kind === 'rollback');
    expect(rollback?.words).toMatch(/^rolled back \(automatic\) from 25 %: .*five-xx/);
    expect(model.subtitle).toMatch(/^Rolled back \(automatic\) from 25 %/);
    const failing = model.errorRate.points.filter((p) => p.series === 'canary' && p.verdict === 'fail');
    expect(failing.map((p) => p.value)).toEqual([0.05]);
    const ringed = layersOf(chartSpec(model)).find((l) => l.mark?.type === 'point' && l.mark.filled === false && l.data.values.length > 0);
    expect(ringed.data.values).toEqual(expect.arrayContaining([expect.objectContaining({ value: 0.05, verdict: 'fail' })]));
  });

  it('brings the traffic back to 0 % at the rollback', () => {
    expect(model.traffic.map((s) => s.percent)).toEqual([0, 1, 5, 25, 0, 0]);
    expect(chartAltText(model)).toContain('Canary traffic: 0 % → 1 % → 5 % → 25 % → 0 %.');
  });

  it('keeps every label inside the strip and apart from the others on its lane', () => {
    const spec = chartSpec(model) as any;
    const strip = spec.vconcat[0];
    const labels = strip.layer.filter((l: any) => l.mark.type === 'text').flatMap((l: any) => l.data.values);
    expect(labels).toHaveLength(model.markers.length);
    const [d0, d1] = model.domain;
    const spans = labels.map((m: any) => {
      const x = ((m.t - d0) / (d1 - d0)) * strip.width;
      const w = m.label.length * 6.2 + 10;
      return { lane: m.lane, a: m.side === 'right' ? x : x - w, b: m.side === 'right' ? x + w : x };
    });
    for (const s of spans) expect([s.a >= -1, s.b <= strip.width + 1]).toEqual([true, true]);
    for (const [i, s] of spans.entries()) for (const t of spans.slice(i + 1)) if (s.lane === t.lane) expect(s.b < t.a || t.b < s.a).toBe(true);
  });
});

describe('the chart of a held cutover', () => {
  const recorded = heldCutover();
  const model = chartModel({ ...recorded.input, now: recorded.d.now + 60_000 });

  it('marks the hold with its reason and the resume; the canary was watched through the hold', () => {
    expect(recorded.input.state.phase).not.toBe('held');
    expect(kinds(model)).toEqual(['go/no-go:GO', 'promotion:→ 5 %', 'hold:hold: latency graph looks odd', 'hold:resume']);
    const hold = model.markers[2]!;
    const resume = model.markers[3]!;
    const during = model.errorRate.points.filter((p) => p.series === 'canary' && p.t > hold.t && p.t < resume.t);
    expect(during).toHaveLength(2);
    expect(model.subtitle).toBe('Running: 5 % on the canary');
    expect(chartAltText(model)).toContain('held by U0OPS: latency graph looks odd');
  });
});

describe('what the chart draws from', () => {
  it('a plan whose only latency gate records the canary alone draws that, and says no gate measures the error rate', () => {
    const r = new Recorded(makePlan((doc) => (doc.check_every = '2m')));
    r.d.goNoGo();
    r.d.confirm();
    r.d.check('pass', 120_000);
    // The drive's own gate records a value named `v`: neither metric.
    const model = chartModel(r.input);
    expect([model.errorRate.gate, model.latency.gate]).toEqual([null, null]);
    expect(chartAltText(model)).toContain('Error rate: no gate of this plan measures it.');
    const texts = layersOf(chartSpec(model)).filter((l) => l.mark?.type === 'text' && l.data.values[0]?.text);
    expect(texts.map((l) => l.data.values[0].text)).toEqual(['no gate of this plan measures it', 'no gate of this plan measures it']);
  });

  it('a rehearsal’s speed turns wall time into plan time on the axis', () => {
    const recorded = healthyCutover();
    const plain = chartModel(recorded.input);
    const fast = chartModel({ ...recorded.input, speed: 1000 });
    expect(fast.unit).toBe('hours');
    expect(fast.domain[1]).toBeCloseTo((plain.domain[1] * 1000) / 60, 0);
  });

  it('only the recorded stage-gate observations: a preflight reading of the same name is not drawn', () => {
    const r = new Recorded(chartPlan());
    r.d.goNoGo();
    r.gates.push({ at: r.d.now, phase: 'preflight', stage: -1, percent: 0, gate: 'five-xx', verdict: 'pass', measurement: { outcome: 'pass', observations: [{ name: '5xx_ratio', value: 0.5, ok: true }] } });
    r.d.confirm();
    r.check(HEALTHY, 120_000);
    expect(chartModel(r.input).errorRate.points.map((p) => p.value)).toEqual([HEALTHY.errorRate, HEALTHY.stableErrorRate]);
  });
});
