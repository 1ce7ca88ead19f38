/**
 * Availability: what a hostile (or just unlucky) client costs the server. XML bodies
 * are bounded before and while they are parsed, a full-size 10,000-part Complete is parsed
 * whole (its speed: bench/server.ts's complete-10k), and a client hanging up mid-body is not
 * an internal error.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { before, describe, test } from 'node:test';
import {
  type ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { codeOf, sendRaw } from '../helpers/raw.ts';
import { objectExists, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.ts';

const MiB = 1024 * 1024;
const PARTS = 10_000;

describe('hardening', () => {
  let server: TestServer;
  let s3: S3Client;
  const bucket = 'hardening';
  const cleanup = suiteCleanup();

  before(async () => {
    server = await startTestServer(cleanup);
    s3 = server.client;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  /** An upload whose parts are rows only (no 50 GB of bytes): Complete reads metadata, never blobs. */
  async function seededUpload(key: string, parts: number, algorithm?: ChecksumAlgorithm) {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ...(algorithm ? { ChecksumAlgorithm: algorithm } : {}),
      }),
    );
    assert.ok(UploadId);
    const seeded: { PartNumber: number; ETag: string; ChecksumSHA256?: string }[] = [];
    for (let number = 1; number <= parts; number++) {
      const etag = `"${randomBytes(16).toString('hex')}"`;
      const checksum = algorithm ? randomBytes(32).toString('base64') : undefined;
      await server.storage.putPart(UploadId, {
        partNumber: number,
        blobId: randomBytes(16).toString('hex'),
        size: number === parts ? 1234 : 5 * MiB,
        etag,
        ...(checksum ? { checksum } : {}),
      });
      seeded.push({ PartNumber: number, ETag: etag, ...(checksum ? { ChecksumSHA256: checksum } : {}) });
    }
    return { uploadId: UploadId, parts: seeded };
  }

  const completeRaw = (key: string, uploadId: string, body: Buffer | string) =>
    sendRaw({
      url: server.url,
      method: 'POST',
      path: `/${bucket}/${key}`,
      query: { uploadId },
      body,
      credentials: TEST_CREDENTIALS,
    });

  test('a 10,000-part CompleteMultipartUpload with SHA-256 checksums completes through the SDK', async () => {
    const key = 'big/10k-parts.bin';
    const { uploadId, parts } = await seededUpload(key, PARTS, 'SHA256');
    // A new client: seeding takes longer than the server's keep-alive, so the old socket may be closing.
    const client = server.makeClient();
    const out = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    assert.match(out.ETag ?? '', /^"[0-9a-f]{32}-10000"$/);
    assert.match(out.ChecksumSHA256 ?? '', /-10000$/);
    // How fast is measured, not asserted: bench/server.ts --scenarios complete-10k.
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.ContentLength, (PARTS - 1) * 5 * MiB + 1234);
  });

  test('the largest valid Complete document (pretty-printed, entity-quoted ETags, every checksum) is within the cap', async () => {
    const key = 'big/largest-doc.bin';
    const { uploadId } = await seededUpload(key, 1);
    const part = (n: number) =>
      [
        '  <Part>',
        `    <PartNumber>${n}</PartNumber>`,
        `    <ETag>&quot;${'f'.repeat(32)}&quot;</ETag>`,
        `    <ChecksumCRC32>${'A'.repeat(8)}</ChecksumCRC32>`,
        `    <ChecksumCRC32C>${'A'.repeat(8)}</ChecksumCRC32C>`,
        `    <ChecksumCRC64NVME>${'A'.repeat(12)}</ChecksumCRC64NVME>`,
        `    <ChecksumSHA1>${'A'.repeat(28)}</ChecksumSHA1>`,
        `    <ChecksumSHA256>${'A'.repeat(44)}</ChecksumSHA256>`,
        '  </Part>',
      ].join('\n');
    const parts: string[] = [];
    for (let n = 1; n <= PARTS; n++) parts.push(part(n));
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n${parts.join('\n')}\n</CompleteMultipartUpload>\n`;
    const response = await completeRaw(key, uploadId, body);
    // Parsed in full: the first part's ETag does not match the seeded one.
    assert.equal(response.status, 400, response.body);
    assert.equal(codeOf(response.body), 'InvalidPart');
  });

  test('an 8 MiB Complete body is refused before it is read, and a hostile body under the cap costs little; nothing changes', async () => {
    const key = 'hostile.bin';
    const { uploadId } = await seededUpload(key, 2);
    const hostile = (bytes: number) => {
      const head = '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>';
      const tail = '</ETag></Part></CompleteMultipartUpload>';
      const entities = Math.floor((bytes - head.length - tail.length) / 5);
      return `${head}${'&#65;'.repeat(entities)}${tail}`;
    };
    const tooLarge = await completeRaw(key, uploadId, hostile(8 * MiB));
    assert.equal(tooLarge.status, 400, tooLarge.body);
    assert.equal(codeOf(tooLarge.body), 'EntityTooLarge');

    const underCap = await completeRaw(key, uploadId, hostile(5 * 1000 * 1000));
    assert.equal(underCap.status, 400, underCap.body);
    assert.equal(codeOf(underCap.body), 'MalformedXML');

    // The same cost spread over 10,000 parts (each ETag within its limit) is parsed linearly, then refused.
    const spread = `<CompleteMultipartUpload>${Array.from(
      { length: PARTS },
      (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${'&#65;'.repeat(90)}</ETag></Part>`,
    ).join('')}</CompleteMultipartUpload>`;
    const spreadAnswer = await completeRaw(key, uploadId, spread);
    assert.equal(codeOf(spreadAnswer.body), 'InvalidPart', spreadAnswer.body);

    assert.equal(await objectExists(s3, bucket, key), false);
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    assert.equal(listed.Parts?.length, 2);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    assert.equal(uploads.Uploads?.length, 1);
  });

  test('a client hanging up mid-body on the STS/IAM endpoint is not logged as an internal error', async () => {
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      written.push(String(chunk));
      return original(chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      const { port } = new URL(server.url);
      for (const path of ['/', `/${bucket}/aborted-put`]) {
        const method = path === '/' ? 'POST' : 'PUT';
        await new Promise<void>((resolve, reject) => {
          const socket = connect(Number(port), '127.0.0.1', () => {
            socket.write(
              `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nAction=GetCallerIdentity&`,
            );
            setTimeout(() => socket.destroy(), 100);
          });
          socket.on('close', () => resolve());
          socket.on('error', reject);
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      process.stderr.write = original;
    }
    assert.deepEqual(
      written.filter((line) => line.includes('internal error')),
      [],
    );
    // And the endpoint still answers.
    const answer = await sendRaw({
      url: server.url,
      method: 'GET',
      path: '/',
      credentials: TEST_CREDENTIALS,
    });
    assert.equal(answer.status, 200);
  });
});
