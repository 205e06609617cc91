// Carries out the effects a committed transition left in the cutover's outbox. Every effect maps
// to a job with a deterministic id (or an idempotent scheduler call), so running the same outbox
// twice, from two replicas or after a crash, adds nothing the first run did not.
import type { ChartMoment } from '../src/ports.ts';
import type { CutoverStore } from '../src/store/cutover-store.ts';
import type { Effect } from '../src/domain/state.ts';
import { jobId, type Queues } from './queues.ts';

export class Dispatcher {
  readonly #store: CutoverStore;
  readonly #queues: Queues;
  readonly #now: () => number;

  constructor(store: CutoverStore, queues: Queues, now: () => number = Date.now) {
    this.#store = store;
    this.#queues = queues;
    this.#now = now;
  }

  async drain(id: string): Promise<void> {
    const pending = await this.#store.pendingEffects(id);
    if (pending.length === 0) return;
    let notify = false;
    for (const { effect } of pending) {
      if (effect.type === 'announce' || effect.type === 'escalate') notify = true;
      else await this.#execute(id, effect);
    }
    if (notify) await this.notify(id);
    await this.#store.ackEffects(id, Math.max(...pending.map((p) => p.seq)));
  }

  /** Wakes the notifier of a cutover: one runs at a time, and one more is kept if it is busy. */
  async notify(id: string): Promise<void> {
    await this.#queues.add('notify', { id }, { deduplication: { id: `notify.${id}`, keepLastIfActive: true } });
  }

  /** Has the war room's chart of `moment` posted by its own job: once per cutover, moment and time. */
  async chart(id: string, moment: ChartMoment, at: number): Promise<void> {
    await this.#queues.add('chart', { id, moment, at }, { jobId: jobId(`chart-${moment}`, id, at) });
  }

  /**
   * Has the App Home refreshed for its recent viewers, a moment from now: one job waits at a time,
   * so a burst of phase changes (many cutovers, or one moving fast) costs one refresh.
   */
  async home(): Promise<void> {
    await this.#queues.add('home', {}, { delay: 1_000, deduplication: { id: 'home', keepLastIfActive: true } });
  }

  /** Drains every outbox a crash may have left behind. */
  async sweep(): Promise<number> {
    const ids = await this.#store.withPendingEffects();
    for (const id of ids) await this.drain(id);
    return ids.length;
  }

  async #execute(id: string, effect: Exclude<Effect, { type: 'announce' | 'escalate' }>): Promise<void> {
    const q = this.#queues;
    switch (effect.type) {
      case 'run_preflight':
        await q.add('preflight', { id, phaseSeq: effect.phaseSeq }, { jobId: jobId('preflight', id, effect.phaseSeq) });
        return;
      case 'shift_traffic':
        await q.add('shift', { id, phaseSeq: effect.phaseSeq, stage: effect.stage, percent: effect.percent }, { jobId: jobId('shift', id, effect.phaseSeq) });
        return;
      case 'schedule_check':
        await q.add('check', { id, seq: effect.seq, at: effect.at }, { jobId: jobId('check', id, effect.seq), delay: Math.max(0, effect.at - this.#now()) });
        return;
      case 'roll_back':
        await q.add('rollback', { id, phaseSeq: effect.phaseSeq }, { jobId: jobId('rollback', id, effect.phaseSeq) });
        return;
      case 'roll_back_target':
        // One per cutover and target: a target is dropped once, so a second enqueue is a no-op.
        await q.add('rollback-target', { id, target: effect.target }, { jobId: jobId('rollback-target', id, effect.target) });
        return;
      case 'schedule_stuck_check':
        await q.add('stuck', { id, phaseSeq: effect.phaseSeq }, { jobId: jobId('stuck', id, effect.phaseSeq), delay: Math.max(0, effect.at - this.#now()) });
        return;
      case 'start_updates':
        // Upserting keeps one scheduler per cutover; hypercare re-upserts it at its own cadence.
        await q.notify.upsertJobScheduler(jobId('updates', id), { every: effect.everyMs, startDate: this.#now() + effect.everyMs }, { name: 'update', data: { id } });
        return;
      case 'stop_updates':
        await q.notify.removeJobScheduler(jobId('updates', id));
        return;
      case 'write_evidence':
        // A sign-off after the end writes the package again. One writer per cutover at a time, and
        // one more kept behind it, so the last package written is built from the latest state.
        await q.add('evidence', { id }, { deduplication: { id: `evidence.${id}`, keepLastIfActive: true } });
        return;
      case 'schedule':
        await q.add('timer', { id, event: effect.event }, { jobId: `timer.${id}.${effect.key}`, delay: Math.max(0, effect.at - this.#now()) });
        return;
      case 'run_checkpoint_gates':
        await q.add('checkpoint-gates', { id, index: effect.index, run: effect.run }, { jobId: `cpgates.${id}.${effect.index}.${effect.run}` });
        return;
    }
  }
}
