import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { blobFiles, chunksOf, md5Etag, readAll, tempStorage } from '../../../../test/helpers/storage.ts';
import type { FsSqliteStorage } from './index.ts';
import { type MultipartUploadRecord, type NewObject, type PartRecord, StorageError } from './types.ts';

const code = (c: string) => (error: unknown) => error instanceof StorageError && error.code === c;

async function uploadPart(storage: FsSqliteStorage, uploadId: string, partNumber: number, data: Uint8Array) {
  const blob = await storage.writeBlob(chunksOf(data));
  return storage.putPart(uploadId, { ...blob, partNumber, etag: md5Etag(data) });
}

function objectFromParts(parts: PartRecord[]): NewObject {
  return {
    size: parts.reduce((sum, p) => sum + p.size, 0),
    etag: `"${'0'.repeat(32)}-${parts.length}"`,
    contentType: 'video/mp4',
    userMetadata: {},
    partsCount: parts.length,
    segments: parts.map((p) => ({ blobId: p.blobId, size: p.size, partNumber: p.partNumber, etag: p.etag })),
  };
}

test('multipart: create, upload, replace a part, list, complete without copying', async (t) => {
  const { storage, dataDir, now } = tempStorage(t);
  storage.createBucket('b', 'us-east-1');
  const upload = storage.createMultipartUpload({
    bucket: 'b',
    key: 'video.mp4',
    contentType: 'video/mp4',
    userMetadata: { a: '1' },
    checksumAlgorithm: 'CRC32',
    checksumType: 'COMPOSITE',
  });
  assert.match(upload.uploadId, /^[0-9a-f]{64}$/);
  assert.equal(upload.initiated, now.value);
  assert.deepEqual(storage.getMultipartUpload('b', 'video.mp4', upload.uploadId), upload);
  assert.equal(storage.getMultipartUpload('b', 'other', upload.uploadId), undefined);

  const data = [randomBytes(200_000), randomBytes(100_000), randomBytes(50_000), randomBytes(10)];
  const first = await uploadPart(storage, upload.uploadId, 1, randomBytes(10));
  const part1 = await uploadPart(storage, upload.uploadId, 1, data[0]!);
  const part2 = await uploadPart(storage, upload.uploadId, 2, data[1]!);
  const unused = await uploadPart(storage, upload.uploadId, 3, data[2]!);
  const part4 = await uploadPart(storage, upload.uploadId, 4, data[3]!);
  await storage.idle();
  assert.ok(!blobFiles(dataDir).includes(first.blobId), 'a replaced part loses its blob');

  assert.deepEqual(storage.listParts(upload.uploadId, 0, 2), { parts: [part1, part2], isTruncated: true });
  assert.deepEqual(storage.listParts(upload.uploadId, 2, 2), { parts: [unused, part4], isTruncated: false });
  assert.deepEqual([...storage.getParts(upload.uploadId).keys()], [1, 2, 3, 4]);

  const object = objectFromParts([part1, part2, part4]);
  const record = storage.completeMultipartUpload(upload, object);
  assert.deepEqual(
    record.segments.map((s) => s.blobId),
    [part1.blobId, part2.blobId, part4.blobId],
  );
  assert.equal(record.contentType, 'video/mp4');
  assert.deepEqual(storage.getObject('b', 'video.mp4'), record);
  assert.deepEqual(
    await readAll(storage.readRange(record.segments, 0, record.size - 1)),
    Buffer.concat([data[0]!, data[1]!, data[3]!]),
  );
  await storage.idle();
  assert.deepEqual(blobFiles(dataDir).toSorted(), [part1.blobId, part2.blobId, part4.blobId].toSorted());

  assert.equal(storage.getMultipartUpload('b', 'video.mp4', upload.uploadId), undefined);
  assert.throws(() => storage.getParts(upload.uploadId), code('NoSuchUpload'));
  assert.deepEqual(storage.getCompletedUpload(upload.uploadId), {
    uploadId: upload.uploadId,
    bucket: 'b',
    key: 'video.mp4',
    etag: object.etag,
    completedAt: now.value,
  });
  assert.throws(() => storage.completeMultipartUpload(upload, object), code('NoSuchUpload'));
  assert.throws(() => storage.abortMultipartUpload(upload.uploadId), code('NoSuchUpload'));
});

test('multipart: complete replaces an existing object and honours ifNoneMatch', async (t) => {
  const { storage, dataDir } = tempStorage(t);
  storage.createBucket('b', 'us-east-1');
  const old = await storage.writeBlob(chunksOf(Buffer.from('old')));
  storage.putObject('b', 'k', {
    size: 3,
    etag: md5Etag(Buffer.from('old')),
    userMetadata: {},
    segments: [old],
  });

  const upload = storage.createMultipartUpload({ bucket: 'b', key: 'k', userMetadata: {} });
  const part = await uploadPart(storage, upload.uploadId, 1, Buffer.from('new'));
  assert.throws(
    () => storage.completeMultipartUpload(upload, objectFromParts([part]), { ifNoneMatch: true }),
    code('PreconditionFailed'),
  );
  assert.ok(storage.getMultipartUpload('b', 'k', upload.uploadId), 'a failed complete keeps the upload');
  storage.completeMultipartUpload(upload, objectFromParts([part]));
  await storage.idle();
  assert.deepEqual(blobFiles(dataDir), [part.blobId]);
});

test('multipart: a part re-uploaded after the caller read it makes complete fail with InvalidPart', async (t) => {
  const { storage } = tempStorage(t);
  storage.createBucket('b', 'us-east-1');
  const upload = storage.createMultipartUpload({ bucket: 'b', key: 'k', userMetadata: {} });
  const stale = await uploadPart(storage, upload.uploadId, 1, Buffer.from('one'));
  await uploadPart(storage, upload.uploadId, 1, Buffer.from('uno'));
  assert.throws(() => storage.completeMultipartUpload(upload, objectFromParts([stale])), code('InvalidPart'));
  assert.equal(storage.getObject('b', 'k'), undefined);
});

test('multipart: abort removes the upload and every part blob', async (t) => {
  const { storage, dataDir } = tempStorage(t);
  storage.createBucket('b', 'us-east-1');
  const upload = storage.createMultipartUpload({ bucket: 'b', key: 'k', userMetadata: {} });
  for (let n = 1; n <= 3; n++) await uploadPart(storage, upload.uploadId, n, randomBytes(1000));
  assert.equal(blobFiles(dataDir).length, 3);
  storage.abortMultipartUpload(upload.uploadId);
  await storage.idle();
  assert.deepEqual(blobFiles(dataDir), []);
  assert.throws(() => storage.listParts(upload.uploadId, 0, 10), code('NoSuchUpload'));
  const blob = await storage.writeBlob(chunksOf(Buffer.from('x')));
  await assert.rejects(
    () => storage.putPart(upload.uploadId, { ...blob, partNumber: 1, etag: '"x"' }),
    code('NoSuchUpload'),
  );
  await storage.discardBlob(blob.blobId);
});

test('multipart: completing 10,000 parts is one fast transaction that copies nothing', async (t) => {
  const { storage, dataDir } = tempStorage(t, { durable: false });
  storage.createBucket('b', 'us-east-1');
  const upload = storage.createMultipartUpload({ bucket: 'b', key: 'huge', userMetadata: {} });
  // Part rows fabricated through the API with ids of blobs that were never written:
  // completion must not touch blob files at all.
  const parts: PartRecord[] = [];
  for (let n = 1; n <= 10_000; n++) {
    const blobId = randomBytes(16).toString('hex');
    parts.push(await storage.putPart(upload.uploadId, { blobId, size: n, partNumber: n, etag: `"${n}"` }));
  }
  const record = storage.completeMultipartUpload(upload, objectFromParts(parts));
  assert.equal(record.size, (10_000 * 10_001) / 2);
  const stored = storage.getObject('b', 'huge')!;
  assert.deepEqual(stored, record);
  assert.deepEqual(
    stored.segments.map((s) => s.blobId),
    parts.map((p) => p.blobId),
  );
  assert.deepEqual(blobFiles(dataDir), []);
});

test('listMultipartUploads: by key then initiation time, with markers, prefix and delimiter', (t) => {
  const { storage, now } = tempStorage(t);
  storage.createBucket('b', 'us-east-1');
  const create = (key: string): MultipartUploadRecord => {
    now.value += 1000;
    return storage.createMultipartUpload({ bucket: 'b', key, userMetadata: {} });
  };
  const b1 = create('b');
  const a1 = create('a');
  const b2 = create('b');
  const b3 = create('b');
  const d1 = create('dir/x');
  const d2 = create('dir/y');
  const c1 = create('c%_');
  const all = (query: Partial<Parameters<FsSqliteStorage['listMultipartUploads']>[1]>) =>
    storage.listMultipartUploads('b', {
      prefix: '',
      delimiter: '',
      keyMarker: '',
      uploadIdMarker: '',
      maxUploads: 1000,
      ...query,
    });

  const ids = (uploads: MultipartUploadRecord[]) => uploads.map((u) => u.uploadId);
  assert.deepEqual(ids(all({}).uploads), ids([a1, b1, b2, b3, c1, d1, d2]));

  // Page through two at a time with the returned markers.
  const seen: string[] = [];
  let markers = { keyMarker: '', uploadIdMarker: '' };
  for (;;) {
    const page = all({ ...markers, maxUploads: 2 });
    seen.push(...ids(page.uploads));
    if (!page.isTruncated) break;
    markers = { keyMarker: page.nextKeyMarker!, uploadIdMarker: page.nextUploadIdMarker ?? '' };
  }
  assert.deepEqual(seen, ids([a1, b1, b2, b3, c1, d1, d2]));

  assert.deepEqual(ids(all({ keyMarker: 'b' }).uploads), ids([c1, d1, d2]));
  assert.deepEqual(
    ids(all({ keyMarker: 'b', uploadIdMarker: b1.uploadId }).uploads),
    ids([b2, b3, c1, d1, d2]),
  );
  assert.deepEqual(ids(all({ prefix: 'c%' }).uploads), ids([c1]));
  assert.deepEqual(ids(all({ prefix: 'c_' }).uploads), []);

  const grouped = all({ delimiter: '/', maxUploads: 5 });
  assert.deepEqual(ids(grouped.uploads), ids([a1, b1, b2, b3, c1]));
  assert.deepEqual(grouped.commonPrefixes, []);
  assert.equal(grouped.isTruncated, true);
  const rest = all({
    delimiter: '/',
    keyMarker: grouped.nextKeyMarker!,
    uploadIdMarker: grouped.nextUploadIdMarker!,
  });
  assert.deepEqual(rest.commonPrefixes, ['dir/']);
  assert.deepEqual(rest.uploads, []);
  assert.equal(rest.isTruncated, false);
  assert.equal(rest.nextKeyMarker, 'dir/');

  assert.deepEqual(all({ maxUploads: 0 }), { uploads: [], commonPrefixes: [], isTruncated: false });
});
