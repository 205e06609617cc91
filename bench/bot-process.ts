// The bot as a child process for benchmarks: `node src/app/main.ts`, configured by its environment,
// logging to a file (a pipe read by a busy parent would block the bot's synchronous writes and
// time the harness, not the bot), ready once /readyz answers 200.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../src/infra/redis-server.ts';

export interface BotProcess {
  readonly port: number;
  /** The bot's own process (node, not a wrapper): its /proc entry is the bot's. */
  readonly pid: number;
  readonly logFile: string;
  stop(): Promise<void>;
  /** SIGKILL, as a crash would; resolves once the process is gone. */
  kill(): Promise<void>;
}

export async function startBotProcess(env: Record<string, string>): Promise<BotProcess> {
  const port = await freePort();
  const logFile = join(mkdtempSync(join(tmpdir(), 'bench-bot-')), 'bot.log');
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, ['src/app/main.ts'], {
    cwd: resolve(import.meta.dirname, '..'),
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env, PORT: String(port) },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  // Start-up has no event to await across processes: ask /readyz until it says ready.
  for (let waited = 0; ; waited += 100) {
    if (child.exitCode !== null) throw new Error(`the bot exited (${child.exitCode}); see ${logFile}`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (waited > 30_000) throw new Error(`the bot was not ready after 30 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    pid: child.pid as number,
    logFile,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis):
  // utime and stime are the 14th and 15th fields of the line, in clock ticks (100 a second on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

const TICKS_PER_SECOND = 100;

/** The peak resident set of a process so far (VmHWM), in MiB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}
