// Feature-flag traffic platform (seed 003): the canary share is a percentage flag behind an HTTP
// API. A shift POSTs the value with a bearer token and reads the flag back to confirm it; the
// rollback is a shift to 0. The token comes from the environment and never reaches a message.
import { setTimeout as sleep } from 'node:timers/promises';
import { errored, measured, type Measurement } from '../domain/measurement.ts';
import { describeError } from '../gates/template.ts';
import { RetriesExhaustedError, retryWithin, type RetryBudget } from '../infra/retry.ts';
import { registerSecret, scrub, type Logger } from '../log.ts';
import { TrafficError, type TrafficBackend, type TrafficPlatform } from '../ports.ts';
import { httpFlagServiceSchema, renderBody, valueAt, type HttpFlagService } from './http-flag-schema.ts';
import type { Revisions, Split } from '../domain/service.ts';

export type { HttpFlagService };

export interface HttpFlagTiming extends RetryBudget {
  /** Read-backs after a write before the value is declared unconfirmed, and their spacing. */
  readonly confirmAttempts: number;
  readonly confirmPollMs: number;
}

const DEFAULT_HTTP_FLAG_TIMING: HttpFlagTiming = {
  maxAttempts: 4,
  baseMs: 500,
  capMs: 5_000,
  deadlineMs: 60_000,
  confirmAttempts: 5,
  confirmPollMs: 1_000,
};

export interface HttpFlagPlatformDeps {
  /** Where `token_env` is looked up. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly retry?: Partial<HttpFlagTiming>;
  readonly fetch?: typeof fetch;
  readonly log?: Logger;
}

export function httpFlagPlatform(deps: HttpFlagPlatformDeps): TrafficPlatform<HttpFlagService> {
  const timing: HttpFlagTiming = { ...DEFAULT_HTTP_FLAG_TIMING, ...deps.retry };
  return {
    platform: 'http-flag',
    schema: httpFlagServiceSchema,
    serviceKey: (spec) => `http-flag:${spec.url}`,
    create: (spec) => new HttpFlagBackend(spec, deps, timing),
  };
}

/** A failed HTTP exchange, classified; `transient` ones are retried. */
class FlagHttpError extends Error {
  readonly status: number | undefined;
  readonly transient: boolean;
  constructor(message: string, status: number | undefined, transient: boolean) {
    super(message);
    this.name = 'FlagHttpError';
    this.status = status;
    this.transient = transient;
  }
}

class HttpFlagBackend implements TrafficBackend {
  readonly label: string;
  readonly #spec: HttpFlagService;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #fetch: typeof fetch;
  readonly #timing: HttpFlagTiming;
  readonly #log: Logger | undefined;
  readonly #readUrl: string;

  constructor(spec: HttpFlagService, deps: HttpFlagPlatformDeps, timing: HttpFlagTiming) {
    this.#spec = spec;
    this.#env = deps.env;
    this.#fetch = deps.fetch ?? fetch;
    this.#timing = timing;
    this.#log = deps.log?.child({ platform: 'http-flag', flag: spec.name });
    this.#readUrl = spec.read.url ?? spec.url;
    this.label = `feature flag ${spec.name} (${spec.url})`;
  }

  async preflight(_revisions: Revisions, signal?: AbortSignal): Promise<Measurement> {
    try {
      const value = await this.#retrying(() => this.#readValue(signal), signal);
      const ok = value !== undefined && value >= 0 && value <= 100;
      return measured(
        [{ name: 'flag_value', value: value ?? null, threshold: 'a number from 0 to 100', ok }],
        ok ? undefined : `${this.#readUrl} did not answer a percentage at "${this.#spec.read.path}"`,
      );
    } catch (error) {
      return errored(this.#describe(error));
    }
  }

  async read(_revisions: Revisions, signal?: AbortSignal): Promise<Split> {
    try {
      const value = await this.#retrying(() => this.#readValue(signal), signal);
      if (value === undefined) {
        throw new TrafficError('unconfirmed', `${this.#readUrl} did not answer a number at "${this.#spec.read.path}"`);
      }
      return splitFor(value);
    } catch (error) {
      // Stopped by the caller: its reason, not whatever the last request said, is the outcome.
      signal?.throwIfAborted();
      throw this.#translate(error);
    }
  }

  async shift(_revisions: Revisions, canaryPercent: number, signal?: AbortSignal): Promise<Split> {
    if (!Number.isFinite(canaryPercent) || canaryPercent < 0 || canaryPercent > 100) {
      throw new TrafficError('invalid', `the canary percentage must be from 0 to 100, got ${canaryPercent}`);
    }
    try {
      // Setting a value is idempotent, so a POST that may or may not have landed is safe to resend.
      await this.#retrying(() => this.#write(canaryPercent, signal), signal);
      return await this.#confirm(canaryPercent, signal);
    } catch (error) {
      signal?.throwIfAborted();
      throw this.#translate(error);
    }
  }

  async #confirm(percent: number, signal: AbortSignal | undefined): Promise<Split> {
    let seen: number | undefined;
    for (let attempt = 1; attempt <= this.#timing.confirmAttempts; attempt++) {
      seen = await this.#retrying(() => this.#readValue(signal), signal);
      if (seen === percent) return splitFor(percent);
      if (attempt < this.#timing.confirmAttempts) await sleep(this.#timing.confirmPollMs, undefined, signal ? { signal } : undefined);
    }
    throw new TrafficError(
      'unconfirmed',
      `set ${this.#spec.name} to ${percent}, but ${this.#readUrl} still answers ${seen === undefined ? 'no number' : seen} at "${this.#spec.read.path}"`,
    );
  }

  async #write(percent: number, signal: AbortSignal | undefined): Promise<void> {
    this.#log?.info({ url: this.#spec.url, percent }, 'setting the canary percentage flag');
    await this.#request('POST', this.#spec.url, JSON.stringify(renderBody(this.#spec.body, percent)), signal);
  }

  async #readValue(signal: AbortSignal | undefined): Promise<number | undefined> {
    const text = await this.#request('GET', this.#readUrl, undefined, signal);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      return undefined;
    }
    const value = valueAt(document, this.#spec.read.path);
    const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
  }

  #token(): string | undefined {
    const name = this.#spec.token_env;
    if (!name) return undefined;
    const token = this.#env[name];
    if (!token) throw new TrafficError('invalid', `environment variable ${name} is not set: it must hold the flag API token`);
    registerSecret(token);
    return token;
  }

  async #request(method: 'GET' | 'POST', url: string, body: string | undefined, signal: AbortSignal | undefined): Promise<string> {
    // Checked before each request; one already sent runs to its own timeout (a POST in flight may
    // land anyway, and the retried job re-reads the flag).
    signal?.throwIfAborted();
    const token = this.#token();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await this.#fetch(url, { method, headers, body: body ?? null, signal: AbortSignal.timeout(this.#spec.timeout) });
    } catch (error) {
      throw new FlagHttpError(`${method} ${url}: ${describeError(error, this.#spec.timeout)}`, undefined, true);
    }
    const text = await response.text().catch(() => '');
    if (response.ok) return text;
    const status = response.status;
    const snippet = text.trim().slice(0, 200);
    throw new FlagHttpError(
      `${method} ${url} answered ${status} ${response.statusText}${snippet ? `: ${snippet}` : ''}`,
      status,
      status >= 500 || status === 429,
    );
  }

  #retrying<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return retryWithin(
      fn,
      this.#timing,
      (error) => error instanceof FlagHttpError && error.transient,
      ({ attempt, delayMs, error }) => this.#log?.warn({ attempt, delayMs, err: this.#clean(error instanceof Error ? error.message : String(error)) }, 'flag API error; retrying'),
      signal,
    );
  }


  /** Error text with the token scrubbed, whatever the server echoed back. */
  #clean(text: string): string {
    const name = this.#spec.token_env;
    const token = name ? this.#env[name] : undefined;
    return scrub(token ? text.split(token).join('[redacted]') : text);
  }

  #describe(error: unknown): string {
    if (error instanceof RetriesExhaustedError) {
      const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
      return this.#clean(`the flag API did not answer after ${error.attempts} attempts: ${cause}`);
    }
    return this.#clean(error instanceof Error ? error.message : String(error));
  }

  #translate(error: unknown): TrafficError {
    if (error instanceof TrafficError) return new TrafficError(error.code, this.#clean(error.message));
    const message = this.#describe(error);
    if (error instanceof RetriesExhaustedError) return new TrafficError('transient', message);
    if (!(error instanceof FlagHttpError)) return new TrafficError('unconfirmed', message);
    // No `cause`: the underlying request carried the token in its headers.
    if (error.status === 401 || error.status === 403) {
      return new TrafficError('permission_denied', `the flag API refused the token${this.#spec.token_env ? ` from ${this.#spec.token_env}` : ''}: ${message}`);
    }
    if (error.status === 404) return new TrafficError('not_found', `flag not found: ${message}`);
    return new TrafficError('invalid', `the flag API refused the request: ${message}`);
  }
}

const splitFor = (percent: number): Split => ({ canary: percent, stable: 100 - percent, other: 0 });
