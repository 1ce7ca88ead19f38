import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UploadError } from './errors.ts';
import { resolveOptions } from './options.ts';
import type { HttpTransport, PartHasher, ResumeStore, UploadOptions, UploadSource } from './types.ts';

const MiB = 1024 * 1024;

function source(overrides: Partial<UploadSource> = {}): UploadSource {
  const bytes = new Uint8Array(1000);
  return {
    name: 'film.mp4',
    size: bytes.length,
    type: 'video/mp4',
    lastModified: 1_700_000_000_000,
    read: async (start, end) => bytes.slice(start, end),
    ...overrides,
  };
}

// The options module only checks the shapes of these; they are never called here.
const transport: HttpTransport = {
  send: () => Promise.reject(new Error('not used')),
};
const hasher: PartHasher = { digest: () => Promise.reject(new Error('not used')) };

function valid(overrides: Record<string, unknown> = {}): UploadOptions {
  return {
    source: source(),
    brokerUrl: 'https://app.example/api/hoist',
    transport,
    hasher,
    ...overrides,
  } as UploadOptions;
}

/** Asserts that the options are refused with invalid-options naming `option`. */
function refused(overrides: Record<string, unknown>, option: string): void {
  assert.throws(
    () => resolveOptions(valid(overrides)),
    (error: unknown) => {
      assert.ok(error instanceof UploadError, `an UploadError, got ${String(error)}`);
      assert.equal(error.code, 'invalid-options');
      assert.ok(
        error.message.includes(`options.${option} `),
        `the message names options.${option}: ${error.message}`,
      );
      return true;
    },
    `${JSON.stringify(overrides, (_, v) => (v === undefined ? '<undefined>' : v))} is refused`,
  );
}

describe('resolveOptions: defaults', () => {
  test('fills every default from a minimal options object', () => {
    const before = Date.now();
    const o = resolveOptions(valid());
    assert.equal(o.brokerUrl, 'https://app.example/api/hoist');
    assert.equal(o.token, undefined);
    assert.equal(o.contentType, 'video/mp4', "the source's type");
    assert.equal(o.filename, 'film.mp4', "the source's name");
    assert.equal(o.metadata, undefined);
    assert.equal(o.checksumAlgorithm, 'CRC32C');
    assert.equal(o.singleRequest, 'post', "small files as the broker's POST form");
    assert.equal(o.partSize, undefined, 'the broker decides');
    assert.equal(o.concurrency, 4);
    assert.equal(o.adaptiveConcurrency, true);
    assert.equal(o.maxConcurrency, 16);
    assert.deepEqual(o.retry, { maxAttempts: 8, baseDelayMs: 300, maxDelayMs: 20_000 });
    assert.equal(o.stallTimeoutMs, 30_000);
    assert.equal(o.refreshMarginMs, 300_000);
    assert.equal(o.store, undefined);
    assert.equal(o.transport, transport);
    assert.equal(o.hasher, hasher);
    assert.equal(o.fetch, undefined);
    assert.equal(o.signal, undefined);
    assert.equal(typeof o.now, 'function');
    assert.ok(o.now() >= before, 'the default clock is the real one');
    assert.match(o.resumeKey, /film\.mp4/);
  });

  test('a source without a type uploads as application/octet-stream', () => {
    assert.equal(
      resolveOptions(valid({ source: source({ type: '' }) })).contentType,
      'application/octet-stream',
    );
  });

  test('a trailing slash on brokerUrl is dropped', () => {
    assert.equal(
      resolveOptions(valid({ brokerUrl: 'https://app.example/api/' })).brokerUrl,
      'https://app.example/api',
    );
    assert.equal(
      resolveOptions(valid({ brokerUrl: 'http://127.0.0.1:8080' })).brokerUrl,
      'http://127.0.0.1:8080',
    );
  });

  test('the default resume key differs per broker, name, size and mtime', () => {
    const keys = new Set(
      [
        valid(),
        valid({ brokerUrl: 'https://other.example/api/hoist' }),
        valid({ source: source({ name: 'other.mp4' }) }),
        valid({ source: source({ size: 999 }) }),
        valid({ source: source({ lastModified: 1 }) }),
      ].map((o) => resolveOptions(o).resumeKey),
    );
    assert.equal(keys.size, 5);
  });

  test('given values are kept', () => {
    const store: ResumeStore = {
      get: async () => undefined,
      set: async () => undefined,
      delete: async () => undefined,
      list: async () => [],
    };
    const now = () => 42;
    const signal = new AbortController().signal;
    const token = () => 't';
    const o = resolveOptions(
      valid({
        token,
        contentType: 'text/plain; charset=utf-8',
        filename: 'renamed.txt',
        metadata: { project: 'x' },
        checksumAlgorithm: 'SHA256',
        partSize: 16 * MiB,
        concurrency: 32,
        adaptiveConcurrency: false,
        retry: { maxAttempts: 3 },
        stallTimeoutMs: 5000,
        refreshMarginMs: 0,
        store,
        resumeKey: 'mine',
        now,
        signal,
      }),
    );
    assert.equal(o.token, token);
    assert.equal(o.contentType, 'text/plain; charset=utf-8');
    assert.equal(o.filename, 'renamed.txt');
    assert.deepEqual(o.metadata, { project: 'x' });
    assert.equal(o.checksumAlgorithm, 'SHA256');
    assert.equal(o.partSize, 16 * MiB);
    assert.equal(o.concurrency, 32);
    assert.equal(o.maxConcurrency, 32, 'the default max is never below the start value');
    assert.equal(o.adaptiveConcurrency, false);
    assert.deepEqual(o.retry, { maxAttempts: 3, baseDelayMs: 300, maxDelayMs: 20_000 });
    assert.equal(o.stallTimeoutMs, 5000);
    assert.equal(o.refreshMarginMs, 0);
    assert.equal(o.store, store);
    assert.equal(o.resumeKey, 'mine');
    assert.equal(o.now, now);
    assert.equal(o.signal, signal);
  });

  test('boundary values are accepted', () => {
    for (const partSize of [5 * MiB, 5 * 1024 * MiB]) resolveOptions(valid({ partSize }));
    for (const concurrency of [1, 64]) resolveOptions(valid({ concurrency }));
    resolveOptions(valid({ concurrency: 8, maxConcurrency: 8 }));
    for (const checksumAlgorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'])
      resolveOptions(valid({ checksumAlgorithm }));
    resolveOptions(valid({ source: source({ size: 0 }) }));
  });
});

describe('resolveOptions: every bad option is refused and named', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['brokerUrl', { brokerUrl: 'not a url' }],
    ['brokerUrl', { brokerUrl: '/api/hoist' }],
    ['brokerUrl', { brokerUrl: undefined }],
    ['brokerUrl', { brokerUrl: 'ftp://app.example/' }],
    ['brokerUrl', { brokerUrl: 'https://user:pass@app.example/api' }],
    ['brokerUrl', { brokerUrl: 'https://user@app.example/api' }],
    ['singleRequest', { singleRequest: 'get' }],
    ['singleRequest', { singleRequest: 'POST' }],
    ['partSize', { partSize: 5 * MiB + 1 }],
    ['partSize', { partSize: 6.5 * MiB }],
    ['partSize', { partSize: 4 * MiB }],
    ['partSize', { partSize: 0 }],
    ['partSize', { partSize: 5 * 1024 * MiB + MiB }],
    ['partSize', { partSize: '8MiB' }],
    ['concurrency', { concurrency: 0 }],
    ['concurrency', { concurrency: 65 }],
    ['concurrency', { concurrency: 1.5 }],
    ['concurrency', { concurrency: -1 }],
    ['concurrency', { concurrency: Number.NaN }],
    ['concurrency', { concurrency: '4' }],
    ['maxConcurrency', { concurrency: 8, maxConcurrency: 4 }],
    ['maxConcurrency', { maxConcurrency: 65 }],
    ['checksumAlgorithm', { checksumAlgorithm: 'MD5' }],
    ['checksumAlgorithm', { checksumAlgorithm: 'crc32c' }],
    ['contentType', { contentType: 'video' }],
    ['contentType', { contentType: '' }],
    ['contentType', { contentType: 'text/plain\r\nx-evil: 1' }],
    ['contentType', { contentType: 42 }],
    ['contentType', { contentType: 'video/*' }],
    ['contentType', { contentType: `video/${'x'.repeat(250)}` }],
    ['contentType', { source: source({ type: 'not a type' }) }],
    ['transport', { transport: undefined }],
    ['transport', { transport: {} }],
    ['hasher', { hasher: undefined }],
    ['hasher', { hasher: { digest: 'sha' } }],
    ['source', { source: undefined }],
    ['source', { source: { name: 'x', size: 1 } }],
    ['source', { source: source({ size: -1 }) }],
    ['source', { source: source({ size: 1.5 }) }],
    ['token', { token: 42 }],
    ['filename', { filename: '   ' }],
    ['metadata', { metadata: 'x=1' }],
    ['metadata.count', { metadata: { count: 1 } }],
    ['adaptiveConcurrency', { adaptiveConcurrency: 'yes' }],
    ['retry.maxAttempts', { retry: { maxAttempts: 0 } }],
    ['retry.baseDelayMs', { retry: { baseDelayMs: -1 } }],
    ['retry.maxDelayMs', { retry: { baseDelayMs: 1000, maxDelayMs: 10 } }],
    ['stallTimeoutMs', { stallTimeoutMs: 0 }],
    ['refreshMarginMs', { refreshMarginMs: -1 }],
    ['store', { store: { get: () => undefined } }],
    ['fetch', { fetch: 'fetch' }],
    ['now', { now: 123 }],
    ['resumeKey', { resumeKey: '' }],
  ];
  for (const [option, overrides] of cases) {
    test(`${option}: ${JSON.stringify(overrides, (_, v) => (v === undefined ? '<undefined>' : v))}`, () =>
      refused(overrides, option));
  }

  test('a non-object is refused', () => {
    for (const value of [undefined, null, 'options']) {
      assert.throws(
        () => resolveOptions(value as unknown as UploadOptions),
        (e) => e instanceof UploadError && e.code === 'invalid-options',
      );
    }
  });
});
