/**
 * CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, init and xorout 0xFFFFFFFF.
 * Node has no native CRC-32C, so this is slicing-by-16 over 32-bit words.
 * @module
 */
import { endianness } from 'node:os';

const POLY = 0x82f63b78;
const SLICES = 16;

// State is kept as int32 (never uint32) so V8 stays on small-integer arithmetic in the hot loop.
function buildTables(): Int32Array {
  const t = new Int32Array(256 * SLICES);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (-(c & 1) & POLY);
    t[n] = c;
  }
  // Table s advances a byte through s further zero bytes.
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let s = 1; s < SLICES; s++) {
      c = (c >>> 8) ^ t[c & 0xff]!;
      t[s * 256 + n] = c;
    }
  }
  return t;
}

const TABLES = buildTables();
const slice = (s: number): Int32Array => TABLES.subarray(s * 256, s * 256 + 256);
// Separate 256-entry views index faster in V8 than offsets into one flat table.
const T0 = slice(0);
const T1 = slice(1);
const T2 = slice(2);
const T3 = slice(3);
const T4 = slice(4);
const T5 = slice(5);
const T6 = slice(6);
const T7 = slice(7);
const T8 = slice(8);
const T9 = slice(9);
const T10 = slice(10);
const T11 = slice(11);
const T12 = slice(12);
const T13 = slice(13);
const T14 = slice(14);
const T15 = slice(15);

// Word reads assume little-endian byte order; big-endian hosts take the bytewise path.
const WORDS = endianness() === 'LE';
const WINDOW = 1 << 30;

/**
 * CRC-32C of `data`, continuing from `previous`: the value returned for the bytes before
 * (0 to start). Same contract as `zlib.crc32`, so `crc32c(b, crc32c(a)) === crc32c(a‖b)`.
 * @returns the CRC as an unsigned 32-bit integer.
 */
export function crc32c(data: Uint8Array, previous = 0): number {
  if (data.length <= WINDOW) return ~step(~previous, data) >>> 0;
  // Bounded windows keep the int32 index math in `step` exact for buffers over 2 GiB.
  let c = ~previous;
  for (let at = 0; at < data.length; at += WINDOW) c = step(c, data.subarray(at, at + WINDOW));
  return ~c >>> 0;
}

/** Advances the raw (inverted) state `c` over `data` (at most WINDOW bytes). */
function step(state: number, data: Uint8Array): number {
  let c = state;
  const n = data.length;
  let i = 0;
  if (WORDS) {
    // Bytes up to a 4-byte boundary, so the word view below is aligned.
    const head = Math.min((4 - (data.byteOffset & 3)) & 3, n);
    for (; i < head; i++) c = (c >>> 8) ^ T0[(c ^ data[i]!) & 0xff]!;
    const words = ((n - i) >>> 4) << 2;
    if (words > 0) {
      const w = new Int32Array(data.buffer, data.byteOffset + i, words);
      for (let j = 0; j < words; j += 4) {
        const a = c ^ w[j]!;
        const b = w[j + 1]!;
        const d = w[j + 2]!;
        const e = w[j + 3]!;
        c =
          T15[a & 0xff]! ^
          T14[(a >>> 8) & 0xff]! ^
          T13[(a >>> 16) & 0xff]! ^
          T12[a >>> 24]! ^
          T11[b & 0xff]! ^
          T10[(b >>> 8) & 0xff]! ^
          T9[(b >>> 16) & 0xff]! ^
          T8[b >>> 24]! ^
          T7[d & 0xff]! ^
          T6[(d >>> 8) & 0xff]! ^
          T5[(d >>> 16) & 0xff]! ^
          T4[d >>> 24]! ^
          T3[e & 0xff]! ^
          T2[(e >>> 8) & 0xff]! ^
          T1[(e >>> 16) & 0xff]! ^
          T0[e >>> 24]!;
      }
      i += words << 2;
    }
  }
  for (; i < n; i++) c = (c >>> 8) ^ T0[(c ^ data[i]!) & 0xff]!;
  return c;
}

// Run every path (head, words, tail) at load, enough times for V8 to allocate and fill the
// feedback vector. The hot loop is compiled (OSR) inside the first large buffer; compiled
// before the code after that loop has ever run, it lacks feedback there and deopts every call.
const warmUp = new Uint8Array(40).subarray(1);
for (let k = 0; k < 16; k++) step(0, warmUp);
