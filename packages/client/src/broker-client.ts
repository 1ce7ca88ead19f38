/**
 * The broker API from the engine's side: typed calls, problem+json mapped to UploadError
 * codes, and retries with backoff on network failures, 5xx and rate limits.
 */
import type {
  CompleteUploadRequest,
  CreateUploadRequest,
  CreateUploadResponse,
  CredentialsResponse,
  PartUrlsRequest,
  PartUrlsResponse,
  PresignedRequest,
  UploadListResponse,
  UploadView,
} from '@hoist/protocol';
import type { Clock } from './clock.ts';
import { UploadError } from './errors.ts';
import { problemError } from './problem.ts';
import { type RetryPolicy, retrying } from './retry.ts';
import type { TokenProvider } from './types.ts';

export interface BrokerClientOptions {
  baseUrl: string;
  token?: TokenProvider | undefined;
  fetch?: typeof fetch | undefined;
  retry: RetryPolicy;
  /** A broker call that takes longer is abandoned and retried. */
  timeoutMs: number;
  /** Told about each retry. */
  onRetry?: ((operation: string, attempt: number, delayMs: number, error: UploadError) => void) | undefined;
  random?: () => number;
  /** Retry delays are waited on this clock (a virtual one in the engine's tests). */
  clock?: Clock | undefined;
}

interface CallOptions {
  operation: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** Sent as Idempotency-Key: the same on every retry of this call. */
  key?: string | undefined;
  /** Overrides the retry policy's attempts (1: the caller retries). */
  maxAttempts?: number | undefined;
}

export class BrokerClient {
  readonly baseUrl: string;
  readonly #options: BrokerClientOptions;
  readonly #fetch: typeof fetch;

  constructor(options: BrokerClientOptions) {
    this.#options = options;
    // Relative URLs stay relative (a page's own origin), so this is not normalizeBrokerUrl.
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function')
      throw new UploadError('invalid-options', 'fetch is not available; pass options.fetch');
    this.#fetch = f.bind(globalThis);
  }

  /** `key` (one per upload) lets the broker answer a retry whose first answer was lost with the same upload. */
  create(request: CreateUploadRequest, signal?: AbortSignal, key?: string): Promise<CreateUploadResponse> {
    return this.#call({
      operation: 'create upload',
      method: 'POST',
      path: '/uploads',
      body: request,
      signal,
      key,
    });
  }

  credentials(id: string, signal?: AbortSignal): Promise<CredentialsResponse> {
    return this.#call({
      operation: 'refresh credentials',
      method: 'POST',
      path: `/uploads/${enc(id)}/credentials`,
      body: {},
      signal,
    });
  }

  /** `maxAttempts: 1` when the caller retries the whole part (the engine does). */
  partUrls(
    id: string,
    request: PartUrlsRequest,
    signal?: AbortSignal,
    options: { maxAttempts?: number } = {},
  ): Promise<PartUrlsResponse> {
    return this.#call({
      operation: 'get part URLs',
      method: 'POST',
      path: `/uploads/${enc(id)}/parts`,
      body: request,
      signal,
      maxAttempts: options.maxAttempts,
    });
  }

  complete(id: string, request: CompleteUploadRequest, signal?: AbortSignal): Promise<UploadView> {
    return this.#call({
      operation: 'complete upload',
      method: 'POST',
      path: `/uploads/${enc(id)}/complete`,
      body: request,
      signal,
    });
  }

  /** A presigned GET of a completed upload of the caller's. */
  download(id: string, signal?: AbortSignal): Promise<PresignedRequest> {
    return this.#call({
      operation: 'get a download URL',
      method: 'GET',
      path: `/uploads/${enc(id)}/download`,
      signal,
    });
  }

  get(id: string, signal?: AbortSignal): Promise<UploadView> {
    return this.#call({ operation: 'get upload', method: 'GET', path: `/uploads/${enc(id)}`, signal });
  }

  list(cursor?: string, signal?: AbortSignal): Promise<UploadListResponse> {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
    return this.#call({ operation: 'list uploads', method: 'GET', path: `/uploads${query}`, signal });
  }

  abort(id: string, signal?: AbortSignal): Promise<unknown> {
    return this.#call({ operation: 'abort upload', method: 'DELETE', path: `/uploads/${enc(id)}`, signal });
  }

  #call<T>(call: CallOptions): Promise<T> {
    const options = this.#options;
    let refreshedToken = false;
    return retrying({
      policy: { ...options.retry, maxAttempts: call.maxAttempts ?? options.retry.maxAttempts },
      signal: call.signal,
      clock: options.clock,
      random: options.random,
      attempt: () => this.#once(call) as Promise<T>,
      classify: (caught) => {
        const error = caught instanceof UploadError ? caught : networkError(call.operation, caught);
        // A token callback may hand out a fresh token: one more try after a 401.
        if (
          error.code === 'unauthorized' &&
          error.status === 401 &&
          typeof options.token === 'function' &&
          !refreshedToken
        ) {
          refreshedToken = true;
          return { error, now: true, extra: true };
        }
        return { error };
      },
      onRetry: (attempt, delayMs, error) => options.onRetry?.(call.operation, attempt, delayMs, error),
    });
  }

  /** The app's token; a callback that fails means the user must sign in again, not a network error. */
  async #token(operation: string): Promise<string | undefined> {
    const provider = this.#options.token;
    if (typeof provider !== 'function') return provider;
    try {
      return await provider();
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new UploadError('unauthorized', `${operation}: the token provider failed: ${reason}`, { cause });
    }
  }

  async #once(call: CallOptions): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = await this.#token(call.operation);
    if (token) headers.authorization = `Bearer ${token}`;
    if (call.key) headers['idempotency-key'] = call.key;
    let body: string | undefined;
    if (call.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(call.body);
    }
    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
    const init: RequestInit = { method: call.method, headers, signal };
    if (body !== undefined) init.body = body;
    const response = await this.#fetch(`${this.baseUrl}${call.path}`, init);
    const text = await response.text();
    if (response.ok) {
      try {
        return text === '' ? {} : JSON.parse(text);
      } catch (cause) {
        throw new UploadError('broker-error', `${call.operation}: the broker's answer is not JSON`, {
          cause,
        });
      }
    }
    throw problemError(call.operation, response.status, text, response.headers.get('retry-after'));
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

function networkError(operation: string, cause: unknown): UploadError {
  const timedOut = (cause as { name?: string } | undefined)?.name === 'TimeoutError';
  return new UploadError(
    timedOut ? 'stalled' : 'network',
    `${operation}: the broker could not be reached${timedOut ? ' in time' : ''}`,
    { retryable: true, cause },
  );
}
