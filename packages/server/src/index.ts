/**
 * The strict local S3 server: `startServer(options)` → `{ url, close() }`.
 * @module
 */

export { crc32c } from './checksum/crc32c.ts';
export { type RunningServer, startServer } from './http.ts';
export type { RootCredentials, ServerOptions } from './options.ts';
export type { CorsRule } from './storage/types.ts';
