// `command` gate: a program from the plan (seed 001's G1 preflight, seed 004's rollback drill).
// It runs without a shell, so nothing is ever interpolated by one; with a minimal environment,
// so the bot's own secrets are not handed to it; with a timeout that kills its whole process
// group; and with its output captured up to a cap for the evidence package.
import { spawn } from 'node:child_process';
import { z } from 'zod';
import { scrub } from '../log.ts';
import { errored, measured } from '../domain/measurement.ts';
import type { GateContext, GateKind } from '../ports.ts';
import { fill, templateVars } from './template.ts';

export const OUTPUT_CAP_BYTES = 16 * 1024;
const SHELL_OPERATORS = /(^|\s)(&&|\|\||\||;|>|>>|<|&)(\s|$)|\$\(|`/;

/** Splits a command line like a shell would for words and quotes, and nothing else. */
export function splitArgs(line: string): string[] | null {
  const args: string[] = [];
  let current = '';
  let quote: '"' | "'" | null = null;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) current += line[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (/\s/.test(c)) {
      if (started || current) args.push(current);
      current = '';
      started = false;
    } else {
      current += c;
    }
  }
  if (quote) return null;
  if (started || current) args.push(current);
  return args;
}

function toArgv(line: string, ctx: z.RefinementCtx, path: PropertyKey[]): string[] | null {
  const unquoted = line.replace(/'[^']*'|"(?:\\.|[^"\\])*"/g, '');
  if (SHELL_OPERATORS.test(unquoted)) {
    ctx.addIssue({ code: 'custom', path, message: "runs without a shell, so && | ; > and $( ) do nothing here: put the steps in a script, or write bash -c '…' explicitly" });
    return null;
  }
  const argv = splitArgs(line);
  if (!argv || argv.length === 0) {
    ctx.addIssue({ code: 'custom', path, message: argv ? 'is empty' : 'has an unclosed quote' });
    return null;
  }
  return argv;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const runSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** `command: "bash x.sh"`, `command: [bash, x.sh]` or `command: {run, cwd, env, pass_env}`. */
export const commandSettings = z
  .union([
    runSchema,
    z
      .object({
        run: runSchema,
        cwd: z.string().optional(),
        env: z.record(z.string().regex(ENV_NAME), z.string()).default({}),
        /**
         * Names of the bot's environment variables the command may see (e.g. a token it needs). Their
         * values are redacted from the output kept as evidence, should the command print them.
         */
        pass_env: z.array(z.string().regex(ENV_NAME)).default([]),
      })
      .strict(),
  ])
  .transform((value, ctx) => {
    const options = typeof value === 'object' && !Array.isArray(value) ? value : { run: value, cwd: undefined, env: {}, pass_env: [] };
    const argv = typeof options.run === 'string' ? toArgv(options.run, ctx, typeof value === 'string' ? [] : ['run']) : options.run;
    if (!argv) return z.NEVER;
    return { argv, cwd: options.cwd as string | undefined, env: options.env as Record<string, string>, pass_env: options.pass_env as string[] };
  });

export type CommandSettings = z.infer<typeof commandSettings>;

const BASE_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

export interface CommandRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly output: string;
  readonly truncated: boolean;
  readonly spawnError?: string;
}

function runCommand(spec: CommandSettings, ctx: GateContext): Promise<CommandRun> {
  const vars = templateVars(ctx);
  const [file, ...args] = fill(spec.argv, vars);
  const env: Record<string, string> = {};
  for (const name of [...BASE_ENV, ...spec.pass_env]) {
    const value = ctx.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, fill(spec.env, vars), {
    CUTOVER_PLAN: ctx.planName,
    CUTOVER_ID: ctx.cutoverId,
    CUTOVER_PERCENT: vars.percent,
    CUTOVER_STABLE: ctx.revisions.stable,
    CUTOVER_CANARY: ctx.revisions.canary,
  });
  // What the command was handed may come back in what it prints (`printenv`, `set -x`, curl -v):
  // the output becomes evidence, uploaded to Slack and kept in Redis, so those values are cut out.
  const handed = spec.pass_env
    .map((name) => ctx.env[name])
    .filter((value): value is string => value !== undefined && value.length >= 6)
    .sort((a, b) => b.length - a.length);
  const redact = (text: string) => handed.reduce((out, value) => out.split(value).join('[redacted]'), scrub(text));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let timedOut = false;
    const child = spawn(file as string, args, { cwd: spec.cwd, env, shell: false, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer) => {
      if (size >= OUTPUT_CAP_BYTES) {
        truncated = true;
        return;
      }
      const room = OUTPUT_CAP_BYTES - size;
      chunks.push(chunk.subarray(0, room));
      size += Math.min(room, chunk.length);
      if (chunk.length > room) truncated = true;
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, ctx.timeoutMs);
    const onAbort = () => killGroup();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const finish = (run: Omit<CommandRun, 'output' | 'truncated' | 'timedOut'>) => {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      resolve({ ...run, timedOut, truncated, output: redact(Buffer.concat(chunks).toString('utf8')) });
    };
    child.on('error', (error) => finish({ exitCode: null, signal: null, spawnError: error.message }));
    child.on('close', (exitCode, signal) => finish({ exitCode, signal }));
  });
}

export const commandGate: GateKind<CommandSettings> = {
  key: 'command',
  schema: commandSettings,
  defaultTimeoutMs: 5 * 60_000,
  async measure(spec, ctx) {
    const run = await runCommand(spec, ctx);
    const log = run.output + (run.truncated ? `\n[output truncated at ${OUTPUT_CAP_BYTES} bytes]` : '');
    const name = spec.argv.join(' ');
    if (run.spawnError) return { ...errored(`could not run ${spec.argv[0]}: ${run.spawnError}`), log };
    if (run.timedOut) return { ...errored(`${name} timed out after ${ctx.timeoutMs} ms`), log };
    if (run.exitCode === null) return { ...errored(`${name} was killed by ${run.signal}`), log };
    return { ...measured([{ name: 'exit_code', value: run.exitCode, threshold: '== 0', ok: run.exitCode === 0 }]), log };
  },
  simulate(spec) {
    return measured([{ name: 'exit_code', value: 0, threshold: '== 0', ok: true }], `simulated: ${spec.argv.join(' ')} was not run`);
  },
};
