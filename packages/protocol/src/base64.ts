/**
 * Standard padded base64 (RFC 4648 §4) without Buffer, atob or btoa, so it runs the same in
 * browsers, workers and Node. Decoding is strict: checksums and digests travel as base64, and
 * two spellings of one value must never both be accepted.
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

// Character code -> 6-bit value, -1 for characters outside the alphabet.
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** Base64 of `bytes`, padded with `=`. */
export function bytesToBase64(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes: expected a Uint8Array');
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const left = bytes.length - i;
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out +=
      ALPHABET[n >>> 18]! +
      ALPHABET[(n >>> 12) & 63]! +
      (left > 1 ? ALPHABET[(n >>> 6) & 63]! : '=') +
      (left > 2 ? ALPHABET[n & 63]! : '=');
  }
  return out;
}

/**
 * The bytes of canonical padded base64. Throws a TypeError for anything else: whitespace,
 * the URL-safe alphabet, missing or extra padding, or non-zero bits after the last byte.
 */
export function base64ToBytes(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError('base64: expected a string');
  if (text.length % 4 !== 0) throw new TypeError('base64: length is not a multiple of 4');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < text.length - pad; i++) {
    const code = text.charCodeAt(i);
    const sextet = code < 128 ? DECODE[code]! : -1;
    // '=' is outside the alphabet too: padding anywhere but the end is refused here.
    if (sextet < 0) throw new TypeError(`base64: invalid character at ${i}`);
    value = ((value << 6) | sextet) & 0xfff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >>> bits) & 255;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) throw new TypeError('base64: non-zero bits after the last byte');
  return out;
}

/** Whether `text` is canonical padded base64 of exactly `byteLength` bytes (a digest, a checksum). */
export function isBase64Digest(text: string, byteLength: number): boolean {
  if (typeof text !== 'string' || text.length !== Math.ceil(byteLength / 3) * 4) return false;
  try {
    return base64ToBytes(text).length === byteLength;
  } catch {
    return false;
  }
}
