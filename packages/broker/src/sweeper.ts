/**
 * The sweeper: aborts multipart uploads left incomplete, so their parts stop costing
 * storage. Two passes:
 *
 * 1. Registry records still open (`created`/`uploading`) past their `expiresAt` are
 *    claimed with a compare-and-set to `expired` (so a completion racing us on another
 *    broker either wins or is refused), then their multipart upload is aborted and any
 *    object at their key deleted: the broker never verified it (a client that completed
 *    the multipart upload, or sent the PutObject, and never asked the broker to complete),
 *    so it must not stay.
 * 2. Every page of S3's ListMultipartUploads under the key prefix: an upload initiated
 *    more than `olderThanMs` ago that the registry does not know, or knows as no
 *    longer open, is aborted too (crashes between CreateMultipartUpload and insert,
 *    lost registries, aborts that failed before).
 *
 * NoSuchUpload counts as done: someone else got there first.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { OPEN_STATUSES } from './registry/record.ts';
import type { Registry, UploadRecord } from './types.ts';

export interface SweepOptions {
  registry: Registry;
  /** An `@aws-sdk/client-s3` client with ListMultipartUploads and AbortMultipartUpload rights. */
  s3: S3Client;
  /** Bucket whose multipart uploads pass 2 lists. */
  bucket: string;
  /**
   * Only uploads under this key prefix are listed (the broker's `keyPrefix`). It is a folder:
   * `uploads` lists `uploads/…`, never `uploads-old/…`.
   */
  keyPrefix: string;
  /** ms since epoch. */
  now: number;
  /** Uploads S3 initiated more than this long ago are candidates in pass 2. */
  olderThanMs: number;
  /** Registry records and S3 uploads fetched per page. @default 1000 */
  pageSize?: number;
  /** Called for each abort or delete that failed (the sweep goes on). */
  onError?: (error: unknown, upload: { key: string; uploadId: string; id?: string }) => void;
  /** Called for each unverified object deleted at the key of an upload that expired. */
  onObjectDeleted?: (upload: { key: string; id: string; size: number }) => void;
  /**
   * Called first for each stale record: true when it settled it itself (a POST-form upload whose
   * object it verified: reconcile.ts), so the sweeper leaves it. A throw keeps the record for the
   * next sweep (counted as failed).
   */
  settle?: (record: UploadRecord) => Promise<boolean>;
}

export interface SweepResult {
  /** Registry records moved to `expired` (pass 1). */
  expired: number;
  /** Stale records the `settle` hook verified instead (pass 1); only with that hook. */
  settled?: number;
  /** Multipart uploads aborted in S3 (both passes; already gone counts as aborted). */
  aborted: number;
  /** Of those, uploads found only by listing S3 (pass 2). */
  orphans: number;
  /** Uploads listed in S3 and left alone (recent, or open in the registry). */
  kept: number;
  /** Objects deleted at the keys of expired uploads (never verified, so never kept). */
  deleted: number;
  /** Aborts and deletes that failed (aborts: with an error other than NoSuchUpload). */
  failed: number;
}

const OPEN: readonly string[] = OPEN_STATUSES;

/** One sweep; see the module doc. */
export async function sweep(options: SweepOptions): Promise<SweepResult> {
  const {
    registry,
    s3,
    bucket,
    keyPrefix,
    now,
    olderThanMs,
    pageSize = 1000,
    onError,
    onObjectDeleted,
    settle,
  } = checkOptions(options);
  const result: SweepResult = { expired: 0, aborted: 0, orphans: 0, kept: 0, deleted: 0, failed: 0 };
  if (settle) result.settled = 0;
  const abort = async (target: { bucket: string; key: string; uploadId: string; id?: string }) => {
    try {
      await s3.send(
        new AbortMultipartUploadCommand({
          Bucket: target.bucket,
          Key: target.key,
          UploadId: target.uploadId,
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchUpload') return true;
      result.failed++;
      onError?.(error, target);
      return false;
    }
  };

  // HeadObject first: deleting nothing is the common case and needs no log line.
  const deleteUnverified = async (record: {
    bucket: string;
    key: string;
    id: string;
    uploadId: string | null;
  }) => {
    try {
      let size: number;
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: record.bucket, Key: record.key }));
        size = head.ContentLength ?? 0;
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if ((error as { name?: string }).name === 'NotFound' || status === 404) return;
        throw error;
      }
      await s3.send(new DeleteObjectCommand({ Bucket: record.bucket, Key: record.key }));
      result.deleted++;
      onObjectDeleted?.({ key: record.key, id: record.id, size });
    } catch (error) {
      result.failed++;
      onError?.(error, { key: record.key, uploadId: record.uploadId ?? '', id: record.id });
    }
  };

  // Pass 1. Claimed records leave listStale's result, so this ends; `seen` guards
  // against a record another broker keeps changing between open states.
  const seen = new Set<string>();
  for (;;) {
    const stale = (await registry.listStale(now, pageSize)).filter((record) => !seen.has(record.id));
    if (stale.length === 0) break;
    for (const record of stale) {
      seen.add(record.id);
      try {
        if (settle && (await settle(record))) {
          result.settled = (result.settled ?? 0) + 1;
          continue;
        }
      } catch (error) {
        result.failed++;
        onError?.(error, { key: record.key, uploadId: record.uploadId ?? '', id: record.id });
        continue;
      }
      const claimed = await registry.transition(
        record.id,
        OPEN_STATUSES,
        { status: 'expired', reason: 'not completed before it expired' },
        now,
      );
      if (!claimed) continue;
      result.expired++;
      if (claimed.uploadId !== null) {
        const target = {
          bucket: claimed.bucket,
          key: claimed.key,
          uploadId: claimed.uploadId,
          id: claimed.id,
        };
        if (await abort(target)) result.aborted++;
      }
      await deleteUnverified(claimed);
    }
  }

  // Pass 2. The prefix as a folder, so a sibling prefix's uploads are never ours to abort.
  const prefix = keyPrefix === '' || keyPrefix.endsWith('/') ? keyPrefix : `${keyPrefix}/`;
  const cutoff = now - olderThanMs;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page: ListMultipartUploadsCommandOutput = await s3.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix,
        MaxUploads: pageSize,
        ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
        ...(uploadIdMarker === undefined ? {} : { UploadIdMarker: uploadIdMarker }),
      }),
    );
    for (const upload of page.Uploads ?? []) {
      const { Key: key, UploadId: uploadId, Initiated: initiated } = upload;
      if (!key || !uploadId || !initiated || initiated.getTime() >= cutoff) {
        result.kept++;
        continue;
      }
      const record = await registry.getByUploadId(uploadId);
      if (record && OPEN.includes(record.status)) {
        result.kept++;
        continue;
      }
      if (await abort({ bucket, key, uploadId, ...(record ? { id: record.id } : {}) })) {
        result.aborted++;
        result.orphans++;
      }
    }
    if (!page.IsTruncated || (!page.NextKeyMarker && !page.NextUploadIdMarker)) break;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
  return result;
}

export interface Sweeper {
  /** Runs a sweep now (or joins the one running). */
  run(): Promise<SweepResult>;
  /** Stops the timer and waits for a running sweep. */
  stop(): Promise<void>;
}

export interface SweeperOptions extends Omit<SweepOptions, 'now'> {
  /** Time between sweeps. */
  intervalMs: number;
  /** ms since epoch. @default Date.now */
  clock?: () => number;
  /** Each finished sweep's counts. */
  onResult?: (result: SweepResult) => void;
  /** A sweep that failed as a whole (registry or listing error); the next one retries. */
  onSweepError?: (error: unknown) => void;
}

/** Sweeps every `intervalMs` (never two at once); the timer does not keep the process alive. */
export function startSweeper(options: SweeperOptions): Sweeper {
  const { intervalMs, clock = Date.now, onResult, onSweepError, ...sweepOptions } = options;
  if (!Number.isFinite(intervalMs) || intervalMs < 1000) {
    throw new TypeError('intervalMs must be a number of milliseconds, at least 1000');
  }
  if (typeof clock !== 'function') throw new TypeError('clock must be a function');
  checkOptions({ ...sweepOptions, now: clock() });
  let running: Promise<SweepResult> | undefined;
  const run = () => {
    running ??= sweep({ ...sweepOptions, now: clock() }).finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    run().then(onResult, (error: unknown) => onSweepError?.(error));
  }, intervalMs);
  timer.unref();
  return {
    run,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}

function checkOptions(options: SweepOptions): SweepOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const { registry, s3, bucket, keyPrefix, now, olderThanMs, pageSize, onError } = options;
  if (typeof registry?.listStale !== 'function') throw new TypeError('registry must be a Registry');
  if (typeof s3?.send !== 'function') throw new TypeError('s3 must be an S3Client');
  if (typeof bucket !== 'string' || bucket.length === 0)
    throw new TypeError('bucket must be a non-empty string');
  if (typeof keyPrefix !== 'string') throw new TypeError('keyPrefix must be a string');
  if (!Number.isSafeInteger(now) || now < 0) throw new TypeError('now must be ms since the epoch');
  if (!Number.isSafeInteger(olderThanMs) || olderThanMs < 0) {
    throw new TypeError('olderThanMs must be a non-negative integer');
  }
  if (pageSize !== undefined && (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000)) {
    throw new TypeError('pageSize must be an integer 1..1000');
  }
  if (onError !== undefined && typeof onError !== 'function')
    throw new TypeError('onError must be a function');
  if (options.onObjectDeleted !== undefined && typeof options.onObjectDeleted !== 'function')
    throw new TypeError('onObjectDeleted must be a function');
  if (options.settle !== undefined && typeof options.settle !== 'function')
    throw new TypeError('settle must be a function');
  return options;
}
