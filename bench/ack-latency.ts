// Benchmark 1: ack latency. 2,000 signed slash commands and 2,000 signed button clicks at
// concurrency 50 against /slack/events of the real bot (a child process, as in production, with a
// cutover soaking so that commands and clicks have real work behind their acks), and the same
// against a bare Bolt app that only acks, in the same run.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack-api.ts';
import { startBotProcess, type BotProcess } from './bot-process.ts';
import { blockAction, postToSlackEndpoint, slashCommand } from '../test/support/slack-requests.ts';
import { planYaml } from '../test/support/plans.ts';
import { cardButtons, type Button } from './cards.ts';
import { fireFromChild as fire } from './load.ts';
import { botEnv, percentile, privateRedis } from './support.ts';

const SECRET = 'bench-signing-secret-1234';
const ROUNDS = 3;
const WARM_UP = 200;
const CHANNEL = 'C0BENCH';
const USER = 'U0RM1';

export interface AckResult {
  readonly bot: { commandsP50: number; commandsP99: number; clicksP50: number; clicksP99: number; failures: number };
  readonly bare: { commandsP50: number; commandsP99: number; clicksP50: number; clicksP99: number; failures: number };
}

const buttons = (fake: FakeSlack): Button[] => cardButtons(fake, CHANNEL);

async function bare(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'bare-bolt.ts')], { env: { ...process.env, SLACK_SIGNING_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === 'bot ready') resolve(entry.port as number);
    });
  });
  return { url: `http://127.0.0.1:${port}/slack/events`, stop: () => child.kill('SIGTERM') };
}

function workload(fake: FakeSlack, cardButtons: Button[], count: number): { commands: string[]; clicks: string[] } {
  // Each is answered through response_url by a command job, and changes nothing (help is answered in
  // the ack itself, so it is left out: the benchmark counts replies to know a burst is answered).
  const texts: Array<['/cutover' | '/promote' | '/rollback', string]> = [
    ['/cutover', 'status'],
    ['/cutover', 'resume'],
    ['/promote', ''],
    ['/cutover', 'plans'],
  ];
  const commands = Array.from({ length: count }, (_v, i) => {
    const [command, text] = texts[i % texts.length]!;
    return slashCommand({ command, text, user_id: USER, channel_id: CHANNEL, response_url: fake.responseUrl(`bench-c${i}`) });
  });
  // Clicks the engine must read the state for and refuse (a soak is running): no state changes.
  const promote = cardButtons.find((b) => b.action_id === 'promote') ?? cardButtons.find((b) => b.action_id === 'hold') ?? cardButtons[0]!;
  const clicks = Array.from({ length: count }, (_v, i) =>
    blockAction({ user: USER, channel: CHANNEL, actionId: i % 2 === 0 ? promote.action_id : 'approve', value: i % 2 === 0 ? promote.value : JSON.stringify({ c: JSON.parse(promote.value).c, s: 1 }), responseUrl: fake.responseUrl(`bench-a${i}`) }),
  );
  return { commands, clicks };
}

const stats = (latencies: number[]) => ({ p50: percentile(latencies, 50), p99: percentile(latencies, 99) });

export async function ackLatency(options: { count?: number; concurrency?: number; log?: (line: string) => void } = {}): Promise<AckResult> {
  const count = options.count ?? 2000;
  const concurrency = options.concurrency ?? 50;
  const log = options.log ?? (() => undefined);
  const redis = await privateRedis();
  const fake = await startFakeSlack({ usergroups: { S0ONCALL: ['U0ONCALL'], S0MANAGERS: ['U0MGR'] } });
  const dir = mkdtempSync(join(tmpdir(), 'bench-ack-'));
  writeFileSync(
    join(dir, 'ack-bench.yaml'),
    planYaml((p) => {
      p.name = 'ack-bench';
      p.channel = CHANNEL;
      p.stages = [1, 100];
      p.soak = '1h';
      p.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
    }),
  );
  let bot: BotProcess | undefined;
  let yardstick: { url: string; stop: () => void } | undefined;
  try {
    bot = await startBotProcess(botEnv({ token: fake.token, secret: SECRET, apiUrl: fake.apiUrl, redisUrl: redis.url, dir }));
    const url = `http://127.0.0.1:${bot.port}/slack/events`;
    // A cutover soaking in the channel: started and approved through Slack like any other.
    await postToSlackEndpoint(url, slashCommand({ command: '/cutover', text: 'start ack-bench', user_id: USER, channel_id: CHANNEL, response_url: fake.responseUrl('start') }), { secret: SECRET });
    await fake.waitFor(() => buttons(fake).find((b) => b.action_id === 'approve'), { timeoutMs: 30_000 });
    const approve = buttons(fake).find((b) => b.action_id === 'approve')!;
    await postToSlackEndpoint(url, blockAction({ user: 'U0RM2', channel: CHANNEL, actionId: 'approve', value: approve.value, responseUrl: fake.responseUrl('approve') }), { secret: SECRET });
    await fake.waitFor(() => buttons(fake).find((b) => b.action_id === 'hold'), { timeoutMs: 30_000 });
    const { commands, clicks } = workload(fake, buttons(fake), count);
    yardstick = await bare();

    // Each burst starts on a quiet bot: the bot's side waits until the previous burst is answered.
    let answered = WARM_UP;
    const settle = async (target: string) => {
      if (target !== url) return;
      answered += count;
      const expected = answered;
      await fake.waitFor((f) => f.responses().length >= expected, { timeoutMs: 300_000 });
    };
    const measure = async (target: string) => {
      const c = await fire(target, commands, SECRET, concurrency);
      await settle(target);
      const k = await fire(target, clicks, SECRET, concurrency);
      await settle(target);
      const cs = stats(c.latencies);
      const ks = stats(k.latencies);
      return { commandsP50: cs.p50, commandsP99: cs.p99, clicksP50: ks.p50, clicksP99: ks.p99, failures: c.failures + k.failures };
    };
    // Two shared cores make any single run noisy: three rounds, each the bare app then the bot,
    // and the median of each figure across rounds. Each side is warmed up first.
    await fire(yardstick.url, [...commands.slice(0, 100), ...clicks.slice(0, 100)], SECRET, concurrency);
    await fire(url, [...commands.slice(0, 100), ...clicks.slice(0, 100)], SECRET, concurrency);
    await fake.waitFor((f) => f.responses().length >= WARM_UP, { timeoutMs: 300_000 });
    const rounds: Array<{ bare: Awaited<ReturnType<typeof measure>>; bot: Awaited<ReturnType<typeof measure>> }> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      log(`  round ${round}/${ROUNDS}: bare Bolt app, then the bot`);
      const bare = await measure(yardstick.url);
      const bot = await measure(url);
      rounds.push({ bare, bot });
    }
    const median = (side: 'bare' | 'bot', key: keyof Awaited<ReturnType<typeof measure>>) => percentile(rounds.map((r) => r[side][key]), 50);
    const summary = (side: 'bare' | 'bot') => ({
      commandsP50: median(side, 'commandsP50'),
      commandsP99: median(side, 'commandsP99'),
      clicksP50: median(side, 'clicksP50'),
      clicksP99: median(side, 'clicksP99'),
      failures: rounds.reduce((n, r) => n + r[side].failures, 0),
    });
    const bareResult = summary('bare');
    const botResult = summary('bot');
    return { bot: botResult, bare: bareResult };
  } finally {
    yardstick?.stop();
    await bot?.stop();
    await fake.close();
    await redis.stop();
  }
}

if (import.meta.main) console.log(JSON.stringify(await ackLatency({ count: Number(process.argv[2] ?? 2000), log: console.log }), null, 2));
