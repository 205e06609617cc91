// Benchmark 5: cutover trains.
//  (a) Rollback of a train of 5 Cloud Run targets, through the real bot (a child process), the real
//      Cloud Run adapter and the local Cloud Run server: from the moment one target's metric turns
//      bad to the moment the server receives the last of the 5 rollback UpdateService calls, with
//      check_every 1s (target: at most check_every + 1 s).
//  (b) 50 concurrent rehearsal trains of 5 simulated targets each (check_every 1s, a gate per
//      target), one process: gate-check lag (scheduled time to actual start), completions, jobs run
//      twice, and every target's traffic steps.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { isTerminal } from '../src/domain/state.ts';
import { parsePlanDocument } from '../src/plans/parse.ts';
import { SimulatedWorld } from '../src/sim/world.ts';
import { buildVocabulary, createRuntime, type Runtime } from '../src/app/runtime.ts';
import { startFakeCloudRun } from '../test/fakes/gcp/cloud-run.ts';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack-api.ts';
import { blockAction, postToSlackEndpoint, slashCommand } from '../test/support/slack-requests.ts';
import { silentLogger } from '../test/support/log.ts';
import { startBotProcess, type BotProcess } from './bot-process.ts';
import { cardButtons } from './cards.ts';
import { PROJECT, USER, addService, closings, cloudRunBotEnv, isRollback as rolledBackTo, rollbackPlan, sloServer, summary } from './rig.ts';
import { allRoles, percentile, privateRedis, quietRoom } from './support.ts';

const SECRET = 'bench-signing-secret-7a1c';
const CHANNEL = 'C0BENCH';
const REGIONS = ['us-central1', 'us-east1', 'europe-west1', 'europe-west4', 'asia-northeast1'] as const;
const REVISIONS = { stable: 'api-00001-aaa', canary: 'api-00002-bbb' };
const isRollback = rolledBackTo(REVISIONS);
/** The target whose metric the benchmark turns bad. */
const BAD = 2;

export interface TrainRollbackResult {
  /** Metric turned bad → the last of the 5 rollback UpdateService calls received. */
  readonly toLast: { p50: number; p99: number; max: number; samples: number };
  /** First → last of the 5 rollback UpdateService calls of one rollback. */
  readonly spread: { p50: number; max: number };
}

const approveButton = (fake: FakeSlack, skip: number): string | undefined => cardButtons(fake, CHANNEL, skip).find((b) => b.action_id === 'approve')?.value;

export async function trainRollback(options: { samples?: number; log?: (line: string) => void } = {}): Promise<TrainRollbackResult> {
  const samples = options.samples ?? 10;
  const log = options.log ?? (() => undefined);
  const redis = await privateRedis();
  const fake = await startFakeSlack({ usergroups: {} });
  const run = await startFakeCloudRun();
  const services = REGIONS.map((region) => `projects/${PROJECT}/locations/${region}/services/api`);
  for (const service of services) addService(run, service, REVISIONS);
  // Each target's metric source: an SLO snapshot per region; the benchmark turns one of them bad.
  let bad = false;
  const slo = await sloServer((url) => bad && url.includes(`/slo/${REGIONS[BAD]}`));
  const dir = mkdtempSync(join(tmpdir(), 'bench-train-rollback-'));
  const where = { targets: REGIONS.map((region) => ({ platform: 'cloud-run', project: PROJECT, region, name: 'api', ...REVISIONS })), strategy: 'lockstep' };
  // The stage gate runs once per target, each asking its own region's snapshot.
  writeFileSync(join(dir, 'train-bench.yaml'), stringify(rollbackPlan({ name: 'train-bench', channel: CHANNEL, where, sloUrl: slo.url, sloPath: '/slo/{region}', checkEvery: '1s' })));
  let bot: BotProcess | undefined;
  const toLast: number[] = [];
  const spread: number[] = [];
  try {
    bot = await startBotProcess(cloudRunBotEnv({ fake, run, redis, dir, secret: SECRET }));
    const url = `http://127.0.0.1:${bot.port}/slack/events`;
    const send = (body: string) => postToSlackEndpoint(url, body, { secret: SECRET });
    /** Resolves with the `n` updates (one per service) matching `predicate` from `since` on. */
    const updatesOfAll = (since: number, predicate: (traffic: ReadonlyArray<{ revision: string; percent: number }>) => boolean) =>
      Promise.all(services.map((name) => run.waitForUpdate((u) => u.name === name && u.at >= since && u.code === 0 && predicate(u.traffic))));
    for (let i = 0; i < samples; i++) {
      bad = false;
      const before = fake.channelMessages(CHANNEL).length;
      await send(slashCommand({ command: '/cutover', text: 'start train-bench', user_id: USER, channel_id: CHANNEL, response_url: fake.responseUrl(`start${i}`) }));
      const value = await fake.waitFor(() => approveButton(fake, before), { timeoutMs: 30_000 });
      const since = Date.now();
      const shifted = updatesOfAll(since, (traffic) => traffic.some((t) => t.revision === REVISIONS.canary && t.percent === 50));
      await send(blockAction({ user: USER, channel: CHANNEL, actionId: 'approve', value, responseUrl: fake.responseUrl(`approve${i}`) }));
      await shifted;
      // Let the soak settle into its rhythm of checks, then turn one region bad at a random moment.
      await new Promise((r) => setTimeout(r, 1_200 + Math.random() * 1_000));
      const start = Date.now();
      const rolledBack = updatesOfAll(start, isRollback);
      bad = true;
      const updates = await rolledBack;
      const times = updates.map((u) => u.at);
      toLast.push(Math.max(...times) - start);
      spread.push(Math.max(...times) - Math.min(...times));
      // Wait for the train to end (its closing message) so its services are free for the next one.
      await fake.waitFor(() => closings(fake, CHANNEL, 'train-bench') > i, { timeoutMs: 30_000 });
      if (i % 5 === 4) log(`  ${i + 1}/${samples} train rollbacks`);
    }
    return {
      toLast: summary(toLast),
      spread: { p50: percentile(spread, 50), max: Math.max(...spread) },
    };
  } finally {
    await bot?.stop();
    slo.close();
    run.close();
    await fake.close();
    await redis.stop();
  }
}

export interface ManyTrainsResult {
  readonly trains: number;
  readonly targets: number;
  readonly completed: number;
  readonly checks: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly rssPeakMb: number;
  readonly failedJobs: number;
  readonly jobsRunTwice: number;
  readonly targetsWithWrongSteps: number;
  readonly wallMs: number;
}

const STAGES = [1, 5, 10, 25, 50, 100];

const trainDocument = (i: number, targets: number) => ({
  name: `train-${i}`,
  targets: Array.from({ length: targets }, (_x, t) => ({ platform: 'simulated', name: `train-${i}-t${t}` })),
  strategy: 'lockstep',
  channel: 'C0BENCH',
  stages: STAGES,
  soak: '10s',
  check_every: '1s',
  promotion: 'auto',
  gates: {
    preflight: [{ id: 'G1', command: 'true' }],
    // One SLO gate per target, and the whole train's probe once.
    stage: [
      { id: 'slo', slo_snapshot: { url: 'https://example.test/slo/{target}', max_p95_latency_ms: 600, max_error_budget_ratio: 0.02 } },
      { id: 'probe', http: { url: 'https://example.test/probe' }, scope: 'once' },
    ],
  },
  approvals: { go_no_go: { roles: ['release-manager'], min: 1, two_person: false }, promote: { roles: ['release-manager'] }, rollback: { roles: ['release-manager'] } },
  roles: { 'release-manager': ['U0BENCH'] },
  updates: { every: '30s' },
});

export async function manyTrains(options: { trains?: number; targets?: number; log?: (line: string) => void } = {}): Promise<ManyTrainsResult> {
  const count = options.trains ?? 50;
  const targets = options.targets ?? 5;
  const log = options.log ?? (() => undefined);
  const server = await privateRedis();
  const lags: number[] = [];
  const completions = new Map<string, number>();
  let failedJobs = 0;
  let runtime: Runtime | undefined;
  const started = Date.now();
  try {
    runtime = await createRuntime({
      redisUrl: server.url,
      prefix: 'bench',
      room: quietRoom,
      roles: allRoles,
      log: silentLogger(),
      evidenceRoot: mkdtempSync(join(tmpdir(), 'bench-evidence-')),
      onCheckLag: (ms) => lags.push(ms),
    });
    for (const worker of runtime.workers?.all ?? []) {
      worker.on('completed', (job) => completions.set(String(job.id), (completions.get(String(job.id)) ?? 0) + 1));
      worker.on('failed', () => failedJobs++);
    }
    const world = new SimulatedWorld(runtime.redis, runtime.store.prefix);
    const vocabulary = buildVocabulary({}, () => world);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const parsed = parsePlanDocument(trainDocument(i, targets), vocabulary);
      if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
      const result = await runtime.engine.start(parsed.plan, 'U0BENCH');
      if (!result.ok) throw new Error(`start ${i}: ${result.refusal.code}`);
      ids.push(result.state.id);
    }
    log(`  started ${count} trains of ${targets} targets in ${Date.now() - started} ms`);
    let rssPeak = 0;
    const waiting = new Set(ids);
    const approved = new Set<string>();
    for (let round = 0; waiting.size > 0; round++) {
      if (round > 600) throw new Error(`${waiting.size} trains did not finish within 10 minutes`);
      await new Promise((r) => setTimeout(r, approved.size < ids.length ? 200 : 1000));
      for (const id of [...waiting]) {
        const state = await runtime.store.loadState(id);
        if (!state) continue;
        if (state.phase === 'awaiting_go_no_go' && !approved.has(id)) {
          approved.add(id);
          await runtime.engine.command(id, { type: 'approve', by: 'U0BENCH' });
        }
        if (isTerminal(state.phase)) waiting.delete(id);
      }
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      if (round % 10 === 0) log(`  ${ids.length - waiting.size}/${ids.length} trains finished, ${lags.length} checks so far`);
    }
    let completed = 0;
    let wrong = 0;
    for (const [i, id] of ids.entries()) {
      const state = await runtime.store.loadState(id);
      if (state?.outcome === 'completed') completed++;
      for (let t = 0; t < targets; t++) {
        const steps = (await world.shifts(`simulated:train-${i}-t${t}`)).map((s) => s.percent).join(',');
        if (steps !== STAGES.join(',')) wrong++;
      }
    }
    return {
      trains: count,
      targets,
      completed,
      checks: lags.length,
      lagP50Ms: percentile(lags, 50),
      lagP99Ms: percentile(lags, 99),
      lagMaxMs: Math.max(...lags),
      rssPeakMb: rssPeak / 2 ** 20,
      failedJobs,
      jobsRunTwice: [...completions.entries()].filter(([id, n]) => n > 1 && /^(shift|check|preflight|rollback|stuck|timer|cpgates)\./.test(id)).length,
      targetsWithWrongSteps: wrong,
      wallMs: Date.now() - started,
    };
  } finally {
    await runtime?.close({ force: true });
    await server.stop();
  }
}

if (import.meta.main) {
  const which = process.argv[2] ?? 'both';
  if (which !== 'many') console.log(JSON.stringify(await trainRollback({ samples: Number(process.argv[3] ?? 10), log: console.log }), null, 2));
  if (which !== 'rollback') console.log(JSON.stringify(await manyTrains({ log: console.log }), null, 2));
}
