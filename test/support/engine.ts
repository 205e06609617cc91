// An engine runtime for tests: real Redis (private per run, own key prefix), real BullMQ workers,
// the simulated platform, a war room that records what it is shown, and static roles.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { AuditEntry } from '../../src/domain/audit.ts';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/app/runtime.ts';
import type { CutoverStore } from '../../src/store/cutover-store.ts';
import { RecordingRoom, StaticRoles } from './recording-room.ts';
import { redisUrl, uniquePrefix } from './redis.ts';
import type { SimulatedWorld } from '../../src/sim/world.ts';
import { slowableShifts, worldOf } from './world.ts';
import { silentLogger } from './log.ts';

export { RecordingRoom, StaticRoles };

export const TEST_ROLES = {
  U0RM1: ['release-manager'],
  U0RM2: ['release-manager'],
  U0OPS: ['ops-lead'],
  U0ONCALL1: ['oncall-ops'],
};

export interface TestRuntime extends Runtime {
  readonly room: RecordingRoom;
  /** The simulated world of its prefix. */
  readonly world: SimulatedWorld;
  readonly prefix: string;
  readonly evidenceRoot: string;
}

export async function testRuntime(options: Partial<RuntimeOptions> & { prefix?: string } = {}): Promise<TestRuntime> {
  const prefix = options.prefix ?? uniquePrefix('eng');
  const room = (options.room as RecordingRoom | undefined) ?? new RecordingRoom();
  const evidenceRoot = options.evidenceRoot ?? mkdtempSync(join(tmpdir(), 'evidence-'));
  let runtime: Runtime | undefined;
  runtime = await createRuntime({
    redisUrl: redisUrl(),
    log: silentLogger(),
    roles: new StaticRoles(TEST_ROLES),
    sweepEveryMs: 500,
    lockTtlMs: 1_500,
    workerSettings: { lockDurationMs: 1_000, stalledIntervalMs: 500 },
    decorate: slowableShifts(() => (runtime as Runtime).redis, prefix),
    ...options,
    prefix,
    room,
    evidenceRoot,
  });
  return Object.assign(runtime, { room, prefix, evidenceRoot, world: worldOf(runtime) });
}

/**
 * Resolves with the first audit entry of `id` that satisfies `predicate`, reading the stream with
 * XREAD BLOCK: it wakes when Redis has a new entry, not on a timer.
 */
export async function waitForAudit(store: CutoverStore, id: string, predicate: (e: AuditEntry) => boolean, timeoutMs = 30_000): Promise<AuditEntry> {
  const reader = new Redis({ ...store.redis.options, enableOfflineQueue: true, lazyConnect: false, maxRetriesPerRequest: null });
  const key = store.key(id, 'audit');
  const deadline = Date.now() + timeoutMs;
  let last = '0-0';
  const seen: string[] = [];
  try {
    while (Date.now() < deadline) {
      const result = (await reader.xread('COUNT', 500, 'BLOCK', Math.max(1, Math.min(1_000, deadline - Date.now())), 'STREAMS', key, last)) as Array<[string, Array<[string, string[]]>]> | null;
      for (const [, rows] of result ?? []) {
        for (const [streamId, fields] of rows) {
          last = streamId;
          const entry = JSON.parse(fields[1] as string) as AuditEntry;
          seen.push(entry.type === 'notice' ? entry.notice.kind : entry.type);
          if (predicate(entry)) return entry;
        }
      }
    }
    throw new Error(`no matching audit entry within ${timeoutMs} ms; saw: ${seen.slice(-15).join(', ')}`);
  } finally {
    reader.disconnect();
  }
}

export const notice = (kind: string) => (e: AuditEntry) => e.type === 'notice' && e.notice.kind === kind;
export const ended = (e: AuditEntry) => e.type === 'evidence';
