/**
 * CRC combination: the CRC of A‖B from crc(A), crc(B) and len(B), without reading bytes.
 * This is how a FULL_OBJECT multipart checksum is folded from the part checksums, by S3 at
 * CompleteMultipartUpload and by the engine to know the value in advance.
 *
 * Method (as zlib's crc32_combine): appending a zero byte to a message is a linear map on
 * the CRC register over GF(2). Square the one-bit map into maps for 2^k zero bytes, apply
 * those for the bits of len(B) to crc(A), and XOR crc(B). That holds for all three CRCs
 * because each has init === xorout (all ones).
 * @module
 */

/** The CRCs S3 can combine into a FULL_OBJECT checksum. */
export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';

/** A part of a multipart object: its CRC digest (big-endian bytes, as S3 encodes it) and byte length. */
export interface CrcPart {
  crc: Uint8Array;
  length: number;
}

/** A linear map on the CRC register; column k (as lo/hi int32 halves) is the image of bit k. */
interface Operator {
  lo: Int32Array;
  hi: Int32Array;
}

interface Spec {
  bytes: 4 | 8;
  /** Reflected polynomial as int32 halves. */
  polyLo: number;
  polyHi: number;
  /** powers[k] appends 2^k zero bytes; grown on demand. */
  powers: Operator[];
}

const SPECS: Record<CrcAlgorithm, Spec> = {
  CRC32: { bytes: 4, polyLo: 0xedb88320 | 0, polyHi: 0, powers: [] },
  CRC32C: { bytes: 4, polyLo: 0x82f63b78 | 0, polyHi: 0, powers: [] },
  CRC64NVME: { bytes: 8, polyLo: 0xac4bc9b5 | 0, polyHi: 0x9a6c9329 | 0, powers: [] },
};

type Register = [lo: number, hi: number];

function apply(op: Operator, lo: number, hi: number): Register {
  let rlo = 0;
  let rhi = 0;
  for (let k = 0, v = lo >>> 0; v !== 0; k++, v >>>= 1) {
    if (v & 1) {
      rlo ^= op.lo[k]!;
      rhi ^= op.hi[k]!;
    }
  }
  for (let k = 32, v = hi >>> 0; v !== 0; k++, v >>>= 1) {
    if (v & 1) {
      rlo ^= op.lo[k]!;
      rhi ^= op.hi[k]!;
    }
  }
  return [rlo, rhi];
}

function square(op: Operator): Operator {
  const out: Operator = { lo: new Int32Array(64), hi: new Int32Array(64) };
  for (let k = 0; k < 64; k++) [out.lo[k], out.hi[k]] = apply(op, op.lo[k]!, op.hi[k]!);
  return out;
}

/** The map appending one zero bit: shift the reflected register right, feed back the polynomial. */
function oneZeroBit(spec: Spec): Operator {
  const op: Operator = { lo: new Int32Array(64), hi: new Int32Array(64) };
  op.lo[0] = spec.polyLo;
  op.hi[0] = spec.polyHi;
  // Bit k moves to bit k-1; for a 32-bit CRC the upper columns stay unused.
  for (let k = 1; k < 64; k++) {
    if (k - 1 < 32) op.lo[k] = 1 << (k - 1);
    else op.hi[k] = 1 << (k - 33);
  }
  return op;
}

function power(spec: Spec, k: number): Operator {
  const { powers } = spec;
  if (powers.length === 0) powers.push(square(square(square(oneZeroBit(spec)))));
  while (powers.length <= k) powers.push(square(powers[powers.length - 1]!));
  return powers[k]!;
}

function int32BE(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

function read(spec: Spec, crc: Uint8Array, name: string): Register {
  if (!(crc instanceof Uint8Array) || crc.length !== spec.bytes) {
    throw new TypeError(`${name}: expected a ${spec.bytes}-byte CRC digest`);
  }
  return spec.bytes === 4 ? [int32BE(crc, 0), 0] : [int32BE(crc, 4), int32BE(crc, 0)];
}

function write(spec: Spec, [lo, hi]: Register): Uint8Array {
  const out = new Uint8Array(spec.bytes);
  const at = spec.bytes - 4;
  out[at] = lo >>> 24;
  out[at + 1] = lo >>> 16;
  out[at + 2] = lo >>> 8;
  out[at + 3] = lo;
  if (spec.bytes === 8) {
    out[0] = hi >>> 24;
    out[1] = hi >>> 16;
    out[2] = hi >>> 8;
    out[3] = hi;
  }
  return out;
}

function specFor(algorithm: CrcAlgorithm): Spec {
  const spec = Object.hasOwn(SPECS, algorithm) ? SPECS[algorithm] : undefined;
  if (spec === undefined) throw new TypeError(`algorithm: ${JSON.stringify(algorithm)} is not a CRC`);
  return spec;
}

function combineWith(spec: Spec, a: Register, b: Register, lengthB: number, name: string): Register {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) {
    throw new TypeError(`${name}: expected a non-negative safe integer, got ${lengthB}`);
  }
  let [lo, hi] = a;
  // Division, not shifts: lengths pass 2^32 (5 GiB parts, 5 TiB objects).
  for (let k = 0, n = lengthB; n > 0; k++, n = Math.floor(n / 2)) {
    if (n % 2 === 1) [lo, hi] = apply(power(spec, k), lo, hi);
  }
  return [lo ^ b[0], hi ^ b[1]];
}

/** Whether `algorithm` names a CRC that `combineCrc` can fold. */
export function isCrcAlgorithm(algorithm: string): algorithm is CrcAlgorithm {
  return Object.hasOwn(SPECS, algorithm);
}

/**
 * The CRC of all `parts` concatenated in order (the CRC of no bytes, all zeros, for an
 * empty list): a FULL_OBJECT checksum from the part checksums.
 * @example
 * ```ts
 * combineCrc('CRC32C', [{ crc: crcOf(a), length: a.length }, { crc: crcOf(b), length: b.length }]);
 * // equals crcOf(a‖b)
 * ```
 */
export function combineCrc(algorithm: CrcAlgorithm, parts: readonly CrcPart[]): Uint8Array {
  const spec = specFor(algorithm);
  if (!Array.isArray(parts)) throw new TypeError('parts: expected an array');
  let acc: Register = [0, 0]; // init === xorout, so the CRC of no bytes is 0
  parts.forEach((part, i) => {
    acc = combineWith(spec, acc, read(spec, part.crc, `parts[${i}].crc`), part.length, `parts[${i}].length`);
  });
  return write(spec, acc);
}

/** The CRC of A‖B given `crcA`, `crcB` (big-endian digests) and B's byte length. */
export function combineCrcPair(
  algorithm: CrcAlgorithm,
  crcA: Uint8Array,
  crcB: Uint8Array,
  lengthB: number,
): Uint8Array {
  const spec = specFor(algorithm);
  return write(
    spec,
    combineWith(spec, read(spec, crcA, 'crcA'), read(spec, crcB, 'crcB'), lengthB, 'lengthB'),
  );
}
