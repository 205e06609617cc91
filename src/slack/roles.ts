// Who holds which plan role: Slack user ids named in the plan, and members of the Slack user
// groups named there (usergroups.users.list, cached briefly). A lookup that fails grants nothing.
import type { webApi } from '@slack/bolt';
import type { Plan } from '../domain/plan.ts';
import type { Logger } from '../log.ts';
import type { RoleDirectory } from '../ports.ts';

export interface RolesClient {
  readonly usergroups: { readonly users: Pick<webApi.WebClient['usergroups']['users'], 'list'> };
}

const isGroup = (member: string) => member.startsWith('S');

export class SlackRoles implements RoleDirectory {
  readonly #client: RolesClient;
  readonly #ttlMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  /** Group id → its members, and until when they may be trusted. In-flight lookups are shared. */
  readonly #groups = new Map<string, { readonly until: number; readonly members: Promise<ReadonlySet<string> | null> }>();

  constructor(client: RolesClient, options: { readonly log: Logger; readonly ttlMs?: number; readonly now?: () => number }) {
    this.#client = client;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  async rolesOf(plan: Plan, userId: string): Promise<readonly string[]> {
    const groups = [...new Set(Object.values(plan.roles).flat().filter(isGroup))];
    const members = new Map(await Promise.all(groups.map(async (g) => [g, await this.#members(g)] as const)));
    return Object.entries(plan.roles)
      .filter(([, holders]) => holders.some((h) => h === userId || (isGroup(h) && members.get(h)?.has(userId))))
      .map(([role]) => role);
  }

  #members(group: string): Promise<ReadonlySet<string> | null> {
    const now = this.#now();
    const cached = this.#groups.get(group);
    if (cached && cached.until > now) return cached.members;
    const members: Promise<ReadonlySet<string> | null> = this.#lookup(group).then((found) => {
      // A failure is not cached: the next command asks Slack again rather than trusting it for a minute.
      if (!found && this.#groups.get(group)?.members === members) this.#groups.delete(group);
      return found;
    });
    this.#groups.set(group, { until: now + this.#ttlMs, members });
    return members;
  }

  async #lookup(group: string): Promise<ReadonlySet<string> | null> {
    try {
      const result = await this.#client.usergroups.users.list({ usergroup: group });
      return new Set(result.users ?? []);
    } catch (error) {
      this.#log.warn({ group, err: error instanceof Error ? error.message : String(error) }, 'could not list a user group; its members get no role from it');
      return null;
    }
  }
}
