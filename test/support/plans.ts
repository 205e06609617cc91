// Plans for tests, built through the real schema from a small base document.
import { stringify } from 'yaml';
import type { Plan } from '../../src/domain/plan.ts';
import { parsePlanDocument } from '../../src/plans/parse.ts';
import { buildVocabulary } from '../../src/app/runtime.ts';
import type { PlanVocabulary } from '../../src/plans/schema.ts';

export const vocabulary: PlanVocabulary = buildVocabulary({}, () => {
  throw new Error('no simulated world in a pure test');
});

export function basePlanDocument(): Record<string, any> {
  return {
    name: 'demo',
    service: { platform: 'simulated', name: 'demo-svc', stable: 'demo-001', canary: 'demo-002' },
    channel: 'C0WARROOM',
    stages: [1, 5, 25, 100],
    soak: '10m',
    check_every: '1m',
    promotion: 'manual',
    gates: {
      preflight: [{ id: 'G1', command: 'true' }],
      stage: [{ id: 'slo', slo_snapshot: { url: 'http://127.0.0.1:9/slo', max_p95_latency_ms: 600 } }],
    },
    approvals: {
      go_no_go: { roles: ['release-manager', 'ops-lead'], min: 2 },
      promote: { roles: ['release-manager'] },
      rollback: { roles: ['release-manager', 'oncall-ops'] },
    },
    roles: { 'release-manager': ['U0RM1', 'U0RM2'], 'ops-lead': ['U0OPS'], 'oncall-ops': ['S0ONCALL'] },
    escalation: { mention: ['S0MANAGERS'], stuck_after: '15m' },
    updates: { every: '30m' },
  };
}

export function planFrom(document: Record<string, any>, vocab: PlanVocabulary = vocabulary): Plan {
  const result = parsePlanDocument(document, vocab);
  if (!result.ok) throw new Error(`test plan invalid:\n${result.errors.join('\n')}`);
  return result.plan;
}

export function makePlan(patch: (doc: Record<string, any>) => void = () => undefined, vocab?: PlanVocabulary): Plan {
  const doc = basePlanDocument();
  patch(doc);
  return planFrom(doc, vocab);
}

export const planYaml = (patch: (doc: Record<string, any>) => void = () => undefined): string => {
  const doc = basePlanDocument();
  patch(doc);
  return stringify(doc);
};

