/**
 * The upload registry: `openRegistry(url)` picks the implementation from the URL.
 *
 * - `sqlite:<path>`, `sqlite::memory:` or a plain file path: node:sqlite (the default,
 *   one broker or several processes on one machine).
 * - `postgres://…` / `postgresql://…`: PostgreSQL, for several brokers.
 *
 * @example
 * const registry = openRegistry('sqlite:./.hoist-data/registry.sqlite');
 * await registry.migrate();
 *
 * @module
 */
import type { Registry } from '../types.ts';
import { PostgresRegistry } from './postgres.ts';
import { SqliteRegistry } from './sqlite.ts';

export { PostgresRegistry, type PostgresRegistryOptions } from './postgres.ts';
export {
  type IdempotencyLookup,
  type KeyedUploadRecord,
  MAX_IDEMPOTENCY_KEY,
  OPEN_STATUSES,
  UPLOAD_STATUSES,
} from './record.ts';
export { SqliteRegistry, type SqliteRegistryOptions } from './sqlite.ts';

export interface OpenRegistryOptions {
  /** ms since epoch; stamps applied migrations. @default Date.now */
  clock?: () => number;
  /** PostgreSQL pool size. @default 10 */
  maxConnections?: number;
}

/**
 * Opens (without connecting yet) the registry named by `url`. Migrations run on
 * `migrate()` or, at the latest, on the first call that touches the database.
 * @throws TypeError when the URL names no supported registry.
 */
export function openRegistry(url: string, options: OpenRegistryOptions = {}): Registry {
  if (typeof url !== 'string' || url.length === 0) throw new TypeError('url must be a non-empty string');
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const { clock, maxConnections } = options;
  if (/^postgres(ql)?:\/\//i.test(url)) {
    return new PostgresRegistry(url, {
      ...(clock === undefined ? {} : { clock }),
      ...(maxConnections === undefined ? {} : { maxConnections }),
    });
  }
  let path = url;
  if (/^sqlite:/i.test(url)) {
    path = url.slice('sqlite:'.length);
    // sqlite:///abs/path and sqlite://rel/path, as some URL conventions write them.
    if (path.startsWith('//')) path = path.slice(2);
  } else if (/^[a-z][a-z0-9+.-]+:/i.test(url)) {
    throw new TypeError(`url must be sqlite:<path>, a file path or postgres://…, not ${url.split(':')[0]}:`);
  }
  if (path.length === 0) throw new TypeError('url must name a file after sqlite:');
  return new SqliteRegistry(path, clock === undefined ? {} : { clock });
}
