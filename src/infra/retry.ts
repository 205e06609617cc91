// Bounded retries for transient failures: capped exponential backoff with full jitter, so many
// clients retrying the same outage spread out instead of hammering it in lockstep.
import { setTimeout as sleepFor } from 'node:timers/promises';

export interface BackoffBounds {
  /** Delay ceiling of the first retry, ms. */
  readonly baseMs: number;
  /** No delay exceeds this, ms. */
  readonly capMs: number;
}

/**
 * Delay before retry number `attempt` (1 = the first retry): uniformly random in
 * [0, min(capMs, baseMs · 2^(attempt-1))] ("full jitter").
 */
export function backoffDelay(attempt: number, bounds: BackoffBounds, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2^exponent overflows to Infinity for large attempts; min() with the cap keeps it finite.
  const ceiling = Math.min(bounds.capMs, bounds.baseMs * 2 ** exponent);
  return Math.floor(random() * Math.max(0, ceiling));
}

export interface RetryInfo {
  /** The retry about to happen: 1 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

export interface RetryOptions extends BackoffBounds {
  /** Only errors this accepts are retried; any other is thrown at once. */
  isTransient(error: unknown): boolean;
  /** Total attempts, the first one included (>= 1). */
  readonly maxAttempts: number;
  /** Overall budget from the first attempt, ms: no retry starts whose wait would end past it. */
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
  onRetry?(info: RetryInfo): void;
  readonly random?: () => number;
  /** Injected by unit tests; defaults to a timer that honours `signal`. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now?: () => number;
}

/** An adapter's bounds for its retries: how many attempts, how long between them, how long in all. */
export interface RetryBudget extends BackoffBounds {
  readonly maxAttempts: number;
  readonly deadlineMs?: number;
}

/** `withRetries` under an adapter's budget, logging each retry with `describe`. */
export function retryWithin<T>(
  fn: (attempt: number) => Promise<T>,
  budget: RetryBudget,
  isTransient: (error: unknown) => boolean,
  onRetry: (info: RetryInfo) => void,
  signal?: AbortSignal,
): Promise<T> {
  return withRetries(fn, {
    isTransient,
    maxAttempts: budget.maxAttempts,
    baseMs: budget.baseMs,
    capMs: budget.capMs,
    ...(budget.deadlineMs !== undefined ? { deadlineMs: budget.deadlineMs } : {}),
    ...(signal ? { signal } : {}),
    onRetry,
  });
}

/** A transient error that persisted through every allowed attempt. `cause` is the last error. */
export class RetriesExhaustedError extends Error {
  readonly attempts: number;
  constructor(attempts: number, cause: unknown) {
    super(`gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RetriesExhaustedError';
    this.attempts = attempts;
  }
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  sleepFor(ms, undefined, signal ? { signal } : undefined);

/** Runs `fn` (given the attempt number, 1-based) until it succeeds, fails for good or the bound is hit. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const started = now();
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts));
  for (let attempt = 1; ; attempt++) {
    // An aborted signal ends the loop with its reason: the caller stopped wanting the result (a
    // timeout, a lost traffic lease), so neither a retry nor what the failed attempt said matters.
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      options.signal?.throwIfAborted();
      if (!options.isTransient(error)) throw error;
      if (attempt >= maxAttempts) throw new RetriesExhaustedError(attempt, error);
      const delayMs = backoffDelay(attempt, options, options.random);
      if (options.deadlineMs !== undefined && now() + delayMs - started > options.deadlineMs) {
        throw new RetriesExhaustedError(attempt, error);
      }
      options.onRetry?.({ attempt, delayMs, error });
      try {
        await sleep(delayMs, options.signal);
      } catch (aborted) {
        options.signal?.throwIfAborted();
        throw aborted;
      }
    }
  }
}
