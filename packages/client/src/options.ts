/**
 * `createUpload`'s one options object, validated at the edge: every mistake is an
 * UploadError('invalid-options') naming the option, before anything is sent.
 */
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  contentTypeProblem,
  MAX_CONCURRENCY,
  partSizeProblem,
  S3_LIMITS,
} from '@hoist/protocol';
import { UploadError } from './errors.ts';
import { type RetryPolicy, retryPolicy } from './retry.ts';
import type {
  HttpTransport,
  PartHasher,
  ResumeStore,
  TokenProvider,
  UploadOptions,
  UploadSource,
} from './types.ts';

export interface ResolvedOptions {
  source: UploadSource;
  brokerUrl: string;
  token: TokenProvider | undefined;
  contentType: string;
  filename: string;
  metadata: Record<string, string> | undefined;
  checksumAlgorithm: ChecksumAlgorithm;
  singleRequest: 'put' | 'post';
  partSize: number | undefined;
  concurrency: number;
  adaptiveConcurrency: boolean;
  maxConcurrency: number;
  retry: RetryPolicy;
  stallTimeoutMs: number;
  refreshMarginMs: number;
  store: ResumeStore | undefined;
  resumeKey: string;
  transport: HttpTransport;
  hasher: PartHasher;
  fetch: typeof fetch | undefined;
  now: () => number;
  signal: AbortSignal | undefined;
}

/** The broker URL as the engine keys things by it: absolute, without a trailing slash. */
export function normalizeBrokerUrl(url: string | URL): string {
  return new URL(url).href.replace(/\/+$/, '');
}

/** The resume key of a file when none is given: the same broker and file (name, size, mtime). */
export function defaultResumeKey(
  brokerUrl: string,
  file: Pick<UploadSource, 'name' | 'size' | 'lastModified'>,
): string {
  return `${normalizeBrokerUrl(brokerUrl)}|${file.name}|${file.size}|${file.lastModified}`;
}

function bad(option: string, expected: string): never {
  throw new UploadError('invalid-options', `options.${option} ${expected}`);
}

function integer(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    bad(option, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  return value;
}

export function resolveOptions(options: UploadOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) bad('', 'must be an object');
  const { source } = options;
  if (
    typeof source !== 'object' ||
    source === null ||
    typeof source.read !== 'function' ||
    typeof source.name !== 'string' ||
    !Number.isSafeInteger(source.size) ||
    source.size < 0
  )
    bad('source', 'must be an UploadSource (name, size, type, lastModified, read)');
  if (source.size > S3_LIMITS.maxObjectSize)
    bad('source', `is larger than S3's ${S3_LIMITS.maxObjectSize} bytes`);
  let brokerUrl: URL;
  try {
    brokerUrl = new URL(options.brokerUrl);
  } catch {
    bad('brokerUrl', `must be an absolute URL, got ${JSON.stringify(options.brokerUrl)}`);
  }
  if (brokerUrl.protocol !== 'http:' && brokerUrl.protocol !== 'https:') bad('brokerUrl', 'must be http(s)');
  if (brokerUrl.username || brokerUrl.password) bad('brokerUrl', 'must not contain credentials');
  const token = options.token;
  if (token !== undefined && typeof token !== 'string' && typeof token !== 'function')
    bad('token', 'must be a string or a function returning one');
  const filename = options.filename ?? source.name;
  if (typeof filename !== 'string' || filename.trim() === '') bad('filename', 'must be a non-empty string');
  const contentType = options.contentType ?? (source.type || 'application/octet-stream');
  const contentTypeIssue = contentTypeProblem(contentType);
  if (contentTypeIssue) bad('contentType', `${contentTypeIssue}, got ${JSON.stringify(contentType)}`);
  const metadata = options.metadata;
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null) bad('metadata', 'must be a record of strings');
    for (const [name, value] of Object.entries(metadata))
      if (typeof value !== 'string') bad(`metadata.${name}`, 'must be a string');
  }
  const checksumAlgorithm = options.checksumAlgorithm ?? 'CRC32C';
  if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(checksumAlgorithm))
    bad('checksumAlgorithm', `must be one of ${CHECKSUM_ALGORITHMS.join(', ')}`);
  const singleRequest = options.singleRequest ?? 'post';
  if (singleRequest !== 'put' && singleRequest !== 'post') bad('singleRequest', "must be 'put' or 'post'");
  const partSize = options.partSize;
  const partSizeIssue = partSize === undefined ? undefined : partSizeProblem(partSize);
  if (partSizeIssue) bad('partSize', `${partSizeIssue}, got ${String(partSize)}`);
  const concurrency =
    options.concurrency === undefined ? 4 : integer('concurrency', options.concurrency, 1, MAX_CONCURRENCY);
  const maxConcurrency =
    options.maxConcurrency === undefined
      ? Math.max(16, concurrency)
      : integer('maxConcurrency', options.maxConcurrency, concurrency, MAX_CONCURRENCY);
  const adaptive = options.adaptiveConcurrency ?? true;
  if (typeof adaptive !== 'boolean') bad('adaptiveConcurrency', 'must be a boolean');
  const retry = retryPolicy(options.retry);
  integer('retry.maxAttempts', retry.maxAttempts, 1, 100);
  integer('retry.baseDelayMs', retry.baseDelayMs, 0, 600_000);
  integer('retry.maxDelayMs', retry.maxDelayMs, retry.baseDelayMs, 3_600_000);
  const stallTimeoutMs =
    options.stallTimeoutMs === undefined
      ? 30_000
      : integer('stallTimeoutMs', options.stallTimeoutMs, 100, 3_600_000);
  const refreshMarginMs =
    options.refreshMarginMs === undefined
      ? 300_000
      : integer('refreshMarginMs', options.refreshMarginMs, 0, 3_600_000);
  const store = options.store;
  if (
    store !== undefined &&
    (typeof store?.get !== 'function' ||
      typeof store.set !== 'function' ||
      typeof store.delete !== 'function')
  )
    bad('store', 'must be a ResumeStore (get, set, delete, list)');
  if (typeof options.transport?.send !== 'function') bad('transport', 'must be an HttpTransport');
  if (typeof options.hasher?.digest !== 'function') bad('hasher', 'must be a PartHasher');
  if (options.fetch !== undefined && typeof options.fetch !== 'function') bad('fetch', 'must be a function');
  if (options.now !== undefined && typeof options.now !== 'function') bad('now', 'must be a function');
  const resumeKey = options.resumeKey ?? defaultResumeKey(brokerUrl.href, source);
  if (typeof resumeKey !== 'string' || resumeKey === '') bad('resumeKey', 'must be a non-empty string');
  return {
    source,
    brokerUrl: normalizeBrokerUrl(brokerUrl),
    token,
    contentType,
    filename,
    metadata,
    checksumAlgorithm,
    singleRequest,
    partSize,
    concurrency,
    adaptiveConcurrency: adaptive,
    maxConcurrency,
    retry,
    stallTimeoutMs,
    refreshMarginMs,
    store,
    resumeKey,
    transport: options.transport,
    hasher: options.hasher,
    fetch: options.fetch,
    now: options.now ?? Date.now,
    signal: options.signal,
  };
}
