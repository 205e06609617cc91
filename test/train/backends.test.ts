// The backend registry for trains: every target driven through its own platform's backend, with
// the revisions of the plan the cutover runs (two cutovers of the same services may differ).
import { expect, it } from 'vitest';
import { measured } from '../../src/domain/measurement.ts';
import type { Revisions, Split } from '../../src/domain/service.ts';
import type { TrafficPlatform } from '../../src/ports.ts';
import { TrafficError, TrainTrafficError } from '../../src/ports.ts';
import { Backends } from '../../src/runtime/backends.ts';
import { isTrainTraffic } from '../../src/runtime/train-traffic.ts';
import { z } from 'zod';
import { basePlanDocument, planFrom } from '../support/plans.ts';
import type { PlanVocabulary } from '../../src/plans/schema.ts';
import { vocabulary as base } from '../support/plans.ts';

/** A platform that records what each of its services was asked, and serves what it was last set to. */
function recordingPlatform() {
  const calls: Array<{ service: string; op: string; revisions: Revisions; percent?: number }> = [];
  const served = new Map<string, number>();
  const failing = new Set<string>();
  const platform: TrafficPlatform<any> = {
    platform: 'recording',
    schema: z.object({ platform: z.literal('recording'), name: z.string(), stable: z.string(), canary: z.string() }).strict(),
    serviceKey: (spec) => `recording:${spec.name}`,
    create: (spec) => ({
      label: `recording ${spec.name}`,
      preflight: async () => measured([]),
      read: async (revisions) => {
        calls.push({ service: spec.name, op: 'read', revisions });
        const canary = served.get(spec.name) ?? 0;
        return { canary, stable: 100 - canary, other: 0 } satisfies Split;
      },
      shift: async (revisions, percent) => {
        calls.push({ service: spec.name, op: 'shift', revisions, percent });
        if (failing.has(spec.name)) throw new TrafficError('transient', `${spec.name} did not answer`);
        served.set(spec.name, percent);
        return { canary: percent, stable: 100 - percent, other: 0 };
      },
    }),
  };
  return { platform, calls, served, failing };
}

function trainOf(vocabulary: PlanVocabulary, canary: string) {
  const doc = basePlanDocument();
  delete doc.service;
  doc.targets = ['a', 'b'].map((name) => ({ platform: 'recording', name, stable: `${name}-1`, canary: `${name}-${canary}` }));
  return planFrom(doc, vocabulary);
}

it('drives each target with the revisions of the plan the cutover runs, and names the targets that fail', async () => {
  const { platform, calls, failing } = recordingPlatform();
  const vocabulary: PlanVocabulary = { gateKinds: base.gateKinds, platforms: [...base.platforms, platform] };
  const backends = new Backends(vocabulary.platforms);
  const first = backends.for(trainOf(vocabulary, '2'));
  expect(isTrainTraffic(first)).toBe(true);
  await first.shift({ stable: 'ignored', canary: 'ignored' }, 10);
  // The next cutover of the same services ships other canaries.
  const second = backends.for(trainOf(vocabulary, '3'));
  await second.shift({ stable: 'ignored', canary: 'ignored' }, 20);
  const shifts = calls.filter((c) => c.op === 'shift').map((c) => [c.service, c.revisions.canary, c.percent]);
  expect(shifts).toEqual([
    ['a', 'a-2', 10],
    ['b', 'b-2', 10],
    ['a', 'a-3', 20],
    ['b', 'b-3', 20],
  ]);

  failing.add('b');
  const error = await second.shift({ stable: 'x', canary: 'y' }, 50).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TrainTrafficError);
  expect((error as TrainTrafficError).message).toBe('could not shift 1 of 2 targets: b (target 1): b did not answer');
  expect((error as TrainTrafficError).reports.map((r) => [r.target, r.split?.canary ?? null, r.error ?? null])).toEqual([
    [0, 50, null],
    [1, null, 'b did not answer'],
  ]);
});
