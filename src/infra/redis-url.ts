// Where Redis is: REDIS_URL, or else a private redis-server this process starts (the embedded default).
import { resolve } from 'node:path';
import { findRedisServer, NO_REDIS_HINT, startEmbeddedRedis } from './redis-server.ts';

export interface RedisLocation {
  readonly url: string;
  readonly embedded: boolean;
  readonly description: string;
  stop(): Promise<void>;
}

export class NoRedisError extends Error {}

export async function locateRedis(env: Readonly<Record<string, string | undefined>>, dataDir = '.data/redis'): Promise<RedisLocation> {
  const url = env.REDIS_URL?.trim();
  if (url) {
    return { url, embedded: false, description: `REDIS_URL ${redactUrl(url)}`, stop: async () => undefined };
  }
  const binary = findRedisServer(env.PATH ?? '');
  if (!binary) throw new NoRedisError(NO_REDIS_HINT);
  const dir = resolve(dataDir);
  const server = await startEmbeddedRedis(dir, binary);
  return { url: server.url, embedded: true, description: `embedded redis-server on 127.0.0.1:${server.port} (data in ${dir}, append-only)`, stop: () => server.stop() };
}

/** redis://user:secret@host → redis://user:***@host */
function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
