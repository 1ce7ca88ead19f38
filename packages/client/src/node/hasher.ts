/**
 * The Node PartHasher: native code where Node has it (zlib's CRC32, OpenSSL's MD5 and SHA),
 * hash-wasm for CRC32C and CRC64NVME. Checksums are on the hot path: their CPU is most of the
 * engine's. Parts from the Node file source are hashed as the file is read, chunk by chunk into
 * reused buffers, so each chunk is hashed while it is still in the CPU cache.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { DigestAlgorithm } from '@hoist/protocol';
import { createPartHasher, createWasmHasher } from '../checksum.ts';
import type { PartHasher } from '../types.ts';
import { fileRangeOf, giveBackChunk, readFileRange } from './file-range.ts';

/** A digest fed chunk by chunk; `digest()` is base64 of the big-endian value, as S3 wants. */
interface Incremental {
  update(bytes: Uint8Array): void;
  digest(): string;
}

const NODE_HASHES: Partial<Record<DigestAlgorithm, string>> = { MD5: 'md5', SHA1: 'sha1', SHA256: 'sha256' };

function crc32Base64(value: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
}

async function incremental(algorithm: DigestAlgorithm): Promise<Incremental> {
  if (algorithm === 'CRC32') {
    let value = 0;
    return {
      update: (bytes) => {
        value = crc32(bytes, value);
      },
      digest: () => crc32Base64(value),
    };
  }
  const name = NODE_HASHES[algorithm];
  if (name !== undefined) {
    const hash = createHash(name);
    return { update: (bytes) => hash.update(bytes), digest: () => hash.digest('base64') };
  }
  // One instance per digest: digests of parts in flight interleave across awaits.
  const wasm = (await createWasmHasher(algorithm)).init();
  return {
    update: (bytes) => wasm.update(bytes),
    digest: () => Buffer.from(wasm.digest('binary')).toString('base64'),
  };
}

export function createNodeHasher(): PartHasher {
  const wasm = createPartHasher();
  return {
    async digest(algorithm, bytes) {
      if (algorithm === 'CRC32') return crc32Base64(crc32(bytes));
      const name = NODE_HASHES[algorithm];
      if (name !== undefined) return createHash(name).update(bytes).digest('base64');
      return wasm.digest(algorithm, bytes);
    },
    async digestBlob(algorithm, blob) {
      const range = fileRangeOf(blob);
      if (range === undefined) return this.digest(algorithm, new Uint8Array(await blob.arrayBuffer()));
      const hash = await incremental(algorithm);
      await readFileRange(range, (bytes, chunk) => {
        hash.update(bytes);
        giveBackChunk(chunk);
      });
      // After the read, so a change during it is caught too (as the source's read() does).
      await range.checkUnchanged();
      return hash.digest();
    },
  };
}
