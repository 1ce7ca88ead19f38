/**
 * The broker ↔ engine contract: API shapes, problem types, S3 limits, part-size math, size
 * and content-type rules, checksum names, CRC combination and base64. The API's zod schemas
 * are the `@hoist/protocol/schemas` subpath; this entry holds their types only, so it stays
 * free of zod for browsers.
 * @module
 */
export type * from './api.ts';
export * from './base64.ts';
export * from './checksum.ts';
export * from './concurrency.ts';
export * from './crc-combine.ts';
export * from './limits.ts';
export * from './media-type.ts';
export * from './part-size.ts';
export * from './problems.ts';
/** Zod-free, so the main entry can carry it: how a validation issue names its field. */
export { issuePath } from './schemas/issue-path.ts';
export * from './size.ts';
