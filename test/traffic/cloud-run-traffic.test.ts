// The traffic-list arithmetic on its own.
import { describe, expect, it } from 'vitest';
import { normalizeTargets, sameTraffic, splitOf, toWireTargets, trafficFor, type Target } from '../../src/traffic/cloud-run-traffic.ts';

const R = { stable: 'api-1', canary: 'api-2' };
const rev = (revision: string, percent: number, tag = ''): Target => ({ kind: 'revision', revision, percent, tag });
const latest = (percent: number, tag = ''): Target => ({ kind: 'latest', revision: '', percent, tag });

describe('trafficFor', () => {
  it('pins both revisions from a LATEST-only service', () => {
    expect(trafficFor([latest(100)], R, 5)).toEqual([rev('api-1', 95), rev('api-2', 5)]);
  });

  it('moves the percentages in place and drops a 0 % untagged target', () => {
    expect(trafficFor([rev('api-1', 75), rev('api-2', 25)], R, 100)).toEqual([rev('api-2', 100)]);
    expect(trafficFor([rev('api-1', 75), rev('api-2', 25)], R, 0)).toEqual([rev('api-1', 100)]);
  });

  it('keeps tags where they are: on the revision’s target or as tag-only targets', () => {
    const current = [rev('api-0', 0, 'pr-7'), rev('api-1', 100), rev('api-2', 0, 'canary'), latest(0, 'head')];
    expect(trafficFor(current, R, 10)).toEqual([rev('api-0', 0, 'pr-7'), rev('api-1', 90), rev('api-2', 10, 'canary'), latest(0, 'head')]);
    expect(trafficFor(current, R, 0)).toEqual([rev('api-0', 0, 'pr-7'), rev('api-1', 100), rev('api-2', 0, 'canary'), latest(0, 'head')]);
  });

  it('a second target of the same revision survives only for its tag', () => {
    expect(trafficFor([rev('api-1', 50), rev('api-2', 50), rev('api-2', 0, 'blue'), rev('api-1', 0)], R, 20)).toEqual([
      rev('api-1', 80),
      rev('api-2', 20),
      rev('api-2', 0, 'blue'),
    ]);
  });

  it('takes traffic away from third revisions', () => {
    expect(trafficFor([rev('api-0', 60), rev('api-1', 40)], R, 1)).toEqual([rev('api-1', 99), rev('api-2', 1)]);
  });
});

describe('helpers', () => {
  it('normalizes SDK targets: full or short names, enum names or numbers', () => {
    expect(
      normalizeTargets([
        { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: 'projects/p/locations/r/services/s/revisions/api-1', percent: 90 },
        { type: 1, percent: 10, tag: null },
      ]),
    ).toEqual([rev('api-1', 90), latest(10)]);
  });

  it('writes REVISION targets by short name and leaves empty tags out', () => {
    expect(toWireTargets([rev('api-1', 90), rev('api-2', 10, 'canary'), latest(0, 'x')])).toEqual([
      { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: 'api-1', percent: 90 },
      { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: 'api-2', percent: 10, tag: 'canary' },
      { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 0, tag: 'x' },
    ]);
  });

  it('compares traffic lists regardless of order', () => {
    expect(sameTraffic([rev('api-1', 90), rev('api-2', 10)], [rev('api-2', 10), rev('api-1', 90)])).toBe(true);
    expect(sameTraffic([rev('api-1', 90), rev('api-2', 10)], [rev('api-1', 90), rev('api-2', 10, 'c')])).toBe(false);
  });

  it('computes the served split, LATEST resolved', () => {
    expect(splitOf([rev('api-1', 70), latest(20), rev('api-9', 10)], R, 'projects/p/locations/r/services/s/revisions/api-2')).toEqual({
      canary: 20,
      stable: 70,
      other: 10,
    });
  });
});
