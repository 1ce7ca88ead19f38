import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tmpDir } from '../../../../test/helpers/server.ts';
import { UploadError } from '../errors.ts';
import type { ResumeRecord } from '../types.ts';
import { createJsonFileStore } from './json-store.ts';

function record(key: string, overrides: Partial<ResumeRecord> = {}): ResumeRecord {
  return {
    version: 1,
    key,
    fingerprint: `fp-${key}`,
    fileName: 'video.mp4',
    fileSize: 12 * 1024 * 1024,
    brokerUrl: 'http://127.0.0.1:1/api',
    id: `up-${key}`,
    objectKey: `uploads/u1/${key}/video.mp4`,
    bucket: 'bucket',
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:2',
    forcePathStyle: true,
    mode: 'sts',
    uploadId: 'mpu-1',
    partSize: 5 * 1024 * 1024,
    checksumAlgorithm: 'CRC32C',
    checksumType: 'FULL_OBJECT',
    parts: [{ partNumber: 1, size: 5 * 1024 * 1024, etag: '"e1"', checksum: 'AAAAAA==' }],
    createdAt: '2025-01-01T00:00:00.000Z',
    expiresAt: '2025-01-08T00:00:00.000Z',
    ...overrides,
  } as ResumeRecord;
}

function isCorrupt(path: string) {
  return (error: unknown) => {
    assert.ok(error instanceof UploadError, String(error));
    assert.equal(error.code, 'invalid-options');
    assert.ok(error.message.includes(path), error.message);
    return true;
  };
}

describe('createJsonFileStore', () => {
  it('treats a missing file as empty and supports set/get/list/delete', async (t) => {
    const path = join(await tmpDir(t), 'state', 'uploads.json');
    const store = createJsonFileStore(path);
    assert.equal(await store.get('a'), undefined);
    assert.deepEqual(await store.list(), []);
    await store.delete('a');

    await store.set(record('a'));
    await store.set(record('b', { uploadId: null, parts: [] }));
    await store.set(record('a', { fingerprint: 'fp-new' }));
    assert.equal((await store.get('a'))?.fingerprint, 'fp-new');
    assert.deepEqual(await store.get('b'), record('b', { uploadId: null, parts: [] }));
    assert.deepEqual((await store.list()).map((r) => r.key).sort(), ['a', 'b']);

    // Another store on the same file sees what was written.
    assert.equal((await createJsonFileStore(path).get('a'))?.fingerprint, 'fp-new');

    await store.delete('a');
    assert.equal(await store.get('a'), undefined);
    assert.deepEqual(
      (await store.list()).map((r) => r.key),
      ['b'],
    );
  });

  it('keeps every record of 20 concurrent sets and leaves no temp files', async (t) => {
    const dir = await tmpDir(t);
    const path = join(dir, 'uploads.json');
    const store = createJsonFileStore(path);
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((key) => store.set(record(key))));
    assert.deepEqual((await store.list()).map((r) => r.key).sort(), [...keys].sort());
    assert.deepEqual(await readdir(dir), ['uploads.json']);
  });

  it('writes the file with mode 0600 as a versioned document', async (t) => {
    const path = join(await tmpDir(t), 'uploads.json');
    await writeFile(path, JSON.stringify({ version: 1, records: {} }), { mode: 0o644 });
    await createJsonFileStore(path).set(record('a'));
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const doc = JSON.parse(await readFile(path, 'utf8'));
    assert.equal(doc.version, 1);
    assert.deepEqual(doc.records.a, record('a'));
  });

  it('snapshots the record at set() time', async (t) => {
    const store = createJsonFileStore(join(await tmpDir(t), 'uploads.json'));
    const r = record('a');
    const pending = store.set(r);
    r.parts.push({ partNumber: 2, size: 1, etag: '"e2"', checksum: 'BBBBBB==' });
    await pending;
    assert.equal((await store.get('a'))?.parts.length, 1);
  });

  it('reports a corrupt file on every operation instead of discarding it', async (t) => {
    const path = join(await tmpDir(t), 'uploads.json');
    await writeFile(path, '{"version": 1, "records": {');
    const store = createJsonFileStore(path);
    await assert.rejects(store.get('a'), isCorrupt(path));
    await assert.rejects(store.list(), isCorrupt(path));
    await assert.rejects(store.set(record('a')), isCorrupt(path));
    await assert.rejects(store.delete('a'), isCorrupt(path));
    assert.equal(await readFile(path, 'utf8'), '{"version": 1, "records": {');

    await writeFile(path, JSON.stringify({ version: 2, records: {} }));
    await assert.rejects(store.list(), isCorrupt(path));
    await writeFile(path, JSON.stringify({ version: 1, records: [] }));
    await assert.rejects(store.list(), isCorrupt(path));
  });

  it('skips invalid records but keeps the valid ones', async (t) => {
    const path = join(await tmpDir(t), 'uploads.json');
    const { fileSize: _omitted, ...noSize } = record('b');
    await writeFile(
      path,
      JSON.stringify({
        version: 1,
        records: {
          a: record('a'),
          b: noSize,
          c: record('c', { version: 2 as 1 }),
          d: record('other-key'),
          e: record('e', { parts: [{ partNumber: 1 }] as ResumeRecord['parts'] }),
        },
      }),
    );
    const store = createJsonFileStore(path);
    assert.deepEqual((await store.list()).map((r) => r.key).sort(), ['a']);
    // Writing drops the invalid ones too.
    await store.set(record('f'));
    assert.deepEqual(Object.keys(JSON.parse(await readFile(path, 'utf8')).records).sort(), ['a', 'f']);
  });

  it('keeps a record whose key is __proto__ as a plain key', async (t) => {
    const store = createJsonFileStore(join(await tmpDir(t), 'uploads.json'));
    await store.set(record('__proto__'));
    assert.equal((await store.get('__proto__'))?.key, '__proto__');
    assert.equal(await store.get('toString'), undefined);
  });

  it('rejects an invalid record or path', async (t) => {
    assert.throws(() => createJsonFileStore(''), TypeError);
    const store = createJsonFileStore(join(await tmpDir(t), 'uploads.json'));
    await assert.rejects(store.set({ key: 'x' } as unknown as ResumeRecord), TypeError);
  });
});
