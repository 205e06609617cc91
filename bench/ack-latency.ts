// Benchmark 1: the cost of an ack. In each of 10 interleaved rounds (the side going first turning
// round), 500 signed slash commands and 500 signed button clicks at concurrency 50 against
// /slack/events of three sides: the bot as npm start runs it (ROLE=all), a ROLE=web process with a
// ROLE=worker process behind it (each bot with a cutover soaking, so that commands and clicks have
// real work behind their acks), and a bare Bolt app that only acks. Measured per round and side: the
// receiving process's CPU time (/proc/<pid>/stat utime + stime) over the round ÷ its requests, and
// the ack latency percentiles. The web process's CPU is the ack alone (the work runs in the worker,
// counted apart); the all-in-one bot's is the ack and the work each request queues, with its reply.
// The ratios to bare Bolt are taken within each round and reported as their median and range. CPU time is the stable
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
const CHANNEL = 'C0BENCH';
const CHANNEL_WEB = 'C0BENCHWEB';
const USER = 'U0RM1';

interface Side {
  /** Medians over the rounds of each round's percentile. */
  readonly commandsP50: number;
  readonly commandsP99: number;
  readonly clicksP50: number;
  readonly clicksP99: number;
  readonly failures: number;
  /** Median over the rounds of the receiving process's CPU time (user + system) over a round ÷ its requests. */
  readonly cpuMsPerRequest: number;
  /** The same for the ROLE=worker process behind a ROLE=web one (0 for the others). */
  readonly workCpuMsPerRequest: number;
}

type Round = Omit<Side, never>;

/** A ratio (bot ÷ bare Bolt) taken within each round: the median and the range over the rounds. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface AckResult {
  readonly rounds: number;
  /** The bot as npm start runs it by default (ROLE=all). */
  readonly bot: Side;
  /** A ROLE=web process, with a ROLE=worker process behind it doing the work. */
  readonly web: Side;
  readonly bare: Side;
  /** The ack's CPU: the web process's ÷ bare Bolt's. */
  readonly webCpuRatio: Spread;
  /** The all-in-one bot's CPU (the ack and the work behind it) ÷ bare Bolt's. */
  readonly botCpuRatio: Spread;
  readonly commandsP99Ratio: Spread;
  readonly clicksP99Ratio: Spread;
  readonly webCommandsP99Ratio: Spread;
  readonly webClicksP99Ratio: Spread;
}

const buttons = (fake: FakeSlack, channel: string): Button[] => cardButtons(fake, channel);

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

function workload(fake: FakeSlack, cardButtons: Button[], count: number, channel: string): { commands: string[]; clicks: string[] } {
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
    return slashCommand({ command, text, user_id: USER, channel_id: channel, response_url: fake.responseUrl() });
  });
  // Clicks the engine must read the state for and refuse (a soak is running): no state changes.
  const promote = cardButtons.find((b) => b.action_id === 'promote') ?? cardButtons.find((b) => b.action_id === 'hold') ?? cardButtons[0]!;
  const clicks = Array.from({ length: count }, (_v, i) =>
    blockAction({ user: USER, channel, actionId: i % 2 === 0 ? promote.action_id : 'approve', value: i % 2 === 0 ? promote.value : JSON.stringify({ c: JSON.parse(promote.value).c, s: 1 }), responseUrl: fake.responseUrl() }),
  );
  return { commands, clicks };
}

const stats = (latencies: number[]) => ({ p50: percentile(latencies, 50), p99: percentile(latencies, 99) });

/** A bot setup the load is fired at: where its acks come from, and whose CPU is its cost. */
interface Setup {
  readonly url: string;
  /** The process taking Slack's requests: its CPU is the ack's cost. */
  readonly receiver: number;
  /** The process doing the work the requests queue, when it is another (ROLE=worker). */
  readonly worker?: number;
  /** Fresh requests for a burst: each response_url takes only 5 replies, as Slack's does. */
  readonly burst: () => { commands: string[]; clicks: string[] };
}

export async function ackLatency(options: { count?: number; rounds?: number; concurrency?: number; log?: (line: string) => void } = {}): Promise<AckResult> {
  const count = options.count ?? 500;
  const rounds_ = options.rounds ?? 10;
  const concurrency = options.concurrency ?? 50;
  const log = options.log ?? (() => undefined);
  const redis = await privateRedis();
  const fake = await startFakeSlack({ usergroups: { S0ONCALL: ['U0ONCALL'], S0MANAGERS: ['U0MGR'] } });
  const processes: BotProcess[] = [];
  let yardstick: { url: string; pid: number; stop: () => void } | undefined;
  /** A plans folder for one setup: its own plan, channel and Redis prefix. */
  const setupEnv = (name: string, channel: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-ack-'));
    writeFileSync(
      join(dir, 'ack-bench.yaml'),
      planYaml((p) => {
        p.name = 'ack-bench';
        p.channel = channel;
        p.stages = [1, 100];
        p.soak = '1h';
        p.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
      }),
    );
    return { ...botEnv({ token: fake.token, secret: SECRET, apiUrl: fake.apiUrl, redisUrl: redis.url, dir }), REDIS_PREFIX: name };
  };
  /** A cutover soaking in the setup's channel, started and approved through Slack like any other; then its workload. */
  const soaking = async (url: string, channel: string) => {
    await postToSlackEndpoint(url, slashCommand({ command: '/cutover', text: 'start ack-bench', user_id: USER, channel_id: channel, response_url: fake.responseUrl() }), { secret: SECRET });
    const approve = await fake.waitFor(() => buttons(fake, channel).find((b) => b.action_id === 'approve'), { timeoutMs: 30_000 });
    await postToSlackEndpoint(url, blockAction({ user: 'U0RM2', channel, actionId: 'approve', value: approve.value, responseUrl: fake.responseUrl() }), { secret: SECRET });
    await fake.waitFor(() => buttons(fake, channel).find((b) => b.action_id === 'hold'), { timeoutMs: 30_000 });
    const card = buttons(fake, channel);
    return { burst: () => workload(fake, card, count, channel) };
  };
  try {
    // The bot as npm start runs it by default (ROLE=all): its CPU is the ack and the work behind it.
    const all = await startBotProcess(setupEnv('all', CHANNEL));
    processes.push(all);
    const allUrl = `http://127.0.0.1:${all.port}/slack/events`;
    const bot: Setup = { url: allUrl, receiver: all.pid, ...(await soaking(allUrl, CHANNEL)) };
    // ROLE=web with a ROLE=worker behind it: the web process's CPU is the ack alone.
    const webProcess = await startBotProcess({ ...setupEnv('split', CHANNEL_WEB), ROLE: 'web' });
    const workerProcess = await startBotProcess({ ...setupEnv('split', CHANNEL_WEB), ROLE: 'worker' });
    processes.push(webProcess, workerProcess);
    const webUrl = `http://127.0.0.1:${webProcess.port}/slack/events`;
    const web: Setup = { url: webUrl, receiver: webProcess.pid, worker: workerProcess.pid, ...(await soaking(webUrl, CHANNEL_WEB)) };
    const yard = await bare();
    yardstick = yard;
    const bare_: Setup = { url: yard.url, receiver: yard.pid, burst: bot.burst };

    // Each burst starts on a quiet bot: a bot's side waits until the burst before is answered (the
    // work it queued done), so that the CPU counted for a burst is that burst's.
    let answered = fake.responses().length;
    const settle = async (setup: Setup) => {
      if (setup === bare_) return;
      answered += count;
      const expected = answered;
      await fake.waitFor((f) => f.responses().length >= expected, { timeoutMs: 300_000 });
    };
    const measure = async (setup: Setup): Promise<Round> => {
      const { commands, clicks } = setup.burst();
      const cpuBefore = cpuMs(setup.receiver);
      const workBefore = setup.worker ? cpuMs(setup.worker) : 0;
      const c = await fire(setup.url, commands, SECRET, concurrency);
      await settle(setup);
      const k = await fire(setup.url, clicks, SECRET, concurrency);
      await settle(setup);
      const cpu = cpuMs(setup.receiver) - cpuBefore;
      const work = setup.worker ? cpuMs(setup.worker) - workBefore : 0;
      const cs = stats(c.latencies);
      const ks = stats(k.latencies);
      return { commandsP50: cs.p50, commandsP99: cs.p99, clicksP50: ks.p50, clicksP99: ks.p99, failures: c.failures + k.failures, cpuMsPerRequest: cpu / (2 * count), workCpuMsPerRequest: work / (2 * count) };
    };
    // Each side warmed up first with a whole round's requests, not measured: over a run of 200 the
    // bot's processes were still getting faster round after round (their JIT), bare Bolt was not.
    for (const setup of [bare_, bot, web]) {
      const { commands, clicks } = setup.burst();
      for (const burst of [commands, clicks]) {
        await fire(setup.url, burst, SECRET, concurrency);
        await settle(setup);
      }
    }
    // Two shared cores make any single burst noisy: interleaved rounds, the side going first turning
    // round, and each ratio taken within its round (both sides under the same neighbours).
    const sides = [['bot', bot], ['web', web], ['bare', bare_]] as const;
    const rounds: Array<Record<'bot' | 'web' | 'bare', Round>> = [];
    for (let round = 0; round < rounds_; round++) {
      const result: Partial<Record<'bot' | 'web' | 'bare', Round>> = {};
      for (let j = 0; j < sides.length; j++) {
        const [name, setup] = sides[(round + j) % sides.length]!;
        result[name] = await measure(setup);
      }
      const r = result as Record<'bot' | 'web' | 'bare', Round>;
      rounds.push(r);
      log(`  round ${round + 1}/${rounds_} (${sides[round % sides.length]![0]} first): p99 commands ${r.bot.commandsP99.toFixed(0)} / ${r.web.commandsP99.toFixed(0)} / ${r.bare.commandsP99.toFixed(0)} ms, clicks ${r.bot.clicksP99.toFixed(0)} / ${r.web.clicksP99.toFixed(0)} / ${r.bare.clicksP99.toFixed(0)} ms, CPU per request ${r.bot.cpuMsPerRequest.toFixed(2)} / ${r.web.cpuMsPerRequest.toFixed(2)} (+ worker ${r.web.workCpuMsPerRequest.toFixed(2)}) / ${r.bare.cpuMsPerRequest.toFixed(2)} ms (all-in-one / web / bare Bolt)`);
    }
    const spread = (values: number[]) => ({ median: percentile(values, 50), min: Math.min(...values), max: Math.max(...values) });
    const median = (side: 'bare' | 'bot' | 'web', key: keyof Round) => percentile(rounds.map((r) => r[side][key]), 50);
    const summary = (side: 'bare' | 'bot' | 'web'): Side => ({
      commandsP50: median(side, 'commandsP50'),
      commandsP99: median(side, 'commandsP99'),
      clicksP50: median(side, 'clicksP50'),
      clicksP99: median(side, 'clicksP99'),
      failures: rounds.reduce((n, r) => n + r[side].failures, 0),
      cpuMsPerRequest: median(side, 'cpuMsPerRequest'),
      workCpuMsPerRequest: median(side, 'workCpuMsPerRequest'),
    });
    return {
      rounds: rounds.length,
      bot: summary('bot'),
      web: summary('web'),
      bare: summary('bare'),
      webCpuRatio: spread(rounds.map((r) => r.web.cpuMsPerRequest / r.bare.cpuMsPerRequest)),
      botCpuRatio: spread(rounds.map((r) => r.bot.cpuMsPerRequest / r.bare.cpuMsPerRequest)),
      commandsP99Ratio: spread(rounds.map((r) => r.bot.commandsP99 / r.bare.commandsP99)),
      clicksP99Ratio: spread(rounds.map((r) => r.bot.clicksP99 / r.bare.clicksP99)),
      webCommandsP99Ratio: spread(rounds.map((r) => r.web.commandsP99 / r.bare.commandsP99)),
      webClicksP99Ratio: spread(rounds.map((r) => r.web.clicksP99 / r.bare.clicksP99)),
    };
  } finally {
    yardstick?.stop();
    await Promise.all(processes.map((p) => p.stop()));
    await fake.close();
    await redis.stop();
  }
}

if (import.meta.main) console.log(JSON.stringify(await ackLatency({ count: Number(process.argv[2] ?? 500), rounds: Number(process.argv[3] ?? 10), log: console.log }), null, 2));
