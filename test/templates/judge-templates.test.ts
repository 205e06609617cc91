// The judge in words: the card's gate line, the thread's check notice, a guard, inconclusive checks
// (never worded as a pass), and the update, where a judge standing aside at 100 % is no issue.
import { describe, expect, it } from 'vitest';
import { cloudAdapters } from '../../src/app/adapters.ts';
import { buildVocabulary } from '../../src/app/runtime.ts';
import { step } from '../../src/domain/machine.ts';
import { passed, sampled, type JudgeSample } from '../../src/domain/measurement.ts';
import { statusCard } from '../../templates/card.ts';
import { updateFacts } from '../../templates/update.ts';
import { readingText } from '../../templates/words.ts';
import { Drive, ok, STARTER } from '../domain/drive.ts';
import { checkMessage } from '../fakes/block-kit.ts';
import { makePlan } from '../support/plans.ts';

const vocabulary = buildVocabulary(cloudAdapters({}), () => {
  throw new Error('no world');
});
const plan = makePlan((d) => {
  d.stages = [5, 100];
  d.soak = '3m';
  d.hypercare = { duration: '72h' };
  d.gates.stage = [
    { id: 'errors-vs-stable', judge: { metric: 'error_rate', source: 'cloud_monitoring', max: '5%' } },
    { id: 'slo', slo_snapshot: { url: 'http://127.0.0.1:9/slo', max_p95_latency_ms: 600 } },
  ];
}, vocabulary);

function check(d: Drive, since: number, canary: [number, number], stable: [number, number]) {
  d.now = Math.max(d.now + 1, d.state.monitor!.nextAt);
  const sample: JudgeSample = { since, through: d.now, errors: { canary: { requests: canary[0], errors: canary[1] }, stable: { requests: stable[0], errors: stable[1] } } };
  const t = ok(step(d.plan, d.state, { type: 'gate_check', seq: d.state.monitor!.seq, results: [
    { gate: 'errors-vs-stable', measurement: sampled(sample, []), at: d.now },
    { gate: 'slo', measurement: passed([{ name: 'p95_latency_ms', value: 120, threshold: '<= 600', ok: true }]), at: d.now },
  ] }, d.now));
  d.state = t.state;
  return t;
}

describe('the judge in words', () => {
  it('the card says how the judge stands, in its figures, with the guard', () => {
    const d = new Drive(plan);
    d.goNoGo();
    d.confirm();
    const since = d.state.soak!.startedAt;
    check(d, since, [500, 6], [9_500, 48]);
    const card = statusCard({ state: d.state, plan: d.plan });
    checkMessage(card);
    expect(JSON.stringify(card.blocks)).toMatch(
      /✅ \*errors-vs-stable\* errors: canary 1\.2 % \(6 of 500\) vs stable 0\.5 % \(48 of 9,500\): evidence \d+(\.\d)? of the 100 needed to roll back; guard max 5\.0 %: canary 1\.2 % this cohort \(500 requests\)/,
    );
  });

  it('an inconclusive check says why and that it is not a pass; at 100 % that the judge stands aside', () => {
    const d = new Drive(plan);
    d.goNoGo();
    d.confirm();
    const since = d.state.soak!.startedAt;
    check(d, since, [0, 0], [9_000, 9]);
    expect(readingText(d.state.gates['errors-vs-stable']!.last!)).toBe(
      'errors: inconclusive, the canary served no requests in this check; nothing judged yet (evidence 1.0 of the 100 needed to roll back) (not a pass)',
    );
    d.now = d.state.soak!.endsAt;
    check(d, since, [1_000, 1], [19_000, 19]);
    d.must({ type: 'promote', actor: STARTER });
    d.confirm();
    d.now = d.state.soak!.endsAt;
    check(d, d.state.soak!.startedAt, [2_000, 2], [0, 0]);
    expect(d.state.phase).toBe('hypercare');
    const text = readingText(d.state.gates['errors-vs-stable']!.last!);
    expect(text).toContain('errors: inconclusive, stable served no requests in this check (the 100 % stage): nothing to compare the canary with');
    expect(text).toContain('(not a pass; at 100 % the judge stands aside: the other gates and the guards decide this cohort)');
    // The hypercare summary: on track, no issue; the guard's cohort 5xx share as the error rate.
    expect(updateFacts({ state: d.state, plan: d.plan }, d.now)).toMatchObject({ status: 'On Track', issues: 'None', metrics: 'Error rate 0.10%, P95 latency 120ms' });
  });

  it('a rollback by the guard says the guard decided', () => {
    const d = new Drive(plan);
    d.goNoGo();
    d.confirm();
    const t = check(d, d.state.soak!.startedAt, [200, 30], [1_800, 9]);
    expect(t.state.phase).toBe('rolling_back');
    expect(t.state.rollback?.reason).toMatch(/^gate errors-vs-stable failed at 5 %: /);
    expect(readingText(t.state.gates['errors-vs-stable']!.last!)).toContain('guard max 5.0 %: canary 15.0 % this cohort (200 requests), OVER the guard');
  });
});
