// Bot replicas as real child processes, and a way to await what they say on stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';

export interface ReplicaLine {
  readonly event: string;
  readonly name?: string;
  readonly id?: string;
  readonly result?: unknown;
}

export class Replicas extends EventEmitter<{ line: [Replica, ReplicaLine] }> {
  readonly all = new Set<Replica>();
  readonly #env: NodeJS.ProcessEnv;
  readonly #script: string;

  constructor(script: string, env: NodeJS.ProcessEnv) {
    super();
    this.#script = script;
    this.#env = env;
  }

  async start(): Promise<Replica> {
    const child = spawn(process.execPath, [this.#script], { env: { ...process.env, ...this.#env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const replica: Replica = { child, pid: child.pid ?? -1, alive: true };
    this.all.add(replica);
    child.on('exit', () => {
      replica.alive = false;
      this.all.delete(replica);
    });
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        this.emit('line', replica, JSON.parse(text) as ReplicaLine);
      } catch {
        // not one of ours
      }
    });
    await this.waitFor((r, line) => r === replica && line.event === 'ready', 30_000);
    return replica;
  }

  /** Resolves with the first line (from any live replica) matching `predicate`. */
  waitFor(predicate: (replica: Replica, line: ReplicaLine) => boolean, timeoutMs = 30_000): Promise<{ replica: Replica; line: ReplicaLine }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('line', listener);
        reject(new Error(`no replica said that within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (replica: Replica, line: ReplicaLine) => {
        if (!predicate(replica, line)) return;
        clearTimeout(timer);
        this.off('line', listener);
        resolve({ replica, line });
      };
      this.on('line', listener);
    });
  }

  /** SIGKILL: no clean-up, no lock release: a crash. */
  async kill(replica: Replica): Promise<void> {
    if (!replica.alive) return;
    const exited = new Promise<void>((resolve) => replica.child.once('exit', () => resolve()));
    replica.child.kill('SIGKILL');
    await exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.all].map((r) => this.kill(r)));
  }
}

export interface Replica {
  readonly child: ChildProcess;
  readonly pid: number;
  alive: boolean;
}
