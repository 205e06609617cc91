// Pure tests of the retry policy: seeded randomness, injected sleep and clock.
import { describe, expect, it } from 'vitest';
import { backoffDelay, RetriesExhaustedError, withRetries } from '../../src/infra/retry.ts';

/** mulberry32: a tiny deterministic PRNG. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Transient extends Error {}

describe('backoffDelay', () => {
  const bounds = { baseMs: 100, capMs: 1000 };

  it('grows exponentially up to the cap (random = 1 - ε shows the ceiling)', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 50, 5000].map((a) => backoffDelay(a, bounds, top))).toEqual([99, 199, 399, 799, 999, 999, 999, 999]);
  });

  it('is full jitter: anywhere in [0, ceiling], deterministic for a seed', () => {
    const a = Array.from({ length: 200 }, (_, i) => backoffDelay((i % 6) + 1, bounds, seeded(7)));
    const b = Array.from({ length: 200 }, (_, i) => backoffDelay((i % 6) + 1, bounds, seeded(7)));
    expect(a).toEqual(b);
    const random = seeded(42);
    const samples = Array.from({ length: 1000 }, () => backoffDelay(4, bounds, random));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(800);
    expect(Math.min(...samples)).toBeLessThan(50);
    expect(Math.max(...samples)).toBeGreaterThan(750);
  });

  it('returns 0 with random = 0 and treats attempt < 1 as the first retry', () => {
    expect(backoffDelay(3, bounds, () => 0)).toBe(0);
    expect(backoffDelay(0, bounds, () => 0.5)).toBe(50);
  });
});

describe('withRetries', () => {
  const base = { baseMs: 10, capMs: 40, random: seeded(1), isTransient: (e: unknown) => e instanceof Transient };

  it('retries transient errors and returns the first success', async () => {
    const slept: number[] = [];
    const retries: number[] = [];
    let calls = 0;
    const result = await withRetries(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw new Transient('unavailable');
        return 'ok';
      },
      { ...base, maxAttempts: 5, sleep: async (ms) => void slept.push(ms), onRetry: (i) => retries.push(i.attempt) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(retries).toEqual([1, 2]);
    expect(slept).toHaveLength(2);
    expect(slept.every((ms) => ms >= 0 && ms <= 40)).toBe(true);
  });

  it('throws a non-transient error at once', async () => {
    let calls = 0;
    const error = new Error('permission denied');
    await expect(withRetries(async () => { calls++; throw error; }, { ...base, maxAttempts: 5, sleep: async () => {} })).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts with the last error as cause', async () => {
    let calls = 0;
    const failure = withRetries(async () => { calls++; throw new Transient(`try ${calls}`); }, { ...base, maxAttempts: 3, sleep: async () => {} });
    await expect(failure).rejects.toBeInstanceOf(RetriesExhaustedError);
    await expect(failure).rejects.toMatchObject({ attempts: 3, message: 'gave up after 3 attempts: try 3' });
    expect(calls).toBe(3);
  });

  it('stops when the next wait would pass the deadline', async () => {
    let clock = 0;
    let calls = 0;
    const failure = withRetries(
      async () => { calls++; clock += 30; throw new Transient('slow'); },
      { ...base, random: () => 0.999, maxAttempts: 100, deadlineMs: 100, now: () => clock, sleep: async (ms) => void (clock += ms) },
    );
    await expect(failure).rejects.toBeInstanceOf(RetriesExhaustedError);
    expect(calls).toBeLessThan(5);
  });

  it('an aborted signal stops before the next attempt', async () => {
    const controller = new AbortController();
    let calls = 0;
    const failure = withRetries(
      async () => { calls++; controller.abort(new Error('cutover cancelled')); throw new Transient('x'); },
      { ...base, maxAttempts: 5, signal: controller.signal, sleep: async () => {} },
    );
    await expect(failure).rejects.toThrow('cutover cancelled');
    expect(calls).toBe(1);
  });

  it('an attempt failing once the signal aborted is not retried: the reason is thrown, not its error', async () => {
    const controller = new AbortController();
    const reason = new Error('lease lost');
    const retries: number[] = [];
    const failure = withRetries(
      async () => { controller.abort(reason); throw new Transient('unavailable'); },
      { ...base, maxAttempts: 5, signal: controller.signal, onRetry: (i) => retries.push(i.attempt) },
    );
    await expect(failure).rejects.toBe(reason);
    expect(retries).toEqual([]);
  });

  it('an abort during the back-off wakes the wait and throws the reason (not an AbortError)', async () => {
    const controller = new AbortController();
    const reason = new Error('lease lost');
    let calls = 0;
    const failure = withRetries(
      async () => { calls++; throw new Transient('unavailable'); },
      // A long back-off on the real timer: only the abort can end it within the test.
      { ...base, baseMs: 60_000, capMs: 60_000, random: () => 0.999, maxAttempts: 5, signal: controller.signal, onRetry: () => void setImmediate(() => controller.abort(reason)) },
    );
    await expect(failure).rejects.toBe(reason);
    expect(calls).toBe(1);
  });
});
