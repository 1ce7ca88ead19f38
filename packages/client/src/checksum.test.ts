import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { ChecksumAlgorithm } from '@hoist/protocol/internal/checksum';
import { compositeChecksum as serverComposite } from '@hoist/server/internal/checksum/composite';
import { crc32c } from '@hoist/server/internal/checksum/crc32c';
import { crc64nvme } from '@hoist/server/internal/checksum/crc64nvme';
import { startTestServer } from '../../../test/helpers/server.ts';
import { createPartHasher } from './checksum.ts';
import { compositeChecksum, fullObjectChecksum } from './object-checksum.ts';

const MiB = 2 ** 20;
const ALGORITHMS: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];
const CRCS = ['CRC32', 'CRC32C', 'CRC64NVME'] as const;

const u32 = (n: number) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n >>> 0);
  return out;
};

/** The server's own implementations (node:zlib, node:crypto, its JS CRCs): the reference. */
function expected(algorithm: ChecksumAlgorithm, bytes: Uint8Array): string {
  switch (algorithm) {
    case 'CRC32':
      return u32(zlibCrc32(bytes)).toString('base64');
    case 'CRC32C':
      return u32(crc32c(bytes)).toString('base64');
    case 'CRC64NVME':
      return crc64nvme(bytes).toString('base64');
    case 'SHA1':
      return createHash('sha1').update(bytes).digest('base64');
    case 'SHA256':
      return createHash('sha256').update(bytes).digest('base64');
  }
}

/** Seeded xorshift32 integer in [0, n), so a failing case is reproducible. */
function prng(seed: number): (n: number) => number {
  let x = seed | 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return Math.floor(((x >>> 0) / 2 ** 32) * n);
  };
}

/** Cut `length` bytes into random pieces (some empty) as [start, end) pairs. */
function randomCuts(random: (n: number) => number, length: number, maxPiece: number): [number, number][] {
  const cuts: [number, number][] = [];
  for (let at = 0; at < length; ) {
    const n = random(5) === 0 ? 0 : Math.min(1 + random(maxPiece), length - at);
    cuts.push([at, at + n]);
    at += n;
  }
  return cuts;
}

const big = randomBytes(8 * MiB + 13);

describe('createPartHasher', () => {
  const hasher = createPartHasher();

  test('catalogue check values of "123456789", base64 of the big-endian digest', async () => {
    const check = new TextEncoder().encode('123456789');
    const hex = async (algorithm: ChecksumAlgorithm) =>
      Buffer.from(await hasher.digest(algorithm, check), 'base64').toString('hex');
    assert.equal(await hex('CRC32'), 'cbf43926');
    assert.equal(await hex('CRC32C'), 'e3069283');
    assert.equal(await hex('CRC64NVME'), 'ae8b14860a799888');
    assert.equal(await hex('SHA1'), 'f7c3bc1d808e04732adf679965ccc34ca7ae3441');
    assert.equal(await hex('SHA256'), '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225');
  });

  for (const algorithm of ALGORITHMS) {
    test(`${algorithm}: equals the server's implementation from 0 bytes to over 8 MiB`, async () => {
      for (const size of [0, 1, 3, 8, 4095, 16 * 1024, 16 * 1024 + 1, MiB + 7, big.length]) {
        const bytes = big.subarray(0, size);
        assert.equal(await hasher.digest(algorithm, bytes), expected(algorithm, bytes), `${size}`);
      }
      // A view at an odd offset hashes only its own bytes.
      const view = new Uint8Array(big.buffer, big.byteOffset + 3, 1000);
      assert.equal(await hasher.digest(algorithm, view), expected(algorithm, view));
    });
  }

  test('many concurrent digests over shared instances do not mix their bytes', async () => {
    const random = prng(7);
    const jobs = Array.from({ length: 60 }, () => {
      const algorithm = ALGORITHMS[random(ALGORITHMS.length)]!;
      const start = random(big.length);
      const bytes = big.subarray(start, start + random(200_000));
      return { algorithm, bytes };
    });
    const other = createPartHasher();
    const digests = await Promise.all(
      jobs.map(({ algorithm, bytes }, i) => (i % 2 ? hasher : other).digest(algorithm, bytes)),
    );
    jobs.forEach(({ algorithm, bytes }, i) => {
      assert.equal(digests[i], expected(algorithm, bytes), `${i}`);
    });
  });

  test('misuse rejects with a TypeError naming the argument', async () => {
    await assert.rejects(hasher.digest('SHA512' as ChecksumAlgorithm, new Uint8Array(1)), {
      name: 'TypeError',
      message: /algorithm/,
    });
    await assert.rejects(hasher.digest('CRC32C', 'abc' as unknown as Uint8Array), {
      name: 'TypeError',
      message: /bytes/,
    });
  });
});

describe('fullObjectChecksum', () => {
  const hasher = createPartHasher();

  for (const algorithm of CRCS) {
    test(`${algorithm}: folded part checksums over random splits equal the checksum of the whole`, async () => {
      const random = prng(0xfade + algorithm.length);
      for (let round = 0; round < 8; round++) {
        const data = big.subarray(0, random(big.length / 8));
        const parts = await Promise.all(
          randomCuts(random, data.length, 200_000).map(async ([start, end]) => ({
            checksum: await hasher.digest(algorithm, data.subarray(start, end)),
            size: end - start,
          })),
        );
        assert.equal(fullObjectChecksum(algorithm, parts), expected(algorithm, data), `${round}`);
      }
      assert.equal(fullObjectChecksum(algorithm, []), expected(algorithm, new Uint8Array(0)));
    });
  }

  test('SHA algorithms have no full-object checksum', () => {
    for (const algorithm of ['SHA1', 'SHA256'] as const) {
      assert.throws(() => fullObjectChecksum(algorithm, []), { name: 'TypeError', message: /COMPOSITE/ });
    }
  });

  test('checksums that are not canonical base64 of the right length are TypeErrors naming the part', () => {
    const good = { checksum: 'AAAAAA==', size: 1 };
    for (const checksum of ['AAAAAA=', 'AAAAAB==', 'AAAA', 'AAAAAAAAAAA=', ' AAAAA==']) {
      assert.throws(() => fullObjectChecksum('CRC32C', [good, { checksum, size: 1 }]), {
        name: 'TypeError',
        message: /parts\[1\]\.checksum/,
      });
    }
    assert.throws(() => fullObjectChecksum('CRC32C', [{ checksum: 'AAAAAA==', size: -1 }]), {
      name: 'TypeError',
      message: /parts\[0\]\.size/,
    });
  });
});

describe('compositeChecksum', () => {
  const hasher = createPartHasher();

  test('equals the server’s composite for every algorithm', async () => {
    const random = prng(99);
    for (const algorithm of ALGORITHMS) {
      for (const count of [1, 2, 17]) {
        const parts = Array.from({ length: count }, () => big.subarray(random(MiB), MiB + random(MiB)));
        const checksums = parts.map((part) => expected(algorithm, part));
        const digests = checksums.map((c) => Buffer.from(c, 'base64'));
        assert.equal(
          await compositeChecksum(algorithm, checksums, hasher),
          serverComposite(algorithm, digests),
          `${algorithm} × ${count}`,
        );
      }
    }
  });

  test('rejects an empty list and malformed part checksums', async () => {
    await assert.rejects(compositeChecksum('SHA256', [], hasher), { name: 'TypeError' });
    await assert.rejects(compositeChecksum('SHA256', ['AAAAAA=='], hasher), {
      name: 'TypeError',
      message: /partChecksums\[0\]/,
    });
  });

  test('equals what the local S3 server reports for composite and full-object multipart uploads', async (t) => {
    const server = await startTestServer(t);
    const s3 = server.client;
    const bucket = 'checksums';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const parts = [big.subarray(0, 5 * MiB), big.subarray(5 * MiB, 5 * MiB + 12_345)];

    for (const [algorithm, type] of [
      ['SHA256', 'COMPOSITE'],
      ['CRC32C', 'FULL_OBJECT'],
      ['CRC64NVME', 'FULL_OBJECT'],
    ] as const) {
      const key = `${algorithm}-${type}`;
      const field = `Checksum${algorithm}` as const;
      const created = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          ChecksumAlgorithm: algorithm,
          ChecksumType: type,
        }),
      );
      const checksums: string[] = [];
      const uploaded = [];
      for (const [i, body] of parts.entries()) {
        // Our value travels as the part's checksum, so the server verifies it too.
        const checksum = await hasher.digest(algorithm, body);
        const out = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: created.UploadId,
            PartNumber: i + 1,
            Body: body,
            [field]: checksum,
          }),
        );
        assert.equal(out[field], checksum);
        checksums.push(checksum);
        uploaded.push({ PartNumber: i + 1, ETag: out.ETag!, [field]: checksum });
      }
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: created.UploadId,
          MultipartUpload: { Parts: uploaded },
        }),
      );
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }),
      );
      assert.equal(head.ChecksumType, type);
      const ours =
        type === 'COMPOSITE'
          ? await compositeChecksum(algorithm, checksums, hasher)
          : fullObjectChecksum(
              algorithm,
              checksums.map((checksum, i) => ({ checksum, size: parts[i]!.length })),
            );
      assert.equal(head[field], ours, key);
    }
  });
});
