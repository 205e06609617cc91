// The Slack WebClient, telling an observer (metrics) of every call that failed and every 429 Slack
// answered. Every Web API method goes through `apiCall`, so one override sees them all; the client
// behaves exactly as Slack's own otherwise (retries, Retry-After, its request queue).
import { webApi } from '@slack/bolt';

export interface SlackObserver {
  /** A call that failed for good (after the client's own retries): `type` is platform, http, request, rate_limited or other. */
  readonly failed?: (method: string, type: string, error: string | null) => void;
  /** Slack answered 429 (the client waits out Retry-After, then retries). */
  readonly rateLimited?: (method: string) => void;
}

const TYPES: Readonly<Record<string, string>> = {
  [webApi.ErrorCode.PlatformError]: 'platform',
  [webApi.ErrorCode.HTTPError]: 'http',
  [webApi.ErrorCode.RequestError]: 'request',
  [webApi.ErrorCode.RateLimitedError]: 'rate_limited',
};

/** Slack's own error words (`channel_not_found`) are a short vocabulary; anything else is `other`. */
const errorWord = (error: unknown): string | null => {
  const word = (error as { data?: { error?: unknown } }).data?.error;
  return typeof word === 'string' && /^[a-z_]{1,40}$/.test(word) ? word : null;
};

export class ObservedWebClient extends webApi.WebClient {
  readonly #observer: SlackObserver;

  constructor(token: string, options: webApi.WebClientOptions, observer: SlackObserver) {
    super(token, options);
    this.#observer = observer;
    this.on(webApi.WebClientEvent.RATE_LIMITED, (_retryAfter: number, request: { url?: string }) => {
      observer.rateLimited?.(methodOf(request.url ?? ''));
    });
  }

  override async apiCall(method: string, options?: Record<string, unknown>): Promise<webApi.WebAPICallResult> {
    try {
      return await super.apiCall(method, options);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      const type = TYPES[code] ?? 'other';
      this.#observer.failed?.(method, type, type === 'platform' ? (errorWord(error) ?? 'other') : null);
      throw error;
    }
  }
}

/** `https://slack.com/api/chat.postMessage` → `chat.postMessage`. */
const methodOf = (url: string): string => /\/([a-zA-Z.]+)$/.exec(url)?.[1] ?? 'unknown';
