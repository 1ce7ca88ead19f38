/**
 * The whole-object checksum S3 will report at completion, computed from part checksums alone:
 * FULL_OBJECT folded from part CRCs, or COMPOSITE `…-N`. No hash-wasm here, so the engine's
 * core bundle stays small; digests come from the PartHasher it is given.
 * @module
 */
import { base64ToBytes, bytesToBase64 } from '../protocol/base64.ts';
import { CHECKSUM_ALGORITHMS, CHECKSUM_DIGEST_BYTES, type ChecksumAlgorithm } from '../protocol/checksum.ts';
import { combineCrc, isCrcAlgorithm } from '../protocol/crc-combine.ts';
import type { PartHasher } from './types.ts';

function checkAlgorithm(algorithm: ChecksumAlgorithm): void {
  if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new TypeError(`algorithm: unsupported checksum algorithm ${JSON.stringify(algorithm)}`);
  }
}

function decodeChecksum(algorithm: ChecksumAlgorithm, value: string, name: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = base64ToBytes(value);
  } catch {
    throw new TypeError(`${name}: not a base64 ${algorithm} checksum`);
  }
  if (bytes.length !== CHECKSUM_DIGEST_BYTES[algorithm]) {
    throw new TypeError(`${name}: a ${algorithm} checksum has ${CHECKSUM_DIGEST_BYTES[algorithm]} bytes`);
  }
  return bytes;
}

/**
 * The FULL_OBJECT checksum S3 reports for an object made of `parts` (in part order): the CRC
 * of all their bytes, folded from each part's checksum and size without reading a byte.
 * Only CRCs combine; SHA algorithms throw a TypeError (their multipart checksums are COMPOSITE).
 * @example
 * ```ts
 * fullObjectChecksum('CRC64NVME', [{ checksum: 'AAAAAAAAAAA=', size: 0 }]);
 * ```
 */
export function fullObjectChecksum(
  algorithm: ChecksumAlgorithm,
  parts: readonly { checksum: string; size: number }[],
): string {
  checkAlgorithm(algorithm);
  if (!isCrcAlgorithm(algorithm)) {
    throw new TypeError(`algorithm: ${algorithm} has no FULL_OBJECT checksum, only COMPOSITE`);
  }
  if (!Array.isArray(parts)) throw new TypeError('parts: expected an array');
  const crcs = parts.map((part, i) => {
    if (!Number.isSafeInteger(part.size) || part.size < 0) {
      throw new TypeError(`parts[${i}].size: expected a non-negative integer, got ${part.size}`);
    }
    return { crc: decodeChecksum(algorithm, part.checksum, `parts[${i}].checksum`), length: part.size };
  });
  return bytesToBase64(combineCrc(algorithm, crcs));
}

/**
 * The COMPOSITE checksum S3 reports for a multipart object: the algorithm's digest over the
 * concatenated raw part digests, base64, then `-N` for N parts (e.g. `"oTtO2w==-3"`).
 */
export async function compositeChecksum(
  algorithm: ChecksumAlgorithm,
  partChecksums: readonly string[],
  hasher: PartHasher,
): Promise<string> {
  checkAlgorithm(algorithm);
  if (!Array.isArray(partChecksums) || partChecksums.length === 0) {
    throw new TypeError('partChecksums: expected at least one part checksum');
  }
  const size = CHECKSUM_DIGEST_BYTES[algorithm];
  const joined = new Uint8Array(size * partChecksums.length);
  partChecksums.forEach((value, i) => {
    joined.set(decodeChecksum(algorithm, value, `partChecksums[${i}]`), i * size);
  });
  return `${await hasher.digest(algorithm, joined)}-${partChecksums.length}`;
}
