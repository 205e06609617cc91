// The war room's delivery: posts the audit trail of one cutover in order, each entry once,
// then edits the status card if the state moved on. One notifier runs per cutover at a time
// (BullMQ deduplication keeps one waiting behind it), and a failure retries from the cursor.
import type { Job } from 'bullmq';
import type { JobData } from './queues.ts';
import type { CutoverStore } from '../src/store/cutover-store.ts';
import type { WarRoom } from '../src/ports.ts';

export interface NotifyDeps {
  readonly store: CutoverStore;
  readonly room: WarRoom;
  readonly now: () => number;
  /** Asks for the App Home to be refreshed for its recent viewers (absent: there is no Home, a rehearsal). */
  readonly home?: () => Promise<void>;
}

/** What the `home` job needs: the recent viewers' views published again. */
export interface HomeRefresher {
  refreshRecent(): Promise<number>;
}

export function createHomeProcessor(home: HomeRefresher | undefined) {
  return async (): Promise<string> => (home ? `published ${await home.refreshRecent()}` : 'no home');
}

export function createNotifyProcessor(deps: NotifyDeps) {
  return async (job: Job<JobData['notify']>): Promise<string> => {
    const { id } = job.data;
    let loaded = await deps.store.load(id);
    if (!loaded) return 'gone';
    const room = await deps.store.roomState(id);
    let { ref, cardVersion: shown } = room;
    if (!ref) {
      ref = { ...(await deps.room.open(loaded)) };
      shown = loaded.state.version;
      await deps.store.setRoomState(id, { ref, cardVersion: shown });
    }
    let cursor = room.cursor;
    let posted = 0;
    for (;;) {
      const batch = await deps.store.readAudit(id, cursor, 200);
      if (batch.length === 0) break;
      for (const { id: entryId, entry } of batch) {
        // An entry newer than the state in hand is shown with the state it came with, at least:
        // a checklist edited for a tick must show that tick.
        if ('version' in entry && entry.version > loaded.state.version) loaded = (await deps.store.load(id)) ?? loaded;
        await deps.room.post(ref, entry, loaded);
        cursor = entryId;
        await deps.store.setRoomState(id, { cursor });
        posted++;
      }
      loaded = (await deps.store.load(id)) ?? loaded;
    }
    // `loaded` is as new as the last entry posted; a later change queues the next notifier.
    if (loaded.state.version > shown) {
      await deps.room.refresh(ref, loaded);
      await deps.store.setRoomState(id, { cardVersion: loaded.state.version });
    }
    // A new phase shows on the App Home of whoever looked at it lately (checks alone do not).
    if (deps.home && loaded.state.phaseSeq !== room.homePhaseSeq) {
      await deps.home();
      await deps.store.setRoomState(id, { homePhaseSeq: loaded.state.phaseSeq });
    }
    return `posted ${posted}`;
  };
}

/**
 * A chart is news for people, not a record (the evidence package keeps the record), and a drawing
 * costs a core for a good part of a second. So the war room gets at most one per `updates.chart_gap`
 * of a cutover, and none of a moment that is no longer news: once the cutover has ended only the
 * final chart is drawn. The final chart always comes.
 */
export function createChartProcessor(deps: NotifyDeps) {
  return async (job: Job<JobData['chart']>): Promise<string> => {
    if (!deps.room.chart) return 'no charts';
    const { id, moment, at } = job.data;
    const loaded = await deps.store.load(id);
    const ref = (await deps.store.roomState(id)).ref;
    if (!loaded || !ref) return 'gone';
    if (moment !== 'final') {
      if (loaded.state.outcome) return 'skipped: the cutover has ended, its final chart follows';
      // Plans stored before the gap existed chart every moment, as they did.
      if (!(await deps.store.claimChart(id, at, loaded.plan.updates.chartGapMs ?? 0))) return 'skipped: a chart was posted within the gap';
    }
    await deps.room.chart(ref, loaded, moment, deps.now());
    return 'posted';
  };
}

export function createUpdateProcessor(deps: NotifyDeps) {
  return async (job: Job<JobData['update']>): Promise<string> => {
    const loaded = await deps.store.load(job.data.id);
    const ref = (await deps.store.roomState(job.data.id)).ref;
    if (!loaded || !ref || loaded.state.outcome) return 'skipped';
    await deps.room.update(ref, loaded, deps.now());
    return 'posted';
  };
}
