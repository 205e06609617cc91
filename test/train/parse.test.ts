// Trains in the plan: `targets:` and `strategy:` parsed into one cutover over several services,
// stages expanded per wave, gates expanded per target; single-service plans unchanged.
import { describe, expect, it } from 'vitest';
import { cloudAdapters } from '../../src/app/adapters.ts';
import { buildVocabulary } from '../../src/app/runtime.ts';
import { parsePlanDocument } from '../../src/plans/parse.ts';
import { basePlanDocument, planFrom } from '../support/plans.ts';

const vocabulary = buildVocabulary(cloudAdapters({}), () => {
  throw new Error('no simulated world in a parse test');
});

const TARGETS = [
  { platform: 'cloud-run', project: 'demo-project', region: 'us-central1', name: 'api', stable: 'api-00010-abc', canary: 'api-00011-def' },
  { platform: 'cloud-run', project: 'demo-project', region: 'europe-west1', name: 'api', stable: 'api-00020-abc', canary: 'api-00021-def' },
  { platform: 'cloud-run', project: 'demo-project', region: 'us-central1', name: 'worker', stable: 'wk-00003-aaa', canary: 'wk-00004-bbb' },
];

function trainDocument(patch: (doc: Record<string, any>) => void = () => undefined): Record<string, any> {
  const doc = basePlanDocument();
  delete doc.service;
  doc.name = 'multi';
  doc.targets = structuredClone(TARGETS);
  doc.gates = {
    preflight: [{ id: 'G1', command: 'true' }],
    stage: [
      { id: 'five-xx', cloud_monitoring: { metric: 'error_ratio', max: 0.01 } },
      { id: 'probe', http: { url: 'https://{region}.example.test/{service}/healthz?t={target}&p={percent}' } },
      { id: 'global', http: { url: 'https://global.example.test/healthz' }, scope: 'once' },
    ],
  };
  patch(doc);
  return doc;
}

const errorsOf = (doc: Record<string, any>): string[] => {
  const result = parsePlanDocument(doc, vocabulary);
  if (result.ok) throw new Error('expected the plan to be refused');
  return [...result.errors];
};

describe('a train in lockstep', () => {
  const plan = planFrom(trainDocument(), vocabulary);

  it('has every target, named by service and region, with its own service key, in one wave', () => {
    expect(plan.train?.strategy).toBe('lockstep');
    expect(plan.train?.targets.map((t) => t.id)).toEqual(['api-us-central1', 'api-europe-west1', 'worker-us-central1']);
    expect(plan.train?.targets.map((t) => t.serviceKey)).toEqual([
      'cloud-run:projects/demo-project/locations/us-central1/services/api',
      'cloud-run:projects/demo-project/locations/europe-west1/services/api',
      'cloud-run:projects/demo-project/locations/us-central1/services/worker',
    ]);
    expect(plan.train?.waves).toEqual([[0, 1, 2]]);
    expect(plan.train?.targets.map((t) => t.wave)).toEqual([0, 0, 0]);
    // The plan's service is target 0; the train's own key is neither target's.
    expect(plan.service).toMatchObject({ region: 'us-central1', name: 'api' });
    expect(plan.serviceKey).toMatch(/^train:multi:[0-9a-f]{12}$/);
  });

  it('keeps the cohorts as written, each in wave 0', () => {
    expect(plan.stages.map((s) => [s.percent, s.wave])).toEqual([[1, 0], [5, 0], [25, 0], [100, 0]]);
  });

  it('runs each stage gate once per target, placeholders filled, unless it says scope: once', () => {
    expect(plan.gates.stage.map((g) => [g.id, g.target])).toEqual([
      ['five-xx@api-us-central1', 0],
      ['five-xx@api-europe-west1', 1],
      ['five-xx@worker-us-central1', 2],
      ['probe@api-us-central1', 0],
      ['probe@api-europe-west1', 1],
      ['probe@worker-us-central1', 2],
      ['global', undefined],
    ]);
    const probe = plan.gates.stage.find((g) => g.id === 'probe@api-europe-west1');
    // The target's placeholders now; {percent} is the gate's own, filled at each check.
    expect((probe?.settings as { url: string }).url).toBe('https://europe-west1.example.test/api/healthz?t=api-europe-west1&p={percent}');
    expect(probe?.name).toBe('probe (api-europe-west1)');
    // Preflight gates run once unless they say scope: target.
    expect(plan.gates.preflight.map((g) => g.id)).toEqual(['G1']);
  });

  it('expands preflight gates and rollback steps marked scope: target', () => {
    const p = planFrom(
      trainDocument((d) => {
        d.gates.preflight.push({ id: 'ready', http: { url: 'https://{region}.example.test/ready' }, scope: 'target' });
        d.rollback = { before: [{ id: 'drain', http: { method: 'POST', url: 'https://{region}.example.test/drain' }, scope: 'target' }, { id: 'flag-off', command: 'true' }] };
      }),
      vocabulary,
    );
    expect(p.gates.preflight.map((g) => g.id)).toEqual(['G1', 'ready@api-us-central1', 'ready@api-europe-west1', 'ready@worker-us-central1']);
    expect(p.rollback.before.map((g) => [g.id, (g.settings as { url?: string }).url ?? null])).toEqual([
      ['drain@api-us-central1', 'https://us-central1.example.test/drain'],
      ['drain@api-europe-west1', 'https://europe-west1.example.test/drain'],
      ['drain@worker-us-central1', 'https://us-central1.example.test/drain'],
      ['flag-off', null],
    ]);
  });

  it('takes service: as target 0 beside targets:, and ids the plan gives', () => {
    const p = planFrom(
      trainDocument((d) => {
        d.service = d.targets[0];
        d.targets = [{ id: 'eu', ...d.targets[1] }];
      }),
      vocabulary,
    );
    expect(p.train?.targets.map((t) => t.id)).toEqual(['api-us-central1', 'eu']);
    expect(p.gates.stage.map((g) => g.id)).toContain('five-xx@eu');
  });
});

describe('a train in waves', () => {
  it('expands the cohorts per wave: wave 0 goes through all of them, then wave 1', () => {
    const plan = planFrom(trainDocument((d) => (d.strategy = { waves: [[0], [1, 2]] })), vocabulary);
    expect(plan.train?.strategy).toBe('waves');
    expect(plan.train?.waves).toEqual([[0], [1, 2]]);
    expect(plan.train?.targets.map((t) => t.wave)).toEqual([0, 1, 1]);
    expect(plan.stages.map((s) => [s.percent, s.wave])).toEqual([[1, 0], [5, 0], [25, 0], [100, 0], [1, 1], [5, 1], [25, 1], [100, 1]]);
  });

  it('rolls back the whole train by default', () => {
    const plan = planFrom(trainDocument((d) => (d.strategy = 'waves')), vocabulary);
    expect(plan.train?.rollback).toBe('train');
  });

  it('takes `rollback: target` and `rollback: train` as short for `rollback: { scope: … }`', () => {
    for (const rollback of ['target', 'train'] as const) {
      const plan = planFrom(trainDocument((d) => ((d.strategy = 'waves'), (d.rollback = rollback))), vocabulary);
      expect(plan.train?.rollback).toBe(rollback);
      expect(plan.rollback.before).toEqual([]);
    }
  });

  it('takes `rollback: { scope: target, before: […] }`, its per-target steps expanded per target', () => {
    const plan = planFrom(
      trainDocument((d) => {
        d.strategy = { waves: [[0, 2], [1]] };
        d.rollback = { scope: 'target', before: [{ id: 'drain', http: { method: 'POST', url: 'https://{region}.example.test/drain' }, scope: 'target' }, { id: 'flag-off', command: 'true' }] };
      }),
      vocabulary,
    );
    expect(plan.train?.rollback).toBe('target');
    expect(plan.rollback.before.map((g) => [g.id, g.target])).toEqual([
      ['drain@api-us-central1', 0],
      ['drain@api-europe-west1', 1],
      ['drain@worker-us-central1', 2],
      ['flag-off', undefined],
    ]);
  });

  it('reads `strategy: waves` as one target per wave, in order', () => {
    const plan = planFrom(trainDocument((d) => (d.strategy = 'waves')), vocabulary);
    expect(plan.train?.waves).toEqual([[0], [1], [2]]);
    expect(plan.stages).toHaveLength(12);
  });
});

describe('train validation', () => {
  const cases: Array<[string, (doc: Record<string, any>) => void, string[]]> = [
    ['the same service twice', (d) => d.targets.push({ ...d.targets[1], stable: 'api-00030-abc', canary: 'api-00031-abc' }), ['targets[3]: moves the same service as target 1: each service (in each region) may appear once in a train']],
    ['an id twice', (d) => ((d.targets[0].id = 'api'), (d.targets[1].id = 'api')), ['targets[1].id: "api" already names target 0: give each target its own id']],
    ['an id that is not a short name', (d) => (d.targets[0].id = 'API EU'), ['targets[0].id: must be a short name of lowercase letters, digits and "-" (at most 40), e.g. api-eu']],
    ['a wave naming a target that does not exist', (d) => (d.strategy = { waves: [[0], [1, 2, 3]] }), ['strategy.waves[1][2]: there is no target 3 (targets are numbered from 0 to 2, the service: block first)']],
    ['a target in two waves', (d) => (d.strategy = { waves: [[0, 1], [1, 2]] }), ['strategy.waves[1][0]: target 1 is already in wave 0']],
    ['a target in no wave', (d) => (d.strategy = { waves: [[0], [2]] }), ['strategy.waves: every target must be in a wave: target 1 is in none']],
    ['rollback: target in lockstep', (d) => (d.rollback = 'target'), ["rollback.scope: drops one target's release only in waves: in lockstep every target moves together; use strategy: waves"]],
    ['rollback: { scope: target } in lockstep', (d) => ((d.strategy = 'lockstep'), (d.rollback = { scope: 'target' })), ["rollback.scope: drops one target's release only in waves: in lockstep every target moves together; use strategy: waves"]],
    ['rollback: target in waves of one wave', (d) => ((d.strategy = { waves: [[0, 1, 2]] }), (d.rollback = 'target')), ["rollback.scope: drops one target's release only in waves: this train has one wave, so every target moves together; give it several waves"]],
    ['an unknown rollback scope', (d) => ((d.strategy = 'waves'), (d.rollback = 'region')), ['rollback.scope: must be one of "train", "target"']],
    ['an unknown strategy', (d) => (d.strategy = 'canary-per-region'), ['strategy: must be lockstep, waves, or { waves: [[0], [1, 2]] } (target indexes per wave)']],
    ['a target with a platform problem, in place', (d) => (d.targets[1].region = 'Europe'), ['targets[1].region: region must be a Cloud Run region such as us-central1 or europe-west4']],
    ['scope: target on the rollback drill', (d) => (d.gates.rollback_drill = { command: 'true', scope: 'target' }), ['gates.rollback_drill.scope: the rollback drill runs once for the cutover: it cannot be scope: target']],
    ['neither service nor targets', (d) => delete d.targets, ['service: is required: the service the cutover moves (or targets: for a train of several)']],
    ['no target at all', (d) => (d.targets = []), ['targets: needs at least 1 item']],
    [
      'more gates than a check may run once multiplied by the targets',
      (d) => (d.gates.stage = Array.from({ length: 67 }, (_x, i) => ({ id: `g${i}`, command: 'true' }))),
      ['gates.stage: is 201 gates once each per-target gate counts once per target (at most 200): mark whole-train gates scope: once, or split the train'],
    ],
  ];
  for (const [label, patch, expected] of cases) {
    it(`refuses ${label}`, () => {
      expect(errorsOf(trainDocument(patch))).toEqual(expected);
    });
  }

  it('refuses strategy and scope in a plan of one service', () => {
    const doc = basePlanDocument();
    doc.strategy = 'lockstep';
    doc.gates.stage[0].scope = 'once';
    expect(errorsOf(doc)).toEqual([
      'strategy: applies to a train: list its services under targets:',
      'gates.stage[0].scope: applies to a train (a plan with targets:): this plan moves one service',
    ]);
  });

  it('refuses rollback: target in a plan of one service, and takes rollback: train there as the rollback it always does', () => {
    const doc = basePlanDocument();
    doc.rollback = 'target';
    expect(errorsOf(doc)).toEqual(["rollback.scope: drops one target's release only in a train in waves (a plan with targets: and strategy: waves): this plan moves one service"]);
    const plan = planFrom({ ...basePlanDocument(), rollback: { scope: 'train', before: [{ id: 'flag-off', command: 'true' }] } });
    expect(plan.train).toBeUndefined();
    expect(plan.rollback.before.map((g) => g.id)).toEqual(['flag-off']);
  });

  it('leaves a plan of one service as it was: no train, no waves, gates as written', () => {
    const plan = planFrom(basePlanDocument());
    expect(plan.train).toBeUndefined();
    expect(plan.stages.every((s) => s.wave === undefined)).toBe(true);
    expect(plan.gates.stage.map((g) => [g.id, g.target])).toEqual([['slo', undefined]]);
    expect(plan.serviceKey).toBe('simulated:demo-svc');
  });
});
