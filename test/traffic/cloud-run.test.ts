// The Cloud Run traffic platform against the fake Admin API, through the official clients.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TrafficError } from '../../src/ports.ts';
import { cloudRunPlatform, type CloudRunPlatform, type CloudRunService } from '../../src/traffic/cloud-run.ts';
import { startFakeCloudRun, type FakeCloudRun, type FakeTrafficTarget } from '../fakes/gcp/cloud-run.ts';
import type { Revisions } from '../../src/domain/service.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

const FAST = {
  maxAttempts: 4,
  baseMs: 1,
  capMs: 4,
  conflictAttempts: 4,
  rpcTimeoutMs: 5_000,
  operationPollMs: 2,
  operationPollMaxMs: 4,
  operationTimeoutMs: 5_000,
  confirmTimeoutMs: 300,
  confirmPollMs: 5,
};

let fake: FakeCloudRun;
let platform: CloudRunPlatform;
let counter = 0;

interface Fixture {
  spec: CloudRunService;
  name: string;
  revisions: Revisions;
}

/** A fresh service per test: stable serving 100 %, a ready canary, optional extra targets. */
function fixture(options: { traffic?: Array<Partial<FakeTrafficTarget> & { percent: number }>; canaryReady?: boolean } = {}): Fixture {
  counter += 1;
  const service = `svc${counter}`;
  const name = `projects/demo-project/locations/us-central1/services/${service}`;
  const revisions = { stable: `${service}-00001-aaa`, canary: `${service}-00002-bbb` };
  fake.addService(name, { traffic: options.traffic ?? [{ revision: revisions.stable, percent: 100 }] });
  fake.addRevision(`${name}/revisions/${revisions.stable}`);
  fake.addRevision(`${name}/revisions/${revisions.canary}`, { ready: options.canaryReady ?? true });
  const spec = platform.schema.parse({ platform: 'cloud-run', project: 'demo-project', region: 'us-central1', name: service, ...revisions });
  return { spec, name, revisions };
}

const served = (name: string) =>
  fake.service(name).traffic_statuses.map((t) => `${t.revision || 'LATEST'}=${t.percent}${t.tag ? `#${t.tag}` : ''}`);
const spec = (name: string) => fake.service(name).traffic.map((t) => `${t.revision || 'LATEST'}=${t.percent}${t.tag ? `#${t.tag}` : ''}`);
const updatesOf = (name: string) => fake.updates.filter((u) => u.name === name);

async function rejection(promise: Promise<unknown>): Promise<TrafficError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TrafficError);
  return error as TrafficError;
}

beforeAll(async () => {
  fake = await startFakeCloudRun();
  platform = cloudRunPlatform({ emulatorHost: fake.address, retry: FAST });
});

afterAll(async () => {
  await platform.close();
  await fake.close();
});

beforeEach(() => {
  fake.clearFaults();
  fake.operationPolls(0);
  fake.statusLag(0);
});

describe('preflight', () => {
  it('passes with the service and both revisions present and ready', async () => {
    const { spec: s, revisions } = fixture();
    const result = await platform.create(s).preflight(revisions);
    expect(result.outcome).toBe('pass');
    expect(result.observations?.map((o) => o.name)).toEqual(['service', 'stable_revision', 'stable_ready', 'canary_revision', 'canary_ready']);
  });

  it('names a missing revision', async () => {
    const { spec: s, revisions } = fixture();
    const result = await platform.create(s).preflight({ ...revisions, canary: 'svc-00099-zzz' });
    expect(result.outcome).toBe('fail');
    expect(result.note).toBe('canary revision svc-00099-zzz not found in us-central1');
    expect(result.observations?.find((o) => o.name === 'canary_revision')).toMatchObject({ value: 'svc-00099-zzz not found', ok: false });
    expect(result.observations?.find((o) => o.name === 'stable_revision')?.ok).toBe(true);
  });

  it('names a revision that is not ready, with Cloud Run’s reason', async () => {
    const { spec: s, revisions } = fixture({ canaryReady: false });
    const result = await platform.create(s).preflight(revisions);
    expect(result.outcome).toBe('fail');
    expect(result.note).toBe(`canary revision ${revisions.canary} is not ready: Container failed to start.`);
    expect(result.observations?.find((o) => o.name === 'canary_ready')).toMatchObject({ value: 'not ready: Container failed to start.', ok: false });
  });

  it('names a revision that belongs to another service', async () => {
    const { spec: s, revisions } = fixture();
    const other = fixture();
    const result = await platform.create(s).preflight({ ...revisions, stable: other.revisions.stable });
    expect(result.outcome).toBe('fail');
    expect(result.note).toBe(`stable revision ${other.revisions.stable} belongs to service ${other.spec.name}, not ${s.name}`);
  });

  it('fails when the service does not exist', async () => {
    const s = platform.schema.parse({ platform: 'cloud-run', project: 'demo-project', region: 'us-central1', name: 'ghost', stable: 'g-1', canary: 'g-2' });
    const result = await platform.create(s).preflight({ stable: 'g-1', canary: 'g-2' });
    expect(result).toMatchObject({ outcome: 'fail', note: 'service ghost does not exist in project demo-project, region us-central1' });
  });

  it('reports PERMISSION_DENIED as an error naming the permission', async () => {
    const { spec: s, revisions } = fixture();
    fake.failNext('GetService', status.PERMISSION_DENIED, 1, 'The caller does not have permission');
    const result = await platform.create(s).preflight(revisions);
    expect(result.outcome).toBe('error');
    expect(result.outcome === 'error' && result.error).toMatch(/^missing permission run\.services\.get on projects\/demo-project\/locations\/us-central1\/services\/svc\d+/);
  });
});

describe('shift', () => {
  it('walks 1 → 5 → 25 → 100, each confirmed from traffic_statuses', async () => {
    const { spec: s, name, revisions } = fixture();
    const backend = platform.create(s);
    for (const percent of [1, 5, 25, 100]) {
      await expect(backend.shift(revisions, percent)).resolves.toEqual({ canary: percent, stable: 100 - percent, other: 0 });
      await expect(backend.read(revisions)).resolves.toEqual({ canary: percent, stable: 100 - percent, other: 0 });
    }
    expect(updatesOf(name).map((u) => u.traffic.map((t) => `${t.revision}=${t.percent}`))).toEqual([
      [`${revisions.stable}=99`, `${revisions.canary}=1`],
      [`${revisions.stable}=95`, `${revisions.canary}=5`],
      [`${revisions.stable}=75`, `${revisions.canary}=25`],
      [`${revisions.canary}=100`],
    ]);
    // Short names in the traffic targets, each update sent with the etag just read.
    expect(updatesOf(name).every((u) => u.code === status.OK && u.etag.startsWith('"e'))).toBe(true);
  });

  it('makes no update when the split is already in place, only confirms it', async () => {
    const { spec: s, name, revisions } = fixture({ traffic: [] });
    fake.changeBehindYourBack(name, (svc) => {
      svc.traffic = [
        { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: revisions.stable, percent: 90, tag: '' },
        { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: revisions.canary, percent: 10, tag: '' },
      ];
    });
    await expect(platform.create(s).shift(revisions, 10)).resolves.toEqual({ canary: 10, stable: 90, other: 0 });
    expect(updatesOf(name)).toHaveLength(0);
  });

  it('keeps existing tags, in order, as tag-only targets or on the revision’s own target', async () => {
    const { spec: s, name, revisions } = fixture();
    fake.addRevision(`${name}/revisions/${s.name}-00000-old`);
    fake.changeBehindYourBack(name, (svc) => {
      svc.traffic = [
        { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: revisions.stable, percent: 100, tag: '' },
        { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: revisions.canary, percent: 0, tag: 'canary' },
        { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: `${s.name}-00000-old`, percent: 0, tag: 'pr-12' },
      ];
    });
    const backend = platform.create(s);
    await backend.shift(revisions, 5);
    expect(spec(name)).toEqual([`${revisions.stable}=95`, `${revisions.canary}=5#canary`, `${s.name}-00000-old=0#pr-12`]);
    await backend.shift(revisions, 0);
    expect(spec(name)).toEqual([`${revisions.stable}=100`, `${revisions.canary}=0#canary`, `${s.name}-00000-old=0#pr-12`]);
    expect(served(name)).toEqual([`${revisions.stable}=100`, `${revisions.canary}=0#canary`, `${s.name}-00000-old=0#pr-12`]);
  });

  it('re-reads after a stale etag and keeps the other actor’s change', async () => {
    const { spec: s, name, revisions } = fixture();
    // Between our read and our update, someone adds a tag and a label.
    fake.afterNext('GetService', () =>
      fake.changeBehindYourBack(name, (svc) => {
        svc.traffic.push({ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', revision: '', percent: 0, tag: 'qa' });
        svc.labels = { ...svc.labels, frozen: 'by-someone-else' };
      }),
    );
    await expect(platform.create(s).shift(revisions, 5)).resolves.toEqual({ canary: 5, stable: 95, other: 0 });
    expect(updatesOf(name).map((u) => u.code)).toEqual([status.ABORTED, status.OK]);
    expect(spec(name)).toEqual([`${revisions.stable}=95`, 'LATEST=0#qa', `${revisions.canary}=5`]);
    expect(fake.service(name).labels).toEqual({ frozen: 'by-someone-else' });
  });

  it('gives up with a conflict, overwriting nothing, when the service keeps changing', async () => {
    const { spec: s, name, revisions } = fixture();
    for (let i = 0; i < FAST.conflictAttempts; i++) {
      fake.afterNext('GetService', () => fake.changeBehindYourBack(name, (svc) => void (svc.description = `edit ${i}`)));
    }
    const error = await rejection(platform.create(s).shift(revisions, 5));
    expect(error.code).toBe('conflict');
    expect(updatesOf(name).every((u) => u.code === status.ABORTED)).toBe(true);
    expect(served(name)).toEqual([`${revisions.stable}=100`]);
  });

  it('retries UNAVAILABLE twice, then succeeds', async () => {
    const { spec: s, name, revisions } = fixture();
    fake.failNext('UpdateService', status.UNAVAILABLE, 2);
    const before = fake.callCount('UpdateService');
    await expect(platform.create(s).shift(revisions, 5)).resolves.toEqual({ canary: 5, stable: 95, other: 0 });
    expect(fake.callCount('UpdateService') - before).toBe(3);
    expect(updatesOf(name)).toHaveLength(1);
  });

  it('persistent UNAVAILABLE ends as a transient TrafficError with the served split unchanged', async () => {
    const { spec: s, name, revisions } = fixture();
    fake.failNext('UpdateService', status.UNAVAILABLE, 100, 'The service is currently unavailable.');
    const before = fake.callCount('UpdateService');
    const error = await rejection(platform.create(s).shift(revisions, 5));
    expect(error.code).toBe('transient');
    expect(error.message).toBe(
      'Cloud Run did not answer after 4 attempts: could not update the traffic of the service (UNAVAILABLE: The service is currently unavailable.)',
    );
    expect(fake.callCount('UpdateService') - before).toBe(FAST.maxAttempts);
    fake.clearFaults();
    expect(served(name)).toEqual([`${revisions.stable}=100`]);
    await expect(platform.create(s).read(revisions)).resolves.toEqual({ canary: 0, stable: 100, other: 0 });
  });

  it('a call slower than the RPC deadline is DEADLINE_EXCEEDED, retried, then transient', async () => {
    const { spec: s, revisions } = fixture();
    const impatient = cloudRunPlatform({ emulatorHost: fake.address, retry: { ...FAST, maxAttempts: 2, rpcTimeoutMs: 50 } });
    fake.delay('GetService', 300);
    const before = fake.callCount('GetService');
    try {
      const error = await rejection(impatient.create(s).shift(revisions, 5));
      expect(error.code).toBe('transient');
      expect(error.message).toMatch(/^Cloud Run did not answer after 2 attempts: could not read the service \(DEADLINE_EXCEEDED/);
      expect(fake.callCount('GetService') - before).toBe(2);
    } finally {
      fake.delay('GetService', 0);
      await impatient.close();
    }
  });

  it('PERMISSION_DENIED is not retried and names the permission', async () => {
    const { spec: s, name, revisions } = fixture();
    fake.failNext('UpdateService', status.PERMISSION_DENIED, 1, "Permission 'run.services.update' denied on resource (or it may not exist).");
    const before = fake.callCount('UpdateService');
    const error = await rejection(platform.create(s).shift(revisions, 5));
    expect(error.code).toBe('permission_denied');
    expect(error.message).toMatch(new RegExp(`^missing permission run\\.services\\.update on ${name.replaceAll('/', '\\/')}`));
    expect(fake.callCount('UpdateService') - before).toBe(1);
  });

  it('confirms after an operation that stays not-done for several polls', async () => {
    const { spec: s, revisions } = fixture();
    fake.operationPolls(4);
    const polls = fake.callCount('GetOperation');
    await expect(platform.create(s).shift(revisions, 25)).resolves.toEqual({ canary: 25, stable: 75, other: 0 });
    expect(fake.callCount('GetOperation') - polls).toBe(5);
  });

  it('waits for traffic_statuses to catch up after the operation completes', async () => {
    const { spec: s, revisions } = fixture();
    fake.statusLag(3);
    const gets = fake.callCount('GetService');
    await expect(platform.create(s).shift(revisions, 5)).resolves.toEqual({ canary: 5, stable: 95, other: 0 });
    expect(fake.callCount('GetService') - gets).toBe(5); // 1 read + 3 stale + 1 confirmed
  });

  it('a split that never shows up is unconfirmed', async () => {
    const { spec: s, revisions } = fixture();
    fake.statusLag(Number.POSITIVE_INFINITY);
    const error = await rejection(platform.create(s).shift(revisions, 5));
    expect(error.code).toBe('unconfirmed');
    expect(error.message).toMatch(/asked .* for canary 5% \/ stable 95%, it serves canary 0% \/ stable 100%: still not served/);
  });

  it('a failed reconciliation is unconfirmed with Cloud Run’s reason', async () => {
    const { spec: s, revisions } = fixture();
    fake.failNextOperation(status.FAILED_PRECONDITION, 'Revision is not ready and cannot serve traffic.');
    const error = await rejection(platform.create(s).shift(revisions, 5));
    expect(error.code).toBe('unconfirmed');
    expect(error.message).toMatch(/Revision is not ready and cannot serve traffic/);
  });

  it('an unknown revision is not_found', async () => {
    const { spec: s, revisions } = fixture();
    const error = await rejection(platform.create(s).shift({ ...revisions, canary: 'nope-00009-zzz' }, 5));
    expect(error.code).toBe('not_found');
    expect(error.message).toMatch(/^revision nope-00009-zzz not found in projects\/demo-project/);
  });

  it('rollback = shift(…, 0): 100 % stable and no untagged canary target left', async () => {
    const { spec: s, name, revisions } = fixture();
    const backend = platform.create(s);
    await backend.shift(revisions, 25);
    await expect(backend.shift(revisions, 0)).resolves.toEqual({ canary: 0, stable: 100, other: 0 });
    expect(spec(name)).toEqual([`${revisions.stable}=100`]);
  });

  it('refuses a percentage Cloud Run cannot serve', async () => {
    const { spec: s, revisions } = fixture();
    expect((await rejection(platform.create(s).shift(revisions, 2.5))).code).toBe('invalid');
    expect((await rejection(platform.create(s).shift(revisions, 101))).code).toBe('invalid');
  });
});

describe('the call observer (metrics)', () => {
  it('is told of every Admin API call with its outcome: OK, or the gRPC code of each failed attempt', async () => {
    const calls: string[] = [];
    const observed = cloudRunPlatform({ emulatorHost: fake.address, retry: FAST, observe: (method, outcome) => calls.push(`${method} ${outcome}`) });
    try {
      const { spec: s, revisions } = fixture();
      expect((await observed.create(s).preflight({ ...revisions, canary: 'svc-00099-zzz' })).outcome).toBe('fail');
      expect(calls).toEqual(['GetService OK', 'GetRevision OK', 'GetRevision NOT_FOUND']);
      calls.length = 0;
      fake.failNext('UpdateService', status.UNAVAILABLE, 1);
      await observed.create(s).shift(revisions, 5);
      expect(calls.filter((c) => c.startsWith('UpdateService'))).toEqual(['UpdateService UNAVAILABLE', 'UpdateService OK']);
      expect(calls).toContain('Operation OK');
    } finally {
      await observed.close();
    }
  });
});

describe('a stop signal (the traffic lease)', () => {
  const stopped = () => {
    const controller = new AbortController();
    const reason = new Error('lost the traffic lease');
    return { signal: controller.signal, stop: () => controller.abort(reason), reason };
  };

  it('already aborted: no call at all, and the reason is thrown rather than a TrafficError', async () => {
    const { spec: s, revisions } = fixture();
    const { signal, stop, reason } = stopped();
    stop();
    const gets = fake.callCount('GetService');
    await expect(platform.create(s).read(revisions, signal)).rejects.toBe(reason);
    await expect(platform.create(s).shift(revisions, 5, signal)).rejects.toBe(reason);
    expect(fake.callCount('GetService')).toBe(gets);
  });

  it('aborted once the service was read: UpdateService is never called', async () => {
    const { spec: s, name, revisions } = fixture();
    const { signal, stop, reason } = stopped();
    fake.afterNext('GetService', stop);
    await expect(platform.create(s).shift(revisions, 5, signal)).rejects.toBe(reason);
    expect(updatesOf(name)).toHaveLength(0);
    expect(served(name)).toEqual([`${revisions.stable}=100`]);
  });

  it('aborted while a transient error is being retried: no further attempt', async () => {
    const { spec: s, name, revisions } = fixture();
    const { signal, stop, reason } = stopped();
    fake.failNext('GetService', status.UNAVAILABLE, 100);
    fake.beforeNext('GetService', stop);
    const gets = fake.callCount('GetService');
    await expect(platform.create(s).shift(revisions, 5, signal)).rejects.toBe(reason);
    fake.clearFaults();
    expect(fake.callCount('GetService') - gets).toBe(1);
    expect(updatesOf(name)).toHaveLength(0);
  });

  it('aborted after the update was sent: the confirmation polls stop', async () => {
    const { spec: s, name, revisions } = fixture();
    const { signal, stop, reason } = stopped();
    fake.statusLag(Number.POSITIVE_INFINITY);
    let stoppedAt = 0;
    fake.afterNext('UpdateService', () => {
      stoppedAt = performance.now();
      stop();
    });
    await expect(platform.create(s).shift(revisions, 5, signal)).rejects.toBe(reason);
    // Ended by the stop, not by the 300 ms confirmation deadline.
    expect(performance.now() - stoppedAt).toBeLessThan(FAST.confirmTimeoutMs);
    expect(updatesOf(name)).toHaveLength(1);
  });
});

describe('read', () => {
  it('resolves LATEST to the latest ready revision and counts third revisions as other', async () => {
    const { spec: s, name, revisions } = fixture();
    fake.addRevision(`${name}/revisions/${s.name}-00003-ccc`);
    fake.changeBehindYourBack(name, (svc) => {
      svc.traffic = [
        { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: revisions.stable, percent: 80, tag: '' },
        { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', revision: '', percent: 20, tag: '' },
      ];
    });
    await expect(platform.create(s).read(revisions)).resolves.toEqual({ canary: 0, stable: 80, other: 20 });
    await expect(platform.create(s).read({ ...revisions, canary: `${s.name}-00003-ccc` })).resolves.toEqual({ canary: 20, stable: 80, other: 0 });
  });

  it('a missing service is not_found', async () => {
    const s = platform.schema.parse({ platform: 'cloud-run', project: 'demo-project', region: 'us-central1', name: 'ghost', stable: 'g-1', canary: 'g-2' });
    const error = await rejection(platform.create(s).read({ stable: 'g-1', canary: 'g-2' }));
    expect(error).toMatchObject({ code: 'not_found', message: 'service ghost not found in project demo-project, region us-central1' });
  });
});

describe('the cloud-run service block', () => {
  const valid = { platform: 'cloud-run', project: 'openagentsgemini', region: 'us-central1', name: 'openagents-control-service', stable: 'openagents-control-service-00010-abc', canary: 'openagents-control-service-00011-def' };
  const messages = (input: unknown) => platform.schema.safeParse(input).error?.issues.map((i) => i.message) ?? [];

  it('accepts the seed runbook’s service and keys it by its full name', () => {
    const parsed = platform.schema.parse(valid);
    expect(platform.serviceKey(parsed)).toBe('cloud-run:projects/openagentsgemini/locations/us-central1/services/openagents-control-service');
    expect(platform.create(parsed).label).toBe('Cloud Run projects/openagentsgemini/locations/us-central1/services/openagents-control-service');
  });

  it.each([
    [{ ...valid, extra: 1 }, 'unknown key "extra" in a cloud-run service block (allowed: platform, project, region, name, stable, canary)'],
    [{ ...valid, project: 'My_Project' }, 'project must be a Google Cloud project ID: 6 to 30 lowercase letters, digits or hyphens, starting with a letter'],
    [{ ...valid, region: 'central' }, 'region must be a Cloud Run region such as us-central1 or europe-west4'],
    [{ ...valid, name: 'Api-' }, 'name must be a Cloud Run service name: lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen, at most 49 characters'],
    [{ ...valid, canary: 'projects/p/locations/r/services/s/revisions/x' }, 'canary must be the short revision name (e.g. api-00042-xyz), not a resource path'],
    [{ ...valid, canary: valid.stable }, 'stable and canary must be different revisions'],
  ])('explains %j', (input, message) => {
    expect(messages(input)).toContain(message);
  });
});

describe('revisions (the start dialog’s choice)', () => {
  it('lists the ready revisions newest first, with the share each serves; a revision that is not ready is left out', async () => {
    const f = fixture({ traffic: [{ revision: `svc${counter + 1}-00001-aaa`, percent: 100 }] });
    const newer = `${f.name}/revisions/svc${counter}-00003-ccc`;
    fake.addRevision(newer, { ready: false });
    const newest = fake.addRevision(`${f.name}/revisions/svc${counter}-00004-ddd`);
    newest.created += 60_000;
    const choices = await platform.create(f.spec).revisions!();
    expect(choices.map((c) => [c.name, c.percent])).toEqual([
      [`svc${counter}-00004-ddd`, 0],
      [f.revisions.canary, 0],
      [f.revisions.stable, 100],
    ]);
    expect(choices[0]!.createdAt).toBe(newest.created);
  });

  it('a denied list is permission_denied, naming run.revisions.list', async () => {
    const f = fixture();
    fake.failNext('ListRevisions', status.PERMISSION_DENIED, 1, 'Permission denied');
    const error = await rejection(platform.create(f.spec).revisions!());
    expect(error.code).toBe('permission_denied');
    expect(error.message).toContain('run.revisions.list');
  });
});
