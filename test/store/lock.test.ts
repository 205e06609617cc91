// The traffic lease on real Redis: held while renewed, and its signal aborts once it may be
// someone else's (taken, renewals failing, or expired without a renewal).
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseLostError, TrafficLock, type Lease } from '../../src/store/lock.ts';
import { clientsPerTest, uniquePrefix } from '../support/redis.ts';

const TTL = 600; // renewed every 200 ms

const { client, disconnectAll } = clientsPerTest();
afterEach(disconnectAll);

/**
 * The same client, with `eval` (the renewal and the release) replaced once `arm()` is called, so
 * the lease is taken for real first (taking it is an `eval` too).
 */
function withEval(redis: Redis, evaluate: (...args: unknown[]) => Promise<unknown>): { client: Redis; arm: () => void } {
  let armed = false;
  const client = new Proxy(redis, {
    get: (target, prop) => {
      if (prop === 'eval' && armed) return evaluate;
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { client, arm: () => (armed = true) };
}

/** Resolves with the abort reason, and how long after `since` it came. */
async function lost(lease: Lease, since: number): Promise<{ reason: unknown; afterMs: number }> {
  if (!lease.signal.aborted) await once(lease.signal, 'abort');
  return { reason: lease.signal.reason, afterMs: performance.now() - since };
}

async function held(lock: TrafficLock, service: string): Promise<Lease> {
  const lease = await lock.acquire(service);
  if (!lease) throw new Error('lease not acquired');
  return lease;
}

describe('TrafficLock', () => {
  it('keeps the lease past its TTL while renewals succeed, and hands it over on release', async () => {
    const redis = client();
    const prefix = uniquePrefix('lock');
    const lease = await held(new TrafficLock(redis, prefix, { ttlMs: TTL }), 'svc');
    // Another holder waits well past one TTL: only renewals can keep the key that long.
    const other = new TrafficLock(client(), prefix, { ttlMs: TTL });
    expect(await other.acquire('svc', { waitMs: 3 * TTL })).toBeNull();
    expect(lease.signal.aborted).toBe(false);
    await lease.release();
    const next = await other.acquire('svc', { waitMs: 0 });
    expect(next).not.toBeNull();
    await next!.release();
    expect(lease.signal.aborted).toBe(false);
  });

  it('aborts within about one renewal period when another client deletes the key', async () => {
    const redis = client();
    const prefix = uniquePrefix('lock');
    const lease = await held(new TrafficLock(redis, prefix, { ttlMs: TTL }), 'svc');
    const since = performance.now();
    await client().del(`${prefix}:lock:svc`);
    const { reason } = await lost(lease, since);
    expect(reason).toBeInstanceOf(LeaseLostError);
    // Noticed by the next renewal; on a starved machine the TTL timer may say so first. (How soon
    // is a timing figure, not a test's business.)
    expect((reason as Error).message).toMatch(/^lost the traffic lease of svc: (another holder has it \(the key no longer holds our token\)|it expired)/);
    await lease.release();
  });

  it('aborts when another holder overwrites the key, and its release leaves their lease alone', async () => {
    const redis = client();
    const prefix = uniquePrefix('lock');
    const lease = await held(new TrafficLock(redis, prefix, { ttlMs: TTL }), 'svc');
    const since = performance.now();
    await client().set(`${prefix}:lock:svc`, 'someone-else', 'PX', 10_000);
    const { reason } = await lost(lease, since);
    expect((reason as Error).message).toMatch(/another holder has it|it expired/);
    await lease.release();
    expect(await redis.get(`${prefix}:lock:svc`)).toBe('someone-else');
  });

  it('aborts when renewals fail (its Redis connection closed), and release does not throw over it', async () => {
    const redis = client();
    const prefix = uniquePrefix('lock');
    const lease = await held(new TrafficLock(redis, prefix, { ttlMs: TTL }), 'svc');
    const since = performance.now();
    redis.disconnect();
    const { reason } = await lost(lease, since);
    expect(reason).toBeInstanceOf(LeaseLostError);
    // Two failed renewals stop it a third of the TTL before the key can expire; on a starved
    // machine the TTL timer may say so first.
    expect((reason as Error).message).toMatch(/^lost the traffic lease of svc: (renewal failed twice in a row: Connection is closed|it expired)/);
    await lease.release();
  });

  it('survives one failed renewal: the key set by the previous one still stands', async () => {
    const redis = client();
    const prefix = uniquePrefix('lock');
    let failed = 0;
    const flaky = withEval(redis, (...args) => {
      if (failed === 0) {
        failed += 1;
        return Promise.reject(new Error('READONLY blip'));
      }
      return (redis.eval as (...a: unknown[]) => Promise<unknown>)(...args);
    });
    const lease = await held(new TrafficLock(flaky.client, prefix, { ttlMs: TTL }), 'svc');
    flaky.arm();
    expect(await new TrafficLock(client(), prefix, { ttlMs: TTL }).acquire('svc', { waitMs: 3 * TTL })).toBeNull();
    expect(failed).toBe(1);
    expect(lease.signal.aborted).toBe(false);
    await lease.release();
  });

  it('aborts when its TTL passes with no renewal answered (commands hanging)', async () => {
    const redis = client();
    const prefix = uniquePrefix('lock');
    const hanging = withEval(redis, () => new Promise(() => undefined));
    const since = performance.now();
    const lease = await held(new TrafficLock(hanging.client, prefix, { ttlMs: TTL }), 'svc');
    hanging.arm();
    const { reason, afterMs } = await lost(lease, since);
    expect((reason as Error).message).toBe(`lost the traffic lease of svc: it expired: no renewal succeeded within its ${TTL} ms TTL`);
    // Not before the key itself could expire: until then the lease was still provably ours.
    expect(afterMs).toBeGreaterThanOrEqual(TTL - 5);
  });

  it('a later run of the same holder takes over the lease an earlier run left, and the earlier run learns it lost it', async () => {
    const prefix = uniquePrefix('lock');
    const earlier = await new TrafficLock(client(), prefix, { ttlMs: TTL }).acquire('svc', { holder: 'rollback:c1:7' });
    if (!earlier) throw new Error('lease not acquired');
    // Someone else waits for it to be released or to expire.
    expect(await new TrafficLock(client(), prefix, { ttlMs: TTL }).acquire('svc', { holder: 'rollback:c2:3', waitMs: 0 })).toBeNull();
    // The same rollback, run again after a crash, takes it at once.
    const later = await new TrafficLock(client(), prefix, { ttlMs: TTL }).acquire('svc', { holder: 'rollback:c1:7', waitMs: 0 });
    expect(later).not.toBeNull();
    const { reason } = await lost(earlier, performance.now());
    expect((reason as Error).message).toMatch(/another holder has it|it expired/);
    await later!.release();
  });
});
