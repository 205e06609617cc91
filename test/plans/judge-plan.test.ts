// The `judge` gate in a plan: its settings in the user's words (1%, 2x, +20%, 600ms), clear refusals,
// the false-rollback budget split across the plan's judges at parse time, where a judge may stand,
// and the JSON Schema that editors use.
import { describe, expect, it } from 'vitest';
import { renderSchema } from '../../scripts/export-schema.ts';
import { cloudAdapters } from '../../src/app/adapters.ts';
import { buildVocabulary } from '../../src/app/runtime.ts';
import { parsePlanDocument } from '../../src/plans/parse.ts';
import { basePlanDocument } from '../support/plans.ts';

const vocabulary = buildVocabulary(cloudAdapters({}), () => {
  throw new Error('no world in a parse test');
});

const CLOUD_RUN = { platform: 'cloud-run', project: 'demo-project', region: 'us-central1', name: 'svc', stable: 'svc-1', canary: 'svc-2' };
const GUARD = { id: 'slo', slo_snapshot: { url: 'http://127.0.0.1:9/slo', max_p95_latency_ms: 600 } };

function parse(stage: unknown[], patch: (doc: Record<string, any>) => void = () => undefined) {
  const doc = basePlanDocument();
  doc.service = CLOUD_RUN;
  doc.gates.stage = stage;
  patch(doc);
  return parsePlanDocument(doc, vocabulary);
}

const errorsOf = (stage: unknown[], patch?: (doc: Record<string, any>) => void) => {
  const result = parse(stage, patch);
  return result.ok ? [] : result.errors;
};

describe('a judge gate in a plan', () => {
  it("reads the issue's own example: 1 % over the cutover, 2x, from Cloud Monitoring with its 3-minute lag", () => {
    const result = parse([{ id: 'errors-vs-stable', judge: { metric: 'error_rate', source: 'cloud_monitoring', false_rollback: '1%', worse_by: '2x' } }, GUARD]);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const gate = result.plan.gates.stage[0]!;
    expect(gate).toMatchObject({ id: 'errors-vs-stable', kind: 'judge', forMs: 0, dataLagMs: 180_000 });
    expect(gate.judge).toEqual({ metric: 'error_rate', worseBy: 2, falseRollback: 0.01, alpha: 0.01, quantile: 0.95, max: null });
    expect(gate.settings).toMatchObject({ metric: 'error_rate', source: 'cloud_monitoring' });
  });

  it('defaults: 1 %, 2x for errors, +20 % and p95 for latency; a data_lag of its own wins', () => {
    const result = parse([
      { id: 'e', judge: { metric: 'error_rate', source: 'cloud_logging', max: '5%' } },
      { id: 'l', judge: { metric: 'latency', source: 'cloud_monitoring', max: '1.5s', percentile: 99 }, data_lag: '4m' },
    ]);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const [e, l] = result.plan.gates.stage;
    expect(e).toMatchObject({ dataLagMs: 0, judge: { metric: 'error_rate', worseBy: 2, max: 0.05, falseRollback: 0.01 } });
    expect(l).toMatchObject({ dataLagMs: 240_000, judge: { metric: 'latency', worseBy: 0.2, max: 1_500, quantile: 0.99 } });
  });

  it('shares the smallest false_rollback among the stage judges, equally (Bonferroni), at parse time', () => {
    const result = parse([
      { id: 'e', judge: { metric: 'error_rate', source: 'cloud_monitoring', false_rollback: '1%' } },
      { id: 'l', judge: { metric: 'latency', source: 'cloud_monitoring', false_rollback: 0.02, worse_by: '1.3x' } },
      GUARD,
    ]);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const [e, l] = result.plan.gates.stage;
    expect(e?.judge).toMatchObject({ alpha: 0.005, falseRollback: 0.01 });
    expect(l?.judge).toMatchObject({ alpha: 0.005, falseRollback: 0.01, worseBy: expect.closeTo(0.3, 12) });
    expect(e!.judge!.alpha + l!.judge!.alpha).toBeCloseTo(0.01, 15);
  });

  it('reads a Prometheus source, with {revision} standing for each revision', () => {
    const result = parse([
      {
        id: 'e',
        judge: {
          metric: 'error_rate',
          source: 'prometheus',
          prometheus: { url: 'http://prom:9090', requests: 'sum(http_requests_total{revision="{revision}"})', errors: 'sum(http_requests_total{revision="{revision}",code=~"5.."})', token_env: 'PROM_TOKEN' },
        },
      },
      GUARD,
    ]);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.plan.gates.stage[0]?.settings).toMatchObject({ prometheus: { url: 'http://prom:9090', tokenEnv: 'PROM_TOKEN', leUnit: 'seconds' } });
  });

  it.each<[string, unknown, string]>([
    ['a ratio for latency given to errors', { metric: 'error_rate', source: 'cloud_monitoring', worse_by: 'much' }, "gates.stage[0].judge.worse_by: worse_by of error_rate is a ratio to stable's error rate above 1, like 2x (twice stable's) or 1.5x"],
    ['an error ratio at or below 1', { metric: 'error_rate', source: 'cloud_monitoring', worse_by: 1 }, "gates.stage[0].judge.worse_by: worse_by of error_rate is a ratio to stable's error rate above 1, like 2x (twice stable's) or 1.5x"],
    ['a slowdown of nothing', { metric: 'latency', source: 'cloud_monitoring', worse_by: '+0%' }, 'gates.stage[0].judge.worse_by: worse_by of latency is how much slower than stable is worth catching, above 0, like +20% (or 1.2x, or 0.2)'],
    ['a false_rollback of 50 %', { metric: 'error_rate', source: 'cloud_monitoring', false_rollback: '50%' }, 'gates.stage[0].judge.false_rollback: false_rollback must be a chance above 0 and at most 20 %, like 1% (or 0.01)'],
    ['a latency guard without a unit', { metric: 'latency', source: 'cloud_monitoring', max: 'slow' }, "gates.stage[0].judge.max: max of latency is a time the canary's percentile must stay under, like 600ms or 1.5s (a number is milliseconds)"],
    ['an error guard over 100 %', { metric: 'error_rate', source: 'cloud_monitoring', max: '150%' }, "gates.stage[0].judge.max: max of error_rate is the canary's 5xx share that is obviously broken, like 5% (or 0.05)"],
    ['latency from logs', { metric: 'latency', source: 'cloud_logging' }, 'gates.stage[0].judge.source: cloud_logging counts requests and 5xx from the request logs; for latency use cloud_monitoring (request_latencies) or prometheus (a histogram)'],
    ['prometheus without its block', { metric: 'error_rate', source: 'prometheus' }, 'gates.stage[0].judge.prometheus: source prometheus needs a prometheus block: { url, requests, errors } for error_rate or { url, buckets } for latency'],
    ['a query that does not name the revision', { metric: 'latency', source: 'prometheus', prometheus: { url: 'http://p:9090', buckets: 'sum by (le) (x_bucket)' } }, 'gates.stage[0].judge.prometheus.buckets: buckets must name the revision as {revision}, so the judge can ask it for the canary and for stable'],
    ['an unknown key', { metric: 'error_rate', source: 'cloud_monitoring', alpha: 0.01 }, 'gates.stage[0].judge: unknown key "alpha" in judge (allowed: metric, source, false_rollback, worse_by, max, percentile, project, filter, prometheus)'],
    ['an unknown source', { metric: 'error_rate', source: 'datadog' }, 'gates.stage[0].judge.source: source must be cloud_monitoring, cloud_logging or prometheus'],
  ])('refuses %s, saying why', (_label, judge, message) => {
    expect(errorsOf([{ id: 'j', judge }, GUARD])).toEqual([message]);
  });

  it('refuses a for: window: the judge decides when the evidence is strong enough', () => {
    expect(errorsOf([{ id: 'j', judge: { metric: 'error_rate', source: 'cloud_monitoring' }, for: '10m' }, GUARD])).toEqual([
      'gates.stage[0].for: a judge gate takes no for: it rolls back as soon as its evidence is strong enough, and never before (put a for: window on a separate threshold gate)',
    ]);
  });

  it('refuses a judge anywhere but the stage gates', () => {
    const judge = { id: 'j', judge: { metric: 'error_rate', source: 'cloud_monitoring' } };
    expect(errorsOf([GUARD], (doc) => doc.gates.preflight.push(judge))).toEqual([
      'gates.preflight[1]: judge compares the canary with stable while both serve traffic: it can only be a stage gate (gates.stage)',
    ]);
  });

  it('refuses stage gates that are all judges without a guard: nothing would watch the 100 % cohort', () => {
    expect(errorsOf([{ id: 'j', judge: { metric: 'error_rate', source: 'cloud_monitoring' } }])).toEqual([
      'gates.stage: every stage gate is a judge without max:, so nothing would watch the canary at 100 % (stable then serves nothing and a judge cannot compare): add a threshold gate, or a max: guard to a judge',
    ]);
    expect(errorsOf([{ id: 'j', judge: { metric: 'error_rate', source: 'cloud_monitoring', max: '5%' } }])).toEqual([]);
  });
});

describe('the JSON Schema', () => {
  it('knows the judge and prometheus gate kinds, their sources and the forms their values take', () => {
    const schema = JSON.parse(renderSchema());
    const gate = schema.properties.gates.properties.stage.items;
    expect(Object.keys(gate.properties)).toEqual(expect.arrayContaining(['judge', 'prometheus']));
    const judge = gate.properties.judge;
    expect(judge.properties.source.enum).toEqual(['cloud_monitoring', 'cloud_logging', 'prometheus']);
    expect(judge.properties.metric.enum).toEqual(['error_rate', 'latency']);
    expect(judge.required).toEqual(['metric', 'source']);
    expect(judge.properties.false_rollback.type).toEqual(['number', 'string']);
    expect(judge.properties.prometheus.properties.le_unit.enum).toEqual(['seconds', 'milliseconds']);
    expect(gate.properties.prometheus.required).toEqual(['url', 'query']);
  });
});
