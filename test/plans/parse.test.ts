import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parsePlanDocument, parsePlanText } from '../../src/plans/parse.ts';
import { basePlanDocument, planYaml, vocabulary } from '../support/plans.ts';

const errorsOf = (patch: (doc: Record<string, any>) => void): string[] => {
  const doc = basePlanDocument();
  patch(doc);
  const result = parsePlanDocument(doc, vocabulary);
  if (result.ok) throw new Error('expected the plan to be refused');
  return [...result.errors];
};

describe('plan validation: every problem, with its path, in words', () => {
  const cases: Array<[string, (doc: Record<string, any>) => void, string[]]> = [
    ['a wrong type', (d) => (d.stages = '1,5,10,100'), ['stages: must be a list (got string)']],
    ['an unknown top-level key', (d) => (d.soak_time = '10m'), ['(plan): unknown key "soak_time" (check the spelling; see schemas/plan.schema.json)']],
    ['non-increasing stages', (d) => (d.stages = [1, 5, 5, 100]), ['stages[2]: must be greater than stages[1] (5)']],
    ['a stage over 100', (d) => (d.stages = [1, 50, 150]), ['stages[2]: must be between 1 and 100 (got 150)', 'stages[2]: the last stage must be 100: a cutover ends with the canary serving all traffic (got 150)']],
    ['a last stage short of 100', (d) => (d.stages = [1, 5, 50]), ['stages[2]: the last stage must be 100: a cutover ends with the canary serving all traffic (got 50)']],
    ['a fractional stage', (d) => (d.stages = [1, 2.5, 100]), ['stages[1]: must be a whole percent from 1 to 100, or {percent, soak, promotion}']],
    ['a bad duration', (d) => (d.soak = '30 minutes'), ['soak: must be a duration like 90s, 10m or 1h']],
    ['a bad duration in a stage object', (d) => (d.stages = [{ percent: 10, soak: 'soon' }, 100]), ['stages[0].soak: must be a duration like 90s, 10m or 1h']],
    ['a role referenced but not defined', (d) => (d.approvals.go_no_go.roles = ['release-manager', 'qa-owner']), ['approvals.go_no_go.roles[1]: role "qa-owner" is not defined under roles (defined: release-manager, ops-lead, oncall-ops)']],
    ['an empty stage gate list', (d) => (d.gates.stage = []), ['gates.stage: needs at least one gate: a soak with no gate has nothing to judge the canary on']],
    ['an empty preflight gate list', (d) => (d.gates.preflight = []), ['gates.preflight: needs at least one gate: preflight decides whether the go/no-go may be asked for']],
    ['a misspelt gate kind', (d) => (d.gates.preflight = [{ id: 'G1', comand: 'true' }]), ['gates.preflight[0]: unknown key "comand" (check the spelling; see schemas/plan.schema.json)', 'gates.preflight[0]: needs exactly one of command, http, slo_snapshot, prometheus']],
    ['a gate with two kinds', (d) => (d.gates.stage = [{ id: 'x', command: 'true', http: { url: 'http://a.test/' } }]), ['gates.stage[0]: has command and http: a gate checks exactly one thing; split it into separate gates']],
    ['duplicate gate ids', (d) => d.gates.stage.push({ ...d.gates.stage[0] }), ['gates.stage[1].id: "slo" is already used by gates.stage[0]']],
    ['an SLO snapshot with no threshold', (d) => (d.gates.stage = [{ id: 'slo', slo_snapshot: { url: 'http://a.test/slo' } }]), ['gates.stage[0].slo_snapshot: needs max_p95_latency_ms and/or max_error_budget_ratio']],
    ['an http gate without a URL', (d) => (d.gates.stage = [{ id: 'h', http: { url: 'example.test/health' } }]), ['gates.stage[0].http.url: must be an http(s) URL']],
    ['a command that needs a shell', (d) => (d.gates.preflight = [{ id: 'G2', command: 'bun run build && bun test' }]), ["gates.preflight[0].command: runs without a shell, so && | ; > and $( ) do nothing here: put the steps in a script, or write bash -c '…' explicitly"]],
    ['a plan name with capitals', (d) => (d.name = 'Control_Service'), ['name: must be lowercase letters, digits and "-" (it is used in commands, e.g. /cutover start control-service)']],
    ['a channel name instead of an id', (d) => (d.channel = '#war-room'), ['channel: must be a Slack channel id like C0123WARROOM (not a #name)']],
    ['an unknown platform', (d) => (d.service.platform = 'aws-lambda'), ['service.platform: must be one of simulated (got "aws-lambda")']],
    ['a role member that is not a Slack id', (d) => (d.roles['ops-lead'] = ['alice']), ['roles.ops-lead[0]: must be a Slack user id (U…) or user-group id (S…)']],
    ['a check interval under a second', (d) => (d.check_every = '500ms'), ['check_every: must be at least 1s']],
    ['an unknown promotion mode', (d) => (d.promotion = 'yolo'), ['promotion: must be one of "manual", "auto"']],
    ['a missing approvals block', (d) => delete d.approvals, ['approvals: is required']],
    ['an unknown key in a rollback step', (d) => (d.rollback = { before: [{ id: 'override', http: { url: 'http://a.test/o', methd: 'POST' } }] }), ['rollback.before[0].http: unknown key "methd" (check the spelling; see schemas/plan.schema.json)']],
    ['an slo_snapshot as a rollback step', (d) => (d.rollback = { before: [{ id: 's', slo_snapshot: { url: 'http://a.test/', max_p95_latency_ms: 1 } }] }), ['rollback.before[0]: unknown key "slo_snapshot" (check the spelling; see schemas/plan.schema.json)', 'rollback.before[0]: needs exactly one of command, http']],
  ];
  for (const [label, patch, expected] of cases) {
    it(`refuses ${label}`, () => {
      expect(errorsOf(patch)).toEqual(expected);
    });
  }

  it('reports every problem at once', () => {
    const errors = errorsOf((d) => {
      d.stages = [5, 1, 100];
      d.soak = 'forever';
      d.channel = 'general';
    });
    expect(errors).toEqual(expect.arrayContaining(['stages[1]: must be greater than stages[0] (5)', 'soak: must be a duration like 90s, 10m or 1h', 'channel: must be a Slack channel id like C0123WARROOM (not a #name)']));
  });
});

describe('plan text: YAML problems and hostile input', () => {
  it('points at the line of a YAML syntax error', () => {
    const result = parsePlanText('name: x\nstages: [1, 5\nsoak: 1m\n', vocabulary);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('refuses a document that is not a mapping', () => {
    const result = parsePlanText('- just\n- a list\n', vocabulary);
    expect(result).toEqual({ ok: false, errors: ['(plan): must be a YAML mapping with name, service, channel, stages, gates… (got list)'] });
  });

  it('refuses an alias bomb quickly', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const started = performance.now();
    const result = parsePlanText(bomb.join('\n'), vocabulary);
    expect(result.ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('refuses a huge file without parsing it', () => {
    const result = parsePlanText(`name: x\n# ${'x'.repeat(300 * 1024)}\n`, vocabulary);
    expect(result).toEqual({ ok: false, errors: ['(plan): the file is larger than 256 KiB; a plan is a short YAML file'] });
  });

  it('refuses duplicate keys', () => {
    const result = parsePlanText(`${planYaml()}\nname: again\n`, vocabulary);
    expect(result.ok).toBe(false);
  });
});

describe('plan defaults and normalisation', () => {
  it('fills the defaults of seed 004 and seed 003', () => {
    const doc = basePlanDocument();
    delete doc.stages;
    delete doc.soak;
    delete doc.check_every;
    delete doc.escalation;
    delete doc.updates;
    const result = parsePlanText(stringify(doc), vocabulary);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.plan.stages.map((s) => s.percent)).toEqual([1, 5, 10, 25, 50, 100]);
    expect(result.plan.stages[0]).toEqual({ percent: 1, soakMs: 30 * 60_000, promotion: 'manual' });
    expect(result.plan.checkEveryMs).toBe(60_000);
    expect(result.plan.escalation).toEqual({ mention: [], stuckAfterMs: 15 * 60_000 });
    expect(result.plan.updates.everyMs).toBe(30 * 60_000);
    expect(result.plan.gates.stage[0]).toMatchObject({ id: 'slo', kind: 'slo_snapshot', forMs: 0, maxErrors: 3, timeoutMs: 10_000 });
    expect(Object.isFrozen(result.plan.stages)).toBe(true);
  });

  it('lets a stage override its soak and promotion', () => {
    const doc = basePlanDocument();
    doc.stages = [{ percent: 10, soak: '5m', promotion: 'auto' }, 50, { percent: 100, soak: '1h' }];
    const result = parsePlanDocument(doc, vocabulary);
    expect(result.ok && result.plan.stages).toEqual([
      { percent: 10, soakMs: 5 * 60_000, promotion: 'auto' },
      { percent: 50, soakMs: 10 * 60_000, promotion: 'manual' },
      { percent: 100, soakMs: 60 * 60_000, promotion: 'manual' },
    ]);
  });

  it('derives who may hold, resume and abort when the plan does not say', () => {
    const result = parsePlanDocument(basePlanDocument(), vocabulary);
    expect(result.ok && result.plan.approvals.hold.roles).toEqual(['release-manager', 'ops-lead', 'oncall-ops']);
    expect(result.ok && result.plan.approvals.resume.roles).toEqual(['release-manager']);
    expect(result.ok && result.plan.approvals.abort.roles).toEqual(['release-manager', 'ops-lead', 'oncall-ops']);
    expect(result.ok && result.plan.approvals.go_no_go.twoPerson).toBe(true);
  });
});
