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
} from '../protocol/api.ts';
import { type Problem, problemCode } from '../protocol/problems.ts';
import { UploadError, type UploadErrorCode } from './errors.ts';
import { backoffDelay, type RetryPolicy, sleep } from './retry.ts';
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
}

const PROBLEM_TO_CODE: Record<string, UploadErrorCode> = {
  unauthorized: 'unauthorized',
  forbidden: 'access-denied',
  'not-found': 'upload-gone',
  'too-large': 'too-large',
  'unsupported-type': 'unsupported-type',
  'upload-rejected': 'upload-rejected',
  'quota-exceeded': 'quota-exceeded',
  'rate-limited': 'quota-exceeded',
};

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

  async #call<T>(call: CallOptions): Promise<T> {
    const { retry } = this.#options;
    let refreshedToken = false;
    for (let attempt = 1; ; attempt++) {
      let error: UploadError;
      try {
        return (await this.#once(call)) as T;
      } catch (caught) {
        if (call.signal?.aborted) throw call.signal.reason;
        error = caught instanceof UploadError ? caught : networkError(call.operation, caught);
      }
      // A token callback may hand out a fresh token: one more try after a 401.
      const retryAuth =
        error.code === 'unauthorized' &&
        error.status === 401 &&
        typeof this.#options.token === 'function' &&
        !refreshedToken;
      if (retryAuth) refreshedToken = true;
      else if (!error.retryable || attempt >= (call.maxAttempts ?? retry.maxAttempts)) throw error;
      const delay = retryAuth
        ? 0
        : backoffDelay(retry, attempt, this.#options.random, (error.retryAfterSeconds ?? 0) * 1000);
      this.#options.onRetry?.(call.operation, attempt, delay, error);
      await sleep(delay, call.signal);
    }
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

function problemError(
  operation: string,
  status: number,
  text: string,
  retryAfter: string | null,
): UploadError {
  let problem: Partial<Problem> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') problem = parsed as Partial<Problem>;
  } catch {
    // Not problem+json (a proxy's error page): the status says enough.
  }
  const code = typeof problem.type === 'string' ? problemCode({ type: problem.type }) : undefined;
  const retryAfterSeconds = parseRetryAfter(retryAfter) ?? parseRetryAfter(problem.retryAfter);
  // A 502 whose store refused for good says `retryable: false`: retrying only delays the real cause.
  const retryable =
    problem.retryable !== false &&
    (status >= 500 || code === 'rate-limited' || (status === 429 && code !== 'quota-exceeded'));
  const detail = typeof problem.detail === 'string' ? problem.detail : (problem.title ?? `HTTP ${status}`);
  const fields = Array.isArray(problem.errors)
    ? problem.errors.map((e) => `${e.path}: ${e.message}`).join('; ')
    : '';
  return new UploadError(
    (code && PROBLEM_TO_CODE[code]) ?? 'broker-error',
    `${operation}: ${detail}${fields ? ` (${fields})` : ''}`,
    {
      status,
      retryable,
      ...(code ? { upstreamCode: code } : {}),
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    },
  );
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when neither. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  // An IMF-fixdate names its weekday and month ("Sun, 06 Nov 1994 08:49:37 GMT").
  const date = /^[A-Za-z]{3}, /.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isFinite(date) ? Math.max(0, Math.ceil((date - now) / 1000)) : undefined;
}
