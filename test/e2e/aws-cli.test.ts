/**
 * The real AWS CLI against the local S3 server: Debian's AWS CLI v2 (`/usr/bin/aws`, always)
 * and, when installed, the pyenv AWS CLI v1 (modern botocore: CRC32 checksums by default).
 * High-level `aws s3` transfers (multipart up, server-side multipart copy, ranged GETs down,
 * sync with awkward names), the multipart calls step by step through `aws s3api`, uploads
 * over HTTPS (the only transport on which the CLIs send aws-chunked bodies with checksum
 * trailers) and AWS's error codes in stderr. Each CLI gets its own server and buckets.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join, relative } from 'node:path';
import { before, describe, test } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import {
  assertCliFailed,
  assertCliOk,
  CLIS,
  type CliResult,
  cleanCliEnv,
  runCli,
} from '../helpers/aws-cli.ts';
import { suiteCleanup } from '../helpers/s3.ts';
import { type Hook, startTestServer, TEST_CREDENTIALS, type TestServer, tmpDir } from '../helpers/server.ts';

const MiB = 1024 * 1024;
/** Upper bound of one CLI invocation (the 50 MiB transfers take a few seconds). */
const CLI_TIMEOUT_MS = 90_000;

interface RunOptions {
  /** Variables added to (or overriding) the CLI's environment. */
  env?: Record<string, string>;
  /** Another endpoint than the server's own (the TLS front). */
  endpoint?: string;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function sha256File(path: string): Promise<string> {
  return sha256(await readFile(path));
}

function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/** CRC32 as S3 sends it: base64 of the big-endian 4-byte value. */
function crc32Base64(data: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
}

/** A throwaway self-signed certificate for 127.0.0.1 (openssl comes with Debian's ca-certificates). */
async function selfSignedCertificate(dir: string): Promise<{ key: Buffer; cert: Buffer; certPath: string }> {
  const keyPath = join(dir, 'tls-key.pem');
  const certPath = join(dir, 'tls-cert.pem');
  await promisify(execFile)(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { timeout: 30_000 },
  );
  return { key: await readFile(keyPath), cert: await readFile(certPath), certPath };
}

interface TlsFront {
  url: string;
  /** How many request chunks seen so far contained `marker` (to prove which wire format was used). */
  seen(marker: string): number;
}

/**
 * TLS in front of the plain-HTTP server, passing bytes through untouched. Over HTTPS (only)
 * botocore streams checksummed uploads as aws-chunked bodies with the checksum in a trailer.
 */
async function startTlsFront(hook: Hook, targetPort: number, key: Buffer, cert: Buffer): Promise<TlsFront> {
  const sockets = new Set<Socket>();
  const chunks = new Map<string, number>();
  const markers = ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-checksum-crc32:'];
  const front = createTlsServer({ key, cert }, (socket) => {
    socket.on('data', (chunk: Buffer) => {
      for (const marker of markers)
        if (chunk.includes(marker)) chunks.set(marker, (chunks.get(marker) ?? 0) + 1);
    });
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        socket.destroy();
        upstream.destroy();
      });
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(0, '127.0.0.1', () => resolve());
  });
  hook.after(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        front.close(() => resolve());
      }),
  );
  const address = front.address();
  assert.ok(address && typeof address === 'object');
  return {
    url: `https://127.0.0.1:${address.port}`,
    seen: (marker) => {
      assert.ok(markers.includes(marker), `not a tracked marker: ${marker}`);
      return chunks.get(marker) ?? 0;
    },
  };
}

/** Every file under `dir`, as relative paths with `/` separators. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

// The CLIs start slowly (a Python process per call): the suites, and the tests in each, run concurrently.
describe('AWS CLI against the local S3 server', { concurrency: true }, () => {
  for (const cli of CLIS) {
    describe(`AWS CLI ${cli.name} (${cli.bin})`, { skip: cli.skip, concurrency: true }, () => {
      let server: TestServer;
      let work: string;
      let env: Record<string, string>;
      const hook = suiteCleanup();

      before(async () => {
        // A copy: the SDK client the helper creates must not share (and decorate) the object.
        // Buckets the tests only use are made at start: each CLI call costs about a second of CPU.
        server = await startTestServer(hook, {
          rootCredentials: { ...TEST_CREDENTIALS },
          buckets: ['s3api', 'https', 'errors'].map((name) => `cli-${cli.name}-${name}`),
        });
        work = await tmpDir(hook, `hoist-aws-cli-${cli.name}-`);
        env = {
          ...(await cleanCliEnv(work)),
          AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        };
      });

      /** Runs the CLI against the server; never rejects for a non-zero exit (the caller asserts). */
      function aws(args: string[], options: RunOptions = {}): Promise<CliResult> {
        return runCli(cli, args, {
          env: { ...env, ...options.env },
          cwd: work,
          endpoint: options.endpoint ?? server.url,
          timeoutMs: CLI_TIMEOUT_MS,
          maxBuffer: 16 * MiB,
        });
      }

      /** Runs the CLI and asserts success; returns stdout. */
      async function ok(args: string[], options: RunOptions = {}): Promise<string> {
        return assertCliOk(args, await aws(args, options));
      }

      /** `aws s3api …` with JSON output, parsed. */
      async function s3api<T = Record<string, unknown>>(
        args: string[],
        options: RunOptions = {},
      ): Promise<T> {
        const stdout = await ok(['s3api', ...args, '--output', 'json'], options);
        return (stdout.trim() === '' ? {} : JSON.parse(stdout)) as T;
      }

      /** Runs the CLI, asserts it failed with `An error occurred (<code>)` in stderr, returns stderr. */
      async function fails(args: string[], code: string, options: RunOptions = {}): Promise<string> {
        const stderr = assertCliFailed(args, await aws(args, options));
        assert.match(
          stderr,
          new RegExp(`An error occurred \\(${code}\\)`),
          `expected ${code} in stderr: ${stderr}`,
        );
        return stderr;
      }

      test('aws s3: mb, multipart cp up, mv (multipart copy), ls, ranged cp down, small cp, sync with unicode names, rm, rb', async () => {
        const bucket = `cli-${cli.name}-transfer`;
        const dir = join(work, 'transfer');
        await mkdir(dir);
        const big = randomBytes(50 * MiB);
        const bigPath = join(dir, 'big.bin');
        await writeFile(bigPath, big);

        assert.match(await ok(['s3', 'mb', `s3://${bucket}`]), new RegExp(`make_bucket: ${bucket}`));

        // 50 MiB goes multipart (8 MiB parts by default); the download uses ranged GETs.
        await ok(['s3', 'cp', bigPath, `s3://${bucket}/data/big.bin`, '--no-progress']);
        const head = await s3api<{ ContentLength: number; ETag: string }>([
          'head-object',
          '--bucket',
          bucket,
          '--key',
          'data/big.bin',
        ]);
        assert.equal(head.ContentLength, big.length);
        assert.match(head.ETag, /^"[0-9a-f]{32}-7"$/, 'seven 8 MiB parts');
        // Server-side: a multipart copy (UploadPartCopy; v2 reads the tags first), then DeleteObject.
        assert.match(
          await ok([
            's3',
            'mv',
            `s3://${bucket}/data/big.bin`,
            `s3://${bucket}/moved/big.bin`,
            '--no-progress',
          ]),
          new RegExp(`move: s3://${bucket}/data/big.bin to s3://${bucket}/moved/big.bin`),
        );
        const listing = await ok(['s3', 'ls', '--recursive', `s3://${bucket}/`]);
        assert.match(
          listing,
          new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+${big.length} moved/big\\.bin$`, 'm'),
        );
        assert.doesNotMatch(listing, /data\/big\.bin/);
        const downloaded = join(dir, 'big.down');
        await ok(['s3', 'cp', `s3://${bucket}/moved/big.bin`, downloaded, '--no-progress']);
        assert.equal(await sha256File(downloaded), sha256(big));
        assert.match(await ok(['s3', 'ls']), new RegExp(` ${bucket}$`, 'm'));

        const small = Buffer.from('hello from the aws cli\n');
        const smallPath = join(dir, 'small.txt');
        await writeFile(smallPath, small);
        await ok(['s3', 'cp', smallPath, `s3://${bucket}/small.txt`, '--no-progress']);
        const smallHead = await s3api<{ ContentLength: number; ETag: string; ContentType: string }>([
          'head-object',
          '--bucket',
          bucket,
          '--key',
          'small.txt',
        ]);
        assert.equal(smallHead.ContentLength, small.length);
        assert.equal(smallHead.ETag, `"${md5Hex(small)}"`);
        assert.equal(smallHead.ContentType, 'text/plain');

        // sync: spaces, accents, CJK, emoji, a nested folder.
        const up = join(dir, 'sync-up');
        const files: Record<string, Buffer> = {
          'plain.txt': Buffer.from('plain\n'),
          'with space.txt': Buffer.from('a name with a space\n'),
          'ünïcödé 文件.txt': Buffer.from('unicode name\n'),
          'sub dir/nested-😀.bin': randomBytes(100_000),
          'sub dir/percent%2Fand+plus.txt': Buffer.from('reserved characters\n'),
        };
        for (const [name, data] of Object.entries(files)) {
          await mkdir(join(up, name, '..'), { recursive: true });
          await writeFile(join(up, name), data);
        }
        const synced = await ok(['s3', 'sync', up, `s3://${bucket}/sync/`, '--no-progress']);
        for (const name of Object.keys(files))
          assert.ok(synced.includes(`s3://${bucket}/sync/${name}`), synced);
        const listed = await ok(['s3', 'ls', '--recursive', `s3://${bucket}/sync/`]);
        const keys = listed
          .split('\n')
          .filter(Boolean)
          .map((line) => line.replace(/^\S+ \S+\s+\d+ /, ''))
          .sort();
        assert.deepEqual(
          keys,
          Object.keys(files)
            .map((name) => `sync/${name}`)
            .sort(),
        );
        // Nothing changed, so a second sync has nothing to do (sizes and LastModified compared).
        assert.equal((await ok(['s3', 'sync', up, `s3://${bucket}/sync/`, '--no-progress'])).trim(), '');
        const down = join(dir, 'sync-down');
        await ok(['s3', 'sync', `s3://${bucket}/sync/`, down, '--no-progress']);
        assert.deepEqual(await listFiles(down), Object.keys(files).sort());
        for (const [name, data] of Object.entries(files))
          assert.deepEqual(await readFile(join(down, name)), data, name);

        const removed = await ok(['s3', 'rm', `s3://${bucket}`, '--recursive']);
        assert.equal(
          removed.split('\n').filter((line) => line.startsWith('delete: ')).length,
          2 + Object.keys(files).length,
        );
        // rb without --force succeeds only on an empty bucket (DeleteBucket refuses others).
        assert.match(await ok(['s3', 'rb', `s3://${bucket}`]), new RegExp(`remove_bucket: ${bucket}`));
        await fails(['s3api', 'head-bucket', '--bucket', bucket], '404');
      });

      test('aws s3api: multipart step by step with CRC32, abort, attributes, SHA256 put, delete-objects', async () => {
        const bucket = `cli-${cli.name}-s3api`;
        const dir = join(work, 's3api');
        await mkdir(dir);

        const key = 'uploads/video ü.mp4';
        const parts = [randomBytes(6 * MiB), randomBytes(12_345)];
        const partPaths = parts.map((_, i) => join(dir, `part${i + 1}.bin`));
        for (const [i, data] of parts.entries()) await writeFile(partPaths[i]!, data);

        const created = await s3api<{
          Bucket: string;
          Key: string;
          UploadId: string;
          ChecksumAlgorithm?: string;
        }>([
          'create-multipart-upload',
          '--bucket',
          bucket,
          '--key',
          key,
          '--content-type',
          'video/mp4',
          '--checksum-algorithm',
          'CRC32',
        ]);
        assert.equal(created.Bucket, bucket);
        assert.equal(created.Key, key);
        assert.ok(created.UploadId);
        assert.equal(created.ChecksumAlgorithm, 'CRC32');
        const uploadId = created.UploadId;

        const uploaded: { ETag: string; ChecksumCRC32: string; PartNumber: number }[] = [];
        for (const [i, data] of parts.entries()) {
          const out = await s3api<{ ETag: string; ChecksumCRC32?: string }>([
            'upload-part',
            '--bucket',
            bucket,
            '--key',
            key,
            '--upload-id',
            uploadId,
            '--part-number',
            String(i + 1),
            '--body',
            partPaths[i]!,
            '--checksum-algorithm',
            'CRC32',
          ]);
          assert.equal(out.ETag, `"${md5Hex(data)}"`);
          assert.equal(out.ChecksumCRC32, crc32Base64(data));
          uploaded.push({ ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32, PartNumber: i + 1 });
        }

        // One page, unmerged: the CLI's paginator would drop UploadId (as it does against AWS).
        const listedParts = await s3api<{
          UploadId: string;
          ChecksumAlgorithm?: string;
          Parts: { PartNumber: number; Size: number; ETag: string; ChecksumCRC32?: string }[];
        }>(['list-parts', '--bucket', bucket, '--key', key, '--upload-id', uploadId, '--no-paginate']);
        assert.equal(listedParts.UploadId, uploadId);
        assert.equal(listedParts.ChecksumAlgorithm, 'CRC32');
        assert.deepEqual(
          listedParts.Parts.map((p) => [p.PartNumber, p.Size, p.ETag, p.ChecksumCRC32]),
          uploaded.map((p, i) => [p.PartNumber, parts[i]!.length, p.ETag, p.ChecksumCRC32]),
        );

        const uploads = await s3api<{ Uploads?: { Key: string; UploadId: string }[] }>([
          'list-multipart-uploads',
          '--bucket',
          bucket,
          '--no-paginate',
        ]);
        assert.ok(
          uploads.Uploads?.some((u) => u.Key === key && u.UploadId === uploadId),
          JSON.stringify(uploads),
        );

        const partsJson = join(dir, 'parts.json');
        await writeFile(partsJson, JSON.stringify({ Parts: uploaded }));
        const completed = await s3api<{ Bucket: string; Key: string; ETag: string; ChecksumCRC32?: string }>([
          'complete-multipart-upload',
          '--bucket',
          bucket,
          '--key',
          key,
          '--upload-id',
          uploadId,
          '--multipart-upload',
          `file://${partsJson}`,
        ]);
        const md5OfMd5s = createHash('md5')
          .update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest())))
          .digest('hex');
        const composite = `${crc32Base64(Buffer.concat(parts.map((p) => Buffer.from(crc32Base64(p), 'base64'))))}-2`;
        assert.equal(completed.Bucket, bucket);
        assert.equal(completed.Key, key);
        assert.equal(completed.ETag, `"${md5OfMd5s}-2"`);
        assert.equal(completed.ChecksumCRC32, composite);

        const whole = Buffer.concat(parts);
        const head = await s3api<{
          ETag: string;
          ContentLength: number;
          ContentType: string;
          ChecksumCRC32?: string;
        }>(['head-object', '--bucket', bucket, '--key', key, '--checksum-mode', 'ENABLED']);
        assert.match(head.ETag, /-2"$/);
        assert.equal(head.ETag, completed.ETag);
        assert.equal(head.ContentLength, whole.length);
        assert.equal(head.ContentType, 'video/mp4');
        assert.equal(head.ChecksumCRC32, composite);

        const downloaded = join(dir, 'video.down');
        const got = await s3api<{ ContentLength: number; ETag: string }>([
          'get-object',
          '--bucket',
          bucket,
          '--key',
          key,
          downloaded,
        ]);
        assert.equal(got.ContentLength, whole.length);
        assert.equal(got.ETag, completed.ETag);
        assert.equal(await sha256File(downloaded), sha256(whole));

        // Part 2 alone, by part number.
        const partDown = join(dir, 'part2.down');
        const gotPart = await s3api<{ PartsCount?: number; ContentLength: number }>([
          'get-object',
          '--bucket',
          bucket,
          '--key',
          key,
          '--part-number',
          '2',
          partDown,
        ]);
        assert.equal(gotPart.PartsCount, 2);
        assert.equal(gotPart.ContentLength, parts[1]!.length);
        assert.deepEqual(await readFile(partDown), parts[1]);

        const attributes = await s3api<{
          ETag: string;
          ObjectSize: number;
          StorageClass: string;
          Checksum?: { ChecksumCRC32?: string };
          ObjectParts?: {
            TotalPartsCount?: number;
            Parts?: { PartNumber: number; Size: number; ChecksumCRC32?: string }[];
          };
        }>([
          'get-object-attributes',
          '--bucket',
          bucket,
          '--key',
          key,
          '--object-attributes',
          'ETag',
          'Checksum',
          'ObjectParts',
          'StorageClass',
          'ObjectSize',
        ]);
        assert.equal(attributes.ETag, `${md5OfMd5s}-2`);
        assert.equal(attributes.ObjectSize, whole.length);
        assert.equal(attributes.StorageClass, 'STANDARD');
        assert.equal(attributes.Checksum?.ChecksumCRC32, composite.replace(/-2$/, ''));
        assert.equal(attributes.ObjectParts?.TotalPartsCount, 2);
        assert.deepEqual(
          attributes.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32]),
          uploaded.map((p, i) => [p.PartNumber, parts[i]!.length, p.ChecksumCRC32]),
        );

        // Abort another upload: its parts are gone and the upload id is unknown.
        const abortKey = 'uploads/aborted.bin';
        const other = await s3api<{ UploadId: string }>([
          'create-multipart-upload',
          '--bucket',
          bucket,
          '--key',
          abortKey,
        ]);
        await s3api([
          'upload-part',
          '--bucket',
          bucket,
          '--key',
          abortKey,
          '--upload-id',
          other.UploadId,
          '--part-number',
          '1',
          '--body',
          partPaths[1]!,
        ]);
        await s3api([
          'abort-multipart-upload',
          '--bucket',
          bucket,
          '--key',
          abortKey,
          '--upload-id',
          other.UploadId,
        ]);
        await fails(
          ['s3api', 'list-parts', '--bucket', bucket, '--key', abortKey, '--upload-id', other.UploadId],
          'NoSuchUpload',
        );

        // PutObject with a SHA-256 checksum the CLI computes.
        const doc = randomBytes(300_000);
        const docPath = join(dir, 'doc.bin');
        await writeFile(docPath, doc);
        const put = await s3api<{ ETag: string; ChecksumSHA256?: string }>([
          'put-object',
          '--bucket',
          bucket,
          '--key',
          'docs/doc.bin',
          '--body',
          docPath,
          '--checksum-algorithm',
          'SHA256',
        ]);
        const docSha256 = createHash('sha256').update(doc).digest('base64');
        assert.equal(put.ETag, `"${md5Hex(doc)}"`);
        assert.equal(put.ChecksumSHA256, docSha256);

        // delete-objects, including a key that does not exist (S3 reports it deleted too).
        const deleteJson = join(dir, 'delete.json');
        const toDelete = [key, 'docs/doc.bin', 'never/existed'];
        await writeFile(deleteJson, JSON.stringify({ Objects: toDelete.map((Key) => ({ Key })) }));
        const deleted = await s3api<{ Deleted?: { Key: string }[]; Errors?: unknown[] }>([
          'delete-objects',
          '--bucket',
          bucket,
          '--delete',
          `file://${deleteJson}`,
        ]);
        assert.deepEqual(deleted.Deleted?.map((d) => d.Key).sort(), [...toDelete].sort());
        assert.equal(deleted.Errors?.length ?? 0, 0);
        // DeleteBucket succeeds only once every object is gone.
        await s3api(['delete-bucket', '--bucket', bucket]);
      });

      test('over HTTPS: aws-chunked uploads with CRC32 trailers, multipart cp up and down', async () => {
        const bucket = `cli-${cli.name}-https`;
        const dir = join(work, 'https');
        await mkdir(dir);
        const { key, cert, certPath } = await selfSignedCertificate(dir);
        const front = await startTlsFront(hook, server.port, key, cert);
        const https: RunOptions = { endpoint: front.url, env: { AWS_CA_BUNDLE: certPath } };

        // Content-Encoding: aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER, x-amz-trailer: x-amz-checksum-crc32.
        const doc = randomBytes(MiB + 123);
        const docPath = join(dir, 'doc.bin');
        await writeFile(docPath, doc);
        const put = await s3api<{ ETag: string; ChecksumCRC32?: string }>(
          [
            'put-object',
            '--bucket',
            bucket,
            '--key',
            'trailer.bin',
            '--body',
            docPath,
            '--checksum-algorithm',
            'CRC32',
          ],
          https,
        );
        assert.equal(put.ETag, `"${md5Hex(doc)}"`);
        assert.equal(put.ChecksumCRC32, crc32Base64(doc));
        // The body really was aws-chunked with the CRC32 in the trailer (not in a header).
        assert.equal(front.seen('STREAMING-UNSIGNED-PAYLOAD-TRAILER'), 1);
        assert.equal(front.seen('x-amz-checksum-crc32:'), 1);
        const docDown = join(dir, 'doc.down');
        const got = await s3api<{ ChecksumCRC32?: string; ContentLength: number }>(
          ['get-object', '--bucket', bucket, '--key', 'trailer.bin', '--checksum-mode', 'ENABLED', docDown],
          https,
        );
        assert.equal(got.ChecksumCRC32, crc32Base64(doc));
        assert.deepEqual(await readFile(docDown), doc);

        // 20 MiB: three parts (v1 sends each with a CRC32 trailer, v2 with Content-MD5), ranged GETs down.
        const big = randomBytes(20 * MiB);
        const bigPath = join(dir, 'big.bin');
        await writeFile(bigPath, big);
        await ok(['s3', 'cp', bigPath, `s3://${bucket}/big.bin`, '--no-progress'], https);
        const head = await s3api<{ ETag: string; ContentLength: number }>(
          ['head-object', '--bucket', bucket, '--key', 'big.bin'],
          https,
        );
        assert.match(head.ETag, /^"[0-9a-f]{32}-3"$/);
        assert.equal(head.ContentLength, big.length);
        const bigDown = join(dir, 'big.down');
        await ok(['s3', 'cp', `s3://${bucket}/big.bin`, bigDown, '--no-progress'], https);
        assert.equal(await sha256File(bigDown), sha256(big));
      });

      test('errors carry AWS error codes: NoSuchKey, NoSuchBucket, SignatureDoesNotMatch, InvalidBucketName', async () => {
        const bucket = `cli-${cli.name}-errors`;
        const smallPath = join(work, 'errors-small.txt');
        await writeFile(smallPath, 'x'.repeat(1000));

        const missing = await fails(
          ['s3api', 'get-object', '--bucket', bucket, '--key', 'no/such key', join(work, 'never.out')],
          'NoSuchKey',
        );
        assert.match(missing, /GetObject/);
        await fails(['s3', 'ls', `s3://cli-${cli.name}-no-such-bucket`], 'NoSuchBucket');

        const wrongSecret = { env: { AWS_SECRET_ACCESS_KEY: `${TEST_CREDENTIALS.secretAccessKey}-wrong` } };
        await fails(['s3api', 'list-buckets'], 'SignatureDoesNotMatch', wrongSecret);
        await fails(
          ['s3api', 'put-object', '--bucket', bucket, '--key', 'denied.txt', '--body', smallPath],
          'SignatureDoesNotMatch',
          wrongSecret,
        );
        await fails(['s3api', 'head-object', '--bucket', bucket, '--key', 'denied.txt'], '404');

        // Passes the CLI's own bucket-name check (letters, digits, . - _) but not S3's rules.
        const invalid = await fails(
          ['s3api', 'create-bucket', '--bucket', 'Invalid_Bucket_Name'],
          'InvalidBucketName',
        );
        assert.match(invalid, /CreateBucket/);
      });
    });
  }
});
