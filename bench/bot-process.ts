// The bot as a child process for benchmarks: `node src/app/main.ts`, configured by its environment,
// logging to a file (a pipe read by a busy parent would block the bot's synchronous writes and
// time the harness, not the bot), ready once /readyz answers 200.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../src/infra/redis-server.ts';

export interface BotProcess {
  readonly port: number;
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
