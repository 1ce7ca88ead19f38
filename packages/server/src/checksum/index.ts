/**
 * Checksums for the local S3 server: CRC-32, CRC-32C, CRC-64/NVME, SHA, MD5 hashers,
 * CRC combination for FULL_OBJECT multipart checksums, and COMPOSITE checksums and ETags.
 * @module
 */
export type { CrcAlgorithm, CrcPart } from './combine.ts';
export { combineCrc, combineCrcs } from './combine.ts';
export { compositeChecksum, multipartEtag } from './composite.ts';
export { crc32 } from './crc32.ts';
export { crc32c } from './crc32c.ts';
export { Crc64Nvme, crc64nvme } from './crc64nvme.ts';
export type { Hasher } from './hasher.ts';
export { checksumBase64, createChecksumHasher, createMd5Hasher, isValidChecksumValue } from './hasher.ts';
