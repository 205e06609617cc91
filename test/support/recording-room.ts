// An in-process war room for tests: records every audit entry the notifier posts, and lets a test
// await the entry it cares about (no sleeps: the promise resolves when the entry is posted).
// Plus a static role directory: a fixed map of user -> plan roles.
import { EventEmitter } from 'node:events';
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { Notice } from '../../src/domain/state.ts';
import type { Plan } from '../../src/domain/plan.ts';
import type { RoomRef, WarRoom, RoleDirectory } from '../../src/ports.ts';
import type { CutoverView } from '../../src/domain/view.ts';

export interface Posted {
  readonly entry: AuditEntry;
  readonly view: CutoverView;
}

type NoticeOf<K extends Notice['kind']> = Extract<Notice, { kind: K }>;

export class RecordingRoom extends EventEmitter<{ entry: [Posted] }> implements WarRoom {
  readonly posted: Posted[] = [];
  opened = 0;
  refreshed = 0;
  updates = 0;

  async open(): Promise<RoomRef> {
    this.opened += 1;
    return { room: 'test' };
  }

  async refresh(): Promise<void> {
    this.refreshed += 1;
  }

  async post(_ref: RoomRef, entry: AuditEntry, view: CutoverView): Promise<void> {
    const posted = { entry, view };
    this.posted.push(posted);
    this.emit('entry', posted);
  }

  async update(): Promise<void> {
    this.updates += 1;
  }

  /** Resolves with the first posted entry (already posted or future) that matches. */
  waitFor(predicate: (posted: Posted) => boolean, label = 'a matching entry', timeoutMs = 30_000): Promise<Posted> {
    const existing = this.posted.find(predicate);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      // A bound so a broken cutover fails its test with what the room saw, not a bare test timeout.
      const timer = setTimeout(() => {
        this.off('entry', onEntry);
        reject(new Error(`no ${label} within ${timeoutMs} ms; the room saw: ${this.describe().join(' | ')}`));
      }, timeoutMs);
      const onEntry = (posted: Posted) => {
        if (!predicate(posted)) return;
        clearTimeout(timer);
        this.off('entry', onEntry);
        resolve(posted);
      };
      this.on('entry', onEntry);
    });
  }

  /** The first notice of `kind` (optionally matching), awaited. */
  async notice<K extends Notice['kind']>(kind: K, match: (notice: NoticeOf<K>) => boolean = () => true): Promise<{ notice: NoticeOf<K>; view: CutoverView }> {
    const posted = await this.waitFor(
      (p) => p.entry.type === 'notice' && p.entry.notice.kind === kind && match(p.entry.notice as NoticeOf<K>),
      `"${kind}" notice`,
    );
    return { notice: (posted.entry as Extract<AuditEntry, { type: 'notice' }>).notice as NoticeOf<K>, view: posted.view };
  }

  notices<K extends Notice['kind']>(kind: K): NoticeOf<K>[] {
    return this.posted.flatMap((p) => (p.entry.type === 'notice' && p.entry.notice.kind === kind ? [p.entry.notice as NoticeOf<K>] : []));
  }

  /** One short line per entry, for failure messages. */
  describe(): string[] {
    return this.posted.map(({ entry }) => {
      switch (entry.type) {
        case 'notice':
          return `${entry.notice.kind}${'percent' in entry.notice ? ` ${entry.notice.percent}%` : ''}`;
        case 'escalation':
          return `escalation ${entry.escalation.code}: ${entry.escalation.detail}`;
        case 'refused':
          return `refused ${entry.action}: ${entry.code}`;
        case 'evidence':
          return `evidence ${entry.path}`;
      }
    });
  }
}

/** Roles by user id, whatever the plan says (the plan's `roles` block is not consulted). */
export class StaticRoles implements RoleDirectory {
  readonly #roles: ReadonlyMap<string, readonly string[]>;

  constructor(roles: Readonly<Record<string, readonly string[]>>) {
    this.#roles = new Map(Object.entries(roles));
  }

  async rolesOf(_plan: Plan, user: string): Promise<readonly string[]> {
    return this.#roles.get(user) ?? [];
  }
}
