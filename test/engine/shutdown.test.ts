// Shutdown with a job running: the runtime's bounded close lets it finish for a grace, then hands
// it back to the queue, so another worker runs it (the check is not lost, nor run by the closing
// process to the end). With Redis up the job goes straight back to the queue; with Redis gone the
// close is still bounded, and BullMQ's stalled check hands the job over once Redis is back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { ServerResponse } from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { compressPlan } from '../../src/app/rehearsal/compress.ts';
import { jobId } from '../../jobs/queues.ts';
import { startRedisServer, type RedisServer } from '../../src/infra/redis-server.ts';
import { json, startTestServer, type TestServer } from '../support/http.ts';
import { makePlan } from '../support/plans.ts';
import { notice, testRuntime, waitForAudit, type TestRuntime } from '../support/engine.ts';
import { connect } from '../support/redis.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

/** A metrics source whose first request hangs (until it is closed) and which answers every later one. */
async function hangingOnce(): Promise<{ server: TestServer; first: Promise<void> }> {
  const first = Promise.withResolvers<void>();
  const held: ServerResponse[] = [];
  const server = await startTestServer((_req, res) => {
    if (held.length === 0) {
      held.push(res);
      first.resolve();
      return;
    }
    json(res, 200, { p95_latency_ms: 100, error_budget_ratio: 0.001 });
  });
  return { server, first: first.promise };
}

const plan = (url: string) =>
  compressPlan(
    makePlan((p) => {
      p.stages = [50, 100];
      p.promotion = 'auto';
      p.service.gates = 'real';
      p.gates.stage = [{ id: 'slo', slo_snapshot: { url: `${url}/slo`, max_p95_latency_ms: 600 }, timeout: '30s' }];
    }),
    2000,
  );

/** Starts a cutover on `r` and resolves once its first check is running (its gate request is held). */
async function checkRunning(r: TestRuntime, url: string, first: Promise<void>): Promise<{ id: string; seq: number }> {
  const started = await r.engine.start(plan(url), 'U0RM1');
  if (!started.ok) throw new Error(started.refusal.code);
  const id = started.state.id;
  await waitForAudit(r.store, id, notice('go_no_go_requested'));
  for (const by of ['U0OPS', 'U0RM2']) expect((await r.engine.command(id, { type: 'approve', by })).ok).toBe(true);
  await first;
  const seq = (await r.store.loadState(id))!.monitor!.seq;
  return { id, seq };
}

it('a check still running at shutdown is handed back after the grace, and another worker runs it', async () => {
  const { server, first } = await hangingOnce();
  cleanup.push(() => server.close());
  const a = await testRuntime();
  const { id, seq } = await checkRunning(a, server.url, first);
  expect(a.workers!.running()).toBeGreaterThanOrEqual(1);

  const t0 = performance.now();
  await a.close({ graceMs: 300 });
  // The grace, then bounded steps: nowhere near the gate's 30 s timeout.
  expect(performance.now() - t0).toBeLessThan(5_000);
  const look = connect();
  const queue = new Queue('cutover', { connection: look, prefix: `${a.prefix}:bull` });
  cleanup.push(async () => {
    await queue.close();
    look.disconnect();
  });
  expect(await queue.getJobState(jobId('check', id, seq))).toBe('waiting');

  // Another worker takes it, measures, and the cutover goes on from that check.
  const b = await testRuntime({ prefix: a.prefix });
  cleanup.push(() => b.close({ force: true }));
  await waitForAudit(b.store, id, (e) => e.type === 'notice' && e.notice.kind === 'gate_check' && e.notice.seq === seq);
  expect(server.requests.length).toBeGreaterThanOrEqual(2);
});

it('with Redis gone under a running check, the close is still bounded, and the check is taken over once Redis is back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cutover-shutdown-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  let redis: RedisServer = await startRedisServer({ dir });
  cleanup.push(() => redis.stop());
  const { server, first } = await hangingOnce();
  cleanup.push(() => server.close());
  const a = await testRuntime({ redisUrl: redis.url });
  const { id, seq } = await checkRunning(a, server.url, first);

  await redis.kill();
  const t0 = performance.now();
  await a.close({ graceMs: 300 });
  expect(performance.now() - t0).toBeLessThan(5_000);

  redis = await startRedisServer({ dir, port: redis.port });
  const b = await testRuntime({ redisUrl: redis.url, prefix: a.prefix });
  cleanup.push(() => b.close({ force: true }));
  // The lock of the check A was running expires; B's stalled check moves it back and runs it.
  await waitForAudit(b.store, id, (e) => e.type === 'notice' && e.notice.kind === 'gate_check' && e.notice.seq === seq, 20_000);
});
