/**
 * The engine's requests to S3: each sent with the stall watchdog and its progress counted,
 * signed at the server's time with credentials that are still good, and retried under the
 * shared policy with what S3's answer means (back off, refresh credentials, correct the
 * clock, give up).
 */
import type { TemporaryCredentials } from '@hoist/protocol';
import type { Clock } from './clock.ts';
import type { ConcurrencyController } from './concurrency.ts';
import { CredentialManager } from './credentials.ts';
import type { Emitter } from './emitter.ts';
import { isUploadError, UploadError } from './errors.ts';
import type { ResolvedOptions } from './options.ts';
import type { ProgressTracker } from './progress.ts';
import { retrying, type Verdict } from './retry.ts';
import { classifyS3Response, signedPutHeaders } from './s3.ts';
import { watchStall } from './stall.ts';
import type { HttpRequest, HttpResponse, UploadEvents } from './types.ts';

/** Clock differences below this are noise (Date has one-second resolution). */
const SKEW_TOLERANCE_MS = 60_000;

/** A non-2xx answer from S3, classified by the retry loop. */
export class S3Failure extends Error {
  readonly response: HttpResponse;
  constructor(response: HttpResponse) {
    super(`HTTP ${response.status}`);
    this.response = response;
  }
}

/** One try of an S3 request: the credentials to sign with, which try, and why the last failed. */
export type S3Attempt<T> = (
  credentials: TemporaryCredentials | undefined,
  attempt: number,
  lastError: UploadError | undefined,
) => Promise<T>;

/** Requests to S3 for one upload. */
export interface S3Sender {
  /** The server's time, as far as its answers have told. */
  now(): number;
  /** sts/federation uploads: requests are signed with these, refreshed through `refresh`. */
  useCredentials(initial: TemporaryCredentials, refresh: () => Promise<TemporaryCredentials>): void;
  /**
   * Runs `attempt` until it succeeds: backoff with jitter on network errors, stalls, 5xx,
   * SlowDown and RequestTimeout; a credential refresh on ExpiredToken; a clock correction on
   * RequestTimeTooSkewed; no retry on AccessDenied and other permanent errors.
   */
  attempts<T>(
    operation: string,
    partNumber: number | undefined,
    signal: AbortSignal,
    attempt: S3Attempt<T>,
  ): Promise<T>;
  /** Sends with the stall watchdog; non-2xx answers throw S3Failure for `attempts` to classify. */
  send(request: HttpRequest, partNumber: number, size: number): Promise<HttpResponse>;
  /** The headers of a PUT signed now (server time) with `credentials`. */
  sign(
    url: string,
    headers: Record<string, string>,
    credentials: TemporaryCredentials | undefined,
    region: string,
  ): Promise<Record<string, string>>;
}

export function createS3Sender(
  o: ResolvedOptions,
  clock: Clock,
  progress: ProgressTracker,
  concurrency: ConcurrencyController,
  events: Emitter<UploadEvents>,
): S3Sender {
  let credentials: CredentialManager | undefined;
  let skewMs = 0;
  const now = (): number => clock.now() + skewMs;
  const correctClock = (serverTime: number): void => {
    const skew = serverTime - clock.now();
    if (Math.abs(skew - skewMs) > SKEW_TOLERANCE_MS) skewMs = skew;
  };

  /** What a failed attempt means: S3's answer classified, a stall, or the network. */
  const classify = (
    caught: unknown,
    used: TemporaryCredentials | undefined,
    operation: string,
    partNumber: number | undefined,
  ): Verdict => {
    if (caught instanceof S3Failure) {
      const verdict = classifyS3Response(caught.response, operation, partNumber);
      const { error } = verdict;
      const current = credentials;
      if (verdict.action === 'refresh')
        return { error, now: true, before: used && current && (() => current.replace(used)) };
      if (verdict.action === 'retry') {
        if (verdict.slowDown) concurrency.backOff(`S3 answered ${error.upstreamCode}`);
        if (verdict.serverTime !== undefined) correctClock(verdict.serverTime);
      }
      return { error };
    }
    if (isUploadError(caught)) {
      if (caught.retryable && caught.code === 'stalled') concurrency.backOff('a request stalled');
      return { error: caught };
    }
    const error = new UploadError(
      'network',
      `${operation}${partNumber ? ` of part ${partNumber}` : ''}: ${describe(caught)}`,
      {
        retryable: true,
        cause: caught,
        ...(partNumber ? { partNumber } : {}),
      },
    );
    return { error };
  };

  return {
    now,
    useCredentials(initial, refresh) {
      credentials = new CredentialManager({
        initial,
        marginMs: o.refreshMarginMs,
        now,
        refresh,
        onRefresh: (fresh) => events.emit('credentials', { expiration: fresh.expiration }),
      });
    },
    attempts: (operation, partNumber, signal, attempt) =>
      retrying({
        policy: o.retry,
        signal,
        clock,
        prepare: async () => credentials?.get(),
        attempt,
        classify: (caught, used) => classify(caught, used, operation, partNumber),
        onRetry: (n, delayMs, error) =>
          events.emit('retry', { operation, partNumber, attempt: n, delayMs, error }),
      }),
    async send(request, partNumber, size) {
      const watchdog = watchStall(clock, o.stallTimeoutMs);
      progress.inFlight(partNumber, 0);
      try {
        const response = await o.transport.send({
          ...request,
          signal: AbortSignal.any([request.signal, watchdog.signal]),
          onUploadProgress: (sent) => {
            watchdog.progressed();
            progress.inFlight(partNumber, Math.min(sent, size));
            events.emit('progress', progress.snapshot());
          },
        });
        const date = Date.parse(response.header('date') ?? '');
        if (Number.isFinite(date)) correctClock(date);
        if (response.status < 200 || response.status > 299) throw new S3Failure(response);
        return response;
      } catch (error) {
        progress.dropped(partNumber);
        if (watchdog.signal.aborted && !request.signal.aborted)
          throw new UploadError('stalled', `part ${partNumber}: no progress for ${o.stallTimeoutMs} ms`, {
            retryable: true,
            partNumber,
          });
        throw error;
      } finally {
        watchdog.stop();
      }
    },
    async sign(url, headers, used, region) {
      if (!used) throw new UploadError('broker-error', 'The broker issued no credentials for this upload');
      return signedPutHeaders({ url, region, credentials: used, headers, now: now() });
    },
  };
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
