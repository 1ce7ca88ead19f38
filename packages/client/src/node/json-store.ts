/**
 * ResumeStore in one JSON file, `{version: 1, records: {[key]: ResumeRecord}}`. Writes go to
 * a 0600 temp file in the same directory, are fsynced and renamed over the old file, so a
 * crash leaves the old or the new state, never half of one. Operations run one at a time
 * within the process (read-modify-write would otherwise lose concurrent records).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UploadError } from '../errors.ts';
import type { ResumeRecord, ResumeStore } from '../types.ts';

/** A store with thousands of 10,000-part records stays far below this. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

type Records = Record<string, ResumeRecord>;

const STRING_FIELDS = [
  'key',
  'fingerprint',
  'fileName',
  'brokerUrl',
  'id',
  'objectKey',
  'bucket',
  'region',
  'endpoint',
  'mode',
  'checksumAlgorithm',
  'checksumType',
  'createdAt',
  'expiresAt',
] as const;
const NUMBER_FIELDS = ['fileSize', 'partSize'] as const;

/** Minimal shape check: enough that the engine can trust the fields it reads. */
export function isResumeRecord(value: unknown): value is ResumeRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (r.version !== 1) return false;
  for (const f of STRING_FIELDS) if (typeof r[f] !== 'string') return false;
  for (const f of NUMBER_FIELDS) if (typeof r[f] !== 'number' || !Number.isFinite(r[f])) return false;
  if (typeof r.forcePathStyle !== 'boolean') return false;
  if (r.uploadId !== null && typeof r.uploadId !== 'string') return false;
  if (!Array.isArray(r.parts)) return false;
  return r.parts.every(
    (p: unknown) =>
      typeof p === 'object' &&
      p !== null &&
      typeof (p as Record<string, unknown>).partNumber === 'number' &&
      typeof (p as Record<string, unknown>).size === 'number' &&
      typeof (p as Record<string, unknown>).etag === 'string' &&
      typeof (p as Record<string, unknown>).checksum === 'string',
  );
}

/** No prototype: a key such as `__proto__` is just a key. */
function emptyRecords(): Records {
  return Object.create(null) as Records;
}

export function createJsonFileStore(path: string): ResumeStore {
  if (typeof path !== 'string' || path === '')
    throw new TypeError('createJsonFileStore: path must be a non-empty string');
  const dir = dirname(path);
  let queue: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every earlier operation settled, whatever their outcome. */
  function serial<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(task, task);
    queue = run.catch(() => {});
    return run;
  }

  function corrupt(reason: string): UploadError {
    return new UploadError(
      'invalid-options',
      `Resume store ${path} is corrupt (${reason}); fix or delete the file`,
    );
  }

  async function load(): Promise<Records> {
    let text: string;
    try {
      const handle = await open(path, 'r');
      try {
        const { size } = await handle.stat();
        if (size > MAX_FILE_BYTES) throw corrupt(`larger than ${MAX_FILE_BYTES} bytes`);
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return emptyRecords();
      throw error;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw corrupt('not valid JSON');
    }
    if (typeof doc !== 'object' || doc === null || (doc as { version?: unknown }).version !== 1)
      throw corrupt('expected {"version": 1, "records": {...}}');
    const raw = (doc as { records?: unknown }).records;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw corrupt('"records" is not an object');
    const records = emptyRecords();
    for (const [key, record] of Object.entries(raw)) {
      // Skip what we cannot trust rather than fail every upload over one bad entry.
      if (isResumeRecord(record) && record.key === key) records[key] = record;
    }
    return records;
  }

  async function save(records: Records): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify({ version: 1, records })}\n`, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    await syncDir(dir);
  }

  return {
    get: (key) => serial(async () => (await load())[key]),
    list: () => serial(async () => Object.values(await load())),
    set: (record) => {
      if (!isResumeRecord(record))
        return Promise.reject(new TypeError('ResumeStore.set: record is not a valid ResumeRecord'));
      // A snapshot: later mutation by the caller must not change what gets written.
      const copy = structuredClone(record);
      return serial(async () => {
        const records = await load();
        records[copy.key] = copy;
        await save(records);
      });
    },
    delete: (key) =>
      serial(async () => {
        const records = await load();
        if (!(key in records)) return;
        delete records[key];
        await save(records);
      }),
  };
}

/** Makes the rename itself durable; best effort (not every platform can fsync a directory). */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The data is written; only durability across a power loss is weaker.
  }
}
