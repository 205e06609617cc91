// The engine as its drivers see it (the Slack war room, the rehearsal, the jobs): start a
// cutover, act on one, apply a job's result. Each call loads the state, lets the pure machine
// decide, and commits with optimistic concurrency; a refusal is a typed value, never a throw.
import { randomBytes } from 'node:crypto';
import type { AuditEntry } from '../domain/audit.ts';
import type { Command, EngineRefusal } from '../domain/command.ts';
import { openCutover, step } from '../domain/machine.ts';
import type { Plan } from '../domain/plan.ts';
import { abortReadsServed } from '../domain/traffic.ts';
import { serviceKeysOf } from '../domain/train.ts';
import { isTerminal, type CommandEvent, type CutoverEvent, type CutoverState, type Effect, type JobEvent, type Refusal, type Transition } from '../domain/state.ts';
import type { Logger } from '../log.ts';
import type { RoleDirectory } from '../ports.ts';
import type { CutoverStore } from '../store/cutover-store.ts';
import type { Split } from '../domain/service.ts';

export interface TrafficReader {
  /** The split the plan's service serves now; throws when it cannot be read. */
  served(plan: Plan, revisions: CutoverState['revisions']): Promise<Split>;
}

export type EngineResult =
  /** `repeated`: the command's once token was already applied; `state` is the state now. */
  | { readonly ok: true; readonly state: CutoverState; readonly repeated?: true }
  | { readonly ok: false; readonly refusal: EngineRefusal; readonly state: CutoverState | null };

/** Where committed effects go: the job dispatcher turns a cutover's outbox into jobs. */
export interface EffectDispatcher {
  /** Dispatches what the cutover's outbox holds; safe to call twice (job ids are deterministic). */
  drain(id: string): Promise<void>;
}

export interface EngineDeps {
  readonly store: CutoverStore;
  readonly dispatcher: EffectDispatcher;
  readonly roles: RoleDirectory;
  /** Read before an abort: the state alone may not know the canary serves (lost writes). */
  readonly traffic?: TrafficReader;
  readonly now?: () => number;
  readonly log: Logger;
}

const MAX_ATTEMPTS = 25;

/** `control-service-20261123t154700z-3fa2`: readable, sortable, unique. */
function newCutoverId(plan: string, now: number): string {
  return `${plan}-${compactTimestamp(now).toLowerCase()}-${randomBytes(2).toString('hex')}`;
}

/** 20261123T154700Z */
export function compactTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function auditFor(transition: Extract<Transition, { ok: true }>, now: number): AuditEntry[] {
  const version = transition.state.version;
  return transition.effects.flatMap((effect: Effect): AuditEntry[] => {
    if (effect.type === 'announce') return [{ type: 'notice', at: now, version, notice: effect.notice }];
    if (effect.type === 'escalate') return [{ type: 'escalation', at: now, version, escalation: effect.escalation }];
    return [];
  });
}

export class Engine {
  readonly #deps: EngineDeps;
  readonly #now: () => number;

  constructor(deps: EngineDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  get store(): CutoverStore {
    return this.#deps.store;
  }

  /** The cutovers still running, oldest first. */
  async active(): Promise<CutoverState[]> {
    const ids = await this.#deps.store.activeIds();
    const states = await Promise.all(ids.map((id) => this.#deps.store.loadState(id)));
    return states.filter((s): s is CutoverState => s !== null && !isTerminal(s.phase)).sort((a, b) => a.startedAt - b.startedAt);
  }

  /** Starts now (T0 is now), or schedules T0 ahead with `t0`. */
  async start(plan: Plan, by: string, overrides: { stable?: string; canary?: string; t0?: number } = {}): Promise<EngineResult> {
    const now = this.#now();
    const roles = await this.#deps.roles.rolesOf(plan, by);
    const id = newCutoverId(plan.name, now);
    const revisions = { stable: overrides.stable ?? plan.service.stable, canary: overrides.canary ?? plan.service.canary };
    const opened = openCutover({ id, plan, actor: { id: by, roles }, revisions, now, ...(overrides.t0 === undefined ? {} : { t0: overrides.t0 }) });
    if (!opened.ok) return { ok: false, refusal: opened.refusal, state: null };
    const created = await this.#deps.store.create(opened.state, plan, opened.effects, auditFor(opened, now));
    if (!created.ok) {
      return {
        ok: false,
        refusal: { code: 'already_running', action: 'start', running: created.running, service: created.serviceKey },
        state: await this.#deps.store.loadState(created.running),
      };
    }
    await this.#drain(id);
    this.#deps.log.info({ cutover: id, plan: plan.name, by, revisions }, 'cutover started');
    return { ok: true, state: opened.state };
  }

  /**
   * A person acts: their roles are resolved, then the event is applied; refusals are audited.
   * `once`: a token naming this request (a command job's id): if a commit with it was already
   * written (the job ran before, and its process died before it could say so), nothing is applied
   * again and the result is the state now, as done.
   */
  async command(id: string, command: Command, options: { readonly once?: string } = {}): Promise<EngineResult> {
    const plan = await this.#deps.store.loadPlan(id);
    if (!plan) return { ok: false, refusal: { code: 'no_cutover', action: command.type }, state: null };
    const roles = await this.#deps.roles.rolesOf(plan, command.by);
    const { by, ...rest } = command;
    const event = { ...rest, actor: { id: by, roles } } as CommandEvent;
    const result = await this.apply(id, event.type === 'abort' ? { ...event, ...(await this.#servedBeforeAbort(id, plan)) } : event, options);
    if (!result.ok && result.state) {
      await this.#deps.store.appendAudit(id, { type: 'refused', at: this.#now(), by, action: command.type, code: result.refusal.code });
    }
    return result;
  }

  async apply(id: string, event: CutoverEvent | JobEvent, options: { readonly once?: string } = {}): Promise<EngineResult> {
    const { once } = options;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const loaded = await this.#deps.store.load(id);
      if (!loaded) return { ok: false, refusal: { code: 'no_cutover', action: event.type }, state: null };
      // Applied before: the machine would judge it against the state it produced (and refuse, or
      // worse, accept it a second time). The commit checks the token again, atomically.
      if (once && (await this.#deps.store.appliedTo(once)) !== null) return this.#repeated(id, event, loaded.state);
      const now = this.#now();
      const transition = step(loaded.plan, loaded.state, event, now);
      if (!transition.ok) return { ok: false, refusal: transition.refusal, state: loaded.state };
      const committed = await this.#deps.store.commit(
        loaded.state.version,
        transition.state,
        auditFor(transition, now),
        transition.effects,
        transition.gateResults,
        isTerminal(transition.state.phase),
        once,
        serviceKeysOf(loaded.plan),
      );
      if (committed === 'written') {
        await this.#drain(id);
        return { ok: true, state: transition.state };
      }
      if (committed === 'repeated') return this.#repeated(id, event, (await this.#deps.store.loadState(id)) ?? loaded.state);
      // Someone else committed first: re-read the world and decide again.
    }
    throw new Error(`cutover ${id}: could not commit ${event.type} after ${MAX_ATTEMPTS} attempts`);
  }

  #repeated(id: string, event: CutoverEvent, state: CutoverState): EngineResult {
    this.#deps.log.info({ cutover: id, event: event.type }, 'command already applied (its job ran before); not applied again');
    return { ok: true, state, repeated: true };
  }

  async #servedBeforeAbort(id: string, plan: Plan): Promise<{ served?: Split | { error: string } }> {
    const state = await this.#deps.store.loadState(id);
    if (!state || !this.#deps.traffic || !abortReadsServed(state)) return {};
    try {
      return { served: await this.#deps.traffic.served(plan, state.revisions) };
    } catch (error) {
      this.#deps.log.warn({ cutover: id, err: error }, 'could not read the served split before an abort');
      return { served: { error: error instanceof Error ? error.message : String(error) } };
    }
  }

  async #drain(id: string): Promise<void> {
    try {
      await this.#deps.dispatcher.drain(id);
    } catch (error) {
      // The effects are safe in the outbox; the sweep dispatches them once Redis answers again.
      this.#deps.log.warn({ cutover: id, err: error }, 'could not dispatch effects now; the sweep will');
    }
  }
}
