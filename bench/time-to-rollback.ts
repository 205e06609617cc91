// Benchmark 2: time to rollback on Cloud Run, through the real bot (a child process) and the real
// Cloud Run adapter into the local Cloud Run server.
//  (a) from the moment the metric source turns bad to the moment the Cloud Run server receives the
//      rollback UpdateService, with check_every 1s;
//  (b) from a signed /rollback command to that call.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startFakeCloudRun, type FakeCloudRun } from '../test/fakes/gcp/cloud-run.ts';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack-api.ts';
import { startBotProcess, type BotProcess } from './bot-process.ts';
import { blockAction, postToSlackEndpoint, slashCommand } from '../test/support/slack-requests.ts';
import { cardButtons } from './cards.ts';
import { PROJECT, USER, addService, closings, cloudRunBotEnv, isRollback as rolledBackTo, rollbackPlan, sloServer, summary } from './rig.ts';
import { privateRedis } from './support.ts';

const SECRET = 'bench-signing-secret-5678';
const CHANNEL = 'C0BENCH';
const REGION = 'us-central1';
const SERVICE = `projects/${PROJECT}/locations/${REGION}/services/bench-svc`;
const REVISIONS = { stable: 'bench-svc-00001-aaa', canary: 'bench-svc-00002-bbb' };
const isRollback = rolledBackTo(REVISIONS);

export interface RollbackResult {
  readonly fromBadMetric: { p50: number; p99: number; max: number; samples: number };
  readonly fromCommand: { p50: number; p99: number; max: number; samples: number };
}

const approveButton = (fake: FakeSlack, skip: number): string | undefined => cardButtons(fake, CHANNEL, skip).find((b) => b.action_id === 'approve')?.value;

export async function timeToRollback(options: { samples?: number; log?: (line: string) => void } = {}): Promise<RollbackResult> {
  const samples = options.samples ?? 20;
  const log = options.log ?? (() => undefined);
  const redis = await privateRedis();
  const fake = await startFakeSlack({ usergroups: {} });
  const run = await startFakeCloudRun();
  addService(run, SERVICE, REVISIONS);
  // The metric source: an SLO snapshot the benchmark turns bad at a moment of its choosing.
  let bad = false;
  const slo = await sloServer(() => bad);
  const dir = mkdtempSync(join(tmpdir(), 'bench-rollback-'));
  const where = { service: { platform: 'cloud-run', project: PROJECT, region: REGION, name: 'bench-svc', ...REVISIONS } };
  writeFileSync(join(dir, 'rollback-bench.yaml'), stringify(rollbackPlan({ name: 'rollback-bench', channel: CHANNEL, where, sloUrl: slo.url, sloPath: '/slo', checkEvery: '1s' })));
  let bot: BotProcess | undefined;
  const fromBadMetric: number[] = [];
  const fromCommand: number[] = [];
  try {
    bot = await startBotProcess(cloudRunBotEnv({ fake, run, redis, dir, secret: SECRET }));
    const url = `http://127.0.0.1:${bot.port}/slack/events`;
    const send = (body: string) => postToSlackEndpoint(url, body, { secret: SECRET });
    for (let i = 0; i < 2 * samples; i++) {
      bad = false;
      const before = fake.channelMessages(CHANNEL).length;
      await send(slashCommand({ command: '/cutover', text: 'start rollback-bench', user_id: USER, channel_id: CHANNEL, response_url: fake.responseUrl(`start${i}`) }));
      const value = await fake.waitFor(() => approveButton(fake, before), { timeoutMs: 30_000 });
      const since = Date.now();
      const shifted = run.waitForUpdate((u) => u.at >= since && u.code === 0 && u.traffic.some((t) => t.revision === REVISIONS.canary && t.percent === 50));
      await send(blockAction({ user: USER, channel: CHANNEL, actionId: 'approve', value, responseUrl: fake.responseUrl(`approve${i}`) }));
      await shifted;
      // Let the soak settle into its rhythm of checks, then turn the world bad at a random moment.
      await new Promise((r) => setTimeout(r, 1_200 + Math.random() * 1_000));
      const start = Date.now();
      const rolledBack = run.waitForUpdate((u) => u.at >= start && u.code === 0 && isRollback(u.traffic));
      if (i % 2 === 0) bad = true;
      else await send(slashCommand({ command: '/rollback', text: 'benchmark', user_id: USER, channel_id: CHANNEL, response_url: fake.responseUrl(`rollback${i}`) }));
      const update = await rolledBack;
      (i % 2 === 0 ? fromBadMetric : fromCommand).push(update.at - start);
      // Wait for the cutover to end (its closing message) so the service is free for the next one.
      await fake.waitFor(() => closings(fake, CHANNEL, 'rollback-bench') > i, { timeoutMs: 30_000 });
      if (i % 10 === 9) log(`  ${i + 1}/${2 * samples} rollbacks`);
    }
    return { fromBadMetric: summary(fromBadMetric), fromCommand: summary(fromCommand) };
  } finally {
    await bot?.stop();
    slo.close();
    run.close();
    await fake.close();
    await redis.stop();
  }
}

if (import.meta.main) console.log(JSON.stringify(await timeToRollback({ samples: Number(process.argv[2] ?? 20), log: console.log }), null, 2));
