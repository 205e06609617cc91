// A short lease per service, held while traffic is being moved, so a promotion's shift and a
// rollback can never interleave. Holders renew it while alive; a dead holder's lease expires.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

// Free, or held by an earlier run of the same holder (its process died holding it): take it.
const TAKE = `local current = redis.call('GET', KEYS[1])
if not current or (ARGV[3] ~= '' and string.sub(current, 1, string.len(ARGV[3])) == ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export interface Lease {
  release(): Promise<void>;
}

export class TrafficLock {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #waitStepMs: number;

  constructor(redis: Redis, prefix: string, options: { ttlMs?: number; waitStepMs?: number } = {}) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#waitStepMs = options.waitStepMs ?? 50;
  }

  /**
   * Waits for the service's lease (at most about one TTL: a dead holder's lease has expired by then).
   * `holder` names the work that holds it (a rollback of one cutover at one phaseSeq): a run of the
   * same work takes over a lease an earlier run left behind when its process died, instead of
   * waiting for it to expire. Only a job taken over runs again, so the earlier run is gone.
   */
  async acquire(serviceKey: string, options: { readonly waitMs?: number; readonly holder?: string } = {}): Promise<Lease | null> {
    const key = `${this.#prefix}:lock:${serviceKey}`;
    const mine = options.holder ? `${options.holder}|` : '';
    const token = `${mine}${randomUUID()}`;
    const until = Date.now() + (options.waitMs ?? this.#ttlMs + 1_000);
    for (;;) {
      if (await this.#redis.eval(TAKE, 1, key, token, this.#ttlMs, mine)) break;
      if (Date.now() >= until) return null;
      // Lease hand-over has no event to await across processes; a short back-off is the usual way.
      await new Promise((resolve) => setTimeout(resolve, this.#waitStepMs));
    }
    const timer = setInterval(() => {
      this.#redis.eval(RENEW, 1, key, token, this.#ttlMs).catch(() => undefined);
    }, Math.max(100, Math.floor(this.#ttlMs / 3)));
    timer.unref();
    return {
      release: async () => {
        clearInterval(timer);
        await this.#redis.eval(RELEASE, 1, key, token);
      },
    };
  }
}
