/**
 * Completing an upload: the claimed parts are checked against what S3 lists (ETags, checksums
 * or MD5s, sizes, the total), completed with If-None-Match (or, on a store that ignores it,
 * after checking the key is free), and the object verified (verify.ts). A single request's
 * object is verified as it is.
 */
import { CompleteMultipartUploadCommand } from '@aws-sdk/client-s3';
import type { CompletedPart, CompleteUploadRequest, UploadView } from '@hoist/protocol';
import { isChecksum, isMd5, partCount, partRange } from '@hoist/protocol';
import { CHECKSUM_FIELD, errorName, httpStatus, type ListedPart, listAllParts } from '../aws.ts';
import { BrokerProblem } from '../errors.ts';
import { etagIsMd5, md5Hex, multipartEtagOf } from '../etag-chain.ts';
import { isFormUpload } from '../post-form.ts';
import type { BrokerUser, UploadRecord } from '../types.ts';
import { multipartEtag, normalizeEtag, toView, uploadChecksumType } from '../views.ts';
import {
  DECLARED_CHECKSUM,
  DECLARED_MD5,
  integrityOf,
  invalid,
  type Lifecycle,
  NO_CHECKSUMS,
} from './context.ts';
import { hasEtag, headOf, lostUpload, reject, verify } from './verify.ts';

/** What a caller already knows about the upload's parts in S3 (the Uppy routes list them first). */
export interface KnownParts {
  /** The parts S3 lists; undefined when S3 has no such multipart upload. */
  listed: ListedPart[] | undefined;
}

/** Every part of the upload's multipart upload as S3 lists it; undefined when S3 has none. */
export function listParts(
  lc: Lifecycle,
  record: UploadRecord,
  uploadId: string,
): Promise<ListedPart[] | undefined> {
  return lc.upstream('ListParts', () =>
    listAllParts(lc.aws.s3, {
      bucket: record.bucket,
      key: record.key,
      uploadId,
      algorithm: record.checksumAlgorithm,
    }),
  );
}

/**
 * Completes `record` (one completion or abort per upload at a time). `known` skips listing the
 * parts again when the caller just listed them, inside the same serial section.
 */
export async function completeRecord(
  lc: Lifecycle,
  user: BrokerUser,
  record: UploadRecord,
  request: CompleteUploadRequest,
  known?: KnownParts,
): Promise<UploadView> {
  const { parts, checksum } = request;
  if (checksum !== undefined) {
    if (integrityOf(record) === 'content-md5')
      throw invalid('checksum', `is not taken: ${NO_CHECKSUMS}; the parts' MD5s are checked instead`);
    if (!record.uploadId || uploadChecksumType(record.checksumAlgorithm, true) !== 'FULL_OBJECT')
      throw invalid(
        'checksum',
        'is only for multipart uploads with a FULL_OBJECT checksum (CRC32, CRC32C, CRC64NVME)',
      );
    if (!isChecksum(record.checksumAlgorithm, checksum))
      throw invalid('checksum', `is not a base64 ${record.checksumAlgorithm} digest`);
  }
  if (record.status === 'completed') return toView(record);
  // A form cannot be sent after it expires, so what is at the key then came in time.
  if (isFormUpload(record)) lc.requireStatusOpen(record);
  else lc.requireOpen(record);
  const done = record.uploadId
    ? await completeMultipart(lc, record, record.uploadId, parts, checksum, known)
    : await completeSingle(lc, record, parts);
  announceCompleted(lc, done, user.id);
  return toView(done);
}

/** Logs and reports (metrics, webhook) a completion this process made, once. */
export function announceCompleted(lc: Lifecycle, done: UploadRecord, userId: string): void {
  if (!lc.justCompleted.has(done)) return;
  lc.justCompleted.delete(done);
  lc.log.info({ uploadId: done.id, userId, key: done.key, size: done.size }, 'upload completed');
  lc.hooks.uploadEnded?.(done);
}

async function completeMultipart(
  lc: Lifecycle,
  record: UploadRecord,
  uploadId: string,
  claimed: CompletedPart[],
  /** The whole file's FULL_OBJECT checksum, which S3 checks when it completes. */
  fullChecksum: string | undefined,
  known: KnownParts | undefined,
): Promise<UploadRecord> {
  const md5 = integrityOf(record) === 'content-md5';
  if (claimed.length === 0) throw invalid('parts', 'must list the uploaded parts');
  claimed.forEach((part, i) => {
    if (md5 && (part.checksum === undefined || !isMd5(part.checksum)))
      throw invalid(
        `parts.${i}.checksum`,
        `must be the part's base64 MD5: ${NO_CHECKSUMS}, so each part's ETag is checked against it`,
      );
    if (!md5 && part.checksum !== undefined && !isChecksum(record.checksumAlgorithm, part.checksum))
      throw invalid(`parts.${i}.checksum`, `is not a base64 ${record.checksumAlgorithm} digest`);
  });
  const listed = known ? known.listed : await listParts(lc, record, uploadId);
  if (!listed) return lostUpload(lc, record, claimed, fullChecksum);
  const byNumber = new Map(listed.map((p) => [p.partNumber, p]));
  const chosen: ListedPart[] = [];
  const last = partCount(record.size, record.partSize);
  for (const [index, part] of claimed.entries()) {
    const found = byNumber.get(part.partNumber);
    const path = `parts[${index}]`;
    if (!found || normalizeEtag(found.etag) !== normalizeEtag(part.etag))
      throw new BrokerProblem('invalid-request', `Part ${part.partNumber} is not in S3 with that ETag`, {
        errors: [{ path: `${path}.etag`, message: 'does not match the part S3 has' }],
      });
    if (md5) {
      // The store verified Content-MD5 (or not): its ETag is the MD5 of what it holds either way.
      if (!etagIsMd5(found.etag, part.checksum!))
        return reject(
          lc,
          record,
          `part ${part.partNumber}: its ETag is not the MD5 of the client's bytes (${NO_CHECKSUMS}; the ETag is what is checked)`,
        );
      const expected =
        part.partNumber <= last ? partRange(record.size, record.partSize, part.partNumber) : undefined;
      if (!expected || found.size !== expected.end - expected.start)
        return reject(lc, record, `part ${part.partNumber} is ${found.size} bytes, not the part's size`);
    } else if (part.checksum !== undefined && part.checksum !== found.checksum)
      return reject(
        lc,
        record,
        found.checksum === undefined
          ? `part ${part.partNumber}: S3 lists no ${record.checksumAlgorithm} checksum for it (${NO_CHECKSUMS})`
          : `part ${part.partNumber}: checksum does not match what S3 received`,
      );
    chosen.push(found);
  }
  const total = chosen.reduce((sum, p) => sum + p.size, 0);
  if (total !== record.size)
    return reject(lc, record, `the parts add up to ${total} bytes, not the declared ${record.size}`);
  if (total > lc.settings.limits.maxObjectSize)
    return reject(lc, record, `the parts add up to ${total} bytes, over the limit`);
  const expectedEtag = md5 ? multipartEtagOf(claimed.map((p) => p.checksum!)) : undefined;
  const ours = multipartEtag(chosen);

  // A store that ignores If-None-Match on completion would complete over anything at the key:
  // look first. (Only the broker completes in presign mode, so nothing races this but itself.)
  if (!(await lc.caps()).ifNoneMatchOnComplete) {
    const head = await headOf(lc, record);
    if (head) {
      if (!hasEtag(head, ours))
        return reject(lc, record, 'an object the broker did not complete is at the key');
      return verify(lc, record, { checksum: fullChecksum, etag: expectedEtag });
    }
  }

  const field = CHECKSUM_FIELD[record.checksumAlgorithm];
  let completedChecksum: string | undefined;
  try {
    const out = await lc.aws.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: record.bucket,
        Key: record.key,
        UploadId: uploadId,
        IfNoneMatch: '*',
        ...(fullChecksum === undefined ? {} : { ChecksumType: 'FULL_OBJECT', [field]: fullChecksum }),
        MultipartUpload: {
          Parts: chosen.map((p) => ({
            PartNumber: p.partNumber,
            ETag: p.etag,
            ...(p.checksum && !md5 ? { [field]: p.checksum } : {}),
          })),
        },
      }),
    );
    completedChecksum = md5 ? undefined : out[field];
  } catch (error) {
    const name = errorName(error);
    if (name === 'PreconditionFailed' || httpStatus(error) === 412) {
      // Something is at the key already: our own completion (a retried request) when its ETag is
      // the one these parts make, otherwise an object the client wrote around the broker.
      if (!hasEtag(await headOf(lc, record), ours))
        return reject(lc, record, 'an object the broker did not complete is at the key');
    } else if (name === 'NoSuchUpload') {
      return lostUpload(lc, record, claimed, fullChecksum);
    } else if (name === 'BadDigest' && fullChecksum !== undefined) {
      // S3 computed the whole object's checksum from the parts and it is not the client's.
      return reject(
        lc,
        record,
        `the ${record.checksumAlgorithm} checksum of the whole file does not match what S3 received`,
      );
    } else if (['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'InvalidRequest'].includes(name ?? '')) {
      throw new BrokerProblem('invalid-request', `S3 refused the parts (${name})`, { cause: error });
    } else throw lc.upstreamProblem('CompleteMultipartUpload', error);
  }
  // HeadObject compares the object's checksum with the client's too (S3s that ignore it exist).
  return verify(lc, record, { checksum: fullChecksum ?? completedChecksum, etag: expectedEtag });
}

export async function completeSingle(
  lc: Lifecycle,
  record: UploadRecord,
  claimed: CompletedPart[],
): Promise<UploadRecord> {
  if (claimed.length > 0)
    throw new BrokerProblem('invalid-request', 'A single-request upload has no parts', {
      errors: [{ path: 'parts', message: 'must be empty for a single-request upload' }],
    });
  const declaredMd5 = record.metadata[DECLARED_MD5];
  if (integrityOf(record) === 'content-md5')
    return verify(lc, record, { etag: declaredMd5 === undefined ? undefined : md5Hex(declaredMd5) });
  return verify(lc, record, { checksum: record.metadata[DECLARED_CHECKSUM] });
}
