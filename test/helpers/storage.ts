/** Shared by the storage tests: temp data dirs, byte sources, blob listings. */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { type FsSqliteStorage, openStorage } from '@hoist/server/internal/storage/index';
import type { NewObject } from '@hoist/server/internal/storage/types';
import { tempDirSync } from './temp-dir.ts';

export const tempDir = (t: TestContext): string => tempDirSync(t, 'hoist-storage-');

/**
 * A storage in a fresh temp dir, closed after the test; `now.value` drives its
 * clock. `durable: false` skips fsyncs, for tests that commit thousands of rows.
 */
export function tempStorage(
  t: TestContext,
  options: { durable?: boolean; now?: { value: number } } = {},
): { storage: FsSqliteStorage; dataDir: string; now: { value: number } } {
  const now = options.now ?? { value: 1_700_000_000_000 };
  const dataDir = join(tempDir(t), 'data');
  const storage = openStorage({ dataDir, clock: () => now.value, durable: options.durable ?? true });
  t.after(() => storage.close());
  return { storage, dataDir, now };
}

export async function* chunksOf(data: Uint8Array, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

/**
 * Byte ranges [start, endInclusive] worth reading from segments of 1,000 bytes, an
 * empty one, then `total - 1000` bytes: whole, across and at segment boundaries, the
 * tail, an empty range, and `extra`.
 */
export function rangesToRead(total: number, extra: [number, number][] = []): [number, number][] {
  return [
    [0, total - 1],
    [999, 1000],
    [500, 1500],
    [1000, 1000],
    [total - 10, total - 1],
    [total - 11, total - 1],
    [12, 11],
    ...extra,
  ];
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function md5Etag(data: Uint8Array): string {
  return `"${createHash('md5').update(data).digest('hex')}"`;
}

/** Names of every file under `<dataDir>/blobs` (blob ids, and anything stray). */
export function blobFiles(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'blobs'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
}

/** Writes `data` as one blob and returns a NewObject holding it. */
export async function newObject(
  storage: FsSqliteStorage,
  data: Uint8Array,
  extra: Partial<NewObject> = {},
): Promise<NewObject> {
  const blob = await storage.writeBlob(chunksOf(data));
  return { size: data.length, etag: md5Etag(data), userMetadata: {}, segments: [blob], ...extra };
}
