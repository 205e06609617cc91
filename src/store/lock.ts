// A short lease per service, held while traffic is being moved, so a promotion's shift and a
// rollback can never interleave. Holders renew it while alive; a dead holder's lease expires.
// A holder that can no longer prove it holds the lease is told so through `signal`, and stops.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
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

/** The reason a lease's signal aborts: the work it guards must stop and be retried later. */
export class LeaseLostError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LeaseLostError';
  }
}

export interface Lease {
  /** Aborts, with a LeaseLostError saying why, once the lease may be someone else's. */
  readonly signal: AbortSignal;
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
      const sentAt = performance.now();
      if (await this.#redis.eval(TAKE, 1, key, token, this.#ttlMs, mine)) return this.#hold(serviceKey, key, token, sentAt);
      if (Date.now() >= until) return null;
      // Lease hand-over has no event to await across processes; a short back-off is the usual way.
      await new Promise((resolve) => setTimeout(resolve, this.#waitStepMs));
    }
  }

  #hold(serviceKey: string, key: string, token: string, sentAt: number): Lease {
    const ttl = this.#ttlMs;
    const controller = new AbortController();
    // Redis applied the TTL after we sent the command, so the key outlives `sentAt + ttl`: until
    // then nobody else can hold it. Measured on the monotonic clock, immune to wall-clock steps.
    let validUntil = sentAt + ttl;
    let failures = 0;
    let over = false;
    let expiry: NodeJS.Timeout | undefined;
    const stop = () => {
      over = true;
      clearInterval(renewer);
      clearTimeout(expiry);
    };
    const lose = (why: string, cause?: unknown) => {
      if (over) return;
      stop();
      controller.abort(new LeaseLostError(`lost the traffic lease of ${serviceKey}: ${why}`, cause === undefined ? undefined : { cause }));
    };
    // A renewal that never answers (Redis gone, commands queued) must not extend the lease.
    const armExpiry = () => {
      clearTimeout(expiry);
      expiry = setTimeout(() => lose(`it expired: no renewal succeeded within its ${ttl} ms TTL`), Math.max(0, validUntil - performance.now()));
      expiry.unref();
    };
    // Renewing every third of the TTL leaves room for one failed renewal: the key set by the last
    // successful one still stands when the next try goes out, so a single blip (a reconnect) does
    // not stop a shift half-way. A second failure in a row gives up at once, a third of the TTL
    // before the key can expire, so the holder has stopped before anyone else can take it.
    const renewer = setInterval(() => {
      const sent = performance.now();
      this.#redis.eval(RENEW, 1, key, token, ttl).then(
        (renewed) => {
          if (over) return;
          if (renewed !== 1) return lose('another holder has it (the key no longer holds our token)');
          failures = 0;
          validUntil = Math.max(validUntil, sent + ttl);
          armExpiry();
        },
        (error: unknown) => {
          if (over) return;
          failures += 1;
          if (failures >= 2) lose(`renewal failed twice in a row: ${error instanceof Error ? error.message : String(error)}`, error);
        },
      );
    }, Math.max(100, Math.floor(ttl / 3)));
    renewer.unref();
    armExpiry();
    return {
      signal: controller.signal,
      release: async () => {
        const lost = controller.signal.aborted;
        stop();
        try {
          await this.#redis.eval(RELEASE, 1, key, token);
        } catch (error) {
          // A lost lease expires on its own; its release failing (Redis is likely why it was lost)
          // must not hide the LeaseLostError the holder is throwing.
          if (!lost) throw error;
        }
      },
    };
  }
}
