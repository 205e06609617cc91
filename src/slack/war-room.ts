// The war room in Slack: the status card (posted once, then edited in place), detail in the
// card's thread, and in the channel only what everyone must see: escalations, the 30-minute
// update, the outcome. The runbook's checklists and the sign-off live in the thread too, each one
// message edited in place as people tick. It presents; the engine has already decided everything it shows.
import type { webApi } from '@slack/bolt';
import type { AuditEntry } from '../domain/audit.ts';
import { isTerminal, type Notice } from '../domain/state.ts';
import type { Logger } from '../log.ts';
import type { ChartMoment, RoomRef, WarRoom } from '../ports.ts';
import { LIMIT, clip, escape, type SlackMessage } from '../../templates/blocks.ts';
import { statusCard } from '../../templates/card.ts';
import { checklistMessage, nudgeMessage, signOffMessage } from '../../templates/checklist.ts';
import { closingMessage, escalationMessage, statusPageDraft, threadNotice, updateMessage } from '../../templates/messages.ts';
import type { CutoverView } from '../domain/view.ts';

/** The Web API methods the room uses, and nothing else. */
export interface RoomClient {
  readonly chat: Pick<webApi.WebClient['chat'], 'postMessage' | 'update'>;
  filesUploadV2: webApi.WebClient['filesUploadV2'];
}

/** The evidence package of a cutover (file name → content), or null when the cutover is gone. */
export type EvidenceSource = (cutoverId: string) => Promise<ReadonlyMap<string, string | Uint8Array> | null>;

/** A chart to post: the PNG and the same in words; a train's is one target's, and names it. */
export interface RoomChart {
  readonly png: Uint8Array;
  readonly alt: string;
  readonly target?: { readonly index: number; readonly id: string };
}

/**
 * The cutover's chart as of `now`, drawn from its records, with the same in words (a train's: one
 * per target); null when it is gone.
 */
export type ChartSource = (cutoverId: string, now: number) => Promise<RoomChart | readonly RoomChart[] | null>;

/** Asks for the chart of `moment` to be posted by a job of its own (idempotent per cutover, moment and `at`). */
export type ChartScheduler = (cutoverId: string, moment: ChartMoment, at: number) => Promise<void>;

const CHART_WORDS: Readonly<Record<ChartMoment, string>> = {
  update: 'Chart with the update',
  promotion: 'Chart at the promotion',
  hold: 'Chart at the hold',
  final: 'Final chart',
};

/**
 * Where the room keeps the ts of each message it edits in place (in Redis beside the room state,
 * so whichever replica delivers the next tick edits the same message).
 */
export interface RoomMemory {
  recall(cutoverId: string, key: string): Promise<string | null>;
  remember(cutoverId: string, key: string, ts: string): Promise<void>;
}

interface CardRef {
  readonly channel: string;
  readonly ts: string;
}

function cardRef(ref: RoomRef): CardRef {
  const { channel, ts } = ref;
  if (!channel || !ts) throw new Error(`not a Slack room handle: ${JSON.stringify(ref)}`);
  return { channel, ts };
}

const content = (message: SlackMessage) => (message.blocks.length ? { text: message.text, blocks: [...message.blocks] } : { text: message.text });

const checklistKey = (index: number) => `cp${index}`;
const SIGN_OFF_KEY = 'signoff';
const CLOSING_KEY = 'closing';

export class SlackWarRoom implements WarRoom {
  readonly #client: RoomClient;
  readonly #evidence: EvidenceSource;
  readonly #memory: RoomMemory;
  readonly #log: Logger;
  readonly #chart: ChartSource | undefined;
  readonly #chartLater: ChartScheduler | undefined;
  readonly #now: () => number;

  constructor(deps: {
    readonly client: RoomClient;
    readonly evidence: EvidenceSource;
    readonly memory: RoomMemory;
    readonly log: Logger;
    /** Draws the chart; without it, none is posted (the evidence package still carries one). */
    readonly chart?: ChartSource;
    /** Has `chart()` run by a job; without it, charts are posted inline. */
    readonly chartLater?: ChartScheduler;
    readonly now?: () => number;
  }) {
    this.#client = deps.client;
    this.#evidence = deps.evidence;
    this.#memory = deps.memory;
    this.#log = deps.log;
    this.#chart = deps.chart;
    this.#chartLater = deps.chartLater;
    this.#now = deps.now ?? Date.now;
  }

  async open(view: CutoverView): Promise<RoomRef> {
    const posted = await this.#client.chat.postMessage({ channel: view.plan.channel, ...content(statusCard(view)) });
    if (!posted.ts) throw new Error(`chat.postMessage returned no ts for the status card of ${view.state.id}`);
    return { channel: posted.channel ?? view.plan.channel, ts: posted.ts };
  }

  async refresh(ref: RoomRef, view: CutoverView): Promise<void> {
    const { channel, ts } = cardRef(ref);
    await this.#client.chat.update({ channel, ts, ...content(statusCard(view)) });
  }

  async post(ref: RoomRef, entry: AuditEntry, view: CutoverView): Promise<void> {
    const card = cardRef(ref);
    switch (entry.type) {
      case 'refused':
        // The person was answered ephemerally; the refusal stays in the audit trail only.
        return;
      case 'notice':
        await this.#notice(card, entry.notice, view, entry.at);
        return;
      case 'escalation':
        await this.#inChannel(card, escalationMessage(entry.escalation, view));
        return;
      case 'evidence':
        await this.#close(card, entry, view);
        return;
    }
  }

  async update(ref: RoomRef, view: CutoverView, now: number): Promise<void> {
    const card = cardRef(ref);
    await this.#inChannel(card, updateMessage(view, now));
    await this.#showChart(card, view, 'update', now);
  }

  /** The chart of `moment`: by its own job when there is a scheduler, else here and now. */
  async #showChart(card: CardRef, view: CutoverView, moment: ChartMoment, at: number): Promise<void> {
    if (!this.#chart) return;
    if (!this.#chartLater) return this.chart({ channel: card.channel, ts: card.ts }, view, moment, at);
    try {
      await this.#chartLater(view.state.id, moment, at);
    } catch (error) {
      this.#log.warn({ cutover: view.state.id, moment, err: error instanceof Error ? error.message : String(error) }, 'chart not scheduled');
    }
  }

  /** Posts the chart of `moment`: into the card's thread, or (the final one) the closing message's. */
  async chart(ref: RoomRef, view: CutoverView, moment: ChartMoment, now: number): Promise<void> {
    const card = cardRef(ref);
    const thread = moment === 'final' ? await this.#memory.recall(view.state.id, CLOSING_KEY) : card.ts;
    if (!thread) return;
    await this.#postChart(card, thread, view, moment === 'final' ? (view.state.endedAt ?? now) : now, CHART_WORDS[moment]);
  }

  /**
   * The chart, drawn from the records as of `now`, into the thread rooted at `threadTs`, with the
   * same in words as its alt text and comment; a train's, one upload per target. A picture is not
   * worth a failed delivery: a chart that cannot be drawn or uploaded is logged, and the entry
   * counts as posted.
   */
  async #postChart(card: CardRef, threadTs: string, view: CutoverView, now: number, why: string): Promise<void> {
    if (!this.#chart) return;
    let charts: readonly RoomChart[];
    try {
      const drawn = await this.#chart(view.state.id, now);
      if (!drawn) return;
      charts = 'png' in drawn ? [drawn] : drawn;
    } catch (error) {
      this.#log.warn({ cutover: view.state.id, err: error instanceof Error ? error.message : String(error) }, 'chart not posted');
      return;
    }
    for (const chart of charts) {
      // One target's chart that cannot be uploaded leaves the others to be posted.
      try {
        await this.#uploadChart(card, threadTs, view, chart, why);
      } catch (error) {
        this.#log.warn({ cutover: view.state.id, target: chart.target?.id, err: error instanceof Error ? error.message : String(error) }, 'chart not posted');
      }
    }
  }

  async #uploadChart(card: CardRef, threadTs: string, view: CutoverView, chart: RoomChart, why: string): Promise<void> {
    const png = Buffer.from(chart.png.buffer, chart.png.byteOffset, chart.png.byteLength);
    const { id } = view.state;
    const target = chart.target;
    await this.#client.filesUploadV2({
      channel_id: card.channel,
      thread_ts: threadTs,
      // The comment is mrkdwn: a reason someone typed (`<!channel>`…) is escaped there; alt text is plain.
      initial_comment: clip(`📈 ${why}${target ? `, ${escape(target.id)}` : ''}: ${escape(chart.alt)}`, LIMIT.text),
      file_uploads: [
        {
          file: png,
          filename: target ? `chart-${id}-${target.id}.png` : `chart-${id}.png`,
          title: target ? `Cutover ${view.plan.name} (${target.id}, target ${target.index}): canary against stable` : `Cutover ${view.plan.name}: canary against stable`,
          alt_text: chart.alt,
        },
      ],
    });
  }

  /** `at`: when the notice was recorded (names its chart's job, so a notice delivered twice charts once). */
  async #notice(card: CardRef, notice: Notice, view: CutoverView, at: number): Promise<void> {
    switch (notice.kind) {
      case 'checkpoint_opened':
      case 'checkpoint_ticked':
        // A tick is shown by editing the checklist, not by a reply per item.
        await this.#inPlace(card, view, checklistKey(notice.index), checklistMessage(view, notice.index));
        return;
      case 'checkpoint_gates':
      case 'checkpoint_done':
        await this.#inPlace(card, view, checklistKey(notice.index), checklistMessage(view, notice.index));
        await this.#inThread(card, threadNotice(notice, view));
        return;
      case 'checkpoint_nudged':
        await this.#inThread(card, nudgeMessage(view, notice.index));
        return;
      case 'signoff_requested':
      case 'signed_off':
        await this.#inPlace(card, view, SIGN_OFF_KEY, signOffMessage(view));
        return;
      case 'signoff_complete':
        await this.#inPlace(card, view, SIGN_OFF_KEY, signOffMessage(view));
        await this.#inThread(card, threadNotice(notice, view));
        if (isTerminal(view.state.phase)) await this.#signedAfterClosing(card, view);
        return;
      default:
        await this.#inThread(card, threadNotice(notice, view));
        if (notice.kind === 'started') await this.#inThread(card, statusPageDraft('start', view));
        if (notice.kind === 'rollback_started') await this.#inThread(card, statusPageDraft('rollback', view));
        // Where the war room decides: each promotion (by hand or automatic) and each hold shows the picture.
        if (notice.kind === 'promoted' || notice.kind === 'held' || (notice.kind === 'soak_clean' && notice.next === 'auto')) {
          await this.#showChart(card, view, notice.kind === 'held' ? 'hold' : 'promotion', at);
        }
    }
  }

  /**
   * Posts `message` (in the card's thread, or with `channel` in the channel) the first time, then
   * edits that message: an entry delivered twice after a crash edits instead of posting again.
   */
  async #inPlace(card: CardRef, view: CutoverView, key: string, message: SlackMessage, where: 'thread' | 'channel' = 'thread'): Promise<void> {
    const id = view.state.id;
    const ts = await this.#memory.recall(id, key);
    if (ts) {
      await this.#client.chat.update({ channel: card.channel, ts, ...content(message) });
      return;
    }
    const posted = await this.#client.chat.postMessage({ channel: card.channel, ...(where === 'thread' ? { thread_ts: card.ts } : {}), ...content(message) });
    if (posted.ts) await this.#memory.remember(id, key, posted.ts);
  }

  /** Sign-off completed after the closing message: the thread gets the package's summary again, now signed. */
  async #signedAfterClosing(card: CardRef, view: CutoverView): Promise<void> {
    // Before the closing message, there is nothing to redo: the package it uploads is built from this state.
    if (!(await this.#memory.recall(view.state.id, CLOSING_KEY))) return;
    const files = await this.#evidence(view.state.id);
    const summaries = [...(files ?? [])].filter((f): f is [string, string] => (f[0] === 'SUMMARY.md' || f[0] === 'summary.json') && typeof f[1] === 'string');
    if (summaries.length === 0) return;
    await this.#client.filesUploadV2({
      channel_id: card.channel,
      thread_ts: card.ts,
      initial_comment: `Sign-off complete: SUMMARY.md and summary.json of cutover \`${view.state.id}\` again, now with every sign-off`,
      file_uploads: summaries.map(([name, text]) => ({ content: text, filename: name, title: name })),
    });
  }

  async #inThread(card: CardRef, message: SlackMessage): Promise<void> {
    await this.#client.chat.postMessage({ channel: card.channel, thread_ts: card.ts, ...content(message) });
  }

  async #inChannel(card: CardRef, message: SlackMessage): Promise<void> {
    await this.#client.chat.postMessage({ channel: card.channel, ...content(message) });
  }

  /**
   * The outcome in the channel, and the evidence files in the card's thread. The files are built
   * again from Redis (the same bytes the evidence job wrote), so any replica can upload them,
   * whichever host's disk holds `entry.path`.
   */
  async #close(card: CardRef, entry: Extract<AuditEntry, { type: 'evidence' }>, view: CutoverView): Promise<void> {
    const files = await this.#evidence(view.state.id);
    if (!files) {
      this.#log.warn({ cutover: view.state.id }, 'evidence package gone from the store; closing message not posted');
      return;
    }
    const sent = uploads(files);
    const summary = files.get('SUMMARY.md');
    const closed = await this.#memory.recall(view.state.id, CLOSING_KEY);
    await this.#inPlace(card, view, CLOSING_KEY, closingMessage(view, typeof summary === 'string' ? summary : '', { path: entry.path, files: sent.length }), 'channel');
    // The final chart, attached to the closing message (in its thread); once, even if this entry comes again.
    if (!closed) await this.#showChart(card, view, 'final', entry.at);
    // Checklists left open: a tick now would be refused, so their buttons go.
    for (const [index, run] of view.state.checkpoints.entries()) {
      const ts = run.status === 'open' ? await this.#memory.recall(view.state.id, checklistKey(index)) : null;
      if (ts) await this.#client.chat.update({ channel: card.channel, ts, ...content(checklistMessage(view, index)) });
    }
    await this.#client.filesUploadV2({
      channel_id: card.channel,
      thread_ts: card.ts,
      initial_comment: `Evidence package of cutover \`${view.state.id}\` (${sent.length} files)`,
      file_uploads: sent.map(([name, content]) => ({ ...fileData(content), filename: name.replaceAll('/', '_'), title: name })),
    });
  }
}

/** Text travels as `content`; bytes (the chart's PNG) as a `file` buffer. */
const fileData = (content: string | Uint8Array) =>
  typeof content === 'string' ? { content } : { file: Buffer.from(content.buffer, content.byteOffset, content.byteLength) };

/** The one log every package has; the others (one per command-gate run) can be many. */
const AUDIT_LOG = 'logs/audit.jsonl';
export const COMBINED_LOGS = 'logs/gate-logs.txt';

/**
 * What goes to Slack: every file of the package, except that the gate and step logs travel as one
 * file, so a long cutover with a command gate does not upload hundreds of files. The package on
 * disk keeps them apart.
 */
export function uploads(files: ReadonlyMap<string, string | Uint8Array>): Array<[string, string | Uint8Array]> {
  const all = [...files];
  const isGateLog = (name: string) => name.startsWith('logs/') && name !== AUDIT_LOG;
  const gateLogs = all.filter(([name]) => isGateLog(name));
  const rest = all.filter(([name]) => !isGateLog(name));
  return gateLogs.length ? [...rest, [COMBINED_LOGS, gateLogs.map(([name, text]) => `==> ${name} <==\n${String(text)}`).join('\n')]] : rest;
}
