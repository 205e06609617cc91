// npm run rehearse -- <plan.yaml> [options]   (npm run rehearse -- --help; --seed N replays a run's random requests)
// Runs a whole cutover of a plan on this machine: the real engine, BullMQ workers and Redis, with
// simulated traffic and simulated signals in place of Cloud Run and the metrics sources.
// With --emulators (Cloud Run plans), local fake Google APIs stand in for Google instead: the real
// Cloud Run adapter moves their traffic and the cloud_logging / cloud_monitoring gates are measured
// through the official clients; every other gate is still answered by the simulation.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { everyGate, mapGates, type Plan } from '../domain/plan.ts';
import { formatDuration } from '../domain/duration.ts';
import { isTerminal, type Outcome } from '../domain/state.ts';
import { locateRedis, NoRedisError, type RedisLocation } from '../infra/redis-url.ts';
import { createLogger } from '../log.ts';
import { parse as parseYaml } from 'yaml';
import { parsePlanDocument, parsePlanText } from '../plans/parse.ts';
import { serviceKeysOf } from '../domain/train.ts';
import { ConsoleRoom } from './rehearsal/console-room.ts';
import { driveRehearsal, HYPERCARE_CHECKS, onBehalf, RehearsalRoles, rehearsalOperator } from './rehearsal/driver.ts';
import { buildVocabulary, createRuntime, type Runtime } from './runtime.ts';
import { SCENARIOS, scenarioSpec, type ScenarioInput, type ScenarioSpec } from '../sim/scenario.ts';
import { SimulatedWorld } from '../sim/world.ts';
import { rehearsalWrappers } from './rehearsal/wrappers.ts';
import { cloudAdapters, type Adapters } from './adapters.ts';
import type { RehearsalEmulators } from './rehearsal/emulators.ts';
import { evidencePackage, loadEvidenceInput } from '../../jobs/evidence.ts';
import type { RehearsalFacts } from '../evidence/build.ts';
import { writeEvidence } from '../evidence/writer.ts';
import { compressPlan } from './rehearsal/compress.ts';

/** With --emulators, gates of these kinds are measured against the local fakes, not simulated. */
const EMULATED_GATE_KINDS: readonly string[] = ['cloud_logging', 'cloud_monitoring'];

const DEFAULT_SPEED = 1000;
const MAX_SPEED = 100_000;

type ScenarioName = ScenarioSpec['name'];
const SCENARIO_NAMES = Object.keys(SCENARIOS) as [ScenarioName, ...ScenarioName[]];
/** The scenarios whose canary misbehaves from a cohort on: the only ones --breach-at changes. */
const BREACHING: readonly ScenarioName[] = ['bad-canary', 'slow-canary'];
const DEFAULT_BREACH_AT = scenarioSpec.parse({ name: 'bad-canary' }).breach_at;

/** What the process exits with, so a CI job can gate on a rehearsal. */
export const EXIT = {
  completed: 0,
  /** The rehearsal could not run: an invalid plan, no Redis, a plan nobody can drive to its end. */
  error: 1,
  /** The command line is wrong: an unknown option, a bad value, a plan file that cannot be read. */
  usage: 2,
  rolled_back: 3,
  /** Ended otherwise: the rollback could not be confirmed (failed), or aborted. */
  otherwise: 4,
  /** Stopped by Ctrl-C or SIGTERM. */
  interrupted: 130,
} as const;

export function exitCodeFor(outcome: string): number {
  if (outcome === 'completed') return EXIT.completed;
  if (outcome === 'rolled_back') return EXIT.rolled_back;
  return EXIT.otherwise;
}

export const HELP = `usage: npm run rehearse -- <plan.yaml> [options]

Rehearses a whole cutover of the plan on this machine: the real engine, workers and Redis, with
simulated traffic and signals; approvals, promotions, ticks and sign-offs are given on behalf of
the people the plan names. Nothing outside this machine is called. The evidence package it
writes says REHEARSAL in every file.

options:
  --scenario NAME       what the simulated canary does (default healthy):
${SCENARIO_NAMES.map((name) => `                          ${name.padEnd(12)}${SCENARIOS[name]}`).join('\n')}
  --breach-at PERCENT   bad-canary and slow-canary misbehave from this much canary traffic on
                        (1-100, default ${DEFAULT_BREACH_AT})
  --seed N              the seed of the random requests a canary judge counts (default: a random
                        one, printed, so the run can be replayed)
  --target N            a train: only target N (0, 1, …) misbehaves as the scenario says; the others stay healthy
  --strategy S          a train: run it lockstep or in waves, whatever the plan says
  --speed N             plan time runs N times faster (default ${DEFAULT_SPEED}: a 30-minute soak takes 1.8 s)
  --evidence-dir DIR    where the evidence package goes (default EVIDENCE_DIR, else ./evidence)
  --emulators           a cloud-run plan against local Cloud Run, Logging and Monitoring emulators
  --verbose             print every gate check and periodic update, not only what changed
  -h, --help            this

exit codes:
  ${EXIT.completed}    completed: the canary reached 100 %
  ${EXIT.rolled_back}    rolled back
  ${EXIT.otherwise}    ended otherwise: failed (the rollback could not be confirmed) or aborted
  ${EXIT.error}    the rehearsal could not run (an invalid plan, no Redis, a plan nobody can drive to its end)
  ${EXIT.usage}    usage: an unknown option, a bad value, a plan file that cannot be read
  ${EXIT.interrupted}  interrupted (Ctrl-C)`;

export interface RehearsalArgs {
  readonly plan: string;
  readonly scenario: ScenarioName;
  readonly speed: number;
  /** As given; undefined: the scenario's default. */
  readonly breachAt?: number;
  /** The random requests a judge counts are drawn from it; undefined: a random seed, printed so the run can be replayed. */
  readonly seed?: number;
  /** A train: only this target (by index) behaves as the scenario says; the others stay healthy. */
  readonly target?: number;
  /** A train: run it in this strategy instead of the plan's (waves: the plan's waves, else one target per wave). */
  readonly strategy?: 'lockstep' | 'waves';
  readonly emulators: boolean;
  readonly verbose: boolean;
  /** Default: EVIDENCE_DIR of the environment `rehearse` is given, else ./evidence. */
  readonly evidenceDir?: string;
}

export type ParsedArgs =
  | { readonly kind: 'run'; readonly args: RehearsalArgs }
  | { readonly kind: 'help' }
  /** One line naming the option and the bad value. */
  | { readonly kind: 'error'; readonly error: string };

const MORE = '(npm run rehearse -- --help)';

const speedSchema = z.coerce.number().positive().max(MAX_SPEED);
const breachSchema = z.coerce.number().int().min(1).max(100);
const seedSchema = z.coerce.number().int().min(0).max(2 ** 32 - 1);
const targetSchema = z.coerce.number().int().min(0);
const strategySchema = z.enum(['lockstep', 'waves']);

export function parseRehearsalArgs(argv: readonly string[]): ParsedArgs {
  const fail = (error: string): ParsedArgs => ({ kind: 'error', error });
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        scenario: { type: 'string' },
        speed: { type: 'string' },
        'breach-at': { type: 'string' },
        seed: { type: 'string' },
        target: { type: 'string' },
        strategy: { type: 'string' },
        emulators: { type: 'boolean' },
        verbose: { type: 'boolean' },
        'evidence-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    const option = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return fail(`unknown option ${option} ${MORE}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return fail(`${option} needs a value ${MORE}`);
    return fail(`${message} ${MORE}`);
  }
  const v = parsed.values;
  if (v.help) return { kind: 'help' };
  if (parsed.positionals.length === 0) return fail(`name a plan file: npm run rehearse -- examples/plans/control-service.yaml ${MORE}`);
  if (parsed.positionals.length > 1) return fail(`one plan file at a time (got ${parsed.positionals.join(', ')})`);
  const scenario = v.scenario ?? 'healthy';
  if (!(SCENARIO_NAMES as readonly string[]).includes(scenario)) return fail(`--scenario ${scenario}: no such scenario; one of ${SCENARIO_NAMES.join(', ')}`);
  const speed = speedSchema.safeParse(v.speed ?? DEFAULT_SPEED);
  if (!speed.success) return fail(`--speed ${v.speed}: must be a number above 0 and at most ${MAX_SPEED}`);
  const breachAt = v['breach-at'] === undefined ? undefined : breachSchema.safeParse(v['breach-at']);
  if (breachAt && !breachAt.success) return fail(`--breach-at ${v['breach-at']}: must be a whole percent of canary traffic from 1 to 100`);
  const seed = v.seed === undefined ? undefined : seedSchema.safeParse(v.seed);
  if (seed && !seed.success) return fail(`--seed ${v.seed}: must be a whole number from 0 to ${2 ** 32 - 1}`);
  const target = v.target === undefined ? undefined : targetSchema.safeParse(v.target);
  if (target && !target.success) return fail(`--target ${v.target}: must be a target index of the train, e.g. 1`);
  const strategy = v.strategy === undefined ? undefined : strategySchema.safeParse(v.strategy);
  if (strategy && !strategy.success) return fail(`--strategy ${v.strategy}: must be lockstep or waves`);
  return {
    kind: 'run',
    args: {
      plan: parsed.positionals[0] as string,
      scenario: scenario as ScenarioName,
      speed: speed.data,
      ...(breachAt ? { breachAt: breachAt.data } : {}),
      ...(seed ? { seed: seed.data } : {}),
      ...(target ? { target: target.data } : {}),
      ...(strategy ? { strategy: strategy.data } : {}),
      emulators: v.emulators ?? false,
      verbose: v.verbose ?? false,
      ...(v['evidence-dir'] !== undefined ? { evidenceDir: v['evidence-dir'] } : {}),
    },
  };
}

export interface RehearsalOutcome {
  readonly outcome: Outcome | string;
  readonly evidence: string | null;
  readonly wallMs: number;
}

/** A problem worth one line, and the exit code it stands for. */
export class RehearsalError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.error) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The plan file's text, or one line saying what is wrong with the path. */
async function readPlanFile(path: string): Promise<string> {
  const problem = (what: string) => new RehearsalError(`plan ${path}: ${what}`, EXIT.usage);
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw problem(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot be read (${code ?? String(error)})`);
  }
  if (info.isDirectory()) {
    const plans = (await readdir(path).catch(() => [] as string[])).filter((f) => /\.ya?ml$/.test(f)).sort();
    throw problem(`is a folder, not a plan file${plans.length ? `; name one of its plans, e.g. ${join(path, plans[0] as string)}` : ''}`);
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw problem(`cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/**
 * Redis for one rehearsal: REDIS_URL (keys under a prefix of their own), or else a redis-server of
 * its own with its data in a fresh temporary folder, deleted at the end. Never the bot's `.data/`:
 * two rehearsals, or a rehearsal beside a running bot, each get their own.
 */
async function rehearsalRedis(env: Readonly<Record<string, string | undefined>>): Promise<RedisLocation> {
  if (env.REDIS_URL?.trim()) return locateRedis(env);
  const dir = await mkdtemp(join(tmpdir(), 'cutover-rehearsal-redis-'));
  try {
    const server = await locateRedis(env, dir);
    return {
      ...server,
      description: `a private redis-server on 127.0.0.1:${new URL(server.url).port} for this rehearsal only (data in ${dir}, deleted at the end)`,
      stop: async () => {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    if (error instanceof NoRedisError) throw new RehearsalError(error.message);
    throw error;
  }
}

export async function rehearse(args: RehearsalArgs, out: (line: string) => void, env = process.env, options: { signal?: AbortSignal } = {}): Promise<RehearsalOutcome> {
  const started = Date.now();
  const evidenceDir = args.evidenceDir ?? env.EVIDENCE_DIR ?? './evidence';
  const text = await readPlanFile(args.plan);
  let world: SimulatedWorld | undefined;
  const worldOf = () => {
    if (!world) throw new Error('the simulated world is used before the runtime is up');
    return world;
  };
  const real = { platforms: args.emulators ? ['cloud-run'] : [], gateKinds: args.emulators ? EMULATED_GATE_KINDS : [] };
  // Validating the plan needs only the schemas: adapters open no connection until used.
  const vocabulary = buildVocabulary(cloudAdapters(env, { emulators: false }), worldOf, rehearsalWrappers(worldOf, real));
  let parsed = parsePlanText(text, vocabulary);
  if (!parsed.ok) throw new RehearsalError(`${args.plan} is not a valid plan:\n${parsed.errors.map((e) => `  ${e}`).join('\n')}`);
  if (args.target !== undefined || args.strategy !== undefined) {
    const train = parsed.plan.train;
    if (!train) throw new RehearsalError(`--target and --strategy apply to a train (a plan with targets:): ${parsed.plan.name} moves one service`, EXIT.usage);
    if (args.target !== undefined && args.target >= train.targets.length) {
      throw new RehearsalError(`--target ${args.target}: plan ${parsed.plan.name} has targets 0 to ${train.targets.length - 1} (${train.targets.map((t, i) => `${i} ${t.id}`).join(', ')})`, EXIT.usage);
    }
  }
  if (args.strategy !== undefined && args.strategy !== parsed.plan.train?.strategy) {
    // The plan as written, in the other strategy: waves keep the plan's waves if it has several.
    const document = parseYaml(text) as Record<string, unknown>;
    document.strategy = args.strategy;
    parsed = parsePlanDocument(document, vocabulary);
    if (!parsed.ok) throw new RehearsalError(`${args.plan} in ${args.strategy} is not a valid plan:\n${parsed.errors.map((e) => `  ${e}`).join('\n')}`);
  }
  const services = parsed.plan.train ? parsed.plan.train.targets.map((t) => t.service) : [parsed.plan.service];
  if (args.emulators && services.some((service) => service.platform !== 'cloud-run')) {
    // There is no emulator for anything else, and a real adapter would reach the real thing.
    throw new RehearsalError(
      `--emulators emulates Google Cloud (Cloud Run, Cloud Logging, Cloud Monitoring): plan ${parsed.plan.name} is on ${parsed.plan.service.platform}; rehearse it without --emulators`,
      EXIT.usage,
    );
  }
  // The local emulators publish their data at once: gates measured against them have no data lag.
  const plan = args.emulators ? withoutDataLag(compressPlan(parsed.plan, args.speed), EMULATED_GATE_KINDS) : compressPlan(parsed.plan, args.speed);
  const operator = rehearsalOperator(plan);
  if (!operator) throw new RehearsalError(`plan ${plan.name} names nobody with ${plan.approvals.start.roles.join('/')} to start a cutover`);
  const breachAt = args.breachAt ?? DEFAULT_BREACH_AT;
  const breaches = BREACHING.includes(args.scenario);
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 31);
  const scenarioInput: ScenarioInput = { name: args.scenario, speed: args.speed, breach_at: breachAt, seed };
  const facts: RehearsalFacts = { scenario: args.scenario, breachAt: breaches ? breachAt : null, seed, speed: args.speed, emulators: args.emulators };

  const redis = await rehearsalRedis(env);
  const room = new ConsoleRoom(out, { started, speed: args.speed, verbose: args.verbose });
  let runtime: Runtime | undefined;
  let emulators: RehearsalEmulators | undefined;
  let adapters: Adapters | undefined;
  const prefix = `rehearsal-${started.toString(36)}-${process.pid}`;
  try {
    if (args.emulators) {
      // Loaded only here: it brings the test suite's fake servers (see src/rehearsal/emulators.ts).
      const { startRehearsalEmulators } = await import('./rehearsal/emulators.ts').catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
        throw new RehearsalError(`--emulators uses the test suite's fake Google servers: run it from a checkout after npm ci (the production image has neither)`);
      });
      emulators = await startRehearsalEmulators(plan, scenarioSpec.parse(scenarioInput), args.speed, args.target);
    }
    adapters = cloudAdapters({ ...env, ...emulators?.env }, { emulators: args.emulators });
    runtime = await createRuntime({
      redisUrl: redis.url,
      prefix,
      room,
      roles: new RehearsalRoles(),
      log: createLogger({ level: env.LOG_LEVEL ?? 'warn', destination: process.stderr }),
      evidenceRoot: evidenceDir,
      evidence: { rehearsal: facts },
      env,
      platforms: adapters.platforms,
      gateKinds: adapters.gateKinds,
      decorate: rehearsalWrappers(worldOf, real),
      sweepEveryMs: 1_000,
      // One process that is the whole rehearsal: nobody else could take a job over, so a long lock
      // spares a loaded laptop the lost-lock noise of production's seconds-long rollback takeover.
      workerSettings: { lockDurationMs: 30_000, stalledIntervalMs: 30_000 },
    });
    world = new SimulatedWorld(runtime.redis, prefix);
    // A train: each target's own world; with --target, only that one misbehaves.
    for (const [t, key] of serviceKeysOf(plan).entries()) {
      await world.setScenario(key, args.target === undefined || args.target === t ? scenarioInput : { name: 'healthy', speed: args.speed, seed: seed + t });
    }
    header(out, args, parsed.plan, plan, redis, emulators, breachAt, seed);

    // The end: the evidence package is written, every dropped target's own rollback has reported
    // (it may land after the train completed), and, when the plan asks for sign-off, every sign-off is in.
    const finished = new Promise<{ evidence: string; outcome: string }>((resolve, reject) => {
      let evidence: { evidence: string; outcome: string } | null = null;
      let signedOff = plan.signOff.length === 0;
      const goingBack = new Set<number>();
      room.on('entry', (entry, view) => {
        if (entry.type === 'evidence') evidence = { evidence: entry.path, outcome: view.state.outcome ?? view.state.phase };
        if (entry.type === 'notice' && entry.notice.kind === 'signoff_complete') signedOff = true;
        if (entry.type === 'notice' && entry.notice.kind === 'target_dropped') goingBack.add(entry.notice.target);
        if (entry.type === 'notice' && (entry.notice.kind === 'target_back' || entry.notice.kind === 'target_rollback_failed')) goingBack.delete(entry.notice.target);
        // A whole rollback moves the dropped targets too.
        if (entry.type === 'notice' && entry.notice.kind === 'rollback_started') goingBack.clear();
        if (evidence && signedOff && goingBack.size === 0) resolve(evidence);
      });
      driveRehearsal(room, runtime!.engine, (why) => reject(new RehearsalError(why)));
      const interrupted = () => reject(new RehearsalError('interrupted; the private Redis and the rehearsal keys are cleaned up', EXIT.interrupted));
      if (options.signal?.aborted) interrupted();
      options.signal?.addEventListener('abort', interrupted, { once: true });
    });
    room.line(onBehalf('starting the cutover', operator, 'nobody typed /cutover start'));
    const start = await runtime.engine.start(plan, operator.user);
    if (!start.ok) throw new RehearsalError(`could not start: ${start.refusal.code}`);
    const result = await finished;
    room.flush();
    // Sign-offs after the end rewrite the package in the background; write the final one now.
    const input = await loadEvidenceInput(runtime.store, start.state.id);
    // Its chart speaks plan time: a 30-minute soak reads 30 minutes, not 1.8 s.
    const files = input ? await evidencePackage({ ...input, audit: input.audit.filter((e) => e.type !== 'evidence') }, { now: Date.now(), speed: args.speed, label: { rehearsal: facts } }) : null;
    if (input && files) await writeEvidence(evidenceDir, input.state, files);
    const state = input?.state ?? null;
    const listed = files ? [...new Set([...files.keys()].map((name) => (name.includes('/') ? `${name.split('/')[0]}/` : name)))] : [];
    out('');
    const dropped = state?.outcome === 'completed' && state.dropped?.length ? `, ${state.dropped.length} of ${plan.train?.targets.length ?? '?'} targets dropped (${state.dropped.map((d) => plan.train?.targets[d.target]?.id ?? d.target).join(', ')}: back to stable)` : '';
    out(`Outcome: ${result.outcome}${dropped}${state && isTerminal(state.phase) ? ` (canary ${state.traffic} %${dropped ? ' on the others' : `, stable ${100 - state.traffic} %`})` : ''}`);
    out(`Evidence: ${result.evidence}`);
    out(`  ${listed.join('  ')}`);
    out(`  (a rehearsal's package: REHEARSAL in every file, never evidence for a change ticket)`);
    // A train's package has a chart per target: each path, in the train's order.
    for (const name of files?.keys() ?? []) if (/^chart(-[^/]+)?\.png$/.test(name)) out(`Chart: ${join(result.evidence, name)}`);
    out(`Wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { outcome: result.outcome, evidence: result.evidence, wallMs: Date.now() - started };
  } finally {
    if (runtime) {
      await runtime.close({ force: true });
      await dropKeys(redis.url, prefix).catch(() => undefined);
    }
    await adapters?.close?.();
    await emulators?.close();
    await redis.stop();
  }
}

/** What the scenario does with the breach cohort in force, and which cohort of the plan that is. */
function scenarioText(args: RehearsalArgs, plan: Plan, breachAt: number): string[] {
  const who = plan.train && args.target !== undefined ? ` (target ${args.target}, ${plan.train.targets[args.target]?.id}, only; the others are healthy)` : '';
  if (!BREACHING.includes(args.scenario)) {
    const lines = [`  scenario:  ${args.scenario}${who}: ${SCENARIOS[args.scenario]}`];
    if (args.breachAt !== undefined) lines.push(`  note:      --breach-at ${args.breachAt} has no effect: the ${args.scenario} scenario does not use it (only ${BREACHING.join(' and ')} do)`);
    return lines;
  }
  const what = args.scenario === 'bad-canary' ? 'fails (6 % 5xx, p95 900 ms)' : 'is 50 % slower than stable, with no errors,';
  const index = plan.stages.findIndex((s) => s.percent >= breachAt);
  const first = index >= 0 ? `cohort ${index + 1}/${plan.stages.length} (${plan.stages[index]!.percent} %)` : 'no cohort of this plan';
  return [`  scenario:  ${args.scenario}${who}: the canary ${what} once it serves ${breachAt} % or more (--breach-at ${breachAt}${args.breachAt === undefined ? ', the default' : ''}): first at ${first}`];
}

function header(
  out: (line: string) => void,
  args: RehearsalArgs,
  original: Plan,
  plan: Plan,
  redis: RedisLocation,
  emulators: RehearsalEmulators | undefined,
  breachAt: number,
  seed: number,
): void {
  out(`REHEARSAL of plan ${original.name} (${args.plan}): nothing in production is called or changed`);
  if (emulators) {
    const { stable, canary } = original.service;
    const gates = everyGate(plan);
    const listed = (list: typeof gates) => list.map((g) => `${g.id} (${g.kind})`).join(', ') || 'none';
    const measured = gates.filter((g) => EMULATED_GATE_KINDS.includes(g.kind));
    const simulated = gates.filter((g) => !EMULATED_GATE_KINDS.includes(g.kind));
    if (original.train) {
      const list = original.train.targets.map((t) => `${t.id} (${t.service.stable} stable at 100 %, ${t.service.canary})`).join(', ');
      out(`  train:     ${original.train.targets.length} targets in ${original.train.strategy}; traffic backends: the REAL Cloud Run adapter (official client), against a local fake Cloud Run Admin API at ${emulators.addresses.run} holding ${list}`);
    } else {
      out(`  service:   cloud-run ${original.service.name}; traffic backend: the REAL Cloud Run adapter (official client), against a local fake Cloud Run Admin API at ${emulators.addresses.run} holding revisions ${stable} (stable, 100 %) and ${canary}`);
    }
    out(`  measured:  ${listed(measured)}: the REAL gate adapters (official clients) against local fake Cloud Logging (${emulators.addresses.logging}) and Cloud Monitoring (${emulators.addresses.monitoring}) APIs, fed with simulated requests that follow the split the fake Cloud Run serves`);
    out(`  simulated: ${listed(simulated)}: answered by the simulation (no command runs, no HTTP request is sent)`);
    out(`  google:    nothing outside this machine is called; no credentials are used`);
  } else if (plan.train) {
    out(`  train:     ${plan.train.targets.length} targets in ${plan.train.strategy}${plan.train.waves.length > 1 ? ` (${plan.train.waves.map((w, i) => `wave ${i + 1}: ${w.map((t) => plan.train!.targets[t]!.id).join(', ')}`).join('; ')})` : ''}; traffic backends: SIMULATED (nothing outside this machine is called)`);
    for (const [t, target] of plan.train.targets.entries()) out(`    ${t}: ${target.id}: ${target.service.platform} ${target.service.name}${typeof (target.service as { region?: unknown }).region === 'string' ? ` in ${String((target.service as { region?: unknown }).region)}` : ''}`);
    out(`  gates:     every gate (http, command, SLO snapshot, cloud metrics, prometheus, judge) is answered by the simulation, each target's from its own`);
  } else {
    out(`  service:   ${original.service.platform} ${original.service.name}; traffic backend: SIMULATED (nothing outside this machine is called)`);
    out(`  gates:     every gate (http, command, SLO snapshot, cloud metrics, prometheus, judge) is answered by the simulation`);
  }
  for (const line of scenarioText(args, plan, breachAt)) out(line);
  const judges = plan.gates.stage.filter((g) => g.judge);
  if (judges.length > 0) {
    out(`  judges:    ${judges.map((g) => `${g.id} (${g.judge!.metric}, α ${Number((g.judge!.alpha * 100).toPrecision(3))} %)`).join(', ')} count simulated requests drawn at random from seed ${seed} (replay: --seed ${seed}), 100 a second`);
  }
  if (everyGate(plan).some((g) => g.kind === 'prometheus')) out(`  prometheus: a prometheus gate's query is answered with the canary's simulated 5xx ratio`);
  out(`  time:      x${args.speed}: soak ${formatDuration(original.stages[0]?.soakMs ?? 0)} -> ${formatDuration(plan.stages[0]?.soakMs ?? 0)}, checks every ${formatDuration(original.checkEveryMs)} -> ${formatDuration(plan.checkEveryMs)}`);
  if (original.hypercare && plan.hypercare) {
    out(
      `  hypercare: ${formatDuration(original.hypercare.durationMs)} checked every ${formatDuration(original.hypercare.checkEveryMs)} -> every ${formatDuration(plan.hypercare.checkEveryMs)}; the rehearsal closes it after ${HYPERCARE_CHECKS} checks`,
    );
  }
  out(`  people:    the rehearsal starts, approves, promotes, ticks and signs off on behalf of the people the plan names, in the roles the plan gives them; each such line says [rehearsal]`);
  out(`  cohorts:   ${plan.stages.map((s) => `${s.percent} %`).join(' -> ')} (${plan.stages[0]?.promotion ?? 'manual'} promotion)`);
  out(`  output:    ${args.verbose ? 'every gate check and update (--verbose)' : 'what changes, and one line per soak (--verbose for every check)'}`);
  out(`  redis:     ${redis.description}`);
  out('');
}

/** A rehearsal leaves its evidence on disk and nothing in Redis. */
async function dropKeys(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

function withoutDataLag(plan: Plan, kinds: readonly string[]): Plan {
  return mapGates(plan, (g) => (kinds.includes(g.kind) ? { ...g, dataLagMs: 0 } : g));
}

if (import.meta.main) {
  const parsed = parseRehearsalArgs(process.argv.slice(2));
  if (parsed.kind === 'help') {
    process.stdout.write(`${HELP}\n`);
    process.exit(EXIT.completed);
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`rehearsal: ${parsed.error}\n`);
    process.exit(EXIT.usage);
  }
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      // A second signal does not wait for the clean-up.
      process.once(signal, () => process.exit(EXIT.interrupted));
      interrupt.abort();
    });
  }
  rehearse(parsed.args, (line) => process.stdout.write(`${line}\n`), process.env, { signal: interrupt.signal }).then(
    (result) => process.exit(exitCodeFor(result.outcome)),
    (error: unknown) => {
      process.stderr.write(`rehearsal: ${error instanceof RehearsalError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(error instanceof RehearsalError ? error.exitCode : EXIT.error);
    },
  );
}
