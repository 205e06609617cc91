// A private redis-server child process: the embedded default when REDIS_URL is unset,
// and the per-run instance of the test suite. Redis is the only store; this only starts one.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  /** Stops the server (SIGTERM, then waits for it to exit). Safe to call twice. */
  stop(): Promise<void>;
  /** Kills the server at once, as a crash would (SIGKILL). */
  kill(): Promise<void>;
}

export interface RedisServerOptions {
  dir: string;
  /** A fixed port, e.g. to restart a server on the port its clients know. Default: a free one. */
  port?: number;
  appendOnly?: boolean;
  /**
   * `everysec` (the default, as in production) may lose acknowledged writes when Redis dies: while
   * a slow background fsync runs, Redis postpones writing its AOF buffer for up to 2 s and still
   * answers clients. `always` writes and fsyncs before answering.
   */
  appendFsync?: 'everysec' | 'always';
  binary?: string;
}

export const NO_REDIS_HINT =
  'cannot start the embedded Redis: no redis-server on PATH. Install one (apt install redis-server, brew install redis) or run `docker compose up -d redis` and set REDIS_URL=redis://127.0.0.1:6379';

export function findRedisServer(pathEnv = process.env.PATH ?? ''): string | null {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startRedisServer(options: RedisServerOptions): Promise<RedisServer> {
  const binary = options.binary ?? findRedisServer();
  if (!binary) throw new Error(NO_REDIS_HINT);
  mkdirSync(options.dir, { recursive: true });
  // A free port can be taken between the probe and the bind: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(binary, port, options);
    } catch (error) {
      lastError = error;
      if (options.port !== undefined) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function launch(binary: string, port: number, options: RedisServerOptions): Promise<RedisServer> {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', options.dir,
    '--save', '',
    '--appendonly', options.appendOnly === false ? 'no' : 'yes',
    '--appendfsync', options.appendFsync ?? 'everysec',
    // BullMQ needs keys never evicted.
    '--maxmemory-policy', 'noeviction',
    '--daemonize', 'no',
    '--logfile', '',
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`redis-server exited (${code}) before it was ready: ${output.trim().split('\n').slice(-3).join(' | ')}`));
    };
    const cleanup = () => {
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
  });
  // Keep draining its output so the pipe never fills.
  child.stdout?.resume();
  child.stderr?.resume();
  return handle(child, port, options.dir);
}

function handle(child: ChildProcess, port: number, dir: string): RedisServer {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const onParentExit = () => child.kill('SIGKILL');
  process.once('exit', onParentExit);
  const end = async (signal: NodeJS.Signals) => {
    process.off('exit', onParentExit);
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    pid: child.pid ?? -1,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}

interface OwnerRecord {
  ownerPid: number;
  redisPid: number;
  port: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The embedded default: a private Redis with its data under `dir` (AOF on). A server left
 * behind by a bot that was killed is stopped first; one owned by a live bot is an error,
 * because two bots sharing one data folder must share one Redis through REDIS_URL instead.
 */
export async function startEmbeddedRedis(dir: string, binary: string): Promise<RedisServer> {
  mkdirSync(dir, { recursive: true });
  const ownerFile = join(dir, 'owner.json');
  let previous: OwnerRecord | null = null;
  try {
    previous = JSON.parse(readFileSync(ownerFile, 'utf8')) as OwnerRecord;
  } catch {
    previous = null;
  }
  if (previous && alive(previous.redisPid)) {
    if (alive(previous.ownerPid) && previous.ownerPid !== process.pid) {
      throw new Error(
        `the embedded Redis in ${dir} belongs to a running bot (pid ${previous.ownerPid}); to run several bots, start one Redis and set REDIS_URL for all of them`,
      );
    }
    process.kill(previous.redisPid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(previous.redisPid); i++) await new Promise((r) => setTimeout(r, 50));
  }
  const server = await startRedisServer({ dir, binary });
  writeFileSync(ownerFile, JSON.stringify({ ownerPid: process.pid, redisPid: server.pid, port: server.port } satisfies OwnerRecord));
  return {
    ...server,
    stop: async () => {
      await server.stop();
      rmSync(ownerFile, { force: true });
    },
  };
}
