/**
 * The broker ↔ engine contract: API shapes, problem types, S3 limits, part-size math,
 * checksum names, CRC combination and base64.
 * @module
 */
export type * from './api.ts';
export * from './base64.ts';
export * from './checksum.ts';
export * from './crc-combine.ts';
export * from './field-path.ts';
export * from './limits.ts';
export * from './part-size.ts';
export * from './problems.ts';
