import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { blobFiles, chunksOf, newObject, readAll, tempDir } from '../../../../test/helpers/storage.ts';
import { COMPLETED_UPLOAD_RETENTION_MS, type FsSqliteStorage, openStorage } from './index.ts';

/** Blob ids that metadata references: object segments and parts of uploads in progress. */
function referencedBlobs(storage: FsSqliteStorage, bucket: string): string[] {
  const ids: string[] = [];
  const objects = storage.listObjects(bucket, { prefix: '', delimiter: '', after: '', maxKeys: 1000 });
  for (const summary of objects.contents) {
    ids.push(...storage.getObject(bucket, summary.key)!.segments.map((s) => s.blobId));
  }
  const query = { prefix: '', delimiter: '', keyMarker: '', uploadIdMarker: '', maxUploads: 1000 };
  for (const upload of storage.listMultipartUploads(bucket, query).uploads) {
    ids.push(...[...storage.getParts(upload.uploadId).values()].map((p) => p.blobId));
  }
  return ids.toSorted();
}

test('open removes orphans: stray files, uncommitted blobs; keeps objects and parts', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  let storage = openStorage({ dataDir });
  storage.createBucket('b', 'us-east-1');
  const object = await newObject(storage, Buffer.from('kept'));
  storage.putObject('b', 'k', object);
  const upload = storage.createMultipartUpload({ bucket: 'b', key: 'm', userMetadata: {} });
  const partBlob = await storage.writeBlob(chunksOf(Buffer.from('part')));
  await storage.putPart(upload.uploadId, { ...partBlob, partNumber: 1, etag: '"p"' });
  const uncommitted = await storage.writeBlob(chunksOf(Buffer.from('never committed')));
  storage.close();

  writeFileSync(join(dataDir, 'blobs', 'ab', 'leftover.tmp'), 'x');
  writeFileSync(join(dataDir, 'blobs', 'junk'), 'x');
  mkdirSync(join(dataDir, 'blobs', 'zz', 'deep'), { recursive: true });
  assert.ok(blobFiles(dataDir).includes(uncommitted.blobId));

  storage = openStorage({ dataDir });
  t.after(() => storage.close());
  assert.deepEqual(storage.recovered, { orphansRemoved: 4, completedUploadsPruned: 0 });
  const kept = [object.segments[0]!.blobId, partBlob.blobId].toSorted();
  assert.deepEqual(blobFiles(dataDir).toSorted(), kept);
  assert.deepEqual(referencedBlobs(storage, 'b'), kept);
  const got = storage.getObject('b', 'k')!;
  assert.equal((await readAll(storage.readRange(got.segments, 0, got.size - 1))).toString(), 'kept');
});

test('open prunes completed-upload records older than the retention', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  const now = { value: 1_700_000_000_000 };
  let storage = openStorage({ dataDir, clock: () => now.value, durable: false });
  storage.createBucket('b', 'us-east-1');
  const upload = storage.createMultipartUpload({ bucket: 'b', key: 'k', userMetadata: {} });
  storage.completeMultipartUpload(upload, { size: 0, etag: '"e-0"', userMetadata: {}, segments: [] });
  storage.close();

  now.value += COMPLETED_UPLOAD_RETENTION_MS - 1000;
  storage = openStorage({ dataDir, clock: () => now.value, durable: false });
  assert.equal(storage.getCompletedUpload(upload.uploadId)?.etag, '"e-0"');
  storage.close();

  now.value += 2000;
  storage = openStorage({ dataDir, clock: () => now.value, durable: false });
  t.after(() => storage.close());
  assert.equal(storage.getCompletedUpload(upload.uploadId), undefined);
  assert.equal(storage.recovered.completedUploadsPruned, 1);
});

test('SIGKILL at random moments: the key holds one whole acknowledged (or in-flight) version, no orphans', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  const child = join(import.meta.dirname, '../../../../test/helpers/storage-crash-child.ts');
  let current: string | undefined;
  let acknowledged = 0;
  for (let run = 0; run < 5; run++) {
    const proc = spawn(process.execPath, ['--conditions=@hoist/source', child, dataDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    let buffered = '';
    const killAfterAcks = randomInt(1, 5);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (text: string) => {
      buffered += text;
      const complete = buffered.split('\n');
      buffered = complete.pop()!;
      lines.push(...complete);
      if (lines.filter((l) => l.startsWith('ack ')).length >= killAfterAcks && proc.exitCode === null) {
        // Land anywhere in the next write: streaming, syncing, committing or unlinking.
        setTimeout(() => proc.kill('SIGKILL'), randomInt(0, 120));
      }
    });
    const [, signal] = (await once(proc, 'close')) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL', 'the child runs until killed');

    const acks = lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4));
    const begins = lines.filter((l) => l.startsWith('begin ')).map((l) => l.slice(6));
    acknowledged += acks.length;
    const lastAck = acks.at(-1) ?? current;
    const inFlight = begins.length > acks.length ? begins.at(-1) : undefined;
    const allowed = new Set([lastAck, inFlight].filter((v) => v !== undefined));

    const storage = openStorage({ dataDir });
    try {
      const object = storage.getObject('b', 'k');
      assert.ok(object, `run ${run}: the key exists`);
      const sha256 = object.userMetadata.sha256!;
      assert.ok(allowed.has(sha256), `run ${run}: ${sha256} is the last ack or the one in flight`);
      const bytes = await readAll(storage.readRange(object.segments, 0, object.size - 1));
      assert.equal(bytes.length, object.size);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), sha256);
      if (object.partsCount === undefined) {
        assert.equal(object.etag, `"${createHash('md5').update(bytes).digest('hex')}"`);
      }
      assert.deepEqual(
        blobFiles(dataDir).toSorted(),
        referencedBlobs(storage, 'b'),
        `run ${run}: no orphans`,
      );
      current = sha256;
      const version = sha256 === inFlight ? 'the in-flight version' : 'the last acknowledged version';
      t.diagnostic(
        `run ${run}: ${acks.length} acks, kept ${version}, ${storage.recovered.orphansRemoved} orphans removed`,
      );
    } finally {
      storage.close();
    }
  }
  assert.ok(acknowledged >= 5);
});
