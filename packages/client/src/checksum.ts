/**
 * The engine's checksums on hash-wasm (browsers and Node alike): per-part digests in S3's
 * `x-amz-checksum-*` format.
 * @module
 */

import type { DigestAlgorithm } from '@hoist/protocol';
import { createCRC32, createCRC64, createMD5, createSHA1, createSHA256, type IHasher } from 'hash-wasm';
import type { PartHasher } from './types.ts';

// Digests are at most 32 bytes. btoa keeps this module free of imports the engine's entry also
// has, so bundlers can load it lazily without splitting out a shared chunk.
const bytesToBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

function checkAlgorithm(algorithm: DigestAlgorithm): void {
  if (!Object.hasOwn(FACTORIES, algorithm))
    throw new TypeError(`algorithm: unsupported checksum algorithm ${JSON.stringify(algorithm)}`);
}

// All reflected, init = xorout = all ones; hash-wasm's digests come out big-endian, as S3 wants.
const FACTORIES: Record<DigestAlgorithm, () => Promise<IHasher>> = {
  CRC32: () => createCRC32(),
  CRC32C: () => createCRC32(0x82f63b78),
  CRC64NVME: () => createCRC64('9a6c9329ac4bc9b5'),
  SHA1: () => createSHA1(),
  SHA256: () => createSHA256(),
  // Content-MD5, on stores that keep no flexible checksums.
  MD5: () => createMD5(),
};

function checkBytes(bytes: Uint8Array, name: string): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${name}: expected a Uint8Array`);
}

/** A fresh incremental hash-wasm hasher (Node hashes file ranges chunk by chunk with these). */
export function createWasmHasher(algorithm: DigestAlgorithm): Promise<IHasher> {
  checkAlgorithm(algorithm);
  return FACTORIES[algorithm]();
}

/**
 * One WASM instance per algorithm, shared by every part hasher in this realm. Safe because a
 * digest runs init → update → digest with no await in between; a failed load is forgotten
 * so the next call tries again.
 */
const shared = new Map<DigestAlgorithm, Promise<IHasher>>();

function sharedInstance(algorithm: DigestAlgorithm): Promise<IHasher> {
  let instance = shared.get(algorithm);
  if (instance === undefined) {
    instance = FACTORIES[algorithm]();
    shared.set(algorithm, instance);
    instance.catch(() => shared.delete(algorithm));
  }
  return instance;
}

/**
 * A PartHasher on hash-wasm: base64 of the big-endian digest, exactly what S3 expects in
 * `x-amz-checksum-crc32c` etc. Digests are synchronous once the WASM is loaded, so run it in
 * a worker when the UI thread matters.
 * @example
 * ```ts
 * const hasher = createPartHasher();
 * await hasher.digest('CRC32C', new TextEncoder().encode('123456789')); // '4waSgw=='
 * ```
 */
export function createPartHasher(): PartHasher {
  return {
    async digest(algorithm, bytes) {
      checkAlgorithm(algorithm);
      checkBytes(bytes, 'bytes');
      // WebCrypto's SHA runs natively (and off the main thread); hash-wasm's is several times slower.
      const subtle = globalThis.crypto?.subtle;
      if (subtle && (algorithm === 'SHA256' || algorithm === 'SHA1'))
        return bytesToBase64(
          new Uint8Array(
            await subtle.digest(
              algorithm === 'SHA256' ? 'SHA-256' : 'SHA-1',
              bytes as Uint8Array<ArrayBuffer>,
            ),
          ),
        );
      const hasher = await sharedInstance(algorithm);
      // hash-wasm copies into WASM memory 16 KiB at a time, so any size can go in one update.
      return bytesToBase64(hasher.init().update(bytes).digest('binary'));
    },
  };
}
