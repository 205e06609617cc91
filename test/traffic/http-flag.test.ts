// The feature-flag traffic platform against a local flag API.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TrafficError } from '../../src/ports.ts';
import { httpFlagPlatform, type HttpFlagService } from '../../src/traffic/http-flag.ts';
import { startFakeFlagServer, type FakeFlagServer } from '../fakes/flag-server.ts';
import type { Revisions } from '../../src/domain/service.ts';

const TOKEN = 'flag-token-5f1c8cce41fae4e1';
const ENV = { FEATURE_FLAG_API_KEY: TOKEN };
const FAST = { maxAttempts: 3, baseMs: 1, capMs: 3, confirmAttempts: 3, confirmPollMs: 2 };
const REVISIONS: Revisions = { stable: 'stable', canary: 'canary' };

let server: FakeFlagServer;
let counter = 0;

beforeAll(async () => {
  server = await startFakeFlagServer();
  server.requireToken(TOKEN);
});
afterAll(async () => server.close());

/** A fresh flag per test, set to 0. */
let flag: string;
beforeEach(() => {
  server.clearFaults();
  counter += 1;
  flag = `canary-percentage-${counter}`;
  server.setFlag(flag, { value: 0 });
});

function backend(extra: Record<string, unknown> = {}, env: Record<string, string | undefined> = ENV) {
  const platform = httpFlagPlatform({ env, retry: FAST });
  const spec: HttpFlagService = platform.schema.parse({
    platform: 'http-flag',
    name: 'pags-canary',
    url: `${server.url}/flags/${flag}`,
    token_env: 'FEATURE_FLAG_API_KEY',
    timeout: '1s',
    ...extra,
  });
  return platform.create(spec);
}

async function rejection(promise: Promise<unknown>): Promise<TrafficError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TrafficError);
  return error as TrafficError;
}

const posts = () => server.requests.filter((r) => r.method === 'POST' && r.path === `/flags/${flag}`);

describe('http-flag shift', () => {
  it('POSTs {"value": N} with the bearer token, then reads it back', async () => {
    await expect(backend().shift(REVISIONS, 10)).resolves.toEqual({ canary: 10, stable: 90, other: 0 });
    expect(posts()).toHaveLength(1);
    expect(posts()[0]).toMatchObject({ body: '{"value":10}', authorization: `Bearer ${TOKEN}` });
    expect(server.requests.at(-1)).toMatchObject({ method: 'GET', path: `/flags/${flag}` });
    expect(server.flag(flag)).toEqual({ value: 10 });
  });

  it('rolls back with shift(…, 0)', async () => {
    const b = backend();
    await b.shift(REVISIONS, 50);
    await expect(b.shift(REVISIONS, 0)).resolves.toEqual({ canary: 0, stable: 100, other: 0 });
    expect(server.flag(flag)).toEqual({ value: 0 });
  });

  it('renders a custom body and reads a custom path', async () => {
    const b = backend({ body: { rollout: { percent: '{percent}', note: 'canary at {percent}%' } }, read: { path: 'rollout.percent' } });
    await expect(b.shift(REVISIONS, 25)).resolves.toEqual({ canary: 25, stable: 75, other: 0 });
    expect(server.flag(flag)).toEqual({ rollout: { percent: 25, note: 'canary at 25%' } });
    await expect(b.read(REVISIONS)).resolves.toEqual({ canary: 25, stable: 75, other: 0 });
  });

  it('retries 503 and succeeds', async () => {
    server.failNext('POST', 503, 2);
    await expect(backend().shift(REVISIONS, 5)).resolves.toEqual({ canary: 5, stable: 95, other: 0 });
    expect(posts()).toHaveLength(3);
  });

  it('a persistent 503 is transient after the bound, and the token never shows even when echoed', async () => {
    server.failNext('POST', 503, 10, '{"error":"overloaded","you_sent":"{authorization}"}');
    const error = await rejection(backend().shift(REVISIONS, 5));
    expect(error.code).toBe('transient');
    expect(error.message).toMatch(/^the flag API did not answer after 3 attempts: POST .* answered 503 Service Unavailable/);
    expect(error.message).not.toContain(TOKEN);
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(posts()).toHaveLength(3);
    expect(server.flag(flag)).toEqual({ value: 0 });
  });

  it('a request with no answer times out and is retried', async () => {
    server.hangNext('POST', 1);
    await expect(backend({ timeout: '200ms' }).shift(REVISIONS, 5)).resolves.toEqual({ canary: 5, stable: 95, other: 0 });
    expect(posts()).toHaveLength(2);
  });

  it('401 is permission_denied, not retried, without the token', async () => {
    const error = await rejection(backend({}, { FEATURE_FLAG_API_KEY: 'wrong-token-123456' }).shift(REVISIONS, 5));
    expect(error.code).toBe('permission_denied');
    expect(error.message).toMatch(/^the flag API refused the token from FEATURE_FLAG_API_KEY: POST .* answered 401/);
    expect(error.message).not.toContain('wrong-token-123456');
    expect(posts()).toHaveLength(1);
  });

  it('403 is permission_denied too', async () => {
    server.failNext('POST', 403, 1, '{"error":"forbidden: Bearer {authorization}"}');
    const error = await rejection(backend().shift(REVISIONS, 5));
    expect(error.code).toBe('permission_denied');
    expect(error.message).not.toContain(TOKEN);
  });

  it('404 is not_found', async () => {
    const error = await rejection(backend({ url: `${server.url}/nothing-here` }).shift(REVISIONS, 5));
    expect(error.code).toBe('not_found');
  });

  it('a write that does not stick is unconfirmed', async () => {
    server.ignoreWrites(1);
    const error = await rejection(backend().shift(REVISIONS, 5));
    expect(error).toMatchObject({ code: 'unconfirmed', message: expect.stringMatching(/set pags-canary to 5, but .* still answers 0 at "value"/) });
  });

  it('a missing token variable is refused before any request', async () => {
    const before = server.requests.length;
    const error = await rejection(backend({}, {}).shift(REVISIONS, 5));
    expect(error).toMatchObject({ code: 'invalid', message: 'environment variable FEATURE_FLAG_API_KEY is not set: it must hold the flag API token' });
    expect(server.requests.length).toBe(before);
  });
});

describe('http-flag with a stop signal (the traffic lease)', () => {
  /** A backend whose `fetch` aborts `controller` once a request of `method` has been answered. */
  function stoppingAfter(method: 'GET' | 'POST', controller: AbortController, reason: Error) {
    const platform = httpFlagPlatform({
      env: ENV,
      retry: FAST,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === method) controller.abort(reason);
        return response;
      },
    });
    return platform.create(platform.schema.parse({ platform: 'http-flag', name: 'pags-canary', url: `${server.url}/flags/${flag}`, token_env: 'FEATURE_FLAG_API_KEY', timeout: '1s' }));
  }

  it('already aborted: no request, and the reason is thrown rather than a TrafficError', async () => {
    const controller = new AbortController();
    const reason = new Error('lost the traffic lease');
    controller.abort(reason);
    const before = server.requests.length;
    await expect(backend().shift(REVISIONS, 10, controller.signal)).rejects.toBe(reason);
    await expect(backend().read(REVISIONS, controller.signal)).rejects.toBe(reason);
    expect(server.requests.length).toBe(before);
  });

  it('aborted while a 503 is being retried: no further POST', async () => {
    const controller = new AbortController();
    const reason = new Error('lost the traffic lease');
    server.failNext('POST', 503, 10);
    await expect(stoppingAfter('POST', controller, reason).shift(REVISIONS, 10, controller.signal)).rejects.toBe(reason);
    expect(posts()).toHaveLength(1);
  });

  it('aborted once the value was POSTed: the read-backs stop', async () => {
    const controller = new AbortController();
    const reason = new Error('lost the traffic lease');
    await expect(stoppingAfter('POST', controller, reason).shift(REVISIONS, 10, controller.signal)).rejects.toBe(reason);
    expect(posts()).toHaveLength(1);
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST' });
  });
});

describe('http-flag preflight', () => {
  it('passes when the flag answers a percentage', async () => {
    server.setFlag(flag, { value: 12 });
    await expect(backend().preflight(REVISIONS)).resolves.toEqual({
      outcome: 'pass',
      observations: [{ name: 'flag_value', value: 12, threshold: 'a number from 0 to 100', ok: true }],
    });
  });

  it('fails when it answers something else', async () => {
    server.setFlag(flag, { value: 'on' });
    const result = await backend().preflight(REVISIONS);
    expect(result).toMatchObject({ outcome: 'fail', note: expect.stringContaining('did not answer a percentage at "value"') });
  });

  it('is an error when the token is refused', async () => {
    const result = await backend({}, { FEATURE_FLAG_API_KEY: 'nope-nope-nope' }).preflight(REVISIONS);
    expect(result.outcome).toBe('error');
    expect(result.outcome === 'error' && result.error).toMatch(/answered 401/);
  });
});

describe('the http-flag service block', () => {
  const platform = httpFlagPlatform({ env: {} });
  const base = { platform: 'http-flag', name: 'pags-canary', url: 'https://flags.example/flags/canary-percentage' };
  const messages = (input: unknown) => platform.schema.safeParse(input).error?.issues.map((i) => i.message) ?? [];

  it('fills the defaults', () => {
    expect(platform.schema.parse(base)).toEqual({ ...base, body: { value: '{percent}' }, read: { path: 'value' }, stable: 'stable', canary: 'canary', timeout: 10_000 });
    expect(platform.serviceKey(platform.schema.parse(base))).toBe('http-flag:https://flags.example/flags/canary-percentage');
  });

  it.each([
    [{ ...base, token: 'abc' }, 'unknown key "token" in an http-flag service block (allowed: platform, name, url, token_env, body, read, stable, canary, timeout)'],
    [{ ...base, url: 'flags.example/x' }, 'url must be an http(s) URL, e.g. https://flags.example/flags/canary-percentage'],
    [{ ...base, token_env: '$API_KEY' }, 'token_env must name an environment variable, e.g. FEATURE_FLAG_API_KEY (the token itself never goes in a plan)'],
    [{ ...base, body: { value: 10 } }, 'body must contain the "{percent}" placeholder, e.g. {"value": "{percent}"}'],
    [{ ...base, read: { path: 'a..b' } }, 'read.path must be a dot path into the JSON answer, e.g. value or data.percentage'],
    [{ ...base, read: { jsonpath: '$.v' } }, 'unknown key "jsonpath" in read (allowed: url, path)'],
    [{ ...base, timeout: 'soon' }, 'must be a duration like 90s, 10m or 1h'],
    [{ ...base, timeout: '0s' }, 'timeout must be longer than 0s'],
  ])('explains %j', (input, message) => {
    expect(messages(input)).toContain(message);
  });
});
