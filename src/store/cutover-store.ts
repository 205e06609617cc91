// Redis is the only store. A cutover's state, its audit trail, its gate records and the effects
// its transitions asked for are written together by one Lua script, after comparing the version
// read: two workers (or a click and a gate failure) can never both win, and a crash never leaves
// a state without the effects it asked for.
import type { Redis } from 'ioredis';
import type { Plan } from '../domain/plan.ts';
import { serviceKeysOf } from '../domain/train.ts';
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

// A cutover holds the slot of every service it moves (a train: each target's), all or none: the
// slots are checked and claimed by one script, so two trains sharing a service, or a train and a
// single cutover of one of its services, can never both start.
const CREATE = `
-- KEYS: active state plan audit outbox outboxSet index slot...
-- ARGV: id stateJson version planJson startedAt nAudit audit... nEffects effect...
for k = 8, #KEYS do
  local existing = redis.call('GET', KEYS[k])
  if existing then return existing .. '|' .. KEYS[k] end
end
for k = 8, #KEYS do redis.call('SET', KEYS[k], ARGV[1]) end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'v', ARGV[3], 'json', ARGV[2])
redis.call('SET', KEYS[3], ARGV[4])
redis.call('ZADD', KEYS[7], ARGV[5], ARGV[1])
local i = 6
${appendAuditAndEffects(4)}
return ''
`;

// With a once token (ARGV[6], its TTL, not '0'), the commit also records the token, and a commit
// whose token is already recorded writes nothing and answers 2: a command job re-run after its
// process died between the commit and BullMQ hearing of it is recognised, not applied twice.
const COMMIT = `
-- KEYS: state audit outbox outboxSet gates active once slot...
-- ARGV: id expectedVersion newVersion stateJson terminal onceTtlMs nAudit audit... nEffects effect... nGates gate...
if ARGV[6] ~= '0' and redis.call('EXISTS', KEYS[7]) == 1 then return 2 end
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[2] then return 0 end
if ARGV[6] ~= '0' then redis.call('SET', KEYS[7], ARGV[1], 'PX', ARGV[6]) end
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'json', ARGV[4])
local i = 7
${appendAuditAndEffects(2)}
local nGates = tonumber(ARGV[i]); i = i + 1
for n = 1, nGates do redis.call('RPUSH', KEYS[5], ARGV[i]); i = i + 1 end
if ARGV[5] == '1' then
  redis.call('SREM', KEYS[6], ARGV[1])
  for k = 8, #KEYS do
    if redis.call('GET', KEYS[k]) == ARGV[1] then redis.call('DEL', KEYS[k]) end
  end
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
  cutoverChart(key: string, at: number, gapMs: number): Promise<number>;
};

/** Claims the war room's next chart: only if the last one is at least the gap older (and older at all). */
const CHART = `
local last = tonumber(redis.call('HGET', KEYS[1], 'chart') or '')
if last and tonumber(ARGV[1]) - last < math.max(tonumber(ARGV[2]), 1) then return 0 end
redis.call('HSET', KEYS[1], 'chart', ARGV[1])
return 1`;

/** Plans cached per process: enough for every cutover a bot runs at once, bounded for a bot that runs for months. */
const PLAN_CACHE = 2_000;

/** How long a once token is remembered: far longer than any re-run of the job that carries it. */
const ONCE_TTL_MS = 24 * 3600 * 1000;

/** What a commit did: wrote; found another writer had got there first; found its once token already applied. */
export type Committed = 'written' | 'conflict' | 'repeated';

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
      // The number of slots varies (a train holds one per target): the key count comes first in each call.
      redis.defineCommand('cutoverCreate', { lua: CREATE });
      redis.defineCommand('cutoverCommit', { lua: COMMIT });
      redis.defineCommand('cutoverAck', { numberOfKeys: 2, lua: ACK });
      redis.defineCommand('cutoverChart', { numberOfKeys: 1, lua: CHART });
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

  /** Where a commit records its once token (a command job's id), with the cutover it changed. */
  onceKey(token: string): string {
    return `${this.prefix}:once:${token}`;
  }

  /** The cutover a commit carrying this once token changed; null if none was written. */
  async appliedTo(token: string): Promise<string | null> {
    return this.redis.get(this.onceKey(token));
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

  /**
   * Creates the cutover unless one of its services already has an active one; returns that one's
   * id then, and the service key it holds.
   */
  async create(state: CutoverState, plan: Plan, effects: readonly Effect[], audit: readonly AuditEntry[]): Promise<{ ok: true } | { ok: false; running: string; serviceKey: string }> {
    const slots = serviceKeysOf(plan).map((key) => this.slotKey(key));
    const result = await this.#scripts.cutoverCreate(
      7 + slots.length,
      this.activeKey,
      this.key(state.id, 'state'),
      this.key(state.id, 'plan'),
      this.key(state.id, 'audit'),
      this.key(state.id, 'outbox'),
      this.outboxSetKey,
      this.indexKey,
      ...slots,
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
    if (result) {
      const bar = result.indexOf('|');
      return { ok: false, running: result.slice(0, bar), serviceKey: result.slice(bar + 1 + this.slotKey('').length) };
    }
    this.#cachePlan(state.id, plan);
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
    this.#cachePlan(id, plan);
    return plan;
  }

  #cachePlan(id: string, plan: Plan): void {
    // A Map iterates in insertion order: the first key is the oldest entry.
    if (this.#plans.size >= PLAN_CACHE) this.#plans.delete(this.#plans.keys().next().value!);
    this.#plans.set(id, plan);
  }

  /**
   * Writes `next` if the stored version is still `expectedVersion`, with its audit entries,
   * effects and gate records. `conflict` when another writer got there first: re-read and
   * re-decide. With `once`, the token is recorded with the write, and a commit whose token is
   * already recorded writes nothing: `repeated`.
   */
  async commit(
    expectedVersion: number,
    next: CutoverState,
    audit: readonly AuditEntry[],
    effects: readonly Effect[],
    gateRecords: readonly GateRecord[],
    terminal: boolean,
    once?: string,
    /** The services whose slots an ending cutover frees: every target of a train. */
    serviceKeys: readonly string[] = [next.serviceKey],
  ): Promise<Committed> {
    const id = next.id;
    const slots = serviceKeys.map((key) => this.slotKey(key));
    const written = await this.#scripts.cutoverCommit(
      7 + slots.length,
      this.key(id, 'state'),
      this.key(id, 'audit'),
      this.key(id, 'outbox'),
      this.outboxSetKey,
      this.key(id, 'gates'),
      this.activeKey,
      this.onceKey(once ?? '-'),
      ...slots,
      id,
      String(expectedVersion),
      String(next.version),
      JSON.stringify(next),
      terminal ? '1' : '0',
      once ? String(ONCE_TTL_MS) : '0',
      audit.length,
      ...audit.map((a) => JSON.stringify(a)),
      effects.length,
      ...effects.map((e, i) => `${effectSeq(next.version, i)}|${JSON.stringify(e)}`),
      gateRecords.length,
      ...gateRecords.map((g) => JSON.stringify(g)),
    );
    return written === 1 ? 'written' : written === 2 ? 'repeated' : 'conflict';
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
   * Whether the war room may post the chart of the moment `at`: the last chart posted for the
   * cutover (recorded here, atomically, when this says yes) is at least `gapMs` older. A chart of an
   * older moment than the last is never posted.
   */
  async claimChart(id: string, at: number, gapMs: number): Promise<boolean> {
    return (await this.#scripts.cutoverChart(this.key(id, 'room'), at, gapMs)) === 1;
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
