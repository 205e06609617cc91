// Redis is the only store. A cutover's state, its audit trail, its gate records and the effects
// its transitions asked for are written together by one Lua script, after comparing the version
// read: two workers (or a click and a gate failure) can never both win, and a crash never leaves
// a state without the effects it asked for.
import type { Redis } from 'ioredis';
import type { Plan } from '../domain/plan.ts';
import type { CutoverState, Effect, GateRecord } from '../domain/state.ts';
import type { AuditEntry } from '../domain/audit.ts';

/**
 * Lua shared by create and commit: appends the counted audit entries and effects that follow in
 * ARGV from `i` to the audit stream, the outbox and the outbox set, which are KEYS[audit..audit+2].
 */
const appendAuditAndEffects = (audit: number) => `local nAudit = tonumber(ARGV[i]); i = i + 1
for n = 1, nAudit do redis.call('XADD', KEYS[${audit}], '*', 'e', ARGV[i]); i = i + 1 end
local nEffects = tonumber(ARGV[i]); i = i + 1
for n = 1, nEffects do redis.call('RPUSH', KEYS[${audit + 1}], ARGV[i]); i = i + 1 end
if nEffects > 0 then redis.call('SADD', KEYS[${audit + 2}], ARGV[1]) end`;

const CREATE = `
-- KEYS: slot active state plan audit outbox outboxSet index
-- ARGV: id stateJson version planJson startedAt nAudit audit... nEffects effect...
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], 'v', ARGV[3], 'json', ARGV[2])
redis.call('SET', KEYS[4], ARGV[4])
redis.call('ZADD', KEYS[8], ARGV[5], ARGV[1])
local i = 6
${appendAuditAndEffects(5)}
return ''
`;

const COMMIT = `
-- KEYS: state audit outbox outboxSet gates active slot
-- ARGV: id expectedVersion newVersion stateJson terminal nAudit audit... nEffects effect... nGates gate...
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'json', ARGV[4])
local i = 6
${appendAuditAndEffects(2)}
local nGates = tonumber(ARGV[i]); i = i + 1
for n = 1, nGates do redis.call('RPUSH', KEYS[5], ARGV[i]); i = i + 1 end
if ARGV[5] == '1' then
  redis.call('SREM', KEYS[6], ARGV[1])
  if redis.call('GET', KEYS[7]) == ARGV[1] then redis.call('DEL', KEYS[7]) end
end
return 1
`;

// Effects are "seq|json"; only effects up to the highest seq a dispatcher executed are removed,
// so a slow dispatcher can never drop effects appended after it read the list.
const ACK = `
-- KEYS: outbox outboxSet   ARGV: id maxSeq
local max = tonumber(ARGV[2])
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  local seq = tonumber(string.match(head, '^(%d+)|'))
  if seq == nil or seq > max then break end
  redis.call('LPOP', KEYS[1])
end
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
`;

export interface PendingEffect {
  readonly seq: number;
  readonly effect: Effect;
}

export interface Loaded {
  readonly state: CutoverState;
  readonly plan: Plan;
}

type Scripts = {
  cutoverCreate(...args: (string | number)[]): Promise<string>;
  cutoverCommit(...args: (string | number)[]): Promise<number>;
  cutoverAck(...args: (string | number)[]): Promise<number>;
};

/** Effects of one commit get seqs version*1000+i: unique and increasing per cutover. */
const effectSeq = (version: number, index: number) => version * 1000 + index;

export class CutoverStore {
  readonly redis: Redis;
  readonly prefix: string;
  // Plans are immutable snapshots taken at start: safe to cache for the life of the process.
  readonly #plans = new Map<string, Plan>();

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
    if (!(redis as unknown as Partial<Scripts>).cutoverCommit) {
      redis.defineCommand('cutoverCreate', { numberOfKeys: 8, lua: CREATE });
      redis.defineCommand('cutoverCommit', { numberOfKeys: 7, lua: COMMIT });
      redis.defineCommand('cutoverAck', { numberOfKeys: 2, lua: ACK });
    }
  }

  /** False while the store's connection is not ready: its client fails fast rather than queue. */
  healthy(): boolean {
    return this.redis.status === 'ready';
  }

  get #scripts(): Scripts {
    return this.redis as unknown as Scripts;
  }

  key(id: string, part: 'state' | 'plan' | 'audit' | 'outbox' | 'gates' | 'room'): string {
    // One hash tag per cutover keeps its keys together should Redis ever be clustered.
    return `${this.prefix}:co:{${id}}:${part}`;
  }

  get activeKey(): string {
    return `${this.prefix}:active`;
  }

  get outboxSetKey(): string {
    return `${this.prefix}:outbox`;
  }

  get indexKey(): string {
    return `${this.prefix}:cutovers`;
  }

  slotKey(serviceKey: string): string {
    return `${this.prefix}:slot:${serviceKey}`;
  }

  /** Creates the cutover unless its service already has an active one; returns that one's id then. */
  async create(state: CutoverState, plan: Plan, effects: readonly Effect[], audit: readonly AuditEntry[]): Promise<{ ok: true } | { ok: false; running: string }> {
    const result = await this.#scripts.cutoverCreate(
      this.slotKey(state.serviceKey),
      this.activeKey,
      this.key(state.id, 'state'),
      this.key(state.id, 'plan'),
      this.key(state.id, 'audit'),
      this.key(state.id, 'outbox'),
      this.outboxSetKey,
      this.indexKey,
      state.id,
      JSON.stringify(state),
      state.version,
      JSON.stringify(plan),
      state.startedAt,
      audit.length,
      ...audit.map((a) => JSON.stringify(a)),
      effects.length,
      ...effects.map((e, i) => `${effectSeq(state.version, i)}|${JSON.stringify(e)}`),
    );
    if (result) return { ok: false, running: result };
    this.#plans.set(state.id, plan);
    return { ok: true };
  }

  async load(id: string): Promise<Loaded | null> {
    const state = await this.loadState(id);
    if (!state) return null;
    const plan = await this.loadPlan(id);
    return plan ? { state, plan } : null;
  }

  async loadState(id: string): Promise<CutoverState | null> {
    const json = await this.redis.hget(this.key(id, 'state'), 'json');
    return json ? (JSON.parse(json) as CutoverState) : null;
  }

  async loadPlan(id: string): Promise<Plan | null> {
    const cached = this.#plans.get(id);
    if (cached) return cached;
    const json = await this.redis.get(this.key(id, 'plan'));
    if (!json) return null;
    const plan = JSON.parse(json) as Plan;
    this.#plans.set(id, plan);
    return plan;
  }

  /**
   * Writes `next` if the stored version is still `expectedVersion`, with its audit entries,
   * effects and gate records. False when another writer got there first: re-read and re-decide.
   */
  async commit(
    expectedVersion: number,
    next: CutoverState,
    audit: readonly AuditEntry[],
    effects: readonly Effect[],
    gateRecords: readonly GateRecord[],
    terminal: boolean,
  ): Promise<boolean> {
    const id = next.id;
    const written = await this.#scripts.cutoverCommit(
      this.key(id, 'state'),
      this.key(id, 'audit'),
      this.key(id, 'outbox'),
      this.outboxSetKey,
      this.key(id, 'gates'),
      this.activeKey,
      this.slotKey(next.serviceKey),
      id,
      String(expectedVersion),
      String(next.version),
      JSON.stringify(next),
      terminal ? '1' : '0',
      audit.length,
      ...audit.map((a) => JSON.stringify(a)),
      effects.length,
      ...effects.map((e, i) => `${effectSeq(next.version, i)}|${JSON.stringify(e)}`),
      gateRecords.length,
      ...gateRecords.map((g) => JSON.stringify(g)),
    );
    return written === 1;
  }

  /** An audit entry that changes no state: a refused click, an evidence package written. */
  async appendAudit(id: string, entry: AuditEntry): Promise<void> {
    await this.redis.xadd(this.key(id, 'audit'), '*', 'e', JSON.stringify(entry));
  }

  async readAudit(id: string, after = '-', count = 1000): Promise<Array<{ id: string; entry: AuditEntry }>> {
    const start = after === '-' ? '-' : `(${after}`;
    const rows = await this.redis.xrange(this.key(id, 'audit'), start, '+', 'COUNT', count);
    return rows.map(([streamId, fields]) => ({ id: streamId, entry: JSON.parse(fields[1] as string) as AuditEntry }));
  }

  async gateRecords(id: string): Promise<GateRecord[]> {
    const rows = await this.redis.lrange(this.key(id, 'gates'), 0, -1);
    return rows.map((r) => JSON.parse(r) as GateRecord);
  }

  async pendingEffects(id: string): Promise<PendingEffect[]> {
    const rows = await this.redis.lrange(this.key(id, 'outbox'), 0, -1);
    return rows.map((row) => {
      const bar = row.indexOf('|');
      return { seq: Number(row.slice(0, bar)), effect: JSON.parse(row.slice(bar + 1)) as Effect };
    });
  }

  async ackEffects(id: string, maxSeq: number): Promise<void> {
    await this.#scripts.cutoverAck(this.key(id, 'outbox'), this.outboxSetKey, id, maxSeq);
  }

  /** The war room's handle, how far it has posted the audit trail, and the card version shown. */
  async roomState(id: string): Promise<{ ref: Record<string, string> | null; cursor: string; cardVersion: number; homePhaseSeq: number }> {
    const fields = await this.redis.hgetall(this.key(id, 'room'));
    return {
      ref: fields.ref ? (JSON.parse(fields.ref) as Record<string, string>) : null,
      cursor: fields.cursor ?? '-',
      cardVersion: Number(fields.card ?? 0),
      homePhaseSeq: Number(fields.home ?? 0),
    };
  }

  /** `homePhaseSeq`: the phase the App Home views were last refreshed for. */
  async setRoomState(id: string, fields: { ref?: Record<string, string>; cursor?: string; cardVersion?: number; homePhaseSeq?: number }): Promise<void> {
    const values: string[] = [];
    if (fields.ref) values.push('ref', JSON.stringify(fields.ref));
    if (fields.cursor) values.push('cursor', fields.cursor);
    if (fields.cardVersion !== undefined) values.push('card', String(fields.cardVersion));
    if (fields.homePhaseSeq !== undefined) values.push('home', String(fields.homePhaseSeq));
    if (values.length > 0) await this.redis.hset(this.key(id, 'room'), ...values);
  }

  /**
   * The ts of a message the war room edits in place (a checklist, the sign-off, the closing
   * message), kept beside its room state so any replica can edit it.
   */
  async roomMessage(id: string, key: string): Promise<string | null> {
    return this.redis.hget(this.key(id, 'room'), `msg:${key}`);
  }

  async setRoomMessage(id: string, key: string, ts: string): Promise<void> {
    await this.redis.hset(this.key(id, 'room'), `msg:${key}`, ts);
  }

  async withPendingEffects(): Promise<string[]> {
    return this.redis.smembers(this.outboxSetKey);
  }

  async activeIds(): Promise<string[]> {
    return this.redis.smembers(this.activeKey);
  }

  async activeForService(serviceKey: string): Promise<string | null> {
    return this.redis.get(this.slotKey(serviceKey));
  }

  get homeViewersKey(): string {
    return `${this.prefix}:home:viewers`;
  }

  /**
   * Remembers that `user` opened the App Home: a sorted set by time, cut to the `keep` newest and to
   * `ttlMs`, and gone altogether after `ttlMs` without an opening. Bounds the refresh work whatever
   * the size of the workspace.
   */
  async noteHomeViewer(user: string, now: number, { keep = 50, ttlMs = 86_400_000 } = {}): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.homeViewersKey, now, user)
      .zremrangebyscore(this.homeViewersKey, '-inf', `(${now - ttlMs}`)
      .zremrangebyrank(this.homeViewersKey, 0, -(keep + 1))
      .pexpire(this.homeViewersKey, ttlMs)
      .exec();
  }

  /** The users who opened the App Home within `ttlMs`, most recent first. */
  async homeViewers(now: number, ttlMs = 86_400_000): Promise<string[]> {
    return this.redis.zrevrangebyscore(this.homeViewersKey, '+inf', now - ttlMs);
  }

  /** Most recent cutovers first, active or not. */
  async recentIds(limit = 20): Promise<string[]> {
    return this.redis.zrevrange(this.indexKey, 0, limit - 1);
  }
}
