// Benchmark 5: takeover after a crash. The bot (a child process, `node src/app/main.ts` as
// `npm start` runs it) has a cutover soaking at 50 % on the local Cloud Run gRPC server (the shift
// to it over and confirmed); a signed
// /rollback is acked, the bot is SIGKILLed the moment the ack arrives and started again at once.
// Measured: from the ack to the UpdateService that sets the canary to 0 %, as the Cloud Run server
// records it. The command (and the rollback, if it had begun) was held by the dead process: this is
// how long the restarted one takes to take it over (the commands and rollback queues' short locks
// and stalled checks) plus its own start-up. Each run uses its own service, plan and channel, so no
// run waits for the one before to close.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startFakeCloudRun, type UpdateRecord } from '../test/fakes/gcp/cloud-run.ts';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack-api.ts';
import { blockAction, postToSlackEndpoint, slashCommand } from '../test/support/slack-requests.ts';
import { startBotProcess, type BotProcess } from './bot-process.ts';
import { cardButtons } from './cards.ts';
import { PROJECT, USER, addService, cloudRunBotEnv, rollbackPlan, sloServer, summary } from './rig.ts';
import { privateRedis } from './support.ts';

const SECRET = 'bench-signing-secret-9012';
const REGION = 'us-central1';

export interface TakeoverResult {
  /** From the ack of /rollback to Cloud Run's UpdateService to 0 %, the bot killed at the ack. */
  readonly ackToRollback: { p50: number; p99: number; max: number; samples: number };
  /** From the kill to the restarted bot answering /readyz (part of the above). */
  readonly restart: { p50: number; p99: number; samples: number };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export async function takeover(options: { samples?: number; log?: (line: string) => void } = {}): Promise<TakeoverResult> {
  const samples = options.samples ?? 20;
  const log = options.log ?? (() => undefined);
  const redis = await privateRedis();
  const fake: FakeSlack = await startFakeSlack({ usergroups: {} });
  const run = await startFakeCloudRun();
  // The metric source of the plans' gates: always healthy (the rollback here is a person's).
  const slo = await sloServer();
  const dir = mkdtempSync(join(tmpdir(), 'bench-takeover-'));
  const runs = Array.from({ length: samples }, (_, i) => {
    const name = `takeover-${i}`;
    const service = `projects/${PROJECT}/locations/${REGION}/services/${name}`;
    const revisions = { stable: `${name}-00001-aaa`, canary: `${name}-00002-bbb` };
    addService(run, service, revisions);
    const channel = `C0TAKEOVER${i}`;
    const where = { service: { platform: 'cloud-run', project: PROJECT, region: REGION, name, ...revisions } };
    writeFileSync(join(dir, `${name}.yaml`), stringify(rollbackPlan({ name, channel, where, sloUrl: slo.url, sloPath: '/slo', checkEvery: '1m' })));
    return { name, service, revisions, channel };
  });
  const env = cloudRunBotEnv({ fake, run, redis, dir, secret: SECRET });
  let bot: BotProcess | undefined;
  const ackToRollback: number[] = [];
  const restart: number[] = [];
  try {
    bot = await startBotProcess(env);
    for (const [i, r] of runs.entries()) {
      const send = (body: string) => postToSlackEndpoint(`http://127.0.0.1:${bot!.port}/slack/events`, body, { secret: SECRET });
      const mine = (u: UpdateRecord) => u.name === r.service && u.code === 0;
      await send(slashCommand({ command: '/cutover', text: `start ${r.name}`, user_id: USER, channel_id: r.channel, response_url: fake.responseUrl(`start${i}`) }));
      const approve = await fake.waitFor(() => cardButtons(fake, r.channel).find((b) => b.action_id === 'approve')?.value, { timeoutMs: 30_000 });
      const shifted = run.waitForUpdate((u) => mine(u) && u.traffic.some((t) => t.revision === r.revisions.canary && t.percent === 50));
      await send(blockAction({ user: USER, channel: r.channel, actionId: 'approve', value: approve, responseUrl: fake.responseUrl(`approve${i}`) }));
      await within(shifted, 30_000, `${r.name}: the shift to 50 %`);
      // Soaking at 50 %: the shift is over (confirmed), as the card in the channel shows it.
      await fake.waitFor((f) => f.channelMessages(r.channel).some((m) => /: soaking at cohort 1 /.test(f.message(r.channel, m.ts)?.text ?? '')), { timeoutMs: 30_000 });

      const rolledBack = run.waitForUpdate((u) => mine(u) && u.traffic.some((t) => t.revision === r.revisions.stable && t.percent === 100) && !u.traffic.some((t) => t.revision === r.revisions.canary && t.percent > 0));
      const ack = await send(slashCommand({ command: '/rollback', text: `${r.name} benchmark`, user_id: USER, channel_id: r.channel, response_url: fake.responseUrl(`rollback${i}`) }));
      const acked = Date.now();
      await bot.kill();
      const killed = Date.now();
      if (ack.status !== 200 || ack.body !== '') throw new Error(`${r.name}: /rollback answered ${ack.status} ${ack.body}`);
      bot = await startBotProcess(env);
      restart.push(Date.now() - killed);
      const update = await within(rolledBack, 120_000, `${r.name}: the rollback after the restart`);
      ackToRollback.push(update.at - acked);
      log(`  ${i + 1}/${samples}: ack → UpdateService 0 % in ${update.at - acked} ms (the restart took ${restart.at(-1)} ms of it)`);
    }
    return { ackToRollback: summary(ackToRollback), restart: summary(restart) };
  } finally {
    await bot?.stop();
    slo.close();
    run.close();
    await fake.close();
    await redis.stop();
  }
}

if (import.meta.main) console.log(JSON.stringify(await takeover({ samples: Number(process.argv[2] ?? 20), log: console.log }), null, 2));
