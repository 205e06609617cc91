// `node src/app/main.ts` as a child process, the way it runs in production: configured only by its
// environment. Resolves once it logs "bot ready" (with its port), or rejects with what it printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { redisUrl } from './redis.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export interface ChildBot {
  readonly port: number;
  /** Parsed JSON log lines from stdout, as they arrive. */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves once the bot has written text matching `pattern` to stderr (already, or later). */
  stderrMatching(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the first JSON log line on stdout that satisfies `predicate` (already, or later). */
  logged(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no warning, no shutdown; resolves once the process is gone. */
  kill(): Promise<void>;
}

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a bot on the test's Redis and fake Slack, with its plans and evidence under `dir`. */
export const botEnv = (o: { token: string; secret: string; apiUrl: string; prefix: string; dir: string }): Record<string, string> => ({
  SLACK_BOT_TOKEN: o.token,
  SLACK_SIGNING_SECRET: o.secret,
  SLACK_API_URL: o.apiUrl,
  REDIS_URL: redisUrl(),
  REDIS_PREFIX: o.prefix,
  PLANS_DIR: join(o.dir, 'plans'),
  EVIDENCE_DIR: join(o.dir, 'evidence'),
  PORT: '0',
});

function launch(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['src/app/main.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the bot to its end (for configurations it must refuse). */
export async function runBotToExit(env: Record<string, string>): Promise<Finished> {
  const child = launch(env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

export async function startChildBot(env: Record<string, string>, timeoutMs = 30_000): Promise<ChildBot> {
  const child = launch({ LOG_LEVEL: 'info', ...env });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  const written = new EventEmitter<{ stderr: []; line: [Record<string, unknown>] }>();
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    written.emit('stderr');
  });
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const stderrMatching = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<string>((resolveMatch, reject) => {
      const check = () => {
        const match = pattern.exec(stderr);
        if (!match) return;
        clearTimeout(timer);
        written.off('stderr', check);
        resolveMatch(match[0]);
      };
      const timer = setTimeout(() => (written.off('stderr', check), reject(new Error(`no ${pattern} on the bot's stderr within ${timeoutMs} ms:\n${stderr}`))), timeoutMs);
      written.on('stderr', check);
      check();
    });
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`bot not ready after ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      written.emit('line', entry);
      if (entry.msg === 'bot ready') {
        clearTimeout(timer);
        resolvePort(Number(entry.port));
      }
    });
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`bot exited with ${code} before it was ready\n${stderr}`));
    });
  });
  const logged = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000) =>
    new Promise<Record<string, unknown>>((resolveLine, reject) => {
      const found = logs.find(predicate);
      if (found) return resolveLine(found);
      const onLine = (line: Record<string, unknown>) => {
        if (!predicate(line)) return;
        clearTimeout(timer);
        written.off('line', onLine);
        resolveLine(line);
      };
      const timer = setTimeout(() => (written.off('line', onLine), reject(new Error(`no such log line from the bot within ${timeoutMs} ms`))), timeoutMs);
      written.on('line', onLine);
    });
  return {
    port,
    logs,
    stderrMatching,
    logged,
    stop: async () => {
      child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
