/**
 * CRC-32 (ISO-HDLC, the zlib/gzip CRC) on Node's native `zlib.crc32`.
 * @module
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32 of `data`, continuing from `previous`: the value returned for the bytes before
 * (0 to start), so `crc32(b, crc32(a)) === crc32(a‖b)`.
 * @returns the CRC as an unsigned 32-bit integer.
 */
export function crc32(data: Uint8Array, previous = 0): number {
  return zlibCrc32(data, previous);
}
