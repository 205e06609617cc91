// GET /metrics from a running bot, scraped over HTTP and parsed, before, during and after a
// cutover on Cloud Run (the gRPC fake, through the official client) with Slack answering a 429 and
// an error on the way. Every series an operator alerts on is there, with values that follow what
// happened, and no label carries a cutover id or a user id.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EMULATOR_ENV } from '../../src/cloud/clients.ts';
import { PHASES, isTerminal } from '../../src/domain/state.ts';
import { startFakeCloudRun, type FakeCloudRun } from '../fakes/gcp/cloud-run.ts';
import { waitForAudit } from '../support/engine.ts';
import { scrape } from '../support/prometheus.ts';
import { RM1, openRoom, quickPlan, startedId, waitForButton, type Room } from './harness.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

const SERVICE = 'projects/demo-project/locations/us-central1/services/metered';
const SERVICE_KEY = `cloud-run:${SERVICE}`;
const ACTIVE = PHASES.filter((p) => !isTerminal(p));
const QUEUES = ['cutover', 'rollback', 'notify', 'commands'];

let cloudRun: FakeCloudRun;
let room: Room;

beforeAll(async () => {
  cloudRun = await startFakeCloudRun();
  cloudRun.addService(SERVICE, { traffic: [{ revision: 'metered-00001-aaa', percent: 100 }] });
  cloudRun.addRevision(`${SERVICE}/revisions/metered-00001-aaa`);
  cloudRun.addRevision(`${SERVICE}/revisions/metered-00002-bbb`);
  room = await openRoom(
    {
      metered: quickPlan('metered', (doc) => {
        doc.service = { platform: 'cloud-run', project: 'demo-project', region: 'us-central1', name: 'metered', stable: 'metered-00001-aaa', canary: 'metered-00002-bbb' };
        doc.gates = { preflight: [{ id: 'ready', command: 'true' }], stage: [{ id: 'smoke', command: 'true' }] };
        doc.approvals.go_no_go = { roles: ['release-manager'], min: 1, two_person: false };
      }),
    },
    { env: { [EMULATOR_ENV.run]: cloudRun.address } },
  );
});

afterAll(async () => {
  await room?.close();
  await cloudRun?.close();
});

it('serves the process, Redis and queue series from the start', async () => {
  const m = await scrape(room.url);
  expect(m.types.get('process_cpu_seconds_total')).toBe('counter');
  expect(m.value('process_cpu_seconds_total')).toBeGreaterThan(0);
  expect(m.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  expect(m.value('cutover_redis_connected')).toBe(1);
  for (const queue of QUEUES) for (const state of ['waiting', 'active', 'delayed', 'failed']) expect(m.value('cutover_queue_jobs', { queue, state }), `${queue} ${state}`).toBeGreaterThanOrEqual(0);
  for (const phase of ACTIVE) expect(m.value('cutover_cutovers', { phase }), phase).toBe(0);
});

it('follows a cutover: its phase, its canary share, gate verdicts and timings, Cloud Run calls, Slack’s 429 and errors, failed jobs', async () => {
  const { fake } = room;
  // Slack rate-limits one post and refuses one card edit: the WebClient waits out the first; the
  // second fails its notify job, which BullMQ retries.
  const notifyWorker = room.bot.runtime.workers!.all.find((w) => w.name === 'notify')!;
  // Heard after the bot's own listener, which counts the failure. (Not events.once: it would give up
  // on the worker's first 'error', such as a lock renewal that a loaded machine made late.)
  const notifyFailed = new Promise<void>((resolve) => notifyWorker.once('failed', () => resolve()));
  fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 }, 1);
  fake.failNext('chat.update', { error: 'internal_error' }, 1);
  const id = startedId(await room.slash('/cutover', 'start metered'));
  const approve = await waitForButton(fake, id, 'approve');
  expect((await room.click('approve', approve.value, { user: RM1 })).text).toMatch(/^✅ Done/);
  // The first cohort (10 %) soaks clean and waits for /promote, its gates still checked every second.
  await waitForAudit(room.bot.runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'soak_clean', 30_000);
  // Check 4 judged: checks 1 to 3 have been counted (each is counted once its judgement is stored).
  await waitForAudit(room.bot.runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'gate_check' && e.notice.seq >= 4, 30_000);
  await fake.waitFor((f) => f.calls.filter((c) => c.fault).length >= 2, { timeoutMs: 15_000 });
  await notifyFailed;

  const m = await scrape(room.url);
  expect(m.value('cutover_cutovers', { phase: 'awaiting_promotion' })).toBe(1);
  for (const phase of ACTIVE.filter((p) => p !== 'awaiting_promotion')) expect(m.value('cutover_cutovers', { phase }), phase).toBe(0);
  expect(m.value('cutover_canary_traffic_ratio', { service: SERVICE_KEY })).toBe(0.1);

  expect(m.types.get('cutover_gate_verdicts_total')).toBe('counter');
  expect(m.value('cutover_gate_verdicts_total', { gate: 'smoke', kind: 'command', verdict: 'pass' })).toBeGreaterThanOrEqual(3);
  expect(m.find('cutover_gate_verdicts_total', { verdict: 'fail' })).toEqual([]);
  const checks = m.value('cutover_gate_check_duration_seconds_count')!;
  expect(checks).toBeGreaterThanOrEqual(3);
  expect(m.value('cutover_gate_check_duration_seconds_sum')).toBeGreaterThan(0);
  expect(m.value('cutover_gate_check_duration_seconds_bucket', { le: '+Inf' })).toBe(checks);
  expect(m.value('cutover_gate_check_lag_seconds_count')).toBe(checks);
  expect(m.types.get('cutover_gate_check_lag_seconds')).toBe('histogram');

  expect(m.value('cutover_cloud_run_api_calls_total', { method: 'UpdateService', outcome: 'OK' })).toBe(1);
  expect(m.value('cutover_cloud_run_api_calls_total', { method: 'GetRevision', outcome: 'OK' })).toBeGreaterThanOrEqual(2);
  expect(m.value('cutover_cloud_run_api_calls_total', { method: 'GetService', outcome: 'OK' })).toBeGreaterThanOrEqual(2);

  expect(m.value('cutover_slack_api_rate_limited_total', { method: 'chat.postMessage' })).toBe(1);
  expect(m.value('cutover_slack_api_errors_total', { method: 'chat.update', type: 'platform', error: 'internal_error' })).toBe(1);
  expect(m.value('cutover_job_failures_total', { queue: 'notify', job: 'notify' })).toBeGreaterThanOrEqual(1);
  // The next check waits in the cutover queue.
  expect(m.value('cutover_queue_jobs', { queue: 'cutover', state: 'delayed' })).toBeGreaterThanOrEqual(1);

  // Bounded labels: no cutover id, no user id anywhere.
  for (const sample of m.samples) {
    for (const value of Object.values(sample.labels)) {
      expect(value).not.toContain(id);
      expect(value).not.toMatch(/\bU0[A-Z0-9]+/);
    }
  }

  // Rolled back, it is no longer counted, nor its canary share.
  expect((await room.slash('/rollback', 'metered enough')).text).toMatch(/^✅ Done/);
  await waitForAudit(room.bot.runtime.store, id, (e) => e.type === 'notice' && e.notice.kind === 'rolled_back', 30_000);
  const after = await scrape(room.url);
  for (const phase of ACTIVE) expect(after.value('cutover_cutovers', { phase }), phase).toBe(0);
  expect(after.find('cutover_canary_traffic_ratio')).toEqual([]);
  expect(after.value('cutover_cloud_run_api_calls_total', { method: 'UpdateService', outcome: 'OK' })).toBe(2);
});
