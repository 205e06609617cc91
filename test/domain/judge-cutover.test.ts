// A judge gate in the cutover machine: its test runs over every cohort, its rollback names the
// figures that decided it, inconclusive is never clean, and at 100 % (stable serving nothing) it
// stands aside while the other gates decide. Pure: the machine, driven through events.
import { describe, expect, it } from 'vitest';
import { cloudAdapters } from '../../src/app/adapters.ts';
import { buildVocabulary } from '../../src/app/runtime.ts';
import { step } from '../../src/domain/machine.ts';
import { passed, sampled, type JudgeSample } from '../../src/domain/measurement.ts';
import type { GateResult } from '../../src/domain/state.ts';
import { makePlan } from '../support/plans.ts';
import { Drive, ok, STARTER } from './drive.ts';

const vocabulary = buildVocabulary(cloudAdapters({}), () => {
  throw new Error('no world in a pure test');
});

const plan = makePlan((d) => {
  d.stages = [5, 100];
  d.soak = '3m';
  d.check_every = '1m';
  d.gates.stage = [{ id: 'errors', judge: { metric: 'error_rate', source: 'prometheus', prometheus: { url: 'http://prom:9090', requests: 'r{revision}', errors: 'e{revision}' } } }, { id: 'slo', slo_snapshot: { url: 'http://127.0.0.1:9/slo', max_p95_latency_ms: 600 } }];
}, vocabulary);

/** One check: the judge's running counters (canary, stable) and the SLO gate's pass. */
function check(d: Drive, canary: [number, number], stable: [number, number]) {
  d.now = Math.max(d.now + 1, d.state.monitor!.nextAt);
  const sample: JudgeSample = { since: null, through: d.now, errors: { canary: { requests: canary[0], errors: canary[1] }, stable: { requests: stable[0], errors: stable[1] } } };
  const results: GateResult[] = [
    { gate: 'errors', measurement: sampled(sample, []), at: d.now },
    { gate: 'slo', measurement: passed([{ name: 'p95', value: 100, threshold: '<= 600', ok: true }]), at: d.now },
  ];
  return ok(step(d.plan, d.state, { type: 'gate_check', seq: d.state.monitor!.seq, results }, d.now));
}

function soaking(): Drive {
  const d = new Drive(plan);
  d.goNoGo();
  d.confirm();
  return d;
}

describe('a judge gate in a cutover', () => {
  it('the plan splits its budget: one judge, the whole 1 %', () => {
    expect(plan.gates.stage[0]?.judge).toMatchObject({ alpha: 0.01, falseRollback: 0.01 });
  });

  it('an inconclusive check (the counters baseline) is never clean: the soak runs over until the judge has judged', () => {
    const d = soaking();
    let t = check(d, [0, 0], [0, 0]);
    d.state = t.state;
    expect(t.state.gates.errors?.last).toMatchObject({ verdict: 'inconclusive', judge: { reason: 'baseline' } });
    expect(t.gateResults[0]).toMatchObject({ gate: 'errors', verdict: 'inconclusive', judge: { decision: 'inconclusive', reason: 'baseline' } });
    // Past the soak's end, still no judged check: still soaking.
    d.now = d.state.soak!.endsAt;
    t = check(d, [500, 1], [9_500, 10]);
    d.state = t.state;
    expect(t.state.phase).toBe('awaiting_promotion');
    expect(t.effects).toContainEqual({ type: 'announce', notice: expect.objectContaining({ kind: 'soak_clean', percent: 5 }) });
  });

  it('keeps its test across cohorts (the evidence of 5 % counts at 100 %), with a fresh guard', () => {
    const d = soaking();
    d.state = check(d, [0, 0], [0, 0]).state;
    d.now = d.state.soak!.endsAt;
    d.state = check(d, [500, 1], [9_500, 10]).state;
    const before = d.state.gates.errors!.judge!;
    expect(before.state.batches).toBe(1);
    d.must({ type: 'promote', actor: STARTER });
    d.confirm();
    expect(d.state.traffic).toBe(100);
    expect(d.state.gates.errors).toMatchObject({ failingSince: null, errors: 0, last: null });
    expect(d.state.gates.errors!.judge!.state).toEqual(before.state);
    expect(d.state.gates.errors!.judge!.cohort).toMatchObject({ requests: 0 });
  });

  it('at 100 % the judge cannot compare: inconclusive, said so, and it stands aside; the other gates complete the cutover', () => {
    const d = soaking();
    d.state = check(d, [0, 0], [0, 0]).state;
    d.now = d.state.soak!.endsAt;
    d.state = check(d, [500, 1], [9_500, 10]).state;
    d.must({ type: 'promote', actor: STARTER });
    d.confirm();
    d.now = d.state.soak!.endsAt;
    const t = check(d, [20_500, 21], [9_500, 10]);
    expect(t.state.gates.errors?.last).toMatchObject({ verdict: 'inconclusive', judge: { reason: 'no_stable_traffic' } });
    expect(t.state.gates.errors?.last?.judge?.summary).toContain('stable served no requests in this check (the 100 % stage): nothing to compare the canary with');
    expect(t.state.phase).toBe('completed');
  });

  it('rolls back the moment the evidence is enough, naming the figures that decided it', () => {
    const d = soaking();
    d.state = check(d, [0, 0], [0, 0]).state;
    const t = check(d, [1_000, 40], [19_000, 95]);
    expect(t.state.phase).toBe('rolling_back');
    const reason = t.state.rollback?.reason ?? '';
    expect(reason).toMatch(/^gate errors failed at 5 %: errors: canary 4\.0 % \(40 of 1,000\) vs stable 0\.5 % \(95 of 19,000\): evidence [\d,.e+]+, past the 100 needed: roll back$/);
    expect(t.effects).toContainEqual({ type: 'escalate', escalation: { code: 'gate_failed', detail: reason, gates: ['errors'] } });
    expect(t.gateResults[0]).toMatchObject({ gate: 'errors', verdict: 'fail', judge: { decision: 'rollback', figures: { canary: { requests: 1_000, errors: 40 } } } });
  });
});
