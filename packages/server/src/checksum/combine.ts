/**
 * CRC combination for the local server: the protocol module's math (shared with the
 * engine) with Buffers in and out, as the server's storage and XML code expect.
 * @module
 */
import { type CrcAlgorithm, type CrcPart, combineCrcPair, combineCrc as combineParts } from '@hoist/protocol';

export type { CrcAlgorithm, CrcPart };

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The CRC of A‖B given `crcA`, `crcB` (digests as big-endian bytes, as S3 encodes them)
 * and B's byte length.
 * @example
 * ```ts
 * combineCrc('CRC32C', crcOf(a), crcOf(b), b.length); // equals crcOf(a‖b)
 * ```
 */
export function combineCrc(
  algorithm: CrcAlgorithm,
  crcA: Uint8Array,
  crcB: Uint8Array,
  lengthB: number,
): Buffer {
  return asBuffer(combineCrcPair(algorithm, crcA, crcB, lengthB));
}

/** The CRC of all `parts` concatenated in order (the CRC of no bytes for an empty list). */
export function combineCrcs(algorithm: CrcAlgorithm, parts: readonly CrcPart[]): Buffer {
  return asBuffer(combineParts(algorithm, parts));
}
