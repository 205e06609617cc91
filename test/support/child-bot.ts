// `node src/app/main.ts` as a child process, the way it runs in production: configured only by its
// environment. Resolves once it logs "bot ready" (with its port), or, with `until: 'listening'`,
// once its HTTP side listens (the probes answer) whatever Slack and Redis do; rejects with what it
// printed if it exits first. `npm: true` starts it as `npm start` does.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { redisUrl } from './redis.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export interface ChildBot {
  readonly port: number;
  /** The process started: npm's when started through npm. */
  readonly pid: number;
  /** Parsed JSON log lines from stdout, as they arrive. */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves with the first log line matching `predicate` (already logged, or later). */
  logged(predicate: (entry: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves once the bot has written text matching `pattern` to stderr (already, or later). */
  stderrMatching(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGKILL: no warning, no shutdown; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Resolves with how the process ended. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  /** Sends a signal. */
  signal(name: NodeJS.Signals): void;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ChildBotOptions {
  /** What to wait for: "bot ready" (default), or the HTTP side listening. */
  readonly until?: 'ready' | 'listening';
  readonly timeoutMs?: number;
  /** Start it with `npm start` instead of node directly. */
  readonly npm?: boolean;
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

function launch(env: Record<string, string>, npm = false): ChildProcess {
  const [command, args] = npm ? ['npm', ['start', '--silent']] : [process.execPath, ['src/app/main.ts']];
  return spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

export async function startChildBot(env: Record<string, string>, timeoutMs = 30_000, options: ChildBotOptions = {}): Promise<ChildBot> {
  const child = launch({ LOG_LEVEL: 'info', ...env }, options.npm);
  const until = options.until === 'listening' ? 'listening' : 'bot ready';
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  const written = new EventEmitter<{ stderr: []; log: [] }>();
  written.setMaxListeners(0);
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    written.emit('stderr');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
  const waitFor = <T>(event: 'stderr' | 'log', probe: () => T | undefined, timeoutMs: number, what: string) =>
    new Promise<T>((resolveMatch, reject) => {
      const check = () => {
        const found = probe();
        if (found === undefined) return;
        clearTimeout(timer);
        written.off(event, check);
        resolveMatch(found);
      };
      const timer = setTimeout(() => (written.off(event, check), reject(new Error(`no ${what} from the bot within ${timeoutMs} ms:\n${stderr}`))), timeoutMs);
      written.on(event, check);
      check();
    });
  const stderrMatching = (pattern: RegExp, timeoutMs = 10_000) => waitFor('stderr', () => pattern.exec(stderr)?.[0], timeoutMs, `${pattern} on stderr`);
  const logged = (predicate: (entry: Record<string, unknown>) => boolean, timeoutMs = 10_000) => waitFor('log', () => logs.find(predicate), timeoutMs, 'matching log line');
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    logs.push(entry);
    written.emit('log');
  });
  const ready = logged((entry) => entry.msg === until, timeoutMs).then((entry) => Number(entry.port));
  const died = exited.then(({ code }) => {
    throw new Error(`bot exited with ${code} before "${until}"\n${stderr}`);
  });
  // Whichever loses the race must not reject unobserved later.
  for (const p of [ready, died]) p.catch(() => undefined);
  const port = await Promise.race([ready, died]);
  return {
    port,
    pid: child.pid!,
    logs,
    logged,
    stderrMatching,
    exited,
    signal: (name) => child.kill(name),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      return (await exited).code;
    },
  };
}
