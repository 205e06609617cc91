// Benchmark 1: the cost of an ack. In each of 10 interleaved rounds (the side going first
// alternating), 500 signed slash commands and 500 signed button clicks at concurrency 50 against
// /slack/events of the real bot (a child process, as in production, with a cutover soaking so that
// commands and clicks have real work behind their acks), and the same against a bare Bolt app that
// only acks. Measured per round and side: the process's CPU time (/proc/<pid>/stat utime + stime)
// over the round ÷ its requests (for the bot, that includes the work each command and click queues
// and its reply: what an ack costs the bot in all), and the ack latency percentiles; the ratios bot ÷
// bare are taken within each round and reported as their median and range. CPU time is the stable
// figure on a shared machine; latency percentiles move with the neighbours.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack-api.ts';
import { cpuMs, startBotProcess, type BotProcess } from './bot-process.ts';
import { blockAction, postToSlackEndpoint, slashCommand } from '../test/support/slack-requests.ts';
import { planYaml } from '../test/support/plans.ts';
import { cardButtons, type Button } from './cards.ts';
import { fireFromChild as fire } from './load.ts';
import { botEnv, percentile, privateRedis } from './support.ts';

const SECRET = 'bench-signing-secret-1234';
const WARM_UP = 200;
const CHANNEL = 'C0BENCH';
const USER = 'U0RM1';

interface Side {
  /** Medians over the rounds of each round's percentile. */
  readonly commandsP50: number;
  readonly commandsP99: number;
  readonly clicksP50: number;
  readonly clicksP99: number;
  readonly failures: number;
  /** Median over the rounds of the process's CPU time (user + system) over a round ÷ its requests. */
  readonly cpuMsPerRequest: number;
}

/** A ratio (bot ÷ bare Bolt) taken within each round: the median and the range over the rounds. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface AckResult {
  readonly rounds: number;
  readonly bot: Side;
  readonly bare: Side;
  readonly cpuRatio: Spread;
  readonly commandsP99Ratio: Spread;
  readonly clicksP99Ratio: Spread;
}

const buttons = (fake: FakeSlack): Button[] => cardButtons(fake, CHANNEL);

async function bare(): Promise<{ url: string; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'bare-bolt.ts')], { env: { ...process.env, SLACK_SIGNING_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === 'bot ready') resolve(entry.port as number);
    });
  });
  return { url: `http://127.0.0.1:${port}/slack/events`, pid: child.pid as number, stop: () => child.kill('SIGTERM') };
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

export async function ackLatency(options: { count?: number; rounds?: number; concurrency?: number; log?: (line: string) => void } = {}): Promise<AckResult> {
  const count = options.count ?? 500;
  const rounds_ = options.rounds ?? 10;
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
  let yardstick: { url: string; pid: number; stop: () => void } | undefined;
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

    // Each burst starts on a quiet bot: the bot's side waits until the previous burst is answered
    // (its commands' work done), so that the CPU counted for a burst is that burst's.
    let answered = WARM_UP;
    const settle = async (target: string) => {
      if (target !== url) return;
      answered += count;
      const expected = answered;
      await fake.waitFor((f) => f.responses().length >= expected, { timeoutMs: 300_000 });
    };
    const measure = async (target: string, pid: number) => {
      const cpuBefore = cpuMs(pid);
      const c = await fire(target, commands, SECRET, concurrency);
      await settle(target);
      const k = await fire(target, clicks, SECRET, concurrency);
      await settle(target);
      const cpu = cpuMs(pid) - cpuBefore;
      const cs = stats(c.latencies);
      const ks = stats(k.latencies);
      return { commandsP50: cs.p50, commandsP99: cs.p99, clicksP50: ks.p50, clicksP99: ks.p99, failures: c.failures + k.failures, cpuMsPerRequest: cpu / (2 * count) };
    };
    // Each side warmed up first.
    await fire(yardstick.url, [...commands.slice(0, 100), ...clicks.slice(0, 100)], SECRET, concurrency);
    await fire(url, [...commands.slice(0, 100), ...clicks.slice(0, 100)], SECRET, concurrency);
    await fake.waitFor((f) => f.responses().length >= WARM_UP, { timeoutMs: 300_000 });
    // Two shared cores make any single burst noisy: interleaved rounds, the side that goes first
    // alternating, and the ratio taken within each round (both sides under the same neighbours).
    const rounds: Array<{ bare: Awaited<ReturnType<typeof measure>>; bot: Awaited<ReturnType<typeof measure>> }> = [];
    for (let round = 1; round <= rounds_; round++) {
      const botFirst = round % 2 === 1;
      const first = botFirst ? await measure(url, bot.pid) : await measure(yardstick.url, yardstick.pid);
      const second = botFirst ? await measure(yardstick.url, yardstick.pid) : await measure(url, bot.pid);
      const r = botFirst ? { bot: first, bare: second } : { bot: second, bare: first };
      rounds.push(r);
      log(`  round ${round}/${rounds_} (${botFirst ? 'bot first' : 'bare Bolt first'}): p99 commands ${r.bot.commandsP99.toFixed(0)} / ${r.bare.commandsP99.toFixed(0)} ms, clicks ${r.bot.clicksP99.toFixed(0)} / ${r.bare.clicksP99.toFixed(0)} ms, CPU per request ${r.bot.cpuMsPerRequest.toFixed(2)} / ${r.bare.cpuMsPerRequest.toFixed(2)} ms (bot / bare)`);
    }
    const spread = (values: number[]) => ({ median: percentile(values, 50), min: Math.min(...values), max: Math.max(...values) });
    const median = (side: 'bare' | 'bot', key: keyof Awaited<ReturnType<typeof measure>>) => percentile(rounds.map((r) => r[side][key]), 50);
    const summary = (side: 'bare' | 'bot') => ({
      commandsP50: median(side, 'commandsP50'),
      commandsP99: median(side, 'commandsP99'),
      clicksP50: median(side, 'clicksP50'),
      clicksP99: median(side, 'clicksP99'),
      failures: rounds.reduce((n, r) => n + r[side].failures, 0),
      cpuMsPerRequest: median(side, 'cpuMsPerRequest'),
    });
    return {
      rounds: rounds.length,
      bot: summary('bot'),
      bare: summary('bare'),
      cpuRatio: spread(rounds.map((r) => r.bot.cpuMsPerRequest / r.bare.cpuMsPerRequest)),
      commandsP99Ratio: spread(rounds.map((r) => r.bot.commandsP99 / r.bare.commandsP99)),
      clicksP99Ratio: spread(rounds.map((r) => r.bot.clicksP99 / r.bare.clicksP99)),
    };
  } finally {
    yardstick?.stop();
    await bot?.stop();
    await fake.close();
    await redis.stop();
  }
}

if (import.meta.main) console.log(JSON.stringify(await ackLatency({ count: Number(process.argv[2] ?? 500), rounds: Number(process.argv[3] ?? 10), log: console.log }), null, 2));
