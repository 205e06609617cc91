import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { findRedisServer, startRedisServer, type RedisServer } from '../../src/infra/redis-server.ts';

describe('private redis-server', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('finds no binary on an empty PATH', () => {
    expect(findRedisServer('')).toBeNull();
    expect(findRedisServer(process.env.PATH)).toMatch(/redis-server$/);
  });

  it('keeps data across a restart on the same port (append-only file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redis-aof-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    let server: RedisServer = await startRedisServer({ dir });
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    cleanup.push(() => client.disconnect());
    await client.set('k', 'v');
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    await server.stop();
    server = await startRedisServer({ dir, port: server.port });
    cleanup.push(() => server.stop());
    expect(await client.get('k')).toBe('v');
  });
});
