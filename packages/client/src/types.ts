/**
 * The engine's contracts: what it reads from (UploadSource), how it sends (HttpTransport),
 * where it keeps resume state (ResumeStore), how it hashes (PartHasher), and what it tells
 * the application (events). Platform entry points (`client/node`, `client/browser`) provide
 * the defaults; the core uses no Node built-ins and no DOM beyond fetch and WebCrypto.
 */

import type {
  ChecksumAlgorithm,
  ChecksumType,
  DigestAlgorithm,
  UploadIntegrity,
  UploadMode,
  UploadView,
} from '@hoist/protocol';
import type { UploadError } from './errors.ts';

/** The bytes to upload: a browser File/Blob or a Node file, read lazily by range. */
export interface UploadSource {
  /** File name sent to the broker (the broker sanitises it for the key). */
  readonly name: string;
  readonly size: number;
  /** MIME type, or '' when unknown. */
  readonly type: string;
  /** ms since the epoch; part of the resume fingerprint. */
  readonly lastModified: number;
  /**
   * Bytes [start, end) as a fresh Uint8Array (the caller may keep it while the request runs).
   * Rejects with UploadError('read-failed') when the file is gone or shorter than `size`.
   */
  read(start: number, end: number): Promise<Uint8Array>;
  /**
   * Optional: the range as a Blob the transport sends itself (browsers: `File.slice`, which
   * Chromium streams from disk without a copy; Node: a file range read in reused chunks). The
   * engine hashes it with `PartHasher.digestBlob` when the hasher has one, else it reads and
   * hashes the bytes; if the file changed in between, S3 refuses the checksum and the part is
   * hashed again.
   */
  blob?(start: number, end: number): Blob;
}

/**
 * A `multipart/form-data` body (S3's POST Object): `fields` in their order, then `file` as the
 * field `file`. The transport adds the Content-Type with its boundary.
 */
export interface FormBody {
  fields: Record<string, string>;
  file: Uint8Array | Blob;
}

export interface HttpRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  url: string;
  /** Sent as they are; the transport adds Content-Length for bodies. */
  headers: Record<string, string>;
  body?: Uint8Array | string | Blob | FormBody | undefined;
  /** Aborting rejects the pending `send` with an AbortError (DOMException name 'AbortError'). */
  signal: AbortSignal;
  /**
   * Bytes of the body handed to the network so far (monotonic, ends at body length); for a
   * FormBody, bytes of its file (the envelope's own bytes are not counted).
   */
  onUploadProgress?: ((sentBytes: number) => void) | undefined;
}

export interface HttpResponse {
  status: number;
  /** A response header by lower-case name; null when absent or hidden by CORS. */
  header(name: string): string | null;
  /** The body as text (S3 error XML, broker JSON). */
  text: string;
}

/**
 * One HTTP exchange. Resolves with any status (4xx/5xx included); rejects only when no
 * response arrived: TypeError-like network failures, or AbortError when `signal` fired.
 */
export interface HttpTransport {
  send(request: HttpRequest): Promise<HttpResponse>;
}

/** Per-part checksums (base64 of the big-endian digest), possibly off the main thread. */
export interface PartHasher {
  /** 'MD5' only on stores without flexible checksums (the broker says `integrity: 'content-md5'`). */
  digest(algorithm: DigestAlgorithm, bytes: Uint8Array): Promise<string>;
  /**
   * Optional: the digest of a Blob from `UploadSource.blob`, read by the hasher itself (a Web
   * Worker reads the File slice; Node reads the file range in reused chunks), so the engine
   * never holds the bytes. Rejects with UploadError('read-failed') when they cannot be read.
   */
  digestBlob?(algorithm: DigestAlgorithm, blob: Blob): Promise<string>;
}

export interface ResumePart {
  partNumber: number;
  size: number;
  etag: string;
  /** base64 checksum of the part (the upload's algorithm; its MD5 with `integrity: 'content-md5'`). */
  checksum: string;
}

/** What a ResumeStore keeps per unfinished upload; JSON-serialisable. */
export interface ResumeRecord {
  version: 1;
  /** The store key this record lives under. */
  key: string;
  /** From the source's name, size, mtime and sampled bytes: a different file never matches. */
  fingerprint: string;
  fileName: string;
  fileSize: number;
  brokerUrl: string;
  /** The broker's upload id. */
  id: string;
  objectKey: string;
  bucket: string;
  region: string;
  endpoint: string;
  forcePathStyle: boolean;
  mode: UploadMode;
  /** S3's multipart upload id (null for single-request uploads). */
  uploadId: string | null;
  partSize: number;
  checksumAlgorithm: ChecksumAlgorithm;
  checksumType: ChecksumType;
  /** How the broker verifies the upload; absent means `checksum` (records from before). */
  integrity?: UploadIntegrity | undefined;
  parts: ResumePart[];
  /** ISO 8601 */
  createdAt: string;
  /** ISO 8601: after this the broker no longer accepts the upload. */
  expiresAt: string;
}

/** Pluggable persistence for resume state: IndexedDB in browsers, a JSON file in Node. */
export interface ResumeStore {
  get(key: string): Promise<ResumeRecord | undefined>;
  set(record: ResumeRecord): Promise<void>;
  delete(key: string): Promise<void>;
  list(): Promise<ResumeRecord[]>;
}

export type UploadState =
  | 'idle'
  | 'preparing'
  | 'uploading'
  | 'paused'
  | 'completing'
  | 'completed'
  | 'failed'
  | 'aborted';

export interface UploadProgress {
  totalBytes: number;
  /** Bytes in parts S3 has acknowledged; never decreases. */
  confirmedBytes: number;
  /** Bytes of parts being sent right now (may drop when a request fails). */
  inFlightBytes: number;
  /** confirmed / total, 0..1 (1 for an empty file once completed); never decreases. */
  fraction: number;
  /** Smoothed throughput in bytes per second (0 until measured). */
  bytesPerSecond: number;
  /** Seconds left at the smoothed speed; null until there is a speed. */
  etaSeconds: number | null;
}

export interface UploadEvents {
  state: { state: UploadState; previous: UploadState };
  progress: UploadProgress;
  part: { partNumber: number; size: number; etag: string; checksum: string; attempts: number };
  retry: {
    operation: string;
    partNumber?: number | undefined;
    attempt: number;
    delayMs: number;
    error: UploadError;
  };
  credentials: { expiration: string };
  concurrency: { concurrency: number; reason: string };
  complete: { upload: UploadView };
  error: { error: UploadError };
}

export type UploadEventName = keyof UploadEvents;
export type UploadListener<E extends UploadEventName> = (event: UploadEvents[E]) => void;

/** How the engine authenticates to the broker: a fixed token or a callback (refreshing tokens). */
export type TokenProvider = string | (() => string | Promise<string>);

export interface RetryOptions {
  /** Attempts per request, the first included. @default 8 */
  maxAttempts?: number;
  /** First backoff delay; doubled per attempt with full jitter. @default 300 */
  baseDelayMs?: number;
  /** @default 20000 */
  maxDelayMs?: number;
}

/** Options of `createUpload`; validated at the edge, errors name the option. */
export interface UploadOptions {
  source: UploadSource;
  /** The broker's base URL, e.g. `https://app.example/api/hoist`. */
  brokerUrl: string;
  token?: TokenProvider | undefined;
  /** Default: the source's type, else `application/octet-stream`. */
  contentType?: string | undefined;
  /** Default: the source's name. */
  filename?: string | undefined;
  metadata?: Record<string, string> | undefined;
  /** @default 'CRC32C' */
  checksumAlgorithm?: ChecksumAlgorithm | undefined;
  /**
   * How a file small enough for one request (the broker's single-request size) is sent: 'post',
   * the broker's presigned POST form, whose policy lets S3 itself refuse another size, type or
   * checksum; or 'put', one PutObject. @default 'post'
   */
  singleRequest?: 'put' | 'post' | undefined;
  /** Preferred part size in bytes (whole MiB, ≥ 5 MiB); the broker has the last word. */
  partSize?: number | undefined;
  /** Parallel part requests at the start, 1..64. @default 4 */
  concurrency?: number | undefined;
  /** Grow concurrency while throughput grows, shrink on SlowDown/429/stalls. @default true */
  adaptiveConcurrency?: boolean | undefined;
  /** Upper bound for adaptive growth. @default 16 */
  maxConcurrency?: number | undefined;
  retry?: RetryOptions | undefined;
  /** A request with no progress for this long is aborted and retried. @default 30000 */
  stallTimeoutMs?: number | undefined;
  /** Refresh credentials this long before they expire. @default 300000 (capped at half their lifetime) */
  refreshMarginMs?: number | undefined;
  /** Resume state; none kept when omitted. */
  store?: ResumeStore | undefined;
  /** The store key. Default: derived from name, size and mtime (Node: the absolute path). */
  resumeKey?: string | undefined;
  /**
   * Resume exactly this stored upload (e.g. one picked from `store.list()`): the source must be
   * the same file, else the upload fails with 'resume-mismatch' and nothing is sent.
   */
  resumeFrom?: ResumeRecord | undefined;
  transport: HttpTransport;
  hasher: PartHasher;
  /** Broker calls; default `globalThis.fetch`. */
  fetch?: typeof fetch | undefined;
  /** Injected clock (ms since epoch), for tests. */
  now?: (() => number) | undefined;
  /** Cancels like `abort()`. */
  signal?: AbortSignal | undefined;
}
