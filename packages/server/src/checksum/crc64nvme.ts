/**
 * CRC-64/NVME: reflected polynomial 0x9A6C9329AC4BC9B5, init and xorout all ones.
 * The 64-bit state lives in two int32 halves (no BigInt); slicing-by-8 over 32-bit words.
 * @module
 */
import { endianness } from 'node:os';

const POLY_HI = 0x9a6c9329;
const POLY_LO = 0xac4bc9b5;
const SLICES = 8;

function buildTables(): { hi: Int32Array; lo: Int32Array } {
  const hi = new Int32Array(256 * SLICES);
  const lo = new Int32Array(256 * SLICES);
  for (let n = 0; n < 256; n++) {
    let h = 0;
    let l = n;
    for (let k = 0; k < 8; k++) {
      const mask = -(l & 1);
      l = ((l >>> 1) | (h << 31)) ^ (mask & POLY_LO);
      h = (h >>> 1) ^ (mask & POLY_HI);
    }
    hi[n] = h;
    lo[n] = l;
  }
  // Table s advances a byte through s further zero bytes.
  for (let n = 0; n < 256; n++) {
    let h = hi[n]!;
    let l = lo[n]!;
    for (let s = 1; s < SLICES; s++) {
      const x = l & 0xff;
      l = ((l >>> 8) | (h << 24)) ^ lo[x]!;
      h = (h >>> 8) ^ hi[x]!;
      hi[s * 256 + n] = h;
      lo[s * 256 + n] = l;
    }
  }
  return { hi, lo };
}

const TABLES = buildTables();
const sliceHi = (s: number): Int32Array => TABLES.hi.subarray(s * 256, s * 256 + 256);
const sliceLo = (s: number): Int32Array => TABLES.lo.subarray(s * 256, s * 256 + 256);
// Separate 256-entry views index faster in V8 than offsets into one flat table.
const H0 = sliceHi(0);
const H1 = sliceHi(1);
const H2 = sliceHi(2);
const H3 = sliceHi(3);
const H4 = sliceHi(4);
const H5 = sliceHi(5);
const H6 = sliceHi(6);
const H7 = sliceHi(7);
const L0 = sliceLo(0);
const L1 = sliceLo(1);
const L2 = sliceLo(2);
const L3 = sliceLo(3);
const L4 = sliceLo(4);
const L5 = sliceLo(5);
const L6 = sliceLo(6);
const L7 = sliceLo(7);

// Word reads assume little-endian byte order; big-endian hosts take the bytewise path.
const WORDS = endianness() === 'LE';
const WINDOW = 1 << 30;

/** Advances the raw (inverted) state `[hi, lo]` over `data` (at most WINDOW bytes), in place. */
function step(state: Int32Array, data: Uint8Array): void {
  let h = state[0]!;
  let l = state[1]!;
  const n = data.length;
  let i = 0;
  if (WORDS) {
    const head = Math.min((4 - (data.byteOffset & 3)) & 3, n);
    for (; i < head; i++) {
      const x = (l ^ data[i]!) & 0xff;
      l = ((l >>> 8) | (h << 24)) ^ L0[x]!;
      h = (h >>> 8) ^ H0[x]!;
    }
    const words = ((n - i) >>> 3) << 1;
    if (words > 0) {
      const w = new Int32Array(data.buffer, data.byteOffset + i, words);
      for (let j = 0; j < words; j += 2) {
        const a = l ^ w[j]!;
        const b = h ^ w[j + 1]!;
        const a0 = a & 0xff;
        const a1 = (a >>> 8) & 0xff;
        const a2 = (a >>> 16) & 0xff;
        const a3 = a >>> 24;
        const b0 = b & 0xff;
        const b1 = (b >>> 8) & 0xff;
        const b2 = (b >>> 16) & 0xff;
        const b3 = b >>> 24;
        l = L7[a0]! ^ L6[a1]! ^ L5[a2]! ^ L4[a3]! ^ L3[b0]! ^ L2[b1]! ^ L1[b2]! ^ L0[b3]!;
        h = H7[a0]! ^ H6[a1]! ^ H5[a2]! ^ H4[a3]! ^ H3[b0]! ^ H2[b1]! ^ H1[b2]! ^ H0[b3]!;
      }
      i += words << 2;
    }
  }
  for (; i < n; i++) {
    const x = (l ^ data[i]!) & 0xff;
    l = ((l >>> 8) | (h << 24)) ^ L0[x]!;
    h = (h >>> 8) ^ H0[x]!;
  }
  state[0] = h;
  state[1] = l;
}

// Run every path (head, words, tail) at load, enough times for V8 to allocate and fill the
// feedback vector. The hot loop is compiled (OSR) inside the first large buffer; compiled
// before the code after that loop has ever run, it lacks feedback there and deopts every call.
const warmUp = new Uint8Array(40).subarray(1);
for (let k = 0; k < 16; k++) step(new Int32Array(2), warmUp);

/**
 * Incremental CRC-64/NVME.
 * @example
 * ```ts
 * new Crc64Nvme().update(bytes).digest().toString('base64'); // x-amz-checksum-crc64nvme
 * ```
 */
export class Crc64Nvme {
  readonly #state = new Int32Array([-1, -1]);

  update(data: Uint8Array): this {
    if (data.length <= WINDOW) {
      step(this.#state, data);
      return this;
    }
    // Bounded windows keep the int32 index math in `step` exact for buffers over 2 GiB.
    for (let at = 0; at < data.length; at += WINDOW) step(this.#state, data.subarray(at, at + WINDOW));
    return this;
  }

  /** The CRC so far as 8 big-endian bytes, as S3 encodes it. Does not end the computation. */
  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeInt32BE(~this.#state[0]!, 0);
    out.writeInt32BE(~this.#state[1]!, 4);
    return out;
  }

  /** The CRC so far as an unsigned 64-bit integer. */
  value(): bigint {
    return this.digest().readBigUInt64BE(0);
  }
}

/** One-shot CRC-64/NVME of `data` as 8 big-endian bytes. */
export function crc64nvme(data: Uint8Array): Buffer {
  return new Crc64Nvme().update(data).digest();
}
