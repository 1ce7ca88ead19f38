/**
 * The end of an upload: HeadObject proves the object is what was declared (size, type,
 * checksum or MD5 chain) and the record becomes `completed`, or the upload is rejected — its
 * multipart upload aborted, whatever is at the key deleted, the reason recorded.
 */
import { type CompletedPart, isMd5 } from '@hoist/protocol';
import { abortQuietly, deleteObject, headObject, type ObjectHead } from '../aws.ts';
import { BrokerProblem } from '../errors.ts';
import { normalizeEtag as comparableEtag, etagIsMd5, multipartEtagOf } from '../etag-chain.ts';
import { isFormUpload, sizeIsBound } from '../post-form.ts';
import type { Registry, UploadRecord } from '../types.ts';
import { multipartEtag, normalizeEtag, sameType } from '../views.ts';
import { integrityOf, type Lifecycle, NO_CHECKSUMS, NOTHING_YET, OPEN } from './context.ts';

/** HeadObject of the upload's key (with its checksum); undefined when nothing is there. */
export function headOf(lc: Lifecycle, record: UploadRecord): Promise<ObjectHead | undefined> {
  return lc.upstream('HeadObject', () =>
    headObject(lc.aws.s3, { bucket: record.bucket, key: record.key, algorithm: record.checksumAlgorithm }),
  );
}

/** Whether the object HeadObject found has this (normalized) ETag. */
export function hasEtag(head: ObjectHead | undefined, etag: string): head is ObjectHead {
  return head !== undefined && normalizeEtag(head.etag ?? '') === etag;
}

/** HeadObject: the object must be what was declared, or it is deleted and the upload rejected. */
export async function verify(
  lc: Lifecycle,
  record: UploadRecord,
  expected: { checksum?: string | undefined; etag?: string | undefined },
): Promise<UploadRecord> {
  const head = await headOf(lc, record);
  if (!head) {
    if (record.uploadId) return reject(lc, record, 'the completed object is missing');
    throw new BrokerProblem('conflict', NOTHING_YET);
  }
  const bound = sizeIsBound(record);
  if (bound ? head.size < 1 || head.size > record.size : head.size !== record.size)
    return reject(
      lc,
      record,
      bound
        ? `the object is ${head.size} bytes, not 1 to ${record.size}`
        : `the object is ${head.size} bytes, not the declared ${record.size}`,
    );
  if (!sameType(head.contentType, record.contentType))
    return reject(
      lc,
      record,
      `the object's type is ${head.contentType ?? 'missing'}, not ${record.contentType}`,
    );
  const md5 = integrityOf(record) === 'content-md5';
  // Never accept bytes nobody verified: without checksums, the ETag chain is the only proof.
  // (A form from a client that declared no MD5 has only its size and type to check: docs/uppy.md.)
  if (md5 && expected.etag === undefined && !isFormUpload(record))
    return reject(lc, record, `${NO_CHECKSUMS}, and the client declared no MD5 to check the object against`);
  if (expected.etag !== undefined && comparableEtag(head.etag ?? '') !== expected.etag)
    return reject(
      lc,
      record,
      `the object's ETag is not the MD5 ${record.uploadId ? 'chain of the parts' : 'of the file'} (${NO_CHECKSUMS}; the ETag is what is checked)`,
    );
  if (!md5 && expected.checksum !== undefined && head.checksum !== expected.checksum)
    return reject(
      lc,
      record,
      head.checksum === undefined
        ? `S3 returned no ${record.checksumAlgorithm} checksum for the object (${NO_CHECKSUMS})`
        : `the object's ${record.checksumAlgorithm} checksum does not match`,
    );
  const changes: Parameters<Registry['transition']>[2] = { status: 'completed', completedAt: lc.clock() };
  if (head.etag) changes.etag = normalizeEtag(head.etag);
  if (head.checksum && !md5) changes.checksum = head.checksum;
  if (bound) changes.size = head.size;
  const done = await lc.registry.transition(record.id, OPEN, changes, lc.clock());
  if (!done) {
    const now = await lc.registry.get(record.id);
    if (now?.status === 'completed') return now;
    // Expired or aborted while we completed (the sweeper won the race): the object must not stay.
    await deleteObject(lc.aws.s3, { bucket: record.bucket, key: record.key }).catch((error: unknown) =>
      lc.log.error({ err: error, key: record.key }, 'could not delete an object completed too late'),
    );
    throw new BrokerProblem('conflict', `The upload is ${now?.status ?? 'gone'}`);
  }
  lc.justCompleted.add(done);
  return done;
}

/**
 * The multipart upload is gone. When the object at the key is exactly the claimed parts (its
 * ETag is theirs: a completion whose answer was lost, or one the client made) it is verified
 * like any other; otherwise it was aborted or swept behind our back and the upload is over.
 */
export async function lostUpload(
  lc: Lifecycle,
  record: UploadRecord,
  claimed: readonly CompletedPart[],
  fullChecksum: string | undefined,
): Promise<UploadRecord> {
  const now = await lc.registry.get(record.id);
  if (now?.status === 'completed') return now;
  if (!hasEtag(await headOf(lc, record), multipartEtag(claimed)))
    return reject(lc, record, 'the multipart upload no longer exists in S3');
  if (integrityOf(record) !== 'content-md5') return verify(lc, record, { checksum: fullChecksum });
  // Without checksums the claimed parts must be the client's MD5s for the chain to prove anything.
  const md5s = claimed.map((p) => p.checksum ?? '');
  if (!claimed.every((p, i) => isMd5(md5s[i]!) && etagIsMd5(p.etag, md5s[i]!)))
    return reject(lc, record, `the parts' ETags are not the client's MD5s (${NO_CHECKSUMS})`);
  return verify(lc, record, { etag: multipartEtagOf(md5s) });
}

export async function reject(lc: Lifecycle, record: UploadRecord, reason: string): Promise<never> {
  const rejected = await discard(lc, record, 'rejected', reason);
  lc.log.warn({ uploadId: record.id, userId: record.userId, key: record.key, reason }, 'upload rejected');
  if (rejected) lc.hooks.uploadEnded?.(rejected);
  throw new BrokerProblem('upload-rejected', `The upload was rejected: ${reason}`);
}

/** Aborts the multipart upload, deletes whatever is at the key, records the final status. */
export async function discard(
  lc: Lifecycle,
  record: UploadRecord,
  status: 'rejected' | 'aborted',
  reason?: string,
): Promise<UploadRecord | undefined> {
  const s3 = lc.aws.s3;
  await lc.upstream('AbortMultipartUpload', async () => {
    if (record.uploadId)
      await abortQuietly(s3, { bucket: record.bucket, key: record.key, uploadId: record.uploadId });
    // Never completed, so nothing at the key is a verified file: it goes too.
    await deleteObject(s3, { bucket: record.bucket, key: record.key });
  });
  return lc.registry.transition(
    record.id,
    OPEN,
    reason === undefined ? { status } : { status, reason },
    lc.clock(),
  );
}
