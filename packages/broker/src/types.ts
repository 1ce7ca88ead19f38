/**
 * The broker's internal contracts: who the caller is (Authenticator), where uploads
 * are recorded (Registry), and what is allowed (limits). The Hono app (app.ts)
 * is built from these, so each part is tested and replaced on its own.
 */

import type { ChecksumAlgorithm, UploadMode, UploadStatus } from '@hoist/protocol';

/** An authenticated end user of the app. `id` is ASCII-safe (it goes into object keys). */
export interface BrokerUser {
  id: string;
  /** Claims or attributes the app may use (never logged). */
  claims?: Record<string, unknown>;
}

/**
 * Resolves the caller of a request from its headers, or returns undefined (401).
 * Throws `BrokerProblem('unauthorized', …)` with a reason for invalid credentials.
 */
export interface Authenticator {
  authenticate(headers: Headers): Promise<BrokerUser | undefined>;
}

export interface UploadRecord {
  id: string;
  userId: string;
  status: UploadStatus;
  mode: UploadMode;
  bucket: string;
  key: string;
  filename: string;
  contentType: string;
  /** Declared size in bytes. */
  size: number;
  partSize: number;
  checksumAlgorithm: ChecksumAlgorithm;
  /** S3 multipart upload id; null for single-request uploads. */
  uploadId: string | null;
  metadata: Record<string, string>;
  /** ms since epoch */
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  completedAt?: number;
  etag?: string;
  checksum?: string;
  reason?: string;
}

export interface ListUploadsPage {
  uploads: UploadRecord[];
  nextCursor: string | null;
}

/**
 * Where uploads are recorded: node:sqlite by default, PostgreSQL when several brokers
 * share one registry. Every method is async so both implement it alike.
 */
export interface Registry {
  /** Applies schema migrations; idempotent. */
  migrate(): Promise<void>;
  insert(record: UploadRecord): Promise<void>;
  get(id: string): Promise<UploadRecord | undefined>;
  /** The record holding this S3 multipart upload id, if any (the sweeper matches S3's list to it). */
  getByUploadId(uploadId: string): Promise<UploadRecord | undefined>;
  /**
   * Changes status (and other fields) only if the current status is one of `from`;
   * returns the updated record, or undefined when the transition did not apply.
   */
  transition(
    id: string,
    from: readonly UploadStatus[],
    changes: Partial<
      Pick<UploadRecord, 'status' | 'etag' | 'checksum' | 'reason' | 'completedAt' | 'uploadId' | 'size'>
    >,
    now: number,
  ): Promise<UploadRecord | undefined>;
  /** A user's uploads, newest first, `limit` per page. */
  listByUser(userId: string, options: { limit: number; cursor?: string }): Promise<ListUploadsPage>;
  /** Uploads of a user in `created` or `uploading` state (for the concurrency limit). */
  countActive(userId: string): Promise<number>;
  /** Sum of declared sizes of a user's uploads created since `since` (for the daily byte quota). */
  bytesSince(userId: string, since: number): Promise<number>;
  /** Uploads still open (`created`/`uploading`) whose expiresAt is before `before` (for the sweeper). */
  listStale(before: number, limit: number): Promise<UploadRecord[]>;
  close(): Promise<void>;
}

export interface BrokerLimits {
  /** Largest declared size, bytes. @default 5 TiB (S3's maximum) */
  maxObjectSize: number;
  /** Allowed content types; `video/*` forms allowed. @default ['*\/*'] */
  allowedContentTypes: string[];
  /** Uploads in created/uploading state per user. @default 10 */
  maxConcurrentUploadsPerUser: number;
  /** Declared bytes per user per rolling 24 h. @default unlimited */
  maxBytesPerUserPerDay: number;
  /** Credential mints (create + refresh + part URLs) per user per minute. @default 60 */
  maxCredentialMintsPerMinute: number;
}
