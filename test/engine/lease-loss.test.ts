// A shift or a rollback that loses its traffic lease mid-way makes no further call to the
// platform, records nothing, and throws so BullMQ retries it. Real TrafficLock and simulated
// platform on real Redis, with a short TTL; the engine is a recorder over a state reached honestly.
import { once } from 'node:events';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRollbackProcessor } from '../../jobs/rollback.ts';
import { createShiftProcessor } from '../../jobs/shift.ts';
import type { JobData } from '../../jobs/queues.ts';
import type { CutoverEvent, JobEvent } from '../../src/domain/state.ts';
import type { TrafficBackend } from '../../src/ports.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import { SimulatedWorld } from '../../src/sim/world.ts';
import type { CutoverStore } from '../../src/store/cutover-store.ts';
import { LeaseLostError, TrafficLock } from '../../src/store/lock.ts';
import { reach, type Drive } from '../domain/drive.ts';
import { makePlan } from '../support/plans.ts';
import { clientsPerTest, uniquePrefix } from '../support/redis.ts';

const TTL = 300; // renewed every 100 ms

const { client, disconnectAll } = clientsPerTest();
afterEach(disconnectAll);

/** The cutover in `phase`, a real lock (on its own connection) and simulated traffic, all on Redis. */
function setup(phase: 'shifting' | 'rolling_back') {
  const prefix = uniquePrefix('lease');
  const drive: Drive = reach(makePlan(), phase);
  const serviceKey = drive.state.serviceKey;
  const redis = client();
  const lockRedis = client();
  const world = new SimulatedWorld(redis, prefix);
  const applied: Array<CutoverEvent | JobEvent> = [];
  const engine: Pick<Engine, 'apply' | 'store'> = {
    store: { load: async () => ({ state: drive.state, plan: drive.plan }) } as unknown as CutoverStore,
    apply: async (_id, event) => {
      applied.push(event);
      return { ok: true, state: drive.state };
    },
  };
  return {
    drive,
    serviceKey,
    redis,
    lockRedis,
    world,
    applied,
    engine,
    lock: new TrafficLock(lockRedis, prefix, { ttlMs: TTL }),
    lockKey: `${prefix}:lock:${serviceKey}`,
    platform: world.backend(serviceKey, 'service demo-svc'),
  };
}

/** The simulated platform, with `hook` run (given the job's signal) once each read has answered. */
function afterRead(platform: TrafficBackend, hook: (signal: AbortSignal) => Promise<void>): TrafficBackend {
  return {
    ...platform,
    read: async (revisions, signal) => {
      const split = await platform.read(revisions, signal);
      if (!signal) throw new Error('the job passed no signal to read');
      await hook(signal);
      return split;
    },
  };
}

const aborted = async (signal: AbortSignal) => {
  if (!signal.aborted) await once(signal, 'abort');
};

const rejection = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e);

describe('the shift job', () => {
  it('a renewal fails after the read: no shift reaches the platform, nothing is recorded, the job throws', async () => {
    const s = setup('shifting');
    let signal: AbortSignal | undefined;
    const backend = afterRead(s.platform, async (leaseSignal) => {
      signal = leaseSignal;
      s.lockRedis.disconnect(); // every renewal fails from now on
      await aborted(leaseSignal);
    });
    const shift = createShiftProcessor({ engine: s.engine, backends: { for: () => backend }, lock: s.lock });
    const job = { data: { id: s.drive.state.id, phaseSeq: s.drive.state.phaseSeq, stage: 0, percent: 1 } } as Job<JobData['shift']>;

    const error = await rejection(shift(job));
    expect(error).toBeInstanceOf(LeaseLostError);
    expect(error).toBe(signal!.reason);
    // Two failed renewals, or the TTL running out first on a loaded machine: either way it is lost.
    expect((error as Error).message).toMatch(/renewal failed twice in a row|no renewal succeeded within its/);
    expect(await s.world.shifts(s.serviceKey)).toEqual([]);
    expect(s.applied).toEqual([]);
  });

  it('the lease is taken while the shift is in flight: the shift lands, nothing is recorded; the retry confirms it without shifting again', async () => {
    const s = setup('shifting');
    const backend: TrafficBackend = {
      ...s.platform,
      shift: async (revisions, percent, signal) => {
        const split = await s.platform.shift(revisions, percent, signal);
        // Another holder took the lease while the call was under way: it cannot be recalled.
        await s.redis.set(s.lockKey, 'another-holder', 'PX', 60_000);
        await aborted(signal!);
        return split;
      },
    };
    const shift = createShiftProcessor({ engine: s.engine, backends: { for: () => backend }, lock: s.lock });
    const job = { data: { id: s.drive.state.id, phaseSeq: s.drive.state.phaseSeq, stage: 0, percent: 1 } } as Job<JobData['shift']>;

    const error = await rejection(shift(job));
    expect(error).toBeInstanceOf(LeaseLostError);
    expect((error as Error).message).toMatch(/another holder has it/);
    expect(s.applied).toEqual([]);
    // Its release left the other holder's lease alone.
    expect(await s.redis.get(s.lockKey)).toBe('another-holder');

    // BullMQ's retry, once the other holder is done: re-reads, finds 1 % served, only confirms.
    await s.redis.del(s.lockKey);
    await expect(createShiftProcessor({ engine: s.engine, backends: { for: () => s.platform }, lock: s.lock })(job)).resolves.toBe('1%');
    expect((await s.world.shifts(s.serviceKey)).map((r) => r.percent)).toEqual([1]);
    expect(s.applied).toEqual([{ type: 'traffic_confirmed', phaseSeq: s.drive.state.phaseSeq, percent: 1 }]);
  });
});

describe('the rollback job', () => {
  const rollbackJob = (s: ReturnType<typeof setup>, attemptsMade = 0) =>
    ({
      data: { id: s.drive.state.id, phaseSeq: s.drive.state.phaseSeq, steps: [] },
      attemptsMade,
      opts: { attempts: 12 },
      updateData: async () => undefined,
    }) as unknown as Job<JobData['rollback']>;
  const processor = (s: ReturnType<typeof setup>, backend: TrafficBackend) =>
    createRollbackProcessor({
      engine: s.engine,
      backends: { for: () => backend },
      gates: { run: async () => [] },
      lock: s.lock,
      now: Date.now,
    });
  const loseAfterRead = (s: ReturnType<typeof setup>) =>
    afterRead(s.platform, async (signal) => {
      s.lockRedis.disconnect();
      await aborted(signal);
    });

  it('holding the lease and losing it: stops before moving traffic and throws, to be retried', async () => {
    const s = setup('rolling_back');
    await s.world.shift(s.serviceKey, 1); // the canary serves its cohort
    const error = await rejection(processor(s, loseAfterRead(s))(rollbackJob(s)));
    expect(error).toBeInstanceOf(LeaseLostError);
    expect((await s.world.shifts(s.serviceKey)).map((r) => r.percent)).toEqual([1]);
    expect(s.applied).toEqual([]);
  });

  it('losing it on its last attempt: escalates as a failed rollback rather than failing silently', async () => {
    const s = setup('rolling_back');
    await s.world.shift(s.serviceKey, 1);
    await expect(processor(s, loseAfterRead(s))(rollbackJob(s, 11))).resolves.toBe('failed: lease_lost');
    expect((await s.world.shifts(s.serviceKey)).map((r) => r.percent)).toEqual([1]);
    expect(s.applied).toMatchObject([{ type: 'rollback_failed', code: 'lease_lost', message: expect.stringMatching(/^lost the traffic lease of /) }]);
  });

  it('a lease it cannot get does not block it: it waits about one TTL, then rolls back', async () => {
    const s = setup('rolling_back');
    await s.world.shift(s.serviceKey, 1);
    await s.redis.set(s.lockKey, 'stuck-holder', 'PX', 60_000);
    await expect(processor(s, s.platform)(rollbackJob(s))).resolves.toBe('rolled back');
    expect((await s.world.shifts(s.serviceKey)).map((r) => r.percent)).toEqual([1, 0]);
    expect(s.applied).toMatchObject([{ type: 'rollback_done', percent: 0 }]);
  });
});
