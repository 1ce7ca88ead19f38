/** Checksum algorithms S3 accepts, and the names they travel under on the wire. */
import { isBase64Digest } from './base64.ts';

export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
/** What the engine hashes parts with: a checksum algorithm, or MD5 for stores without checksums (Content-MD5). */
export type DigestAlgorithm = ChecksumAlgorithm | 'MD5';

/** COMPOSITE: checksum of the part checksums ("…-N"); FULL_OBJECT: checksum of all the bytes. */
export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

/** `x-amz-checksum-crc32` etc. */
export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

export function parseChecksumAlgorithm(value: string): ChecksumAlgorithm | undefined {
  const upper = value.toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper)
    ? (upper as ChecksumAlgorithm)
    : undefined;
}

/** Byte length of each algorithm's digest, to validate base64 values before comparing. */
export const CHECKSUM_DIGEST_BYTES: Record<ChecksumAlgorithm, number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

/** CRC checksums can be combined into a full-object checksum; SHA ones only composite. */
export function supportsFullObject(algorithm: ChecksumAlgorithm): boolean {
  return algorithm === 'CRC32' || algorithm === 'CRC32C' || algorithm === 'CRC64NVME';
}

/** The type S3 picks when CreateMultipartUpload names an algorithm but no type. */
export function defaultChecksumType(algorithm: ChecksumAlgorithm): ChecksumType {
  return algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
}

/** A canonical base64 digest of the right length for `algorithm`. */
export function isChecksum(algorithm: ChecksumAlgorithm, value: string): boolean {
  return isBase64Digest(value, CHECKSUM_DIGEST_BYTES[algorithm]);
}

/** A canonical base64 MD5 digest (16 bytes). */
export function isMd5(value: string): boolean {
  return isBase64Digest(value, 16);
}
