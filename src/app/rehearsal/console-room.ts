// The rehearsal's war room: the terminal. It prints the timeline as it happens and tells the
// rehearsal driver what the room was shown, so the driver can answer like people would.
import { EventEmitter } from 'node:events';
import type { AuditEntry } from '../../domain/audit.ts';
import type { RoomRef, WarRoom } from '../../ports.ts';
import { ESCALATION_WORDS, describePhase, noticeText } from '../../../templates/words.ts';
import { updateFacts } from '../../../templates/update.ts';
import type { CutoverView } from '../../domain/view.ts';
import { targetLines } from '../../../templates/train.ts';

/** The notices after which a train's targets are listed: their traffic just moved, or failed to. */
const TRAIN_MOVES: ReadonlySet<string> = new Set(['traffic_confirmed', 'traffic_failed', 'rolled_back', 'rollback_failed']);

export interface ConsoleRoomEvents {
  entry: [AuditEntry, CutoverView];
}

export class ConsoleRoom extends EventEmitter<ConsoleRoomEvents> implements WarRoom {
  readonly #write: (line: string) => void;
  readonly #started: number;
  readonly #speed: number;

  /** `speed`: how much faster than the plan's clock the rehearsal runs (updates speak plan time). */
  constructor(write: (line: string) => void, started = Date.now(), speed = 1) {
    super();
    this.#write = write;
    this.#started = started;
    this.#speed = speed;
  }

  line(text: string, at = Date.now()): void {
    const elapsed = ((at - this.#started) / 1000).toFixed(2).padStart(7);
    this.#write(`+${elapsed}s  ${text}`);
  }

  async open(view: CutoverView): Promise<RoomRef> {
    this.line(`status card: ${view.plan.name} ${describePhase(view.state)}`);
    return { console: view.state.id };
  }

  async refresh(): Promise<void> {
    // The terminal has no card to edit: every change is already a line of the timeline.
  }

  async post(_ref: RoomRef, entry: AuditEntry, view: CutoverView): Promise<void> {
    switch (entry.type) {
      case 'notice':
        this.line(noticeText(entry.notice, view.plan), entry.at);
        // A train: where each target is, as its own platform verified it.
        if (TRAIN_MOVES.has(entry.notice.kind)) for (const row of targetLines(view.plan, view.state)) this.#write(`            ${row}`);
        break;
      case 'escalation':
        this.line(`ESCALATION to ${view.plan.escalation.mention.join(', ') || 'the war room'}: ${ESCALATION_WORDS[entry.escalation.code]}: ${entry.escalation.detail}`, entry.at);
        break;
      case 'refused':
      case 'evidence':
        // Refusals went to whoever acted (here: the rehearsal's own retries); they stay in the audit trail.
        break;
    }
    this.emit('entry', entry, view);
  }

  async update(_ref: RoomRef, view: CutoverView, now: number): Promise<void> {
    // Plan time: a rehearsal at x1000 reports T+30min after 1.8 s.
    const f = updateFacts(view, view.state.startedAt + (now - view.state.startedAt) * this.#speed);
    const what = f.kind === 'hypercare' ? 'hypercare daily summary' : 'update';
    this.line(`${f.emoji} ${what} [T+${f.minutes}min] status ${f.status}; traffic ${f.traffic}; ${f.metrics}; issues: ${f.issues}; next: ${f.next}`, now);
  }
}
