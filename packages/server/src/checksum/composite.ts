/**
 * Multipart checksums and ETags, as S3 derives them from the parts at CompleteMultipartUpload.
 * @module
 */
import { createHash } from 'node:crypto';
import { CHECKSUM_DIGEST_BYTES, type ChecksumAlgorithm } from '@hoist/protocol';
import { createChecksumHasher } from './hasher.ts';

function checkDigests(digests: readonly Buffer[], bytes: number, name: string): void {
  if (!Array.isArray(digests) || digests.length === 0)
    throw new TypeError(`${name}: expected at least one part`);
  digests.forEach((digest, i) => {
    if (!Buffer.isBuffer(digest) || digest.length !== bytes) {
      throw new TypeError(`${name}[${i}]: expected a ${bytes}-byte digest`);
    }
  });
}

/**
 * A COMPOSITE multipart checksum: base64 of the algorithm's digest over the concatenated raw
 * part digests, then `-N` for N parts (e.g. `"oTtO2w==-3"`).
 */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partDigests: readonly Buffer[]): string {
  const hasher = createChecksumHasher(algorithm);
  checkDigests(partDigests, CHECKSUM_DIGEST_BYTES[algorithm], 'partDigests');
  for (const digest of partDigests) hasher.update(digest);
  return `${hasher.digest().toString('base64')}-${partDigests.length}`;
}

/**
 * A multipart upload's ETag: hex MD5 of the concatenated part MD5 digests, then `-N`,
 * in double quotes as S3 sends it (e.g. `"9b2cf535f27731c974343645a3985328-2"`).
 */
export function multipartEtag(partMd5Digests: readonly Buffer[]): string {
  checkDigests(partMd5Digests, 16, 'partMd5Digests');
  const md5 = createHash('md5');
  for (const digest of partMd5Digests) md5.update(digest);
  return `"${md5.digest('hex')}-${partMd5Digests.length}"`;
}
