// The rehearsal's war room: the terminal. It prints what happens (stage changes, approvals,
// promotions, gates whose verdict changed, rollbacks) and one progress line per soak; with
// `verbose`, every gate check and periodic update too. It tells the rehearsal driver what the
// room was shown, so the driver can answer like people would.
import { EventEmitter } from 'node:events';
import type { AuditEntry } from '../../domain/audit.ts';
import type { Verdict } from '../../domain/gates.ts';
import type { Notice } from '../../domain/state.ts';
import type { RoomRef, WarRoom } from '../../ports.ts';
import { ESCALATION_WORDS, describePhase, noticeText, readingText } from '../../../templates/words.ts';
import { updateFacts } from '../../../templates/update.ts';
import type { CutoverView } from '../../domain/view.ts';
import type { Plan } from '../../domain/plan.ts';
import { targetLines } from '../../../templates/train.ts';

/** The notices after which a train's targets are listed: their traffic just moved, or failed to. */
const TRAIN_MOVES: ReadonlySet<string> = new Set(['traffic_confirmed', 'traffic_failed', 'rolled_back', 'rollback_failed', 'target_back', 'target_rollback_failed']);

export interface ConsoleRoomEvents {
  entry: [AuditEntry, CutoverView];
}

export interface ConsoleRoomOptions {
  /** The rehearsal's start: every line says how long after it (default now). */
  readonly started?: number;
  /** How much faster than the plan's clock the rehearsal runs (updates speak plan time). */
  readonly speed?: number;
  /** Every gate check and periodic update, not only what changed. */
  readonly verbose?: boolean;
  readonly now?: () => number;
}

/** The checks of one soak (or of hypercare) so far: how many, and each gate's verdicts. */
interface Progress {
  readonly label: string;
  checks: number;
  first: number;
  last: number;
  readonly verdicts: Map<string, Map<Verdict, number>>;
}

/** Notices that end a stretch of checks: its progress line is printed before them. */
const ENDS_PROGRESS: ReadonlySet<Notice['kind']> = new Set([
  'soak_clean',
  'promoted',
  'shifting',
  'held',
  'resumed',
  'rollback_started',
  'completed',
  'aborted',
  'hypercare_started',
  'hypercare_ended',
]);

/** Gates that passed by name, the others with their readings: what went wrong is what is worth reading. */
function preflightText(notice: Extract<Notice, { kind: 'preflight' }>): string {
  const passed = notice.gates.filter((g) => g.verdict === 'pass');
  const others = notice.gates.filter((g) => g.verdict !== 'pass');
  const simulated = passed.length > 0 && passed.every((g) => g.reading.note?.startsWith('simulated'));
  return [
    `Preflight ${notice.passed ? 'passed' : 'DID NOT PASS'}:`,
    others.map((g) => `${g.gate} ${readingText(g.reading)}`).join('; ') + (others.length && passed.length ? ';' : ''),
    passed.length ? `${passed.map((g) => g.gate).join(', ')} passed${simulated ? ' [simulated]' : ''}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

export class ConsoleRoom extends EventEmitter<ConsoleRoomEvents> implements WarRoom {
  readonly #write: (line: string) => void;
  readonly #started: number;
  readonly #speed: number;
  readonly #verbose: boolean;
  readonly #now: () => number;
  /** The latest time printed: a line never shows an earlier one (entries arrive after the moment they record). */
  #shown = 0;
  /** Each gate's last verdict, to print only changes. */
  readonly #verdicts = new Map<string, Verdict>();
  #progress: Progress | null = null;
  #hypercare = false;
  /** A clean soak waits for /promote: the canary is still checked meanwhile. */
  #awaitingPromotion = false;

  constructor(write: (line: string) => void, options: ConsoleRoomOptions = {}) {
    super();
    this.#write = write;
    this.#now = options.now ?? Date.now;
    this.#started = options.started ?? this.#now();
    this.#speed = options.speed ?? 1;
    this.#verbose = options.verbose ?? false;
  }

  /** A line of the timeline, at `at` or the latest time already shown, whichever is later. */
  line(text: string, at = this.#now()): void {
    this.#shown = Math.max(this.#shown, at);
    const elapsed = ((this.#shown - this.#started) / 1000).toFixed(2).padStart(7);
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
        this.#notice(entry.notice, view.plan, entry.at);
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
    if (!this.#verbose) return;
    // Plan time: a rehearsal at x1000 reports T+30min after 1.8 s.
    const f = updateFacts(view, view.state.startedAt + (now - view.state.startedAt) * this.#speed);
    const what = f.kind === 'hypercare' ? 'hypercare daily summary' : 'update';
    this.line(`${f.emoji} ${what} [T+${f.minutes}min] status ${f.status}; traffic ${f.traffic}; ${f.metrics}; issues: ${f.issues}; next: ${f.next}`, now);
  }

  /** The progress line of the checks since the last one, if any. */
  flush(at?: number): void {
    const p = this.#progress;
    this.#progress = null;
    if (!p) return;
    const counts = [...p.verdicts.entries()];
    const allPassed = counts.every(([, byVerdict]) => byVerdict.size === 1 && byVerdict.has('pass'));
    const span = ((p.last - p.first) / 1000).toFixed(2);
    const detail = allPassed
      ? `every gate passed every check (${counts.map(([gate]) => gate).join(', ')})`
      : counts.map(([gate, byVerdict]) => `${gate} ${[...byVerdict.entries()].map(([verdict, n]) => `${n} ${verdict}`).join(', ')}`).join('; ');
    this.line(`${p.label}: ${p.checks === 1 ? '1 check' : `${p.checks} checks over ${span}s`}: ${detail}`, at);
  }

  #notice(notice: Notice, plan: Plan, at: number): void {
    if (notice.kind === 'gate_check') return this.#check(notice, plan, at);
    if (ENDS_PROGRESS.has(notice.kind)) this.flush(at);
    if (notice.kind === 'hypercare_started') this.#hypercare = true;
    if (notice.kind === 'hypercare_ended') this.#hypercare = false;
    if (ENDS_PROGRESS.has(notice.kind)) this.#awaitingPromotion = notice.kind === 'soak_clean' && notice.next === 'promotion';
    if (!this.#verbose) {
      if (notice.kind === 'preflight') return this.line(preflightText(notice), at);
      // Between "ticking … (n items)" and "… done", each tick is one more line saying the same.
      if (notice.kind === 'checkpoint_ticked') return;
    }
    this.line(noticeText(notice, plan), at);
  }

  #check(notice: Extract<Notice, { kind: 'gate_check' }>, plan: Plan, at: number): void {
    const label = this.#hypercare
      ? 'hypercare'
      : `cohort ${notice.stage + 1}/${plan.stages.length} at ${notice.percent} %${this.#awaitingPromotion ? ', waiting for /promote' : ''}`;
    if (this.#progress && this.#progress.label !== label) this.flush(at);
    const p = (this.#progress ??= { label, checks: 0, first: at, last: at, verdicts: new Map() });
    p.checks += 1;
    p.last = at;
    const changed: string[] = [];
    for (const line of notice.gates) {
      const byVerdict = p.verdicts.get(line.gate) ?? new Map<Verdict, number>();
      byVerdict.set(line.verdict, (byVerdict.get(line.verdict) ?? 0) + 1);
      p.verdicts.set(line.gate, byVerdict);
      // The first verdict of a gate counts as a change unless it is a pass: all quiet is the expected start.
      const before = this.#verdicts.get(line.gate) ?? 'pass';
      if (line.verdict !== before) changed.push(`${line.gate} was ${before}, now ${readingText(line.reading)}`);
      this.#verdicts.set(line.gate, line.verdict);
    }
    const where = this.#hypercare ? 'hypercare' : `cohort ${notice.stage + 1}/${plan.stages.length}`;
    if (this.#verbose) this.line(noticeText(notice, plan), at);
    else if (changed.length) this.line(`${where} check ${notice.seq}: ${changed.join('; ')}`, at);
  }
}
