// Benchmark 2: time to rollback on Cloud Run, through the real bot (a child process) and the real
// Cloud Run adapter into the local Cloud Run server.
//  (a) from the moment the metric source turns bad to the moment the Cloud Run server receives the
//      rollback UpdateService, with check_every 1s;
//  (b) from a signed /rollback command to that call.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startFakeCloudRun, type FakeCloudRun } from '../test/fakes/gcp/cloud-run.ts';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack-api.ts';
import { startBotProcess, type BotProcess } from './bot-process.ts';
import { blockAction, postToSlackEndpoint, slashCommand } from '../test/support/slack-requests.ts';
import { cardButtons } from './cards.ts';
import { botEnv, percentile, privateRedis } from './support.ts';

const SECRET = 'bench-signing-secret-5678';
const CHANNEL = 'C0BENCH';
const USER = 'U0BENCH';
const PROJECT = 'bench-project';
const REGION = 'us-central1';
const SERVICE = `projects/${PROJECT}/locations/${REGION}/services/bench-svc`;
const STABLE = 'bench-svc-00001-aaa';
const CANARY = 'bench-svc-00002-bbb';

export interface RollbackResult {
  readonly fromBadMetric: { p50: number; p99: number; max: number; samples: number };
  readonly fromCommand: { p50: number; p99: number; max: number; samples: number };
}

const approveButton = (fake: FakeSlack, skip: number): string | undefined => cardButtons(fake, CHANNEL, skip).find((b) => b.action_id === 'approve')?.value;

const isRollback = (traffic: ReadonlyArray<{ revision: string; percent: number }>) =>
  traffic.some((t) => t.revision === STABLE && t.percent === 100) && !traffic.some((t) => t.revision === CANARY && t.percent > 0);

export async function timeToRollback(options: { samples?: number; log?: (line: string) => void } = {}): Promise<RollbackResult> {
  const samples = options.samples ?? 20;
  const log = options.log ?? (() => undefined);
  const redis = await privateRedis();
  const fake = await startFakeSlack({ usergroups: {} });
  const run = await startFakeCloudRun();
  run.addService(SERVICE, { traffic: [{ revision: STABLE, percent: 100 }] });
  run.addRevision(`${SERVICE}/revisions/${STABLE}`);
  run.addRevision(`${SERVICE}/revisions/${CANARY}`);
  // The metric source: an SLO snapshot the benchmark turns bad at a moment of its choosing.
  let bad = false;
  const slo = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ p95_latency_ms: bad ? 2_000 : 120, error_budget_ratio: 0.001 }));
  });
  await new Promise<void>((resolve) => slo.listen(0, '127.0.0.1', resolve));
  const sloUrl = `http://127.0.0.1:${(slo.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'bench-rollback-'));
  writeFileSync(
    join(dir, 'rollback-bench.yaml'),
    stringify({
      name: 'rollback-bench',
      service: { platform: 'cloud-run', project: PROJECT, region: REGION, name: 'bench-svc', stable: STABLE, canary: CANARY },
      channel: CHANNEL,
      stages: [50, 100],
      soak: '1h',
      check_every: '1s',
      gates: {
        preflight: [{ id: 'health', http: { url: `${sloUrl}/healthz` } }],
        stage: [{ id: 'slo', slo_snapshot: { url: `${sloUrl}/slo`, max_p95_latency_ms: 600 } }],
      },
      approvals: { go_no_go: { roles: ['release-manager'], min: 1, two_person: false }, promote: { roles: ['release-manager'] }, rollback: { roles: ['release-manager'] } },
      roles: { 'release-manager': [USER] },
    }),
  );
  let bot: BotProcess | undefined;
  const fromBadMetric: number[] = [];
  const fromCommand: number[] = [];
  try {
    bot = await startBotProcess({
      ...botEnv({ token: fake.token, secret: SECRET, apiUrl: fake.apiUrl, redisUrl: redis.url, dir }),
      CLOUD_RUN_EMULATOR_HOST: run.address,
      METADATA_SERVER_DETECTION: 'none',
    });
    const url = `http://127.0.0.1:${bot.port}/slack/events`;
    const send = (body: string) => postToSlackEndpoint(url, body, { secret: SECRET });
    for (let i = 0; i < 2 * samples; i++) {
      bad = false;
      const before = fake.channelMessages(CHANNEL).length;
      await send(slashCommand({ command: '/cutover', text: 'start rollback-bench', user_id: USER, channel_id: CHANNEL, response_url: fake.responseUrl(`start${i}`) }));
      const value = await fake.waitFor(() => approveButton(fake, before), { timeoutMs: 30_000 });
      const since = Date.now();
      const shifted = run.waitForUpdate((u) => u.at >= since && u.code === 0 && u.traffic.some((t) => t.revision === CANARY && t.percent === 50));
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
      await fake.waitFor((f) => f.calls.filter((c) => c.method === 'files.completeUploadExternal').length > i, { timeoutMs: 30_000 });
      if (i % 10 === 9) log(`  ${i + 1}/${2 * samples} rollbacks`);
    }
    const summary = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99), max: Math.max(...values), samples: values.length });
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
