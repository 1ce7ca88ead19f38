/**
 * The broker ↔ engine contract: API shapes, problem types, S3 limits, part-size math
 * and checksum names.
 * @module
 */
export type * from './api.ts';
export * from './checksum.ts';
export * from './limits.ts';
export * from './part-size.ts';
export * from './problems.ts';
