/**
 * Child process of the crash test (packages/server/src/storage/recovery.test.ts): overwrites one key
 * forever, alternating PutObject and multipart uploads, and prints
 * `begin <sha256>` before and `ack <sha256>` after each commit. The parent
 * SIGKILLs it at a random moment.
 *
 *   node --conditions=@hoist/source test/helpers/storage-crash-child.ts <dataDir>
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { openStorage } from '@hoist/server/internal/storage/index';
import type { ObjectSegment } from '@hoist/server/internal/storage/types';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new TypeError('usage: storage-crash-child.ts <dataDir>');
const storage = openStorage({ dataDir });
if (storage.getBucket('b') === undefined) storage.createBucket('b', 'us-east-1');

const md5 = (data: Uint8Array): Buffer => createHash('md5').update(data).digest();

async function* chunks(data: Buffer): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += 64 * 1024)
    yield data.subarray(offset, offset + 64 * 1024);
}

for (let i = 0; ; i++) {
  const data = randomBytes(randomInt(0, 3 * 1024 * 1024));
  const sha256 = createHash('sha256').update(data).digest('hex');
  process.stdout.write(`begin ${sha256}\n`);
  if (i % 2 === 0) {
    const blob = await storage.writeBlob(chunks(data));
    const etag = `"${md5(data).toString('hex')}"`;
    storage.putObject('b', 'k', { size: data.length, etag, userMetadata: { sha256 }, segments: [blob] });
  } else {
    const upload = storage.createMultipartUpload({ bucket: 'b', key: 'k', userMetadata: { sha256 } });
    const cuts = [0, Math.floor(data.length / 3), Math.floor((2 * data.length) / 3), data.length];
    const segments: ObjectSegment[] = [];
    for (let n = 1; n <= 3; n++) {
      const piece = data.subarray(cuts[n - 1], cuts[n]);
      const blob = await storage.writeBlob(chunks(piece));
      const part = await storage.putPart(upload.uploadId, {
        ...blob,
        partNumber: n,
        etag: `"${md5(piece).toString('hex')}"`,
      });
      segments.push({ blobId: part.blobId, size: part.size, partNumber: n, etag: part.etag });
    }
    const digests = Buffer.concat(segments.map((s) => Buffer.from(s.etag!.slice(1, -1), 'hex')));
    const etag = `"${md5(digests).toString('hex')}-3"`;
    storage.completeMultipartUpload(upload, {
      size: data.length,
      etag,
      userMetadata: { sha256 },
      partsCount: 3,
      segments,
    });
  }
  process.stdout.write(`ack ${sha256}\n`);
}
