import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandGate, commandSettings, OUTPUT_CAP_BYTES, splitArgs } from '../../src/gates/command.ts';
import { httpGate, httpSettings } from '../../src/gates/http.ts';
import { sloSettings, sloSnapshotGate } from '../../src/gates/slo-snapshot.ts';
import type { CanarySignals, GateContext } from '../../src/ports.ts';
import { json, startTestServer, type TestServer } from '../support/http.ts';

const ctx = (over: Partial<GateContext> = {}): GateContext => ({
  cutoverId: 'c1',
  planName: 'demo',
  serviceKey: 'simulated:demo-svc',
  stage: { index: 2, percent: 25 },
  revisions: { stable: 'rev-1', canary: 'rev-2' },
  service: { platform: 'simulated', name: 'svc', stable: 'rev-1', canary: 'rev-2' },
  window: { start: 0, end: 1 },
  timeoutMs: 2_000,
  signal: new AbortController().signal,
  env: { PATH: process.env.PATH, CONTROL_TOKEN: 'tok-secret-123456', BOT_SECRET: 'xoxb-should-not-leak' },
  ...over,
});

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('http gate', () => {
  it('passes on the expected status and sends the templated JSON body with the bearer token', async () => {
    server.handle((_req, res) => json(res, 200, { ok: true }));
    const spec = httpSettings.parse({ method: 'POST', url: `${server.url}/evaluate`, json: { thread_id: 'production-rollout-thread-{cohort}' }, token_env: 'CONTROL_TOKEN' });
    const m = await httpGate.measure(spec, ctx());
    expect(m).toEqual({ outcome: 'pass', observations: [{ name: 'status', value: 200, threshold: 'in 200', ok: true }] });
    const request = server.requests.at(-1)!;
    expect(JSON.parse(request.body)).toEqual({ thread_id: 'production-rollout-thread-25' });
    expect(request.headers.authorization).toBe('Bearer tok-secret-123456');
  });

  it('fails on another status; a missing token is an error, not a pass', async () => {
    server.handle((_req, res) => json(res, 503, {}));
    expect((await httpGate.measure(httpSettings.parse({ url: `${server.url}/h` }), ctx())).outcome).toBe('fail');
    const noToken = await httpGate.measure(httpSettings.parse({ url: `${server.url}/h`, token_env: 'NOT_SET' }), ctx());
    expect(noToken).toMatchObject({ outcome: 'error', error: expect.stringContaining('environment variable NOT_SET is not set') });
  });

  it('a timeout or a refused connection is an error', async () => {
    server.handle(() => undefined); // never answers
    const slow = await httpGate.measure(httpSettings.parse({ url: `${server.url}/hang` }), ctx({ timeoutMs: 200 }));
    expect(slow).toMatchObject({ outcome: 'error', error: expect.stringContaining('timed out after 200 ms') });
    const refused = await httpGate.measure(httpSettings.parse({ url: 'http://127.0.0.1:9/h' }), ctx());
    expect(refused.outcome).toBe('error');
  });

  it('simulates a troubled canary with 503s', () => {
    const signals = { errorRate: 0.06 } as CanarySignals;
    expect(httpGate.simulate(httpSettings.parse({ url: 'http://x.test/' }), ctx(), signals)).toMatchObject({ outcome: 'fail', note: 'simulated' });
  });
});

describe('slo_snapshot gate (seed 004 contract)', () => {
  const spec = () => sloSettings.parse({ url: `${server.url}/slo`, max_p95_latency_ms: 600, max_error_budget_ratio: 0.02 });

  it('reads top-level or sync.* fields and judges each against its maximum', async () => {
    server.handle((_req, res) => json(res, 200, { sync: { p95_latency_ms: 420, error_budget_ratio: 0.01 } }));
    expect(await sloSnapshotGate.measure(spec(), ctx())).toEqual({
      outcome: 'pass',
      observations: [
        { name: 'p95_latency_ms', value: 420, threshold: '<= 600', ok: true },
        { name: 'error_budget_ratio', value: 0.01, threshold: '<= 0.02', ok: true },
      ],
    });
    server.handle((_req, res) => json(res, 200, { p95_latency_ms: 900, error_budget_ratio: 0.01 }));
    expect((await sloSnapshotGate.measure(spec(), ctx())).outcome).toBe('fail');
  });

  it('a non-200, a missing field or a non-number is an error, never a pass', async () => {
    server.handle((_req, res) => json(res, 500, {}));
    expect(await sloSnapshotGate.measure(spec(), ctx())).toEqual({ outcome: 'error', error: 'SLO snapshot answered 500' });
    server.handle((_req, res) => json(res, 200, { p95_latency_ms: 100 }));
    expect(await sloSnapshotGate.measure(spec(), ctx())).toEqual({ outcome: 'error', error: 'the snapshot has no error_budget_ratio' });
    server.handle((_req, res) => json(res, 200, { p95_latency_ms: 'fast', error_budget_ratio: 0 }));
    expect((await sloSnapshotGate.measure(spec(), ctx())).outcome).toBe('error');
    server.handle((_req, res) => res.end('<html>not json'));
    expect((await sloSnapshotGate.measure(spec(), ctx())).outcome).toBe('error');
  });
});

describe('command gate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'command-gate-'));
  const script = (name: string, body: string) => {
    const path = join(dir, name);
    writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };

  it('passes on exit 0 and captures the output for the evidence', async () => {
    const m = await commandGate.measure(commandSettings.parse([script('ok.sh', 'echo preflight ok; echo on stderr >&2'), 'arg']), ctx());
    expect(m).toMatchObject({ outcome: 'pass', observations: [{ name: 'exit_code', value: 0 }] });
    expect(m.log).toContain('preflight ok');
    expect(m.log).toContain('on stderr');
  });

  it('fails on a non-zero exit', async () => {
    const m = await commandGate.measure(commandSettings.parse(`${script('no.sh', 'exit 3')}`), ctx());
    expect(m).toMatchObject({ outcome: 'fail', observations: [{ name: 'exit_code', value: 3, ok: false }] });
  });

  it('never goes through a shell: metacharacters in arguments stay literal', async () => {
    const m = await commandGate.measure(commandSettings.parse(['/bin/echo', '$(touch /tmp/pwned-by-gate)', '`id`', '; rm -rf /']), ctx());
    expect(m.log).toBe('$(touch /tmp/pwned-by-gate) `id` ; rm -rf /\n');
  });

  it('passes placeholders as single arguments and a minimal environment without the bot secrets', async () => {
    const m = await commandGate.measure(commandSettings.parse({ run: [script('env.sh', 'echo "$1|$CUTOVER_PERCENT|${BOT_SECRET:-none}|${CONTROL_TOKEN:-none}"'), 'cohort {percent} of {plan}'], pass_env: ['CONTROL_TOKEN'] }), ctx());
    // The command saw the token it was handed (not "none"); the evidence keeps it redacted.
    expect(m.log).toBe('cohort 25 of demo|25|none|[redacted]\n');
  });

  it('kills the whole process group on timeout and reports an error', async () => {
    const started = Date.now();
    const m = await commandGate.measure(commandSettings.parse(script('hang.sh', 'sleep 30 & sleep 30; wait')), ctx({ timeoutMs: 300 }));
    expect(m).toMatchObject({ outcome: 'error', error: expect.stringContaining('timed out after 300 ms') });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('caps the captured output', async () => {
    const m = await commandGate.measure(commandSettings.parse(script('loud.sh', 'head -c 200000 /dev/zero | tr "\\0" x')), ctx());
    expect(m.log!.length).toBeLessThan(OUTPUT_CAP_BYTES + 100);
    expect(m.log).toContain('[output truncated');
  });

  it('a program that does not exist is an error', async () => {
    const m = await commandGate.measure(commandSettings.parse('/nonexistent/preflight.sh'), ctx());
    expect(m).toMatchObject({ outcome: 'error', error: expect.stringContaining('could not run /nonexistent/preflight.sh') });
  });

  it('splits command lines like a shell splits words, and nothing more', () => {
    expect(splitArgs(`bash -c 'echo "a b"' "x y" z\\ `)).toEqual(['bash', '-c', 'echo "a b"', 'x y', 'z\\']);
    expect(splitArgs(`unclosed 'quote`)).toBeNull();
  });
});

describe('the gate runner and data lag', () => {
  it('ends the window at the data lag; a window with no visible data yet is waiting, and the gate is not called', async () => {
    const { GateRunner } = await import('../../src/runtime/gate-runner.ts');
    const seen: Array<{ start: number; end: number }> = [];
    const kind = { key: 'lagged', schema: sloSettings, defaultTimeoutMs: 1000, defaultDataLagMs: 180_000, measure: async (_s: unknown, c: GateContext) => (seen.push(c.window), { outcome: 'pass' as const, observations: [] }), simulate: () => ({ outcome: 'pass' as const, observations: [] }) };
    const now = 10_000_000;
    const runner = new GateRunner([kind], {}, () => now);
    const spec = { id: 'g', name: 'g', kind: 'lagged', settings: {}, forMs: 0, maxErrors: 3, timeoutMs: 1000, dataLagMs: 180_000 };
    const base = { cutoverId: 'c', planName: 'p', service: ctx().service, serviceKey: 'cloud-run:p', revisions: ctx().revisions, stage: null };
    const fresh = await runner.run([spec], { ...base, window: { start: now - 60_000, end: now } });
    expect(fresh).toEqual([{ gate: 'g', measurement: { outcome: 'error', error: 'no data yet: lagged data shows up 180 s late' }, at: now, waiting: true }]);
    expect(seen).toEqual([]);
    const later = await runner.run([spec], { ...base, window: { start: now - 600_000, end: now } });
    expect(later[0]).toMatchObject({ measurement: { outcome: 'pass' } });
    expect(seen).toEqual([{ start: now - 600_000, end: now - 180_000 }]);
  });
});
