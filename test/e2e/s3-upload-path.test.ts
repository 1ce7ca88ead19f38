/**
 * The upload hot path end to end (bodies large enough to be hashed on the worker
 * thread and written in several batches): right ETags for interleaved uploads, and
 * nothing left on disk when a body fails its checksum or the client goes away mid-body.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { signRaw } from '../helpers/raw.ts';
import { rejectsWith, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.ts';

const MiB = 1024 * 1024;

function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/** Every blob file under the data dir (committed or not). */
function blobFiles(dataDir: string): string[] {
  const root = join(dataDir, 'blobs');
  return readdirSync(root).flatMap((dir) => readdirSync(join(root, dir)));
}

/** Polls until `check` holds; the server cleans up after a failed request in the background. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await sleep(50);
  }
  assert.fail(`${what} never happened`);
}

describe('upload path', () => {
  let server: TestServer;
  const bucket = 'upload-path';
  const cleanup = suiteCleanup();

  before(async () => {
    server = await startTestServer(cleanup);
    await server.client.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  test('interleaved large PUTs each get the MD5 ETag and the bytes they sent', async () => {
    // Sizes around the 2 MiB hashing ring and 2 MiB write batches, with odd tails.
    const bodies = [9 * MiB + 77, 2 * MiB, 4 * MiB + 1, 1 * MiB].map((size) => randomBytes(size));
    const answers = await Promise.all(
      bodies.map((data, i) =>
        server.client.send(new PutObjectCommand({ Bucket: bucket, Key: `big-${i}`, Body: data })),
      ),
    );
    for (const [i, data] of bodies.entries()) {
      assert.equal(answers[i]?.ETag, `"${md5Hex(data)}"`);
      const got = await server.client.send(new GetObjectCommand({ Bucket: bucket, Key: `big-${i}` }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data), `body ${i}`);
    }
  });

  test('a large PUT with a wrong checksum is BadDigest and leaves no object and no blob file', async () => {
    const before = blobFiles(server.dataDir);
    const wrong = createHash('sha256').update('something else').digest('base64');
    await rejectsWith(
      server.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'bad-big',
          Body: randomBytes(5 * MiB),
          ChecksumSHA256: wrong,
        }),
      ),
      'BadDigest',
      400,
    );
    await rejectsWith(
      server.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad-big' })),
      'NotFound',
      404,
    );
    assert.deepEqual(blobFiles(server.dataDir).toSorted(), before.toSorted());
  });

  test('a large part with a wrong checksum is BadDigest and leaves no part and no blob file', async () => {
    const key = 'bad-part';
    const created = await server.client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32C' }),
    );
    const before = blobFiles(server.dataDir);
    await rejectsWith(
      server.client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: created.UploadId,
          PartNumber: 1,
          Body: randomBytes(6 * MiB),
          ChecksumCRC32C: 'AAAAAA==',
        }),
      ),
      'BadDigest',
    );
    const listed = await server.client.send(
      new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId }),
    );
    assert.equal(listed.Parts?.length ?? 0, 0);
    assert.deepEqual(blobFiles(server.dataDir).toSorted(), before.toSorted());
  });

  test('a client that goes away mid-body leaves no object and no blob file', async () => {
    const before = blobFiles(server.dataDir);
    const key = 'abandoned';
    const declared = 16 * MiB;
    const { path, headers } = await signRaw({
      url: server.url,
      method: 'PUT',
      path: `/${bucket}/${key}`,
      headers: { 'content-length': String(declared) },
      credentials: { ...TEST_CREDENTIALS },
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
    const target = new URL(server.url);
    const req = request({
      host: target.hostname,
      port: target.port,
      method: 'PUT',
      path,
      headers,
      agent: false,
    });
    req.on('error', () => {});
    // Half the body, then the connection drops once the server has started the blob file.
    req.write(randomBytes(8 * MiB));
    await eventually(() => blobFiles(server.dataDir).length > before.length, 'a blob file being written');
    req.destroy();
    await eventually(
      () => blobFiles(server.dataDir).length === before.length,
      'the unfinished blob being removed',
    );
    assert.deepEqual(blobFiles(server.dataDir).toSorted(), before.toSorted());
    await rejectsWith(
      server.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
      'NotFound',
      404,
    );
  });
});
