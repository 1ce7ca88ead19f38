/** Multipart uploads, lib-storage and presigned URLs through the official AWS SDK v3. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { rejectsWith, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MiB = 1024 * 1024;

function md5(data: Buffer): Buffer {
  return createHash('md5').update(data).digest();
}

describe('multipart', () => {
  let server: TestServer;
  let s3: S3Client;
  const bucket = 'multipart';
  const cleanup = suiteCleanup();

  before(async () => {
    server = await startTestServer(cleanup);
    s3 = server.client;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  async function create(
    key: string,
    extra: Partial<ConstructorParameters<typeof CreateMultipartUploadCommand>[0]> = {},
  ) {
    const out = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...extra }));
    assert.ok(out.UploadId);
    return out.UploadId;
  }

  test('create, upload parts, list, complete: ETag is md5 of part md5s, bytes concatenate, parts addressable', async () => {
    const key = 'video.mp4';
    const uploadId = await create(key, { ContentType: 'video/mp4', Metadata: { user: 'alice' } });
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
    const etags: string[] = [];
    for (const [i, data] of parts.entries()) {
      const out = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: i + 1,
          Body: data,
        }),
      );
      assert.equal(out.ETag, `"${md5(data).toString('hex')}"`);
      etags.push(out.ETag!);
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    assert.deepEqual(
      listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]),
      parts.map((d, i) => [i + 1, d.length, etags[i]]),
    );
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.ok(uploads.Uploads?.some((u) => u.UploadId === uploadId && u.Key === key));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        // Part ETags are accepted with or without quotes.
        MultipartUpload: {
          Parts: etags.map((ETag, i) => ({
            PartNumber: i + 1,
            ETag: i === 1 ? ETag.replace(/"/g, '') : ETag,
          })),
        },
      }),
    );
    const expectedEtag = `"${createHash('md5')
      .update(Buffer.concat(parts.map(md5)))
      .digest('hex')}-3"`;
    assert.equal(done.ETag, expectedEtag);
    const whole = Buffer.concat(parts);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    assert.equal(
      createHash('sha256').update(bytes).digest('hex'),
      createHash('sha256').update(whole).digest('hex'),
    );
    assert.equal(got.ContentType, 'video/mp4');
    assert.deepEqual(got.Metadata, { user: 'alice' });
    const second = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 2 }));
    assert.equal(second.PartsCount, 3);
    assert.deepEqual(Buffer.from(await second.Body!.transformToByteArray()), parts[1]);
    const attrs = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: bucket,
        Key: key,
        ObjectAttributes: ['ObjectParts', 'ObjectSize', 'ETag'],
      }),
    );
    assert.equal(attrs.ObjectSize, whole.length);
    assert.equal(attrs.ObjectParts?.TotalPartsCount, 3);
    assert.deepEqual(
      attrs.ObjectParts?.Parts?.map((p) => p.Size),
      parts.map((p) => p.length),
    );
    // The upload is gone, and a repeated Complete is answered with the same result.
    const again = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
      }),
    );
    assert.equal(again.ETag, expectedEtag);
    await rejectsWith(
      s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
      'NoSuchUpload',
    );
  });

  test('Complete errors: InvalidPart, InvalidPartOrder, EntityTooSmall, NoSuchUpload; nothing written', async () => {
    const key = 'errors.bin';
    const uploadId = await create(key);
    const small = randomBytes(1000);
    const big = randomBytes(5 * MiB);
    const p1 = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: small }),
    );
    const p2 = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 2, Body: big }),
    );
    const complete = (Parts: { PartNumber: number; ETag: string }[]) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts },
        }),
      );
    await rejectsWith(
      complete([{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }]),
      'InvalidPart',
    );
    await rejectsWith(complete([{ PartNumber: 3, ETag: p2.ETag! }]), 'InvalidPart');
    await rejectsWith(
      complete([
        { PartNumber: 2, ETag: p2.ETag! },
        { PartNumber: 1, ETag: p1.ETag! },
      ]),
      'InvalidPartOrder',
    );
    const tooSmall = await rejectsWith(
      complete([
        { PartNumber: 1, ETag: p1.ETag! },
        { PartNumber: 2, ETag: p2.ETag! },
      ]),
      'EntityTooSmall',
    );
    assert.equal(tooSmall.$metadata?.httpStatusCode, 400);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), 'NotFound');
    // A last part may be small.
    await complete([{ PartNumber: 2, ETag: p2.ETag! }]);
    await rejectsWith(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: 'not-an-upload',
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag! }] },
        }),
      ),
      'NoSuchUpload',
    );
    await rejectsWith(
      s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: 'not-an-upload',
          PartNumber: 1,
          Body: small,
        }),
      ),
      'NoSuchUpload',
    );
  });

  test('part numbers outside 1..10000 are InvalidArgument', async () => {
    const uploadId = await create('numbers');
    for (const PartNumber of [0, 10001]) {
      await rejectsWith(
        s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: 'numbers',
            UploadId: uploadId,
            PartNumber,
            Body: 'x',
          }),
        ),
        'InvalidArgument',
      );
    }
  });

  test('abort removes the upload and its parts', async () => {
    const uploadId = await create('aborted');
    await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'aborted',
        UploadId: uploadId,
        PartNumber: 1,
        Body: randomBytes(1000),
      }),
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'aborted', UploadId: uploadId }));
    await rejectsWith(
      s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'aborted', UploadId: uploadId })),
      'NoSuchUpload',
    );
    await rejectsWith(
      s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'aborted', UploadId: uploadId })),
      'NoSuchUpload',
    );
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'aborted' }));
    assert.equal(uploads.Uploads?.length ?? 0, 0);
  });

  test('ListParts paginates', async () => {
    const key = 'paged';
    const uploadId = await create(key);
    for (let n = 1; n <= 7; n++) {
      await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: n,
          Body: `part ${n}`,
        }),
      );
    }
    const numbers: number[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await s3.send(
        new ListPartsCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MaxParts: 3,
          PartNumberMarker: marker,
        }),
      );
      numbers.push(...(page.Parts ?? []).map((p) => p.PartNumber!));
      if (!page.IsTruncated) break;
      marker = String(page.NextPartNumberMarker);
    }
    assert.deepEqual(numbers, [1, 2, 3, 4, 5, 6, 7]);
  });

  for (const [algorithm, type] of [
    ['CRC32', 'COMPOSITE'],
    ['CRC32C', 'FULL_OBJECT'],
    ['CRC64NVME', 'FULL_OBJECT'],
    ['SHA256', 'COMPOSITE'],
  ] as const) {
    test(`${type} ${algorithm} checksums are verified per part and computed for the object`, async () => {
      const key = `sum-${algorithm}-${type}`;
      const uploadId = await create(key, { ChecksumAlgorithm: algorithm, ChecksumType: type });
      const parts = [randomBytes(5 * MiB), randomBytes(100_000)];
      const field = `Checksum${algorithm}` as const;
      const uploaded = [];
      for (const [i, data] of parts.entries()) {
        const out = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: i + 1,
            Body: data,
            ChecksumAlgorithm: algorithm,
          }),
        );
        assert.ok(out[field]);
        uploaded.push({ PartNumber: i + 1, ETag: out.ETag!, [field]: out[field] });
      }
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: uploaded },
        }),
      );
      assert.equal(done.ChecksumType, type);
      if (type === 'COMPOSITE') assert.match(done[field]!, /-2$/);
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }),
      );
      assert.equal(head[field], done[field]);
      if (type === 'FULL_OBJECT') {
        // A full-object CRC equals the CRC of the whole object sent in one PutObject.
        const whole = await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `${key}-whole`,
            Body: Buffer.concat(parts),
            ChecksumAlgorithm: algorithm,
          }),
        );
        assert.equal(done[field], whole[field]);
      } else if (algorithm === 'SHA256') {
        const digests = parts.map((p) => createHash('sha256').update(p).digest());
        assert.equal(
          done[field],
          `${createHash('sha256').update(Buffer.concat(digests)).digest('base64')}-2`,
        );
      }
    });
  }

  test('CompleteMultipartUpload checks a client-supplied FULL_OBJECT checksum against the parts', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(4321)];
    const whole = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'full-ref',
        Body: Buffer.concat(parts),
        ChecksumAlgorithm: 'CRC32C',
      }),
    );
    const full = whole.ChecksumCRC32C!;
    const wrong = Buffer.from(full, 'base64');
    wrong[0] = (wrong[0] ?? 0) ^ 1;
    for (const [key, claimed, ok] of [
      ['full-good', full, true],
      ['full-bad', wrong.toString('base64'), false],
    ] as const) {
      const uploadId = await create(key, { ChecksumAlgorithm: 'CRC32C', ChecksumType: 'FULL_OBJECT' });
      const uploaded = [];
      for (const [i, data] of parts.entries()) {
        const out = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: i + 1,
            Body: data,
            ChecksumAlgorithm: 'CRC32C',
          }),
        );
        uploaded.push({ PartNumber: i + 1, ETag: out.ETag!, ChecksumCRC32C: out.ChecksumCRC32C! });
      }
      const complete = s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          ChecksumType: 'FULL_OBJECT',
          ChecksumCRC32C: claimed,
          MultipartUpload: { Parts: uploaded },
        }),
      );
      if (ok) assert.equal((await complete).ChecksumCRC32C, full);
      else {
        await rejectsWith(complete, 'BadDigest', 400);
        await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), 'NotFound', 404);
      }
    }
  });

  test('a part whose checksum does not match is BadDigest and is not kept', async () => {
    const key = 'bad-part';
    const uploadId = await create(key, { ChecksumAlgorithm: 'SHA256' });
    await rejectsWith(
      s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: 1,
          Body: randomBytes(1000),
          ChecksumSHA256: createHash('sha256').update('other').digest('base64'),
        }),
      ),
      'BadDigest',
    );
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    assert.equal(listed.Parts?.length ?? 0, 0);
  });

  test('If-None-Match: * on Complete refuses to overwrite an existing key', async () => {
    const key = 'exists';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'old' }));
    const uploadId = await create(key);
    const part = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: 'new' }),
    );
    await rejectsWith(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          IfNoneMatch: '*',
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] },
        }),
      ),
      'PreconditionFailed',
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(await got.Body!.transformToString(), 'old');
  });

  test('UploadPartCopy copies a byte range of another object into a part', async () => {
    const source = randomBytes(6 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-source', Body: source }));
    const key = 'copied';
    const uploadId = await create(key);
    const p1 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: 1,
        CopySource: `${bucket}/copy-source`,
        CopySourceRange: `bytes=0-${5 * MiB - 1}`,
      }),
    );
    const p2 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: 2,
        CopySource: `${bucket}/copy-source`,
        CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}`,
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.CopyPartResult!.ETag! },
            { PartNumber: 2, ETag: p2.CopyPartResult!.ETag! },
          ],
        },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(source));
  });

  test('lib-storage Upload of a 64 MiB body with the SDK default checksum behaviour', async () => {
    const data = randomBytes(64 * MiB);
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'lib-storage.bin', Body: data },
      queueSize: 4,
      partSize: 8 * MiB,
    });
    let lastLoaded = 0;
    upload.on('httpUploadProgress', (p) => {
      lastLoaded = Math.max(lastLoaded, p.loaded ?? 0);
    });
    const out = await upload.done();
    assert.ok(out.ETag?.endsWith('-8"'));
    assert.equal(lastLoaded, data.length);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'lib-storage.bin' }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    assert.equal(
      createHash('sha256').update(bytes).digest('hex'),
      createHash('sha256').update(data).digest('hex'),
    );
  });

  test('presigned PUT, UploadPart and GET URLs work with plain fetch; tampering is refused', async () => {
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'presigned.txt' }), {
      expiresIn: 300,
    });
    const put = await fetch(putUrl, { method: 'PUT', body: 'presigned body' });
    assert.equal(put.status, 200, await put.text());
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned.txt' }), {
      expiresIn: 300,
    });
    const got = await fetch(getUrl);
    assert.equal(await got.text(), 'presigned body');
    const tampered = getUrl.replace('presigned.txt', 'presigned.txu');
    const refused = await fetch(tampered);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

    const uploadId = await create('presigned-mp');
    const partUrl = await getSignedUrl(
      s3,
      new UploadPartCommand({ Bucket: bucket, Key: 'presigned-mp', UploadId: uploadId, PartNumber: 1 }),
      {
        expiresIn: 300,
      },
    );
    const partResponse = await fetch(partUrl, { method: 'PUT', body: 'part one' });
    assert.equal(partResponse.status, 200);
    const etag = partResponse.headers.get('etag');
    assert.equal(etag, `"${createHash('md5').update('part one').digest('hex')}"`);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'presigned-mp',
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag! }] },
      }),
    );
    const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'presigned-mp' }));
    assert.equal(await whole.Body!.transformToString(), 'part one');
  });
});
