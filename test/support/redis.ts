// Each test gets its own key prefix on the run's private Redis, so files run in parallel.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

export function redisUrl(): string {
  return inject('redisUrl');
}

export function uniquePrefix(label = 't'): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

export function connect(url = redisUrl()): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

/**
 * Connections a test file opens and drops after each test: `client()` connects, the returned
 * `afterEach` hook disconnects them all. Register the hook with vitest's `afterEach`.
 */
export function clientsPerTest(): { client: () => Redis; disconnectAll: () => void } {
  const clients: Redis[] = [];
  return {
    client: () => {
      const c = connect();
      clients.push(c);
      return c;
    },
    disconnectAll: () => {
      for (const c of clients.splice(0)) c.disconnect();
    },
  };
}
