/**
 * The Node PartHasher: native code where Node has it (zlib's CRC32, OpenSSL's SHA), hash-wasm
 * for CRC32C and CRC64NVME. Checksums are on the hot path: their CPU is most of the engine's.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { createPartHasher } from '../checksum.ts';
import type { PartHasher } from '../types.ts';

export function createNodeHasher(): PartHasher {
  const wasm = createPartHasher();
  return {
    async digest(algorithm, bytes) {
      if (algorithm === 'CRC32') {
        const out = Buffer.alloc(4);
        out.writeUInt32BE(crc32(bytes) >>> 0);
        return out.toString('base64');
      }
      if (algorithm === 'SHA256' || algorithm === 'SHA1')
        return createHash(algorithm === 'SHA256' ? 'sha256' : 'sha1')
          .update(bytes)
          .digest('base64');
      return wasm.digest(algorithm, bytes);
    },
  };
}
