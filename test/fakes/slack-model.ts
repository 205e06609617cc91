// The fake's picture of the workspace: what was posted where, edited, uploaded and replied.
// Plain data, so tests can assert on it directly; the HTTP layer is in slack-api.ts.

export type Json = Record<string, unknown>;

/** One recorded request to the fake (API method, upload URL or response_url). */
export interface RecordedCall {
  /** `chat.postMessage` etc.; `upload` for the upload URL; `response_url` for /response/<id>. */
  method: string;
  /** Parsed body; `blocks`, `attachments` and `files` JSON strings are decoded when they parse. */
  body: Json;
  /** Date.now() when the request arrived. */
  at: number;
  /** Request headers, lower-case, without `authorization` (see `authorization`). */
  headers: Record<string, string>;
  /** The Authorization header as sent, if any. */
  authorization: string | undefined;
  /** HTTP status the fake answered. */
  status: number;
  /** JSON the fake answered (for uploads: the text). */
  response: unknown;
  /** The injected fault that produced this answer, if any. */
  fault?: FakeFault;
}

export type FakeFault =
  /** HTTP 429 with `Retry-After: <retryAfter>` (seconds, default 1), body `{ok:false,error:'ratelimited'}`. */
  | { status: 429; retryAfter?: number }
  /** An HTTP server error with a text body. */
  | { status: 500 | 502 | 503 | 504; body?: string }
  /** HTTP 200 `{ok:false, error, ...extra}`, as Slack reports most failures. */
  | { error: string; extra?: Json };

export interface MessageVersion {
  text: string;
  blocks: unknown[];
  attachments: unknown[];
}

export interface FakeMessage {
  channel: string;
  ts: string;
  /** Root ts when the message is a thread reply. */
  thread_ts?: string;
  text: string;
  blocks: unknown[];
  attachments: unknown[];
  /** How many chat.update calls changed it. */
  edits: number;
  /** Earlier versions, oldest first (the current one is not included). */
  history: MessageVersion[];
  /** Posting user: the bot user for chat.postMessage. */
  user: string;
  bot_id?: string;
  /** Ids of files shared with this message (files.completeUploadExternal). */
  files: string[];
  /** All other arguments as posted (reply_broadcast, metadata, unfurl_links, ...). */
  args: Json;
}

export interface FakeEphemeral {
  channel: string;
  /** The only user who sees it. */
  user: string;
  message_ts: string;
  thread_ts?: string;
  text: string;
  blocks: unknown[];
}

export interface FakeResponse {
  /** The id in /response/<id>. */
  id: string;
  text?: string;
  blocks?: unknown[];
  response_type?: string;
  replace_original?: boolean;
  delete_original?: boolean;
  /** The whole JSON body as posted. */
  body: Json;
  at: number;
}

export interface FakeFile {
  id: string;
  filename: string;
  /** Declared by files.getUploadURLExternal. */
  length: number;
  /** Bytes received on the upload URL (undefined until uploaded). */
  content?: Buffer;
  title?: string;
  /** Set by files.completeUploadExternal. */
  completed: boolean;
  /** The image's description for screen readers (files.getUploadURLExternal). */
  alt_text?: string;
  channel?: string;
  thread_ts?: string;
  initial_comment?: string;
  /** ts of the message that shares the file in the channel/thread. */
  shared_ts?: string;
}

/** A modal as views.open / views.update left it. */
export interface FakeView {
  id: string;
  /** Changes with every update; views.update with an older one is `hash_conflict`. */
  hash: string;
  /** The user who opened it (the trigger's). */
  user: string | undefined;
  view: Json;
  /** Earlier versions, oldest first. */
  history: Json[];
}

export class SlackModel {
  readonly calls: RecordedCall[] = [];
  /** user id → the Home view published for them (views.publish). */
  readonly homes = new Map<string, Json>();
  /** Modals by view id. */
  readonly views = new Map<string, FakeView>();
  readonly messages: FakeMessage[] = [];
  readonly ephemerals: FakeEphemeral[] = [];
  readonly responseLog: FakeResponse[] = [];
  readonly files: FakeFile[] = [];
  // Never reset: ts and ids stay unique across reset(), as they would in one real workspace.
  private seq = 0;
  private fileSeq = 0;
  private viewSeq = 0;

  /** Slack-style ts "1700000000.000100", strictly increasing. */
  nextTs(): string {
    this.seq += 1;
    const micros = this.seq * 100;
    const seconds = 1_700_000_000 + Math.floor(micros / 1_000_000);
    return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  nextFileId(): string {
    this.fileSeq += 1;
    return `F${String(this.fileSeq).padStart(8, '0')}`;
  }

  nextViewId(): string {
    this.viewSeq += 1;
    return `V${String(this.viewSeq).padStart(8, '0')}`;
  }

  reset(): void {
    this.homes.clear();
    this.views.clear();
    this.calls.length = 0;
    this.messages.length = 0;
    this.ephemerals.length = 0;
    this.responseLog.length = 0;
    this.files.length = 0;
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts);
  }

  /** Top-level messages of a channel, oldest first (thread replies excluded). */
  channelMessages(channel: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.thread_ts === undefined);
  }

  /** Replies in the thread rooted at `ts`, oldest first (the root itself excluded). */
  thread(channel: string, ts: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.thread_ts === ts);
  }

  responses(id?: string): FakeResponse[] {
    return id === undefined ? [...this.responseLog] : this.responseLog.filter((r) => r.id === id);
  }

  file(id: string): FakeFile | undefined {
    return this.files.find((f) => f.id === id);
  }

  /** A reply to a reply lands in the root's thread, as in Slack. */
  threadRoot(channel: string, threadTs: string): string {
    return this.message(channel, threadTs)?.thread_ts ?? threadTs;
  }
}
