import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { suiteCleanup } from '../../../test/helpers/s3.ts';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../../../test/helpers/server.ts';
import { UploadError } from './errors.ts';
import { classifyS3Response, objectUrl, parseS3Error, requireEtag, signedPutHeaders } from './s3.ts';
import type { HttpResponse } from './types.ts';

function response(status: number, text = '', headers: Record<string, string> = {}): HttpResponse {
  return { status, text, header: (name) => headers[name] ?? null };
}

/** S3's error document, as AWS documents it. */
function s3Error(code: string, message: string, extra = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>4442587FB7D0A2F9</RequestId><HostId>abc=</HostId></Error>`;
}

async function fromFetch(res: Response): Promise<HttpResponse> {
  const text = await res.text();
  return { status: res.status, text, header: (name) => res.headers.get(name) };
}

describe('objectUrl', () => {
  const base = { bucket: 'uploads', region: 'us-east-1' };

  test('path-style: endpoint/bucket/key', () => {
    assert.equal(
      objectUrl({
        ...base,
        endpoint: 'http://127.0.0.1:9000',
        key: 'files/alice/1/a.mp4',
        forcePathStyle: true,
      }),
      'http://127.0.0.1:9000/uploads/files/alice/1/a.mp4',
    );
  });

  test('virtual-hosted: bucket.host/key, port kept', () => {
    assert.equal(
      objectUrl({
        ...base,
        endpoint: 'https://s3.eu-west-1.amazonaws.com',
        key: 'files/a.mp4',
        forcePathStyle: false,
      }),
      'https://uploads.s3.eu-west-1.amazonaws.com/files/a.mp4',
    );
    assert.equal(
      objectUrl({ ...base, endpoint: 'http://minio.local:9000/', key: 'k', forcePathStyle: false }),
      'http://uploads.minio.local:9000/k',
    );
  });

  test('keys with spaces, unicode, +, % and reserved characters are encoded once, slashes kept', () => {
    const cases: [string, string][] = [
      ['my file.mp4', 'my%20file.mp4'],
      ['a+b.txt', 'a%2Bb.txt'],
      ['100%.txt', '100%25.txt'],
      ['50%25 done', '50%2525%20done'],
      ['Ünïcode ✓/файл.mp4', '%C3%9Cn%C3%AFcode%20%E2%9C%93/%D1%84%D0%B0%D0%B9%D0%BB.mp4'],
      ['q?x#y&z=1', 'q%3Fx%23y%26z%3D1'],
      ['dir/sub dir/~name_-.ext', 'dir/sub%20dir/~name_-.ext'],
    ];
    for (const [key, encoded] of cases) {
      for (const forcePathStyle of [true, false]) {
        const url = objectUrl({ ...base, endpoint: 'https://s3.example.com', key, forcePathStyle });
        const expected = forcePathStyle
          ? `https://s3.example.com/uploads/${encoded}`
          : `https://uploads.s3.example.com/${encoded}`;
        assert.equal(url, expected, key);
        // What fetch would send: the URL parser must keep the path as it is.
        assert.equal(new URL(url).href, expected, `${key} survives URL parsing`);
        assert.equal(decodeURIComponent(new URL(url).pathname).endsWith(`/${key}`), true);
      }
    }
  });

  test('endpoint base paths are kept (with or without a trailing slash)', () => {
    for (const endpoint of [
      'https://gw.example.com/s3',
      'https://gw.example.com/s3/',
      'https://gw.example.com/s3//',
    ]) {
      assert.equal(
        objectUrl({ ...base, endpoint, key: 'a b', forcePathStyle: true }),
        'https://gw.example.com/s3/uploads/a%20b',
        endpoint,
      );
      assert.equal(
        objectUrl({ ...base, endpoint, key: 'a b', forcePathStyle: false }),
        'https://uploads.gw.example.com/s3/a%20b',
        endpoint,
      );
    }
  });

  test('the query is appended', () => {
    assert.equal(
      objectUrl(
        { ...base, endpoint: 'http://127.0.0.1:9000', key: 'k', forcePathStyle: true },
        'partNumber=3&uploadId=abc',
      ),
      'http://127.0.0.1:9000/uploads/k?partNumber=3&uploadId=abc',
    );
  });
});

describe('parseS3Error', () => {
  test('reads Code, Message and ServerTime', () => {
    const info = parseS3Error(
      response(
        403,
        s3Error(
          'RequestTimeTooSkewed',
          'The difference between the request time and the current time is too large.',
          '<RequestTime>20300101T000000Z</RequestTime><ServerTime>2030-01-01T00:20:00Z</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>',
        ),
      ),
    );
    assert.equal(info.code, 'RequestTimeTooSkewed');
    assert.equal(info.serverTime, Date.parse('2030-01-01T00:20:00Z'));
  });

  test('non-XML and empty bodies get a code from the status', () => {
    assert.deepEqual(parseS3Error(response(502, '<html><body>Bad gateway</body></html>')), {
      code: 'Http502',
      message: 'HTTP 502',
    });
    assert.deepEqual(parseS3Error(response(403)), { code: 'Http403', message: 'HTTP 403' });
    assert.deepEqual(parseS3Error(response(500, '{"message":"oops"}')), {
      code: 'Http500',
      message: 'HTTP 500',
    });
  });

  test('a huge or unterminated body does not break it', () => {
    const info = parseS3Error(response(500, `<Error><Code>${'A'.repeat(1_000_000)}`));
    assert.equal(info.code, 'Http500');
  });
});

describe('classifyS3Response', () => {
  const retryCases: [string, number, string, boolean][] = [
    ['SlowDown', 503, s3Error('SlowDown', 'Please reduce your request rate.'), true],
    ['ServiceUnavailable', 503, s3Error('ServiceUnavailable', 'Service is unable to handle request.'), true],
    ['503 without a body', 503, '', true],
    [
      'InternalError',
      500,
      s3Error('InternalError', 'We encountered an internal error. Please try again.'),
      false,
    ],
    [
      'RequestTimeout',
      400,
      s3Error(
        'RequestTimeout',
        'Your socket connection to the server was not read from or written to within the timeout period.',
      ),
      false,
    ],
    ['429 Too Many Requests (plain text)', 429, 'Too Many Requests', true],
    [
      'BadDigest',
      400,
      s3Error(
        'BadDigest',
        'The Content-MD5 or checksum value that you specified did not match what the server received.',
      ),
      false,
    ],
    [
      'XAmzContentChecksumMismatch',
      400,
      s3Error(
        'XAmzContentChecksumMismatch',
        'The provided x-amz-checksum header does not match what was computed.',
      ),
      false,
    ],
    ['502 from a proxy (HTML)', 502, '<html><body><h1>502 Bad Gateway</h1></body></html>', false],
  ];
  for (const [name, status, body, slowDown] of retryCases) {
    test(`${name} → retry${slowDown ? ' with slowDown' : ''}`, () => {
      const verdict = classifyS3Response(response(status, body), 'UploadPart', 7);
      assert.equal(verdict.action, 'retry');
      assert.ok(verdict.action === 'retry');
      assert.equal(verdict.slowDown, slowDown);
      assert.ok(verdict.error instanceof UploadError);
      assert.equal(verdict.error.retryable, true);
      assert.equal(verdict.error.status, status);
      assert.equal(verdict.error.partNumber, 7);
      assert.match(verdict.error.message, /part 7/);
    });
  }

  test('RequestTimeTooSkewed → retry with the server time to correct the clock', () => {
    const verdict = classifyS3Response(
      response(
        403,
        s3Error(
          'RequestTimeTooSkewed',
          'The difference between the request time and the current time is too large.',
          '<ServerTime>2030-01-01T00:20:00Z</ServerTime>',
        ),
      ),
      'UploadPart',
      1,
    );
    assert.equal(verdict.action, 'retry');
    assert.ok(verdict.action === 'retry');
    assert.equal(verdict.serverTime, Date.parse('2030-01-01T00:20:00Z'));
    assert.equal(verdict.slowDown, false);
  });

  test('ExpiredToken → refresh', () => {
    const verdict = classifyS3Response(
      response(400, s3Error('ExpiredToken', 'The provided token has expired.')),
      'UploadPart',
      2,
    );
    assert.equal(verdict.action, 'refresh');
    assert.equal(verdict.error.upstreamCode, 'ExpiredToken');
  });

  test('AccessDenied "Request has expired" (a presigned URL that outlived its expiry) → refresh', () => {
    const verdict = classifyS3Response(
      response(403, s3Error('AccessDenied', 'Request has expired')),
      'UploadPart',
      2,
    );
    assert.equal(verdict.action, 'refresh');
  });

  test('AccessDenied → fail with access-denied, not retryable', () => {
    const verdict = classifyS3Response(
      response(403, s3Error('AccessDenied', 'Access Denied')),
      'UploadPart',
      3,
    );
    assert.equal(verdict.action, 'fail');
    assert.equal(verdict.error.code, 'access-denied');
    assert.equal(verdict.error.retryable, false);
    assert.equal(verdict.error.status, 403);
    assert.equal(verdict.error.upstreamCode, 'AccessDenied');
    assert.equal(verdict.error.partNumber, 3);
  });

  test('any other 403 (non-XML body too) → access-denied', () => {
    for (const body of ['', '<html>Forbidden</html>', s3Error('SignatureDoesNotMatch', 'nope')]) {
      const verdict = classifyS3Response(response(403, body), 'PutObject');
      assert.equal(verdict.action, 'fail');
      assert.equal(verdict.error.code, 'access-denied');
      assert.equal(verdict.error.partNumber, undefined);
    }
  });

  test('NoSuchUpload → fail with upload-gone', () => {
    const verdict = classifyS3Response(
      response(404, s3Error('NoSuchUpload', 'The specified multipart upload does not exist.')),
      'UploadPart',
      4,
    );
    assert.equal(verdict.action, 'fail');
    assert.equal(verdict.error.code, 'upload-gone');
    assert.equal(verdict.error.retryable, false);
  });

  test('other 4xx → fail with s3-error naming S3 code and message', () => {
    for (const [status, body, code] of [
      [
        400,
        s3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.'),
        'EntityTooLarge',
      ],
      [400, 'not xml at all', 'Http400'],
      [404, s3Error('NoSuchBucket', 'The specified bucket does not exist'), 'NoSuchBucket'],
    ] as const) {
      const verdict = classifyS3Response(response(status, body), 'PutObject');
      assert.equal(verdict.action, 'fail');
      assert.equal(verdict.error.code, 's3-error');
      assert.equal(verdict.error.upstreamCode, code);
      assert.match(verdict.error.message, new RegExp(`PutObject failed: ${code}`));
    }
  });
});

describe('requireEtag', () => {
  test('returns the ETag', () => {
    assert.equal(requireEtag(response(200, '', { etag: '"abc"' }), 'part 1'), '"abc"');
  });

  test('a missing or empty ETag fails with etag-not-exposed and says how to fix CORS', () => {
    for (const headers of [{}, { etag: '' }]) {
      assert.throws(
        () => requireEtag(response(200, '', headers), 'part 1'),
        (error) =>
          error instanceof UploadError &&
          error.code === 'etag-not-exposed' &&
          /part 1/.test(error.message) &&
          /CORS/.test(error.message) &&
          /ExposeHeaders/.test(error.message) &&
          /ETag/.test(error.message),
      );
    }
  });
});

describe('signed PUTs against the local S3 server', () => {
  const t = suiteCleanup();
  let server: TestServer;
  let s3: S3Client;

  before(async () => {
    server = await startTestServer(t);
    s3 = server.client;
    await s3.send(new CreateBucketCommand({ Bucket: 'engine' }));
  });

  const put = async (key: string, body: string, now = Date.now(), credentials = TEST_CREDENTIALS) => {
    const url = objectUrl({
      endpoint: server.url,
      bucket: 'engine',
      key,
      region: server.region,
      forcePathStyle: true,
    });
    const headers = await signedPutHeaders({
      url,
      region: server.region,
      credentials,
      headers: { 'content-type': 'text/plain' },
      now,
    });
    return fromFetch(await fetch(url, { method: 'PUT', headers, body }));
  };

  test('keys with spaces, unicode, +, % and ~ land under exactly that key', async () => {
    const keys = [
      'files/a b.txt',
      'files/Ünïcode ✓.txt',
      'files/a+b.txt',
      'files/100%.txt',
      'files/50%25.txt',
      'files/~x (1).txt',
    ];
    for (const key of keys) {
      const res = await put(key, `body of ${key}`);
      assert.equal(res.status, 200, `${key}: ${res.text}`);
      assert.ok(requireEtag(res, key));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'engine', Key: key }));
      assert.equal(await got.Body!.transformToString(), `body of ${key}`, key);
    }
  });

  test("the server's NoSuchUpload classifies as upload-gone", async () => {
    const url = objectUrl(
      { endpoint: server.url, bucket: 'engine', key: 'k', region: server.region, forcePathStyle: true },
      'partNumber=1&uploadId=does-not-exist',
    );
    const headers = await signedPutHeaders({
      url,
      region: server.region,
      credentials: TEST_CREDENTIALS,
      headers: {},
      now: Date.now(),
    });
    const res = await fromFetch(await fetch(url, { method: 'PUT', headers, body: 'x' }));
    const verdict = classifyS3Response(res, 'UploadPart', 1);
    assert.equal(verdict.action, 'fail');
    assert.equal(verdict.error.code, 'upload-gone', res.text);
  });

  test("the server's refusal of a bad signature classifies as access-denied", async () => {
    const res = await put('k', 'x', Date.now(), { ...TEST_CREDENTIALS, secretAccessKey: 'wrong-secret' });
    const verdict = classifyS3Response(res, 'PutObject');
    assert.equal(verdict.action, 'fail');
    assert.equal(verdict.error.code, 'access-denied', res.text);
  });

  test("the server's RequestTimeTooSkewed is retried with its clock", async () => {
    const res = await put('k', 'x', Date.now() - 3_600_000);
    const verdict = classifyS3Response(res, 'PutObject');
    assert.equal(verdict.action, 'retry', res.text);
    assert.ok(verdict.action === 'retry');
    assert.ok(verdict.serverTime !== undefined, `ServerTime read from ${res.text}`);
    assert.ok(Math.abs(verdict.serverTime - Date.now()) < 600_000);
  });
});
