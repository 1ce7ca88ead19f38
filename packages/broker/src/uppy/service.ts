/**
 * What Uppy's requests mean to the broker's lifecycle. Uppy names an upload by its S3 key and
 * multipart upload id and never says how big the file is, so this maps those requests onto
 * UploadService (create, read, complete, abort: the same checks, registry, metrics and
 * webhooks as `/uploads`) and adds only what the missing size needs:
 *
 * - create declares the user's largest allowed size (counted against quotas until completion),
 *   so every limit that needs a size is checked against the worst case;
 * - a part URL is refused when its number alone proves the file is over the limit (every part
 *   but the last is at least S3's 5 MiB);
 * - completion sizes the upload from the parts S3 lists before the lifecycle completes and
 *   verifies it, and an over-limit total is rejected there (aborted, nothing kept).
 */

import { S3_LIMITS } from '@hoist/protocol';
import { BrokerProblem } from '../errors.ts';
import { completeRecord, listParts } from '../lifecycle/complete.ts';
import { type Lifecycle, OPEN } from '../lifecycle/context.ts';
import { reportIssued } from '../lifecycle/issue.ts';
import type { BrokerUser, UploadRecord } from '../types.ts';
import type { UploadService } from '../uploads.ts';
import { presignPartAnyLength } from './presign-part.ts';

/** Object metadata marking an upload whose size is declared at completion. */
export const OPEN_SIZE_METADATA = 'hoist-size';
const OPEN_SIZE_VALUE = 'at-completion';

export interface UppyServiceDeps {
  /** A lifecycle in presign mode: Uppy gets URLs, never credentials, whatever the broker's mode. */
  uploads: UploadService;
}

export interface UppyCreateInput {
  filename: string;
  contentType: string;
}

export interface UppyPart {
  partNumber: number;
  etag: string;
  size: number;
}

/** "5 GiB", "20 MiB", "1234 bytes": for messages people read in Uppy's Dashboard. */
export function readableSize(bytes: number): string {
  for (const [unit, scale] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= scale) return `${Number((bytes / scale).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
}

export class UppyService {
  readonly #uploads: UploadService;
  readonly #lc: Lifecycle;

  constructor(deps: UppyServiceDeps) {
    this.#uploads = deps.uploads;
    this.#lc = deps.uploads.lifecycle;
  }

  #tooLarge(): BrokerProblem {
    return new BrokerProblem(
      'too-large',
      `This file is larger than your ${readableSize(this.#lc.settings.limits.maxObjectSize)} limit`,
    );
  }

  async create(user: BrokerUser, input: UppyCreateInput): Promise<{ key: string; uploadId: string }> {
    const { limits, singleRequestMaxSize } = this.#lc.settings;
    // The worst case the user may send; always multipart (a single request has no completion call).
    const bound = Math.max(limits.maxObjectSize, singleRequestMaxSize + 1);
    const created = await this.#uploads.create(user, {
      filename: input.filename,
      contentType: input.contentType,
      size: bound,
      metadata: { [OPEN_SIZE_METADATA]: OPEN_SIZE_VALUE },
    });
    if (!created.uploadId)
      throw new BrokerProblem('internal', 'The upload was created without a multipart upload');
    return { key: created.key, uploadId: created.uploadId };
  }

  /** The user's open-size upload with this S3 upload id and key; anyone else's does not exist. */
  async #find(user: BrokerUser, uploadId: string, key: string): Promise<UploadRecord> {
    const record = await this.#lc.registry.getByUploadId(uploadId);
    // Key and owner must both match: a leaked upload id alone opens nothing.
    if (!record || record.userId !== user.id || record.key !== key)
      throw new BrokerProblem('not-found', 'No such upload');
    if (record.metadata[OPEN_SIZE_METADATA] !== OPEN_SIZE_VALUE)
      throw new BrokerProblem(
        'conflict',
        'This upload was not created through the Uppy routes; use /uploads',
      );
    return record;
  }

  async signPart(
    user: BrokerUser,
    uploadId: string,
    key: string,
    partNumber: number,
  ): Promise<{ url: string; expiresAt: string }> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > S3_LIMITS.maxParts)
      throw new BrokerProblem('invalid-request', `Part numbers are 1..${S3_LIMITS.maxParts}`);
    const lc = this.#lc;
    const record = await this.#find(user, uploadId, key);
    lc.requireOpen(record);
    // Parts before this one are each at least 5 MiB: past the limit already, so refuse it.
    if ((partNumber - 1) * S3_LIMITS.minPartSize >= lc.settings.limits.maxObjectSize) throw this.#tooLarge();
    await lc.hooks.beforeMint?.(user);
    const signed = await presignPartAnyLength(lc.aws.presigner, {
      bucket: record.bucket,
      key: record.key,
      uploadId,
      partNumber,
      expiresIn: lc.expiresIn(record),
      now: lc.clock(),
    });
    await lc.markUploading(record);
    reportIssued(lc, record, { kind: 'part-urls', expiration: signed.expiresAt });
    return signed;
  }

  async listParts(user: BrokerUser, uploadId: string, key: string): Promise<UppyPart[]> {
    const record = await this.#find(user, uploadId, key);
    const view = await this.#uploads.get(user, record.id);
    return (view.parts ?? []).map((p) => ({ partNumber: p.partNumber, etag: p.etag, size: p.size }));
  }

  async complete(
    user: BrokerUser,
    uploadId: string,
    key: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<{ key: string; bucket: string; size: number }> {
    const lc = this.#lc;
    const found = await this.#find(user, uploadId, key);
    return lc.serial(found.id, async () => {
      const record = await lc.owned(user, found.id);
      if (record.status === 'completed') return { key: record.key, bucket: record.bucket, size: record.size };
      lc.requireOpen(record);
      // Listed once: the sizes declare the upload's size, and the lifecycle checks these same parts.
      const listed = await listParts(lc, record, uploadId);
      const sizes = new Map((listed ?? []).map((p) => [p.partNumber, p.size]));
      const total = parts.reduce((sum, p) => sum + (sizes.get(p.partNumber) ?? 0), 0);
      // The size is known now: declared before the lifecycle completes, so it checks the parts
      // add up to it, checks the limit (rejecting and deleting when over) and verifies the object.
      const sized = await lc.registry.transition(record.id, OPEN, { size: total }, lc.clock());
      try {
        const done = await completeRecord(
          lc,
          user,
          sized ?? (await lc.owned(user, record.id)),
          { parts },
          { listed },
        );
        return { key: done.key, bucket: record.bucket, size: done.size };
      } catch (error) {
        // The lifecycle said "rejected: over the limit"; the person in the Dashboard reads this.
        if (total > lc.settings.limits.maxObjectSize && error instanceof BrokerProblem)
          throw this.#tooLarge();
        throw error;
      }
    });
  }

  async abort(user: BrokerUser, uploadId: string, key: string): Promise<void> {
    const record = await this.#find(user, uploadId, key);
    await this.#uploads.abort(user, record.id);
  }
}
