// The cloud_logging gate against the fake Logging API, through the official client.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cloudLoggingGate, type CloudLoggingGate } from '../../src/gates/cloud-logging.ts';
import { startFakeLogging, type FakeLogEntry, type FakeLogging } from '../fakes/gcp/logging.ts';
import { timestampBounds, parseFilter } from '../fakes/gcp/logging-filter.ts';
import { CLOUD_RUN_SERVICE as SVC, WINDOW_END, WINDOW_START, gateContext, signals } from './context.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

let fake: FakeLogging;
let gate: CloudLoggingGate;

beforeAll(async () => {
  fake = await startFakeLogging();
  gate = cloudLoggingGate({ emulatorHost: fake.address, pageSize: 50 });
});
afterAll(async () => {
  await gate.close();
  await fake.close();
});
beforeEach(() => {
  fake.clear();
  fake.clearFaults();
});

/** `n` request logs on a revision, spread over the window; the first `errors` answered 503. */
function requests(revision: string, n: number, errors = 0, at = WINDOW_START + 1000): FakeLogEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    timestamp: at + i * 100,
    severity: i < errors ? 'ERROR' : 'INFO',
    logName: `projects/${SVC.project}/logs/run.googleapis.com%2Frequests`,
    resource: { type: 'cloud_run_revision', labels: { location: SVC.region, service_name: SVC.name, revision_name: revision } },
    httpRequest: { status: i < errors ? 503 : 200, requestMethod: 'GET', requestUrl: '/api/sync/token' },
  }));
}

function events(revision: string, event: string, n: number, extra: Record<string, unknown> = {}): FakeLogEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    timestamp: WINDOW_START + 5000 + i * 1000,
    severity: 'INFO',
    resource: { type: 'cloud_run_revision', labels: { location: SVC.region, service_name: SVC.name, revision_name: revision } },
    jsonPayload: { event, ...extra },
  }));
}

const ratioSpec = gateSpec({ numerator: 'httpRequest.status>=500', denominator: 'httpRequest.status:*', max: 0.01 });

function gateSpec(settings: unknown) {
  return cloudLoggingGate().schema.parse(settings);
}

describe('ratio', () => {
  it('passes under the maximum and fails over it, on the canary only', async () => {
    fake.addEntries([...requests(SVC.canary, 200, 1), ...requests(SVC.stable, 200, 100)]);
    await expect(gate.measure(ratioSpec, gateContext())).resolves.toEqual({
      outcome: 'pass',
      observations: [
        { name: 'ratio', value: 0.005, threshold: '<= 0.01', ok: true },
        { name: 'numerator_entries', value: 1, ok: true },
        { name: 'denominator_entries', value: 200, ok: true },
      ],
    });
    fake.addEntries(requests(SVC.canary, 10, 10, WINDOW_START + 60_000));
    const failed = await gate.measure(ratioSpec, gateContext());
    expect(failed.outcome).toBe('fail');
    expect(failed.observations?.[0]).toMatchObject({ name: 'ratio', value: round(11 / 210), ok: false });
  });

  it('a zero denominator is an error, never a pass', async () => {
    fake.addEntries(requests(SVC.stable, 20));
    await expect(gate.measure(ratioSpec, gateContext())).resolves.toEqual({ outcome: 'error', error: 'no requests in the window' });
  });

  it('bounds every query to the window, by revision, and ignores entries outside it', async () => {
    fake.addEntries([...requests(SVC.canary, 100, 0), ...requests(SVC.canary, 50, 50, WINDOW_START - 60_000), ...requests(SVC.canary, 50, 50, WINDOW_END + 1000)]);
    const result = await gate.measure(ratioSpec, gateContext());
    expect(result.outcome).toBe('pass');
    expect(fake.requests).not.toHaveLength(0);
    for (const request of fake.requests) {
      expect(timestampBounds(parseFilter(request.filter))).toEqual([
        { op: '>=', value: '2026-03-01T10:00:00.000Z' },
        { op: '<=', value: '2026-03-01T10:10:00.000Z' },
      ]);
      expect(request.filter).toContain(
        `resource.type="cloud_run_revision" AND resource.labels.service_name="${SVC.name}" AND resource.labels.location="${SVC.region}" AND resource.labels.revision_name="${SVC.canary}"`,
      );
      expect(request.resource_names).toEqual([`projects/${SVC.project}`]);
    }
  });

  it('counts only the service’s own region: the same revision name elsewhere is another revision', async () => {
    const elsewhere = (labels: Record<string, string>) =>
      requests(SVC.canary, 100, 100).map((e) => ({ ...e, resource: { type: 'cloud_run_revision', labels: { ...e.resource!.labels, ...labels } } }));
    fake.addEntries([...requests(SVC.canary, 100, 0), ...elsewhere({ location: 'europe-west1' }), ...elsewhere({ service_name: 'another-service' })]);
    await expect(gate.measure(ratioSpec, gateContext())).resolves.toMatchObject({
      outcome: 'pass',
      observations: [{ name: 'ratio', value: 0 }, { name: 'numerator_entries', value: 0 }, { name: 'denominator_entries', value: 100 }],
    });
  });

  it('judges the stable revision when asked', async () => {
    fake.addEntries([...requests(SVC.canary, 100, 0), ...requests(SVC.stable, 100, 50)]);
    const result = await gate.measure(gateSpec({ numerator: 'httpRequest.status>=500', denominator: 'httpRequest.status:*', max: 0.01, revision: 'stable' }), gateContext());
    expect(result).toMatchObject({ outcome: 'fail', observations: [{ name: 'ratio', value: 0.5 }, {}, {}] });
  });
});

describe('count and presence (seed 002 audit events)', () => {
  const authFailures = gateSpec({ filter: 'jsonPayload.event="auth.verify.completed" AND jsonPayload.outcome="failure"', max: 3 });

  it('counts auth verify failures against a maximum', async () => {
    fake.addEntries([...events(SVC.canary, 'auth.verify.completed', 2, { outcome: 'failure' }), ...events(SVC.canary, 'auth.verify.completed', 40, { outcome: 'success' })]);
    await expect(gate.measure(authFailures, gateContext())).resolves.toEqual({
      outcome: 'pass',
      observations: [{ name: 'matching_entries', value: 2, threshold: '<= 3', ok: true }],
    });
    fake.addEntries(events(SVC.canary, 'auth.verify.completed', 2, { outcome: 'failure' }));
    await expect(gate.measure(authFailures, gateContext())).resolves.toMatchObject({ outcome: 'fail', observations: [{ value: 4, ok: false }] });
  });

  it('route.split.decision must be present on the canary', async () => {
    const present = gateSpec({ present: 'jsonPayload.event="route.split.decision"' });
    fake.addEntries(events(SVC.stable, 'route.split.decision', 5));
    await expect(gate.measure(present, gateContext())).resolves.toMatchObject({ outcome: 'fail', observations: [{ name: 'matching_entries', value: 0, threshold: '>= 1' }] });
    fake.addEntries(events(SVC.canary, 'route.split.decision', 500));
    await expect(gate.measure(present, gateContext())).resolves.toMatchObject({ outcome: 'pass', observations: [{ value: 1 }] });
    // It stopped reading as soon as one entry was seen.
    expect(fake.requests.at(-1)?.page_size).toBe(1);
  });
});

describe('paging and the cap', () => {
  it('pages through results with page tokens', async () => {
    fake.addEntries(events(SVC.canary, 'sync.token.issued', 130));
    const result = await gate.measure(gateSpec({ filter: 'jsonPayload.event="sync.token.issued"', max: 1000 }), gateContext());
    expect(result).toMatchObject({ outcome: 'pass', observations: [{ value: 130 }] });
    expect(fake.requests.map((r) => [r.page_size, r.page_token])).toEqual([
      [50, ''],
      [50, 'offset-50'],
      [50, 'offset-100'],
    ]);
  });

  it('past the cap, a count over max fails and says the count is a lower bound', async () => {
    const capped = cloudLoggingGate({ emulatorHost: fake.address, maxEntries: 60, pageSize: 25 });
    fake.addEntries(events(SVC.canary, 'sync_token_unavailable', 200));
    const result = await capped.measure(gateSpec({ filter: 'jsonPayload.event="sync_token_unavailable"', max: 10 }), gateContext());
    expect(result).toEqual({
      outcome: 'fail',
      observations: [{ name: 'matching_entries', value: 60, threshold: '<= 10', ok: false }],
      note: "stopped reading the matching entries at 60 entries (the gate's cap): the true count is higher",
    });
    expect(fake.requests.map((r) => r.page_size)).toEqual([25, 25, 10]);
    // A max above the cap cannot be decided: an error, not a pass.
    const undecided = await capped.measure(gateSpec({ filter: 'jsonPayload.event="sync_token_unavailable"', max: 100 }), gateContext());
    expect(undecided).toMatchObject({ outcome: 'error', error: 'more than 60 matching entries: cannot compare with max 100' });
    await capped.close();
  });

  it('a capped ratio decides only when the bound allows it', async () => {
    const capped = cloudLoggingGate({ emulatorHost: fake.address, maxEntries: 40 });
    fake.addEntries(requests(SVC.canary, 100, 0));
    const pass = await capped.measure(ratioSpec, gateContext());
    expect(pass).toMatchObject({ outcome: 'pass', note: expect.stringContaining('the ratio is at most 0') });
    fake.addEntries(requests(SVC.canary, 100, 100, WINDOW_START + 100_000));
    const unknown = await capped.measure(ratioSpec, gateContext());
    expect(unknown).toMatchObject({ outcome: 'error', error: 'both filters matched more entries than the gate may read: the ratio is unknown' });
    await capped.close();
  });
});

describe('errors and defaults', () => {
  it('PERMISSION_DENIED names the permission', async () => {
    fake.failNext('ListLogEntries', status.PERMISSION_DENIED, 1, "Permission 'logging.logEntries.list' denied on resource");
    const result = await gate.measure(ratioSpec, gateContext());
    expect(result).toMatchObject({ outcome: 'error', error: expect.stringMatching(/^missing permission logging\.logEntries\.list on projects\/openagentsgemini/) });
  });

  it('needs a project when the service is not on Cloud Run, and then does not scope by revision', async () => {
    const flagService = { platform: 'http-flag', name: 'pags', stable: 'stable', canary: 'canary' };
    const ctx = gateContext({ service: flagService, revisions: { stable: 'stable', canary: 'canary' } });
    await expect(gate.measure(ratioSpec, ctx)).resolves.toMatchObject({ outcome: 'error', error: expect.stringContaining('set "project"') });
    fake.addEntries(requests('whatever-rev', 10));
    const result = await gate.measure(gateSpec({ numerator: 'httpRequest.status>=500', denominator: 'httpRequest.status:*', max: 0.01, project: 'other-project' }), ctx);
    expect(result.outcome).toBe('pass');
    expect(fake.requests.at(-1)?.filter).not.toContain('revision_name');
    expect(fake.requests.at(-1)?.resource_names).toEqual(['projects/other-project']);
  });
});

describe('simulate', () => {
  it('answers from the signals and says so', () => {
    expect(gate.simulate(ratioSpec, gateContext(), signals({ errorRate: 0.02 }))).toMatchObject({ outcome: 'fail', note: 'simulated', observations: [{ name: 'ratio', value: 0.02 }, {}, {}] });
    expect(gate.simulate(ratioSpec, gateContext(), signals({ requestCount: 0 }))).toEqual({ outcome: 'error', error: 'no requests in the window', note: 'simulated' });
    expect(gate.simulate(gateSpec({ present: 'jsonPayload.event="route.split.decision"' }), gateContext(), signals())).toMatchObject({ outcome: 'pass', note: 'simulated' });
    expect(gate.simulate(gateSpec({ present: 'jsonPayload.event="route.split.decision"' }), gateContext(), signals({ requestCount: 0 }))).toMatchObject({ outcome: 'fail' });
    expect(gate.simulate(gateSpec({ filter: 'severity>=ERROR', max: 1 }), gateContext(), signals({ errorRate: 0.01 }))).toMatchObject({ outcome: 'fail', observations: [{ value: 10 }] });
  });
});

describe('settings', () => {
  const messages = (input: unknown) => cloudLoggingGate().schema.safeParse(input).error?.issues.map((i) => i.message) ?? [];

  it('reads the three modes', () => {
    expect(gateSpec({ present: 'x="y"' })).toEqual({ mode: 'presence', present: 'x="y"', min: 1 });
    expect(gateSpec({ filter: 'x="y"', max: 0, revision: 'any', project: 'openagentsgemini' })).toEqual({ mode: 'count', filter: 'x="y"', max: 0, revision: 'any', project: 'openagentsgemini' });
  });

  it.each([
    [{}, 'cloud_logging needs one of: numerator + denominator + max (a ratio), filter + max (a count), or present (+ min) (events that must appear)'],
    [{ filter: 'a=1', present: 'b=2' }, expect.stringMatching(/^use only one mode/)],
    [{ numerator: 'a=1', max: 0.1 }, 'a ratio needs denominator (the filter for all events)'],
    [{ numerator: 'a=1', denominator: 'b=1', max: 5 }, 'max of a ratio is a fraction from 0 to 1 (e.g. 0.01 for 1 %)'],
    [{ filter: 'a=1' }, 'a count needs max, the most matching entries allowed'],
    [{ filter: 'a=1', max: 2.5 }, 'max of a count must be a whole number'],
    [{ present: 'a=1', max: 2 }, 'present takes min (at least this many entries), not max'],
    [{ present: 'a=1', revision: 'blue' }, 'revision must be canary, stable or any'],
    [{ present: 'a=1', query: 'x' }, 'unknown key "query" in cloud_logging (allowed: numerator, denominator, filter, present, max, min, project, revision)'],
    [{ filter: 'a=1 AND timestamp>="2026-01-01T00:00:00Z"', max: 1 }, 'filter must not mention timestamp: the gate bounds every query to the soak window itself'],
  ])('explains %j', (input, message) => {
    expect(messages(input)).toContainEqual(message);
  });
});

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
