// Benchmark 3: many concurrent cutovers on the production entry point. Bot processes are started as
// `npm start` starts them (`node src/app/main.ts`, configured by its environment), in one of three
// layouts on one Redis: one all-in-one process; three all-in-one replicas (Slack's requests spread
// over them, as a load balancer would); one ROLE=web process and two ROLE=worker processes. Each
// cutover is a Cloud Run plan of its own (its own service on the local Cloud Run gRPC server, its own
// channel), started by a signed `/cutover start` and approved by a signed click on the approve button
// the fake Slack received; its gates are answered over HTTP by a small local server. While they run,
// a person asks `/cutover status` four times a second (from a process of its own): the ack latency a
// person gets during a busy run.
// Judged from outside the bot: the traffic steps and shifts run twice from the Cloud Run server's own
// log of accepted UpdateService calls (each service's canary percents must be exactly the cohorts);
// check lag from each process's /metrics (cutover_gate_check_lag_seconds); peak RSS from each bot
// process's /proc/<pid>/status (VmHWM); completion from the cutovers' states in Redis.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { isTerminal } from '../src/domain/state.ts';
import { CutoverStore } from '../src/store/cutover-store.ts';
import { startFakeCloudRun, type FakeCloudRun } from '../test/fakes/gcp/cloud-run.ts';
import { cloudRunHistory } from '../test/fakes/gcp/production-traffic.ts';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack-api.ts';
import { parseExposition } from '../test/support/prometheus.ts';
import { blockAction, postToSlackEndpoint, slashCommand } from '../test/support/slack-requests.ts';
import type { AskerConfig } from './asker.ts';
import { peakRssMb, startBotProcess, type BotProcess } from './bot-process.ts';
import { cardButtons } from './cards.ts';
import { botEnv, percentile, privateRedis } from './support.ts';

const SECRET = 'bench-signing-secret-m4ny';
const USER = 'U0BENCH';
const PROJECT = 'bench-project';
const REGION = 'us-central1';
const STAGES = [1, 5, 10, 25, 50, 100] as const;
const PREFIX = 'cutover'; // the default REDIS_PREFIX, as npm start uses it

export type Layout = 'one' | 'replicas' | 'split';
const ROLES: Record<Layout, ReadonlyArray<'all' | 'web' | 'worker'>> = {
  one: ['all'],
  replicas: ['all', 'all', 'all'],
  split: ['web', 'worker', 'worker'],
};
export const LAYOUTS: Record<Layout, string> = {
  one: 'one all-in-one process',
  replicas: 'three all-in-one replicas',
  split: 'one ROLE=web process and two ROLE=worker processes',
};

export interface ManyResult {
  readonly layout: Layout;
  readonly cutovers: number;
  readonly completed: number;
  /** Stage-gate checks counted by the processes' histograms. */
  readonly checks: number;
  /** Check lag percentiles, interpolated within the histogram's buckets as Prometheus' histogram_quantile does. */
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  /** Share of checks that started within 1 s of their slot (exact: 1 s is a bucket bound). */
  readonly lagWithin1s: number;
  /** Check slots skipped because the check before them ran past them (cutover_gate_check_slots_skipped_total). */
  readonly slotsSkipped: number;
  /** Peak RSS (VmHWM) of each bot process, with its role. */
  readonly processes: ReadonlyArray<{ role: string; rssPeakMb: number }>;
  readonly rssPeakMb: number;
  /** Accepted UpdateService calls that repeated the percent the service was already set to. */
  readonly shiftsRunTwice: number;
  /** Services whose accepted canary percents (repeats aside) are not exactly the cohorts. */
  readonly servicesWithWrongSteps: number;
  /** Jobs that threw in a bot (cutover_job_failures_total; each retried while attempts remain). */
  readonly jobFailures: number;
  /** The starts and approvals: requests not acked 200. */
  readonly failedAcks: number;
  /** `/cutover status` asked during the run: ack latency and failures. */
  readonly ackUnderLoad: { p50: number; p99: number; max: number; count: number; failures: number };
  readonly wallMs: number;
}

const planDocument = (i: number, gateUrl: string) => {
  const name = `many-${i}`;
  return {
    name,
    service: { platform: 'cloud-run', project: PROJECT, region: REGION, name, stable: `${name}-00001-aaa`, canary: `${name}-00002-bbb` },
    channel: channelOf(i),
    stages: [...STAGES],
    soak: '10s',
    check_every: '1s',
    promotion: 'auto',
    gates: {
      preflight: [{ id: 'health', http: { url: `${gateUrl}/healthz` } }],
      stage: [
        { id: 'slo', slo_snapshot: { url: `${gateUrl}/slo/${name}`, max_p95_latency_ms: 600, max_error_budget_ratio: 0.02 } },
        { id: 'probe', http: { url: `${gateUrl}/probe/${name}` } },
      ],
    },
    approvals: { go_no_go: { roles: ['release-manager'], min: 1, two_person: false }, promote: { roles: ['release-manager'] }, rollback: { roles: ['release-manager'] } },
    roles: { 'release-manager': [USER] },
    updates: { every: '30s' },
  };
};

const channelOf = (i: number) => `C0MANY${i}`;
const serviceOf = (i: number) => `projects/${PROJECT}/locations/${REGION}/services/many-${i}`;

/** Sums each bucket of a histogram over processes; returns [upper bound, cumulative count] pairs. */
function mergedBuckets(texts: readonly string[], name: string): Array<[number, number]> {
  const sums = new Map<number, number>();
  for (const text of texts) {
    for (const s of parseExposition(text).find(`${name}_bucket`)) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      sums.set(le, (sums.get(le) ?? 0) + s.value);
    }
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]);
}

/** histogram_quantile: linear within the bucket the quantile falls in (the lowest bucket from 0). */
function quantile(buckets: ReadonlyArray<[number, number]>, q: number): number {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let previous: [number, number] = [0, 0];
  for (const bucket of buckets) {
    if (bucket[1] >= rank) {
      if (bucket[0] === Infinity) return previous[0];
      return previous[0] + ((bucket[0] - previous[0]) * (rank - previous[1])) / Math.max(1, bucket[1] - previous[1]);
    }
    previous = bucket;
  }
  return previous[0];
}

const sumOf = (texts: readonly string[], name: string) => texts.reduce((n, text) => n + parseExposition(text).find(name).reduce((m, s) => m + s.value, 0), 0);

export async function manyCutovers(options: { cutovers?: number; layout?: Layout; log?: (line: string) => void } = {}): Promise<ManyResult> {
  const count = options.cutovers ?? 300;
  const layout = options.layout ?? 'one';
  const log = options.log ?? (() => undefined);
  const redis = await privateRedis();
  const admin = new Redis(redis.url);
  const fake: FakeSlack = await startFakeSlack({ usergroups: {} });
  const run: FakeCloudRun = await startFakeCloudRun();
  // The gates' answers: the health check, an SLO snapshot and a probe per service, always healthy.
  const gates = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url?.startsWith('/slo/') ? JSON.stringify({ p95_latency_ms: 120, error_budget_ratio: 0.001 }) : '{"ok":true}');
  });
  await new Promise<void>((resolve) => gates.listen(0, '127.0.0.1', resolve));
  const gateUrl = `http://127.0.0.1:${(gates.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'bench-many-'));
  for (let i = 0; i < count; i++) {
    const doc = planDocument(i, gateUrl);
    run.addService(serviceOf(i), { traffic: [{ revision: doc.service.stable, percent: 100 }] });
    run.addRevision(`${serviceOf(i)}/revisions/${doc.service.stable}`);
    run.addRevision(`${serviceOf(i)}/revisions/${doc.service.canary}`);
    writeFileSync(join(dir, `many-${i}.yaml`), stringify(doc));
  }
  const env = { ...botEnv({ token: fake.token, secret: SECRET, apiUrl: fake.apiUrl, redisUrl: redis.url, dir }), CLOUD_RUN_EMULATOR_HOST: run.address, METADATA_SERVER_DETECTION: 'none' };
  const bots: Array<{ role: string; bot: BotProcess }> = [];
  const started = Date.now();
  let asker: ChildProcess | undefined;
  try {
    for (const role of ROLES[layout]) bots.push({ role, bot: await startBotProcess({ ...env, ROLE: role }) });
    const receivers = bots.filter((b) => b.role !== 'worker').map((b) => `http://127.0.0.1:${b.bot.port}/slack/events`);
    let turn = 0;
    /** A signed request to the next process that takes Slack's requests (round robin, as a load balancer). */
    const send = (body: string) => postToSlackEndpoint(receivers[turn++ % receivers.length]!, body, { secret: SECRET }).catch(() => ({ status: 0, body: '', elapsedMs: NaN }));
    let failedAcks = 0;
    const acked = (r: { status: number }) => {
      if (r.status !== 200) failedAcks++;
    };

    // A person asking for the status every 250 ms, in one cutover's channel after another.
    const askerConfig = join(dir, 'asker.json');
    writeFileSync(askerConfig, JSON.stringify({ receivers, secret: SECRET, channels: Array.from({ length: count }, (_v, i) => channelOf(i)), user: USER, responseBase: fake.baseUrl, everyMs: 250 } satisfies AskerConfig));
    asker = spawn(process.execPath, [join(import.meta.dirname, 'asker.ts'), askerConfig], { stdio: ['ignore', 'pipe', 'inherit'] });
    let asked = '';
    asker.stdout!.on('data', (chunk: Buffer) => (asked += chunk));
    const askerDone = new Promise((resolve) => asker!.once('close', resolve));

    // Start them all, ten requests at a time, as people would type them over a busy minute.
    const ids: string[] = new Array(count);
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < count) {
          const i = next++;
          acked(await send(slashCommand({ command: '/cutover', text: `start many-${i}`, user_id: USER, channel_id: channelOf(i), response_url: fake.responseUrl(`start${i}`) })));
        }
      }),
    );
    log(`  ${count} /cutover start acked in ${Date.now() - started} ms`);
    for (let i = 0; i < count; i++) {
      const reply = await fake.waitFor((f) => f.responses(`start${i}`)[0], { timeoutMs: 300_000 });
      const id = /Started cutover `([^`]+)`/.exec(reply.text ?? '')?.[1];
      if (!id) throw new Error(`many-${i}: not started: ${reply.text}`);
      ids[i] = id;
    }
    log(`  ${count} cutovers started in ${Date.now() - started} ms`);

    // Approve each go/no-go by its card's button once the card offers it; then wait for every end.
    const store = new CutoverStore(admin, PREFIX);
    const approved = new Set<number>();
    const waiting = new Set(ids.keys());
    for (let round = 0; waiting.size > 0; round++) {
      if (Date.now() - started > 20 * 60_000) throw new Error(`${waiting.size} cutovers did not end within 20 minutes`);
      await new Promise((r) => setTimeout(r, 1_000));
      for (let i = 0; i < count; i++) {
        if (approved.has(i)) continue;
        const approve = cardButtons(fake, channelOf(i)).find((b) => b.action_id === 'approve');
        if (!approve) continue;
        approved.add(i);
        acked(await send(blockAction({ user: USER, channel: channelOf(i), actionId: 'approve', value: approve.value, responseUrl: fake.responseUrl(`approve${i}`) })));
      }
      for (const i of [...waiting]) {
        const state = await store.loadState(ids[i]!);
        if (state && isTerminal(state.phase)) waiting.delete(i);
      }
      if (round % 15 === 0) log(`  ${count - waiting.size}/${count} ended, ${approved.size} approved, ${Math.round((Date.now() - started) / 1000)} s`);
    }
    asker.kill('SIGTERM');
    await askerDone;
    const underLoad = JSON.parse(asked) as { latencies: number[]; failures: number };
    let completed = 0;
    for (const id of ids) if ((await store.loadState(id))?.outcome === 'completed') completed++;
    let shiftsRunTwice = 0;
    let servicesWithWrongSteps = 0;
    for (let i = 0; i < count; i++) {
      const percents = cloudRunHistory(run, serviceOf(i), `many-${i}-00002-bbb`)().map((p) => p.canary);
      shiftsRunTwice += percents.filter((p, k) => k > 0 && p === percents[k - 1]).length;
      const steps = percents.filter((p, k) => k === 0 || p !== percents[k - 1]);
      if (steps.join(',') !== STAGES.join(',')) servicesWithWrongSteps++;
    }
    const texts = await Promise.all(bots.map(async ({ bot }) => (await fetch(`http://127.0.0.1:${bot.port}/metrics`)).text()));
    const buckets = mergedBuckets(texts, 'cutover_gate_check_lag_seconds');
    const checks = buckets.at(-1)?.[1] ?? 0;
    const processes = bots.map(({ role, bot }) => ({ role, rssPeakMb: peakRssMb(bot.pid) }));
    return {
      layout,
      cutovers: count,
      completed,
      checks,
      lagP50Ms: quantile(buckets, 0.5) * 1000,
      lagP99Ms: quantile(buckets, 0.99) * 1000,
      lagWithin1s: checks ? (buckets.find(([le]) => le === 1)?.[1] ?? 0) / checks : NaN,
      slotsSkipped: sumOf(texts, 'cutover_gate_check_slots_skipped_total'),
      processes,
      rssPeakMb: Math.max(...processes.map((p) => p.rssPeakMb)),
      shiftsRunTwice,
      servicesWithWrongSteps,
      jobFailures: sumOf(texts, 'cutover_job_failures_total'),
      failedAcks,
      ackUnderLoad: { p50: percentile(underLoad.latencies, 50), p99: percentile(underLoad.latencies, 99), max: Math.max(...underLoad.latencies), count: underLoad.latencies.length, failures: underLoad.failures },
      wallMs: Date.now() - started,
    };
  } finally {
    if (asker && asker.exitCode === null) asker.kill('SIGKILL');
    await Promise.all(bots.map(({ bot }) => bot.stop()));
    gates.close();
    run.close();
    await fake.close();
    admin.disconnect();
    await redis.stop();
  }
}

if (import.meta.main) {
  const layout = (process.argv[3] ?? 'one') as Layout;
  if (!(layout in ROLES)) throw new Error(`layout: one of ${Object.keys(ROLES).join(', ')}`);
  console.log(JSON.stringify(await manyCutovers({ cutovers: Number(process.argv[2] ?? 300), layout, log: console.log }), null, 2));
}
