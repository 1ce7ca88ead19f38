/**
 * The end of an upload: the broker completes it and verifies the object; the engine checks
 * that the checksum S3 computed over the object is the one it computed over the file.
 */
import type { ChecksumAlgorithm, CompletedPart, UploadView } from '@hoist/protocol';
import type { BrokerClient } from './broker-client.ts';
import { isUploadError, UploadError } from './errors.ts';
import { compositeChecksum, fullObjectChecksum } from './object-checksum.ts';
import type { ResolvedOptions } from './options.ts';
import { digestAlgorithm, type Session } from './session.ts';
import type { ResumePart } from './types.ts';

/** Completes a multipart upload from its parts (in order) and checks the object's checksum. */
export async function completeParts(
  o: ResolvedOptions,
  broker: BrokerClient,
  session: Session,
  parts: ResumePart[],
  signal: AbortSignal,
): Promise<UploadView> {
  const completed: CompletedPart[] = parts.map(({ partNumber, etag, checksum }) => ({
    partNumber,
    etag,
    checksum,
  }));
  let expected: string | undefined;
  let full: string | undefined;
  // Where the store keeps no checksums (`content-md5`), the broker alone checks the ETag chain.
  if (digestAlgorithm(session, o.checksumAlgorithm) === 'MD5') expected = undefined;
  else if (session.checksumType === 'FULL_OBJECT') {
    full = fullObjectChecksum(o.checksumAlgorithm, parts);
    expected = full;
  } else {
    expected = await compositeChecksum(
      o.checksumAlgorithm,
      parts.map((p) => p.checksum),
      o.hasher,
    );
  }
  let view: UploadView;
  try {
    view = await broker.complete(
      session.id,
      { parts: completed, ...(full ? { checksum: full } : {}) },
      signal,
    );
  } catch (error) {
    // A completion whose answer was lost: the retry finds the upload already completed.
    if (!isUploadError(error) || error.upstreamCode !== 'conflict') throw error;
    view = await broker.get(session.id, signal);
    if (view.status !== 'completed') throw error;
  }
  checkObjectChecksum(view, expected, o.checksumAlgorithm);
  return view;
}

export function checkObjectChecksum(
  view: UploadView,
  expected: string | undefined,
  algorithm: ChecksumAlgorithm,
): void {
  if (expected === undefined || view.checksum === undefined) return;
  if (view.checksum !== expected)
    throw new UploadError(
      'checksum-mismatch',
      `The stored object's ${algorithm} checksum ${view.checksum} is not the file's ${expected}`,
    );
}
