/**
 * The browser adapters in real headless Chromium, built by scripts/build-browser.ts and
 * talking to the real local S3 server: XHR transport (progress, ETag through CORS, abort,
 * network failure), Blob source ranges, the IndexedDB resume store across a reload, and the
 * worker hasher against Node's CRC32C, from bytes and from File slices it reads itself.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type * as Adapters from '@hoist/client/browser';
import type { ResumeRecord } from '@hoist/client/internal/types';
import { crc32c } from '@hoist/server/internal/checksum/crc32c';
import type { BrowserContext } from 'playwright-core';
import {
  type BrowserBuild,
  buildBrowserBundles,
  CORE_BUDGET_BYTES,
  formatBuildReport,
} from '../packages/uploader/scripts/build-browser.ts';
import {
  launchBrowser,
  makePageFile,
  type OpenedPage,
  openPage,
  type StaticServer,
  seededBytes,
  seededDigest,
  serveStatic,
} from './helpers/browser.ts';
import { suiteCleanup } from './helpers/s3.ts';
import { startTestServer, type TestServer, tmpDir } from './helpers/server.ts';

const MiB = 1024 * 1024;
/** The test page loads the bundle as `window.hoist`. */
type WithBundle = { hoist: typeof Adapters };

/** Big-endian CRC as S3 writes it in x-amz-checksum-crc32c. */
function crc32cBase64(bytes: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32c(bytes));
  return out.toString('base64');
}

function record(key: string, parts: number): ResumeRecord {
  return {
    version: 1,
    key,
    fingerprint: `fp-${key}`,
    fileName: `${key}.bin`,
    fileSize: parts * 8 * MiB,
    brokerUrl: 'http://127.0.0.1:1/api',
    id: `up-${key}`,
    objectKey: `uploads/u1/${key}.bin`,
    bucket: 'b',
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:2',
    forcePathStyle: true,
    mode: 'sts',
    uploadId: `mpu-${key}`,
    partSize: 8 * MiB,
    checksumAlgorithm: 'CRC32C',
    checksumType: 'FULL_OBJECT',
    parts: Array.from({ length: parts }, (_, i) => ({
      partNumber: i + 1,
      size: 8 * MiB,
      etag: `"etag-${i + 1}"`,
      checksum: 'AAAAAA==',
    })),
    createdAt: '2025-01-01T00:00:00.000Z',
    expiresAt: '2025-01-02T00:00:00.000Z',
  };
}

describe('browser adapters in headless Chromium', () => {
  const cleanup = suiteCleanup();
  let build: BrowserBuild;
  let web: StaticServer;
  let s3: TestServer;
  let presigner: S3Client;
  let browser: BrowserContext;
  /** A port nothing listens on (bound, then closed). */
  let deadPort: number;
  /** A disk file the page picks through an <input type=file>. */
  let diskFile: string;

  before(async () => {
    const dir = await tmpDir(cleanup, 'hoist-browser-');
    build = await buildBrowserBundles(join(dir, 'dist'));
    diskFile = join(dir, 'picked.bin');
    web = await serveStatic(cleanup, {
      dir: join(dir, 'dist'),
      routes: {
        '/': {
          body:
            '<!doctype html><meta charset=utf-8><title>hoist adapters</title><input type=file>' +
            "<script type=module>import * as hoist from '/hoist.js'; window.hoist = hoist;</script>",
        },
        // Reads the whole body, then never answers: only an abort can end the request.
        '/hang': (req) => {
          req.resume();
        },
      },
    });
    s3 = await startTestServer(cleanup);
    // Presigned PUTs carry no checksum of their own (the SDK would sign one for an empty body).
    presigner = s3.makeClient({ requestChecksumCalculation: 'WHEN_REQUIRED' });
    for (const [bucket, expose] of [
      ['exposed', ['ETag']],
      ['hidden', []],
    ] as const) {
      await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.client.send(
        new PutBucketCorsCommand({
          Bucket: bucket,
          CORSConfiguration: {
            CORSRules: [
              {
                AllowedOrigins: [web.origin],
                AllowedMethods: ['PUT', 'POST', 'GET'],
                AllowedHeaders: ['*'],
                ExposeHeaders: [...expose],
              },
            ],
          },
        }),
      );
    }
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    deadPort = (probe.address() as AddressInfo).port;
    await new Promise((done) => probe.close(done));
    browser = await launchBrowser(cleanup);
  });

  const presignPut = (bucket: string, key: string): Promise<string> =>
    getSignedUrl(presigner, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 });

  const page = (): Promise<OpenedPage> => openPage(browser, web.url('/'));

  it('builds the bundles and reports the core size', (t) => {
    t.diagnostic(formatBuildReport(build));
    const names = build.files.map((file) => file.path.slice(build.outDir.length + 1));
    assert.ok(names.includes('hoist.js'), names.join());
    assert.ok(names.includes('hoist-hash-worker.js'), names.join());
    assert.ok(build.core.gzipBytes > 0);
    assert.ok(
      build.core.gzipBytes <= CORE_BUDGET_BYTES,
      `core bundle ${build.core.gzipBytes} B min+gzip is over the ${CORE_BUDGET_BYTES} B budget`,
    );
  });

  it('XHR transport: PUTs 16 MiB to a presigned URL, with monotonic progress and a readable ETag', async () => {
    const { page: tab, errors } = await page();
    const size = 16 * MiB;
    const seed = 16;
    const file = await makePageFile(tab, { seed, size });
    const url = await presignPut('exposed', 'xhr/16mib.bin');
    const result = await tab.evaluate(
      async ({ file, url }) => {
        const { createXhrTransport } = (window as unknown as WithBundle).hoist;
        const progress: number[] = [];
        const body = new Uint8Array(await file.arrayBuffer());
        const response = await createXhrTransport().send({
          method: 'PUT',
          url,
          headers: { 'content-type': 'application/octet-stream' },
          body,
          signal: new AbortController().signal,
          onUploadProgress: (sent) => progress.push(sent),
        });
        return { status: response.status, etag: response.header('etag'), progress, text: response.text };
      },
      { file, url },
    );
    assert.equal(result.status, 200, `${result.text} ${errors.join('\n')}`);
    assert.equal(result.etag, `"${seededDigest(seed, size, 'md5')}"`);
    assert.ok(result.progress.length > 0);
    for (let i = 1; i < result.progress.length; i++) {
      assert.ok(
        result.progress[i]! > result.progress[i - 1]!,
        `progress went ${result.progress.join(' → ')}`,
      );
    }
    assert.equal(result.progress.at(-1), size);

    const stored = await s3.client.send(new GetObjectCommand({ Bucket: 'exposed', Key: 'xhr/16mib.bin' }));
    const hash = createHash('sha256');
    for await (const chunk of stored.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
    assert.equal(hash.digest('hex'), seededDigest(seed, size));
  });

  it('XHR transport: an ETag the bucket CORS does not expose reads as null', async () => {
    const { page: tab } = await page();
    const url = await presignPut('hidden', 'xhr/hidden.txt');
    const result = await tab.evaluate(async (url) => {
      const { createXhrTransport } = (window as unknown as WithBundle).hoist;
      const response = await createXhrTransport().send({
        method: 'PUT',
        url,
        headers: {},
        body: 'hello',
        signal: new AbortController().signal,
      });
      return {
        status: response.status,
        etag: response.header('etag'),
        type: response.header('content-type'),
      };
    }, url);
    assert.equal(result.status, 200);
    assert.equal(result.etag, null);
  });

  it('XHR transport: error statuses resolve with their body', async () => {
    const { page: tab } = await page();
    const url = new URL(await presignPut('exposed', 'xhr/denied.bin'));
    url.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    const result = await tab.evaluate(async (url) => {
      const { createXhrTransport } = (window as unknown as WithBundle).hoist;
      const response = await createXhrTransport().send({
        method: 'PUT',
        url,
        headers: {},
        body: new Uint8Array(10),
        signal: new AbortController().signal,
      });
      return { status: response.status, text: response.text };
    }, url.href);
    assert.equal(result.status, 403);
    assert.match(result.text, /<Code>SignatureDoesNotMatch<\/Code>/);
  });

  it('XHR transport: abort rejects with AbortError, a dead port with TypeError', async () => {
    const { page: tab } = await page();
    const result = await tab.evaluate(async (deadUrl) => {
      const { createXhrTransport } = (window as unknown as WithBundle).hoist;
      const transport = createXhrTransport();
      const outcome = (promise: Promise<unknown>) =>
        promise.then(
          () => 'resolved',
          (error: Error) => `${error.constructor.name}:${error.name}:${error.message}`,
        );
      const body = new Uint8Array(1024 * 1024);
      const controller = new AbortController();
      // The server never answers /hang: the request ends only because of the abort, fired once
      // the whole body is out.
      const aborted = outcome(
        transport.send({
          method: 'PUT',
          url: '/hang',
          headers: {},
          body,
          signal: controller.signal,
          onUploadProgress: (sent) => {
            if (sent === body.byteLength) controller.abort();
          },
        }),
      );
      const early = new AbortController();
      early.abort();
      const preAborted = outcome(
        transport.send({ method: 'GET', url: '/hang', headers: {}, signal: early.signal }),
      );
      const network = outcome(
        transport.send({
          method: 'PUT',
          url: deadUrl,
          headers: {},
          body,
          signal: new AbortController().signal,
        }),
      );
      return { aborted: await aborted, preAborted: await preAborted, network: await network };
    }, `http://127.0.0.1:${deadPort}/bucket/key`);
    assert.match(result.aborted, /^DOMException:AbortError:/);
    assert.match(result.preAborted, /^DOMException:AbortError:/);
    assert.equal(result.network, 'TypeError:TypeError:network error');
  });

  it('blob source: exact ranges, File metadata, plain Blobs, invalid ranges', async () => {
    const { page: tab } = await page();
    const size = 3 * MiB + 17;
    const seed = 7;
    const file = await makePageFile(tab, {
      seed,
      size,
      name: 'clip.mov',
      type: 'video/quicktime',
      lastModified: 1_234_567_890_000,
    });
    const ranges: [number, number][] = [
      [0, 0],
      [0, 1],
      [MiB - 1, MiB + 1],
      [5, size],
      [size - 17, size],
    ];
    const result = await tab.evaluate(
      async ({ file, ranges }) => {
        const { blobSource } = (window as unknown as WithBundle).hoist;
        const source = blobSource(file);
        const hex = async (bytes: Uint8Array) =>
          Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource)), (b) =>
            b.toString(16).padStart(2, '0'),
          ).join('');
        const reads = [];
        for (const [start, end] of ranges) {
          const bytes = await source.read(start, end);
          reads.push({ length: bytes.byteLength, sha256: await hex(bytes) });
        }
        const plain = blobSource(new Blob(['abc'], { type: 'text/plain' }));
        const invalid = await source.read(0, source.size + 1).then(
          () => 'resolved',
          (error: Error) => error.name,
        );
        return {
          meta: [source.name, source.size, source.type, source.lastModified],
          renamed: blobSource(file, 'other.mov').name,
          plain: [plain.name, plain.size, plain.type, plain.lastModified],
          plainText: new TextDecoder().decode(await plain.read(1, 3)),
          reads,
          invalid,
        };
      },
      { file, ranges },
    );
    assert.deepEqual(result.meta, ['clip.mov', size, 'video/quicktime', 1_234_567_890_000]);
    assert.equal(result.renamed, 'other.mov');
    assert.deepEqual(result.plain, ['', 3, 'text/plain', 0]);
    assert.equal(result.plainText, 'bc');
    assert.deepEqual(
      result.reads,
      ranges.map(([start, end]) => ({
        length: end - start,
        sha256: createHash('sha256')
          .update(seededBytes(seed, start, end))
          .digest('hex'),
      })),
    );
    assert.equal(result.invalid, 'RangeError');
  });

  it("blob source: a picked file that shrinks on disk fails with 'read-failed'", async () => {
    const { page: tab } = await page();
    await writeFile(diskFile, seededBytes(3, 0, 2 * MiB));
    await tab.locator('input[type=file]').setInputFiles(diskFile);
    const first = await tab.evaluate(async () => {
      const { blobSource } = (window as unknown as WithBundle).hoist;
      const source = blobSource(document.querySelector('input')!.files![0]!);
      (window as unknown as { source: typeof source }).source = source;
      return Array.from(await source.read(0, 4));
    });
    assert.deepEqual(first, Array.from((await readFile(diskFile)).subarray(0, 4)));
    await truncate(diskFile, MiB);
    const failure = await tab.evaluate(async (half) => {
      const { source } = window as unknown as { source: ReturnType<typeof Adapters.blobSource> };
      return source.read(half, 2 * half).then(
        () => 'resolved',
        (error: { name: string; code?: string }) => `${error.name}:${error.code}`,
      );
    }, MiB);
    assert.equal(failure, 'UploadError:read-failed');
  });

  it('IndexedDB store: set/get/list/delete, and the records survive a reload', async () => {
    const { page: tab } = await page();
    const [a, b, a2] = [record('a', 1), record('b', 2), record('a', 3)];
    const before = await tab.evaluate(
      async ({ a, b, a2 }) => {
        const { createIndexedDbStore } = (window as unknown as WithBundle).hoist;
        const store = createIndexedDbStore('hoist-test');
        await store.set(a);
        await store.set(b);
        const listed = (await store.list()).map((r) => r.key).sort();
        const gotB = await store.get('b');
        await store.delete('b');
        await store.set(a2); // same key: replaces
        return { listed, gotB, missing: await store.get('nope') };
      },
      { a, b, a2 },
    );
    assert.deepEqual(before.listed, ['a', 'b']);
    assert.deepEqual(before.gotB, b);
    assert.equal(before.missing, undefined);

    await tab.reload();
    const after = await tab.evaluate(async () => {
      const { createIndexedDbStore } = (window as unknown as WithBundle).hoist;
      const store = createIndexedDbStore('hoist-test');
      return {
        list: await store.list(),
        a: await store.get('a'),
        b: await store.get('b'),
        other: await createIndexedDbStore('hoist-test-other').list(),
      };
    });
    assert.deepEqual(after.list, [a2]);
    assert.deepEqual(after.a, a2);
    assert.equal(after.b, undefined);
    assert.deepEqual(after.other, []);
  });

  it('worker hasher: same CRC32C and SHA-256 as Node, off the main thread; falls back without a worker', async () => {
    const { page: tab, errors } = await page();
    const size = 8 * MiB;
    const seed = 8;
    const file = await makePageFile(tab, { seed, size });
    const result = await tab.evaluate(async (file) => {
      const { createWorkerHasher } = (window as unknown as WithBundle).hoist;
      const bytes = new Uint8Array(await file.arrayBuffer());
      const view = bytes.subarray(3, 3 + 5 * 1024 * 1024);
      const hasher = createWorkerHasher({ workers: 2 });
      const [whole, part, sha, again] = await Promise.all([
        hasher.digest('CRC32C', bytes),
        hasher.digest('CRC32C', view),
        hasher.digest('SHA256', bytes),
        hasher.digest('CRC32C', bytes),
      ]);
      const backend = hasher.backend;
      const pending = hasher.digest('CRC32C', bytes);
      hasher.terminate();
      const terminated = await pending.then(
        () => 'resolved',
        (error: Error) => error.name,
      );
      const afterTerminate = await hasher.digest('CRC32C', view);
      hasher.terminate();

      const missing = createWorkerHasher({ workerUrl: '/no-such-worker.js' });
      const fallback = await missing.digest('CRC32C', view);
      return {
        whole,
        part,
        sha,
        again,
        backend,
        terminated,
        afterTerminate,
        fallback,
        fallbackBackend: missing.backend,
        intact: bytes.byteLength,
      };
    }, file);
    const bytes = seededBytes(seed, 0, size);
    const view = bytes.subarray(3, 3 + 5 * MiB);
    assert.equal(result.whole, crc32cBase64(bytes), errors.join('\n'));
    assert.equal(result.again, result.whole);
    assert.equal(result.part, crc32cBase64(view));
    assert.equal(result.sha, createHash('sha256').update(bytes).digest('base64'));
    assert.equal(result.backend, 'worker');
    assert.equal(result.terminated, 'AbortError');
    assert.equal(result.afterTerminate, result.part);
    assert.equal(result.intact, size, 'the caller keeps its bytes');
    assert.equal(result.fallback, result.part);
    assert.equal(result.fallbackBackend, 'main-thread');
  });

  it("worker hasher: File slices are read and hashed in the worker; a shrunk file fails with 'read-failed'", async () => {
    const { page: tab, errors } = await page();
    const size = 12 * MiB;
    await writeFile(diskFile, seededBytes(9, 0, size));
    await tab.locator('input[type=file]').setInputFiles(diskFile);
    const result = await tab.evaluate(async () => {
      const { createWorkerHasher } = (window as unknown as WithBundle).hoist;
      const file = document.querySelector('input')!.files![0]!;
      const hasher = createWorkerHasher({ workers: 2 });
      const missing = createWorkerHasher({ workerUrl: '/no-such-worker.js' });
      const slice = () => file.slice(3, 3 + 5 * 1024 * 1024);
      const [part, whole, fallback] = await Promise.all([
        hasher.digestBlob!('CRC32C', slice()),
        hasher.digestBlob!('SHA256', file),
        missing.digestBlob!('CRC32C', slice()),
      ]);
      (window as unknown as { hashers: unknown }).hashers = { hasher, missing, file };
      return { part, whole, fallback, backend: hasher.backend, fallbackBackend: missing.backend };
    });
    const bytes = seededBytes(9, 0, size);
    assert.equal(result.part, crc32cBase64(bytes.subarray(3, 3 + 5 * MiB)), errors.join('\n'));
    assert.equal(result.whole, createHash('sha256').update(bytes).digest('base64'));
    assert.equal(result.fallback, result.part);
    assert.equal(result.backend, 'worker');
    assert.equal(result.fallbackBackend, 'main-thread');

    await truncate(diskFile, MiB);
    const failures = await tab.evaluate(async (mib) => {
      type Hasher = ReturnType<typeof Adapters.createWorkerHasher>;
      const { hasher, missing, file } = (
        window as unknown as { hashers: { hasher: Hasher; missing: Hasher; file: File } }
      ).hashers;
      const outcome = (digest: Promise<string>) =>
        digest.then(
          () => 'resolved',
          (error: { name: string; code?: string }) => `${error.name}:${error.code}`,
        );
      return Promise.all([
        outcome(hasher.digestBlob!('CRC32C', file.slice(mib, 2 * mib))),
        outcome(missing.digestBlob!('CRC32C', file.slice(mib, 2 * mib))),
      ]);
    }, MiB);
    assert.deepEqual(failures, ['UploadError:read-failed', 'UploadError:read-failed']);
  });
});
