// The App Home: `app_home_opened` publishes the viewer's Home view (views.publish), and remembers
// them among the recent viewers; when a cutover changes phase, the notifier has the recent viewers'
// views published again. The viewers are a bounded set in Redis (the last 50 within 24 h), so the
// work of a refresh is capped whatever the size of the workspace.
import type { App, webApi } from '@slack/bolt';
import { isTerminal, type CutoverState } from '../src/domain/state.ts';
import type { Logger } from '../src/log.ts';
import type { PlanCatalog } from '../src/plans/catalog.ts';
import type { RoleDirectory } from '../src/ports.ts';
import type { CutoverStore } from '../src/store/cutover-store.ts';
import { FINISHED_SHOWN, homeView, type HomeCutover, type HomeModel, type HomePlan } from '../templates/home.ts';

/** Recent viewers kept, and for how long: the bound on a refresh's work. */
export const HOME_VIEWERS = { keep: 50, ttlMs: 24 * 3_600_000 } as const;

/** The Web API methods the Home uses. */
export interface HomeClient {
  readonly views: Pick<webApi.WebClient['views'], 'publish'>;
  readonly chat: Pick<webApi.WebClient['chat'], 'getPermalink'>;
}

export interface HomeDeps {
  readonly store: Pick<CutoverStore, 'activeIds' | 'recentIds' | 'loadState' | 'loadPlan' | 'roomState' | 'roomMessage' | 'setRoomMessage' | 'noteHomeViewer' | 'homeViewers'>;
  readonly catalog: Pick<PlanCatalog, 'list' | 'load'>;
  readonly roles: RoleDirectory;
  readonly client: HomeClient;
  readonly log: Logger;
  readonly now: () => number;
}

type Shared = Omit<HomeModel, 'viewer' | 'plans'> & { readonly plans: ReadonlyArray<Omit<HomePlan, 'roles'>> };

/** How many recent cutovers are read to find the last finished ones among them. */
const RECENT_READ = 60;
const PERMALINK_KEY = 'permalink';

export class Home {
  readonly #deps: HomeDeps;

  constructor(deps: HomeDeps) {
    this.#deps = deps;
  }

  /** `user` opened the Home tab: remember them, and publish their view. */
  async opened(user: string): Promise<void> {
    await this.#deps.store.noteHomeViewer(user, this.#deps.now(), HOME_VIEWERS);
    const shared = await this.#shared();
    await this.#publish(user, shared);
  }

  /** Publishes the view again for every recent viewer; returns how many. */
  async refreshRecent(): Promise<number> {
    const viewers = await this.#deps.store.homeViewers(this.#deps.now(), HOME_VIEWERS.ttlMs);
    if (viewers.length === 0) return 0;
    const shared = await this.#shared();
    let published = 0;
    for (const user of viewers.slice(0, HOME_VIEWERS.keep)) {
      try {
        await this.#publish(user, shared);
        published++;
      } catch (error) {
        // One viewer who left the workspace must not stop the others' refresh.
        this.#deps.log.warn({ user, err: error instanceof Error ? error.message : String(error) }, 'home view not published');
      }
    }
    return published;
  }

  /** What every viewer sees alike: the cutovers and the plans (roles are per viewer). */
  async #shared(): Promise<Shared> {
    const { store, catalog } = this.#deps;
    const [activeIds, recentIds, entries] = await Promise.all([store.activeIds(), store.recentIds(RECENT_READ), catalog.list()]);
    const states = async (ids: readonly string[]) => (await Promise.all(ids.map((id) => store.loadState(id)))).filter((s): s is CutoverState => s !== null);
    const running = (await states(activeIds)).filter((s) => !isTerminal(s.phase)).sort((a, b) => b.startedAt - a.startedAt);
    const finished = (await states(recentIds))
      .filter((s) => isTerminal(s.phase))
      .sort((a, b) => (b.endedAt ?? b.phaseSince) - (a.endedAt ?? a.phaseSince))
      .slice(0, FINISHED_SHOWN);
    const plans = await Promise.all(
      entries.map(async ({ name }) => {
        const loaded = await catalog.load(name);
        return loaded.ok ? { name, plan: loaded.plan, problems: [] } : { name, plan: null, problems: loaded.errors };
      }),
    );
    return {
      running: await Promise.all(running.map((s) => this.#cutover(s))),
      finished: await Promise.all(finished.map((s) => this.#cutover(s))),
      plans,
      now: this.#deps.now(),
    };
  }

  async #cutover(state: CutoverState): Promise<HomeCutover> {
    const [plan, permalink] = await Promise.all([this.#deps.store.loadPlan(state.id), this.#permalink(state.id)]);
    return { state, plan, permalink };
  }

  /** The status card's permalink, asked of Slack once per cutover and kept beside its room state. */
  async #permalink(id: string): Promise<string | null> {
    const { store, client, log } = this.#deps;
    const known = await store.roomMessage(id, PERMALINK_KEY);
    if (known) return known;
    const { ref } = await store.roomState(id);
    if (!ref?.channel || !ref.ts) return null;
    try {
      const answer = await client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts });
      if (!answer.permalink) return null;
      await store.setRoomMessage(id, PERMALINK_KEY, answer.permalink);
      return answer.permalink;
    } catch (error) {
      log.warn({ cutover: id, err: error instanceof Error ? error.message : String(error) }, 'no permalink for the status card');
      return null;
    }
  }

  async #publish(user: string, shared: Shared): Promise<void> {
    const plans = await Promise.all(shared.plans.map(async (p) => ({ ...p, roles: p.plan ? await this.#deps.roles.rolesOf(p.plan, user) : [] })));
    await this.#deps.client.views.publish({ user_id: user, view: homeView({ ...shared, viewer: user, plans }) });
  }
}

/** `app_home_opened` on the Home tab (not the Messages tab): publish the viewer's Home. */
export function register(app: App, home: Pick<Home, 'opened'>, log: Logger): void {
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    try {
      await home.opened(event.user);
    } catch (error) {
      log.error({ user: event.user, err: error instanceof Error ? error.message : String(error) }, 'home view not published');
    }
  });
}
