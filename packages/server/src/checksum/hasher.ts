/**
 * One incremental interface over every checksum S3 speaks, plus MD5 for ETags.
 * @module
 */
import { createHash } from 'node:crypto';
import { CHECKSUM_DIGEST_BYTES, type ChecksumAlgorithm } from '@hoist/protocol';
import { crc32 } from './crc32.ts';
import { crc32c } from './crc32c.ts';
import { Crc64Nvme } from './crc64nvme.ts';

/** An incremental hash. `digest()` ends it: call it once, and `update()` no more after it. */
export interface Hasher {
  update(chunk: Uint8Array): void;
  /** The raw digest bytes; CRCs big-endian, as S3 base64-encodes them in `x-amz-checksum-*`. */
  digest(): Buffer;
}

function finalised(): never {
  throw new Error('Hasher already digested');
}

function crc32Hasher(fn: (data: Uint8Array, previous: number) => number): Hasher {
  let crc = 0;
  let done = false;
  return {
    update(chunk) {
      if (done) finalised();
      crc = fn(chunk, crc);
    },
    digest() {
      if (done) finalised();
      done = true;
      const out = Buffer.allocUnsafe(4);
      out.writeUInt32BE(crc, 0);
      return out;
    },
  };
}

function crc64Hasher(): Hasher {
  const crc = new Crc64Nvme();
  let done = false;
  return {
    update(chunk) {
      if (done) finalised();
      crc.update(chunk);
    },
    digest() {
      if (done) finalised();
      done = true;
      return crc.digest();
    },
  };
}

function nodeHasher(name: 'md5' | 'sha1' | 'sha256'): Hasher {
  const hash = createHash(name);
  return {
    update(chunk) {
      hash.update(chunk);
    },
    digest() {
      return hash.digest();
    },
  };
}

/** A fresh incremental hasher for one of S3's `x-amz-checksum-*` algorithms. */
export function createChecksumHasher(algorithm: ChecksumAlgorithm): Hasher {
  switch (algorithm) {
    case 'CRC32':
      return crc32Hasher(crc32);
    case 'CRC32C':
      return crc32Hasher(crc32c);
    case 'CRC64NVME':
      return crc64Hasher();
    case 'SHA1':
      return nodeHasher('sha1');
    case 'SHA256':
      return nodeHasher('sha256');
    default:
      throw new TypeError(`algorithm: unsupported checksum algorithm ${JSON.stringify(algorithm)}`);
  }
}

/** A fresh MD5 hasher, for ETags and `Content-MD5`. */
export function createMd5Hasher(): Hasher {
  return nodeHasher('md5');
}

/** The base64 checksum of `bytes`, exactly as S3 puts it in `x-amz-checksum-*`. */
export function checksumBase64(algorithm: ChecksumAlgorithm, bytes: Uint8Array): string {
  const hasher = createChecksumHasher(algorithm);
  hasher.update(bytes);
  return hasher.digest().toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Whether `value` is a well-formed checksum for `algorithm`: canonical padded base64
 * (no whitespace, no URL-safe alphabet, no stray bits after the last byte) decoding to
 * exactly the algorithm's digest length.
 */
export function isValidChecksumValue(algorithm: ChecksumAlgorithm, value: string): boolean {
  const bytes = CHECKSUM_DIGEST_BYTES[algorithm];
  if (bytes === undefined || value.length !== 4 * Math.ceil(bytes / 3) || !BASE64.test(value)) return false;
  const decoded = Buffer.from(value, 'base64');
  // Node's decoder is lenient; the round trip rejects non-zero bits after the last byte.
  return decoded.length === bytes && decoded.toString('base64') === value;
}
