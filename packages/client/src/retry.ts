/**
 * The engine's one retry policy, for S3 and broker calls alike: attempts up to
 * `maxAttempts`, backoff with full jitter ("exponential backoff and jitter") at least as long
 * as a server's Retry-After, and what each failure means decided by the caller's `classify`.
 */
import { type Clock, systemClock } from './clock.ts';
import type { UploadError } from './errors.ts';
import type { RetryOptions } from './types.ts';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 300, maxDelayMs: 20_000 };

export function retryPolicy(options: RetryOptions | undefined): RetryPolicy {
  return { ...DEFAULT_RETRY, ...stripUndefined(options ?? {}) };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1): uniform in [0, min(max, base·2^(attempt-1))],
 * at least `floorMs` (a server's Retry-After).
 */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random = Math.random,
  floorMs = 0,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(floorMs, Math.round(random() * cap));
}

const SYSTEM_CLOCK = systemClock();

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal, clock: Clock = SYSTEM_CLOCK): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const cancel = clock.after(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What a failed attempt means: retried when `error.retryable`, after the policy's backoff. */
export interface Verdict {
  error: UploadError;
  /** Retry at once, retryable or not (fresh credentials, a fresh token). */
  now?: boolean;
  /** A retry past `maxAttempts` (the broker's one retry with a fresh token). */
  extra?: boolean;
  /** Runs before the retry, after `onRetry` (a refresh of expired credentials). */
  before?: (() => Promise<unknown>) | undefined;
}

export interface Retrying<T, P> {
  policy: RetryPolicy;
  /** Aborting ends the loop with the signal's reason, whatever the attempt threw. */
  signal?: AbortSignal | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  /** Runs before each attempt; what it throws is not retried here (it retries on its own). */
  prepare?: (() => Promise<P>) | undefined;
  attempt(prepared: P, attempt: number, lastError: UploadError | undefined): Promise<T>;
  classify(caught: unknown, prepared: P): Verdict;
  onRetry?: ((attempt: number, delayMs: number, error: UploadError) => void) | undefined;
}

/** Runs `attempt` until it succeeds, `classify` says to give up, or the attempts run out. */
export async function retrying<T, P = undefined>(loop: Retrying<T, P>): Promise<T> {
  const { policy, signal } = loop;
  let lastError: UploadError | undefined;
  for (let n = 1; ; n++) {
    if (signal?.aborted) throw signal.reason;
    const prepared = (await loop.prepare?.()) as P;
    let verdict: Verdict;
    try {
      return await loop.attempt(prepared, n, lastError);
    } catch (caught) {
      if (signal?.aborted) throw signal.reason;
      verdict = loop.classify(caught, prepared);
    }
    const { error, now } = verdict;
    if ((!now && !error.retryable) || (!verdict.extra && n >= policy.maxAttempts)) throw error;
    lastError = error;
    const delayMs = now ? 0 : backoffDelay(policy, n, loop.random, (error.retryAfterSeconds ?? 0) * 1000);
    loop.onRetry?.(n, delayMs, error);
    await verdict.before?.();
    await sleep(delayMs, signal, loop.clock);
  }
}
