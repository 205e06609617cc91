// A short lease per service, held while traffic is being moved, so a promotion's shift and a
// rollback can never interleave. Holders renew it while alive; a dead holder's lease expires.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

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

  /** Waits for the service's lease (at most about one TTL: a dead holder's lease has expired by then). */
  async acquire(serviceKey: string, waitMs = this.#ttlMs + 1_000): Promise<Lease | null> {
    const key = `${this.#prefix}:lock:${serviceKey}`;
    const token = randomUUID();
    const until = Date.now() + waitMs;
    for (;;) {
      if (await this.#redis.set(key, token, 'PX', this.#ttlMs, 'NX')) break;
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
