// npm run rehearse -- <plan.yaml> [--scenario healthy|bad-canary|slow-canary|slow-burn] [--speed N] [--emulators]
// Runs a whole cutover of a plan on this machine: the real engine, BullMQ workers and Redis, with
// simulated traffic and simulated signals in place of Cloud Run and the metrics sources.
// With --emulators (Cloud Run plans), local fake Google APIs stand in for Google instead: the real
// Cloud Run adapter moves their traffic and the cloud_logging / cloud_monitoring gates are measured
// through the official clients; every other gate is still answered by the simulation.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { everyGate, mapGates, type Plan } from '../domain/plan.ts';
import { formatDuration } from '../domain/duration.ts';
import { isTerminal } from '../domain/state.ts';
import { locateRedis, NoRedisError, type RedisLocation } from '../infra/redis-url.ts';
import { createLogger } from '../log.ts';
import { parsePlanText } from '../plans/parse.ts';
import { ConsoleRoom } from './rehearsal/console-room.ts';
import { driveRehearsal, REHEARSAL_OPERATOR, RehearsalRoles } from './rehearsal/driver.ts';
import { buildVocabulary, createRuntime, type Runtime } from './runtime.ts';
import { SCENARIOS, scenarioSpec, type ScenarioInput } from '../sim/scenario.ts';
import { SimulatedWorld } from '../sim/world.ts';
import { rehearsalWrappers } from './rehearsal/wrappers.ts';
import { cloudAdapters, type Adapters } from './adapters.ts';
import type { RehearsalEmulators } from './rehearsal/emulators.ts';
import { evidencePackage, loadEvidenceInput } from '../../jobs/evidence.ts';
import { writeEvidence } from '../evidence/writer.ts';
import { compressPlan } from './rehearsal/compress.ts';

/** With --emulators, gates of these kinds are measured against the local fakes, not simulated. */
const EMULATED_GATE_KINDS: readonly string[] = ['cloud_logging', 'cloud_monitoring'];

const DEFAULT_SPEED = 1000;

const USAGE = `usage: npm run rehearse -- <plan.yaml> [--scenario ${Object.keys(SCENARIOS).join('|')}] [--breach-at PERCENT] [--speed N] [--emulators] [--evidence-dir DIR]`;

const argsSchema = z.object({
  plan: z.string({ error: 'name a plan file, e.g. examples/plans/control-service.yaml' }),
  scenario: z.enum(Object.keys(SCENARIOS) as [keyof typeof SCENARIOS, ...Array<keyof typeof SCENARIOS>]).default('healthy'),
  speed: z.coerce.number({ error: '--speed must be a number' }).positive({ error: '--speed must be above 0' }).max(100_000).default(DEFAULT_SPEED),
  breachAt: z.coerce.number().int().min(1).max(100).optional(),
  emulators: z.boolean().default(false),
  /** Default: EVIDENCE_DIR of the environment `rehearse` is given, else ./evidence. */
  evidenceDir: z.string().optional(),
});

export type RehearsalArgs = z.infer<typeof argsSchema>;

export function parseRehearsalArgs(argv: readonly string[]): { ok: true; args: RehearsalArgs } | { ok: false; error: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        scenario: { type: 'string' },
        speed: { type: 'string' },
        'breach-at': { type: 'string' },
        emulators: { type: 'boolean' },
        'evidence-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return { ok: false, error: `${error instanceof Error ? error.message : String(error)}\n${USAGE}` };
  }
  if (parsed.values.help) return { ok: false, error: USAGE };
  if (parsed.positionals.length > 1) return { ok: false, error: `one plan file at a time (got ${parsed.positionals.join(', ')})\n${USAGE}` };
  const result = argsSchema.safeParse({
    plan: parsed.positionals[0],
    scenario: parsed.values.scenario,
    speed: parsed.values.speed,
    breachAt: parsed.values['breach-at'],
    emulators: parsed.values.emulators,
    evidenceDir: parsed.values['evidence-dir'],
  });
  if (!result.success) return { ok: false, error: `${result.error.issues.map((i) => i.message).join('\n')}\n${USAGE}` };
  return { ok: true, args: result.data };
}

export interface RehearsalOutcome {
  readonly outcome: string;
  readonly evidence: string | null;
  readonly wallMs: number;
}

export async function rehearse(args: RehearsalArgs, out: (line: string) => void, env = process.env): Promise<RehearsalOutcome> {
  const started = Date.now();
  const evidenceDir = args.evidenceDir ?? env.EVIDENCE_DIR ?? './evidence';
  let text: string;
  try {
    text = await readFile(args.plan, 'utf8');
  } catch (error) {
    throw new RehearsalError(`cannot read ${args.plan}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let world: SimulatedWorld | undefined;
  const worldOf = () => {
    if (!world) throw new Error('the simulated world is used before the runtime is up');
    return world;
  };
  const real = { platforms: args.emulators ? ['cloud-run'] : [], gateKinds: args.emulators ? EMULATED_GATE_KINDS : [] };
  // Validating the plan needs only the schemas: adapters open no connection until used.
  const vocabulary = buildVocabulary(cloudAdapters(env, { emulators: false }), worldOf, rehearsalWrappers(worldOf, real));
  const parsed = parsePlanText(text, vocabulary);
  if (!parsed.ok) throw new RehearsalError(`${args.plan} is not a valid plan:\n${parsed.errors.map((e) => `  ${e}`).join('\n')}`);
  // The local emulators publish their data at once: gates measured against them have no data lag.
  const plan = args.emulators ? withoutDataLag(compressPlan(parsed.plan, args.speed), EMULATED_GATE_KINDS) : compressPlan(parsed.plan, args.speed);
  if (args.emulators && plan.service.platform !== 'cloud-run') {
    // There is no emulator for anything else, and a real adapter would reach the real thing.
    throw new RehearsalError(
      `--emulators emulates Google Cloud (Cloud Run, Cloud Logging, Cloud Monitoring): plan ${plan.name} is on ${plan.service.platform}; rehearse it without --emulators`,
    );
  }
  const scenarioInput: ScenarioInput = { name: args.scenario, speed: args.speed, ...(args.breachAt ? { breach_at: args.breachAt } : {}) };

  let redis: RedisLocation;
  try {
    redis = await locateRedis(env);
  } catch (error) {
    if (error instanceof NoRedisError) throw new RehearsalError(error.message);
    throw error;
  }
  const room = new ConsoleRoom(out, started, args.speed);
  let runtime: Runtime | undefined;
  let emulators: RehearsalEmulators | undefined;
  let adapters: Adapters | undefined;
  const prefix = `rehearsal-${started.toString(36)}`;
  try {
    if (args.emulators) {
      // Loaded only here: it brings the test suite's fake servers (see src/rehearsal/emulators.ts).
      const { startRehearsalEmulators } = await import('./rehearsal/emulators.ts').catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
        throw new RehearsalError(`--emulators uses the test suite's fake Google servers: run it from a checkout after npm ci (the production image has neither)`);
      });
      emulators = await startRehearsalEmulators(plan, scenarioSpec.parse(scenarioInput), args.speed);
    }
    adapters = cloudAdapters({ ...env, ...emulators?.env }, { emulators: args.emulators });
    runtime = await createRuntime({
      redisUrl: redis.url,
      prefix,
      room,
      roles: new RehearsalRoles(),
      log: createLogger({ level: env.LOG_LEVEL ?? 'warn', destination: process.stderr }),
      evidenceRoot: evidenceDir,
      env,
      platforms: adapters.platforms,
      gateKinds: adapters.gateKinds,
      decorate: rehearsalWrappers(worldOf, real),
      sweepEveryMs: 1_000,
    });
    world = new SimulatedWorld(runtime.redis, prefix);
    await world.setScenario(plan.serviceKey, scenarioInput);
    header(out, args, parsed.plan, plan, redis, emulators);

    // The end: the evidence package is written and, when the plan asks for sign-off, every sign-off is in.
    const finished = new Promise<{ evidence: string; outcome: string }>((resolve, reject) => {
      let evidence: { evidence: string; outcome: string } | null = null;
      let signedOff = plan.signOff.length === 0;
      room.on('entry', (entry, view) => {
        if (entry.type === 'evidence') evidence = { evidence: entry.path, outcome: view.state.outcome ?? view.state.phase };
        if (entry.type === 'notice' && entry.notice.kind === 'signoff_complete') signedOff = true;
        if (evidence && signedOff) resolve(evidence);
      });
      driveRehearsal(room, runtime!.engine, (why) => reject(new RehearsalError(why)));
    });
    const start = await runtime.engine.start(plan, REHEARSAL_OPERATOR);
    if (!start.ok) throw new RehearsalError(`could not start: ${start.refusal.code}`);
    const result = await finished;
    // Sign-offs after the end rewrite the package in the background; write the final one now.
    const input = await loadEvidenceInput(runtime.store, start.state.id);
    // Its chart speaks plan time: a 30-minute soak reads 30 minutes, not 1.8 s.
    const files = input ? await evidencePackage({ ...input, audit: input.audit.filter((e) => e.type !== 'evidence') }, { now: Date.now(), speed: args.speed }) : null;
    if (input && files) await writeEvidence(evidenceDir, input.state, files);
    const state = input?.state ?? null;
    out('');
    out(`Outcome: ${result.outcome}${state && isTerminal(state.phase) ? ` (canary ${state.traffic} %, stable ${100 - state.traffic} %)` : ''}`);
    out(`Evidence: ${result.evidence}`);
    out(`  summary.json  SUMMARY.md  gate-results.jsonl  cohort-results.jsonl  logs/${files?.has('chart.png') ? '  chart.svg' : ''}`);
    if (files?.has('chart.png')) out(`Chart: ${join(result.evidence, 'chart.png')}`);
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

function header(out: (line: string) => void, args: RehearsalArgs, original: Plan, plan: Plan, redis: RedisLocation, emulators: RehearsalEmulators | undefined): void {
  out(`Rehearsal of plan ${original.name} (${args.plan})`);
  if (emulators) {
    const { stable, canary } = original.service;
    const gates = everyGate(plan);
    const listed = (list: typeof gates) => list.map((g) => `${g.id} (${g.kind})`).join(', ') || 'none';
    const measured = gates.filter((g) => EMULATED_GATE_KINDS.includes(g.kind));
    const simulated = gates.filter((g) => !EMULATED_GATE_KINDS.includes(g.kind));
    out(`  service:   cloud-run ${original.service.name}; traffic backend: the REAL Cloud Run adapter (official client), against a local fake Cloud Run Admin API at ${emulators.addresses.run} seeded with revisions ${stable} (stable, 100 %) and ${canary}`);
    out(`  measured:  ${listed(measured)}: the REAL gate adapters (official clients) against local fake Cloud Logging (${emulators.addresses.logging}) and Cloud Monitoring (${emulators.addresses.monitoring}) APIs, fed with simulated requests that follow the split the fake Cloud Run serves`);
    out(`  simulated: ${listed(simulated)}: answered by the simulation (no command runs, no HTTP request is sent)`);
    out(`  google:    nothing outside this machine is called; no credentials are used`);
  } else {
    out(`  service:   ${original.service.platform} ${original.service.name}; traffic backend: SIMULATED (nothing outside this machine is called)`);
    out(`  gates:     every gate (http, command, SLO snapshot, cloud metrics) is answered by the simulation`);
  }
  out(`  scenario:  ${args.scenario}: ${SCENARIOS[args.scenario]}`);
  out(`  time:      x${args.speed}: soak ${formatDuration(original.stages[0]?.soakMs ?? 0)} -> ${formatDuration(plan.stages[0]?.soakMs ?? 0)}, checks every ${formatDuration(original.checkEveryMs)} -> ${formatDuration(plan.checkEveryMs)}`);
  out(`  approvals: approved automatically on behalf of the people the plan names; each one is marked [rehearsal]`);
  out(`  cohorts:   ${plan.stages.map((s) => `${s.percent} %`).join(' -> ')} (${plan.stages[0]?.promotion ?? 'manual'} promotion)`);
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

export class RehearsalError extends Error {}

function withoutDataLag(plan: Plan, kinds: readonly string[]): Plan {
  return mapGates(plan, (g) => (kinds.includes(g.kind) ? { ...g, dataLagMs: 0 } : g));
}

if (import.meta.main) {
  const parsed = parseRehearsalArgs(process.argv.slice(2));
  if (!parsed.ok) {
    process.stderr.write(`${parsed.error}\n`);
    process.exit(2);
  }
  rehearse(parsed.args, (line) => process.stdout.write(`${line}\n`)).then(
    (result) => process.exit(result.outcome === 'completed' || result.outcome === 'rolled_back' ? 0 : 1),
    (error: unknown) => {
      process.stderr.write(`rehearsal: ${error instanceof RehearsalError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
