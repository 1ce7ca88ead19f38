import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeSigV4Crypto } from '../node/sigv4-crypto.ts';
import { EMPTY_SHA256 } from './canonical.ts';
import {
  type PresignUrlOptions,
  presignUrl,
  presignUrlDetailed,
  signRequest,
  signRequestDetailed,
} from './sign.ts';

const base = {
  method: 'PUT',
  url: 'https://bucket.s3.us-east-1.amazonaws.com/dir/file%20name.bin?partNumber=1&uploadId=abc',
  service: 's3',
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  datetime: '2024-01-02T03:04:05Z',
  crypto: nodeSigV4Crypto,
};

describe('signRequest', () => {
  it('adds x-amz-date, x-amz-content-sha256 (S3 default) and authorization', async () => {
    const headers = await signRequest({ ...base, payloadHash: 'UNSIGNED-PAYLOAD' });
    assert.deepEqual(Object.keys(headers), ['x-amz-date', 'x-amz-content-sha256', 'authorization']);
    assert.equal(headers['x-amz-date'], '20240102T030405Z');
    assert.equal(headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
    assert.match(
      headers.authorization ?? '',
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20240102\/us-east-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
  });

  it('signs the session token and hashes a body when no payloadHash is given', async () => {
    const result = await signRequestDetailed({
      ...base,
      credentials: { ...base.credentials, sessionToken: 'token/+=' },
      body: 'hello',
    });
    assert.equal(result.headers['x-amz-security-token'], 'token/+=');
    assert.equal(
      result.headers['x-amz-content-sha256'],
      '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    );
    assert.match(result.canonicalRequest, /\nx-amz-security-token:token\/\+=\n/);
    assert.match(result.canonicalRequest, /^PUT\n\/dir\/file%20name.bin\npartNumber=1&uploadId=abc\n/);
  });

  it('uses a caller-provided x-amz-content-sha256 header as the payload hash', async () => {
    const result = await signRequestDetailed({
      ...base,
      headers: {
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
    });
    assert.equal(result.headers['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    assert.ok(result.canonicalRequest.endsWith('\nSTREAMING-UNSIGNED-PAYLOAD-TRAILER'));
    assert.match(result.canonicalRequest, /x-amz-trailer:x-amz-checksum-crc32\n/);
  });

  it('does not sign hop-by-hop headers or user-agent', async () => {
    const result = await signRequestDetailed({
      ...base,
      headers: [
        ['User-Agent', 'test'],
        ['Connection', 'keep-alive'],
        ['Content-Type', 'text/plain'],
      ],
    });
    assert.match(
      result.headers.authorization ?? '',
      /SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,/,
    );
  });

  it('accepts a Date, ISO string or amz date alike, and a URL object', async () => {
    const a = await signRequest({ ...base, datetime: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) });
    const b = await signRequest({ ...base, datetime: '20240102T030405Z' });
    const c = await signRequest({ ...base, url: new URL(base.url) });
    const d = await signRequest(base);
    assert.deepEqual(a, b);
    assert.deepEqual(c, d);
    assert.deepEqual(a, d);
  });

  it('defaults to the empty payload hash and no content header outside S3', async () => {
    const result = await signRequestDetailed({ ...base, service: 'sts', url: 'https://sts.amazonaws.com/' });
    assert.equal(result.headers['x-amz-content-sha256'], undefined);
    assert.ok(result.canonicalRequest.endsWith(EMPTY_SHA256));
  });

  it('throws a TypeError naming the bad option', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ url: 'ftp://x/y' }, /options\.url/],
      [{ url: '/relative' }, /options\.url/],
      [{ method: 'G ET' }, /options\.method/],
      [{ region: '' }, /options\.region/],
      [{ service: 'a/b' }, /options\.service/],
      [{ credentials: { accessKeyId: '', secretAccessKey: 's' } }, /options\.credentials/],
      [{ credentials: { accessKeyId: 'a', secretAccessKey: '' } }, /options\.credentials/],
      [{ datetime: 'yesterday' }, /options\.datetime/],
      [{ payloadHash: 'abc' }, /options\.payloadHash/],
      [{ headers: { 'bad name': 'x' } }, /options\.headers/],
      [{ headers: { 'x-a': 'line\r\nbreak' } }, /options\.headers/],
      [{ contentSha256Header: 'yes' }, /options\.contentSha256Header/],
    ];
    for (const [patch, message] of bad) {
      await assert.rejects(signRequest({ ...base, ...patch } as never), (error: Error) => {
        assert.ok(error instanceof TypeError, String(error));
        assert.match(error.message, message);
        return true;
      });
    }
  });
});

describe('presignUrl', () => {
  it('adds the X-Amz-* parameters; S3 signs UNSIGNED-PAYLOAD', async () => {
    const result = await presignUrlDetailed({
      ...base,
      credentials: { ...base.credentials, sessionToken: 'tok+en/' },
      expiresIn: 3600,
    });
    const url = new URL(result.url);
    assert.equal(url.pathname, '/dir/file%20name.bin');
    assert.equal(url.searchParams.get('partNumber'), '1');
    assert.equal(url.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
    assert.equal(url.searchParams.get('X-Amz-Credential'), 'AKIDEXAMPLE/20240102/us-east-1/s3/aws4_request');
    assert.equal(url.searchParams.get('X-Amz-Date'), '20240102T030405Z');
    assert.equal(url.searchParams.get('X-Amz-Expires'), '3600');
    assert.equal(url.searchParams.get('X-Amz-SignedHeaders'), 'host');
    assert.equal(url.searchParams.get('X-Amz-Security-Token'), 'tok+en/');
    assert.equal(url.searchParams.get('X-Amz-Signature'), result.signature);
    assert.ok(result.url.includes('X-Amz-Security-Token=tok%2Ben%2F&'));
    assert.ok(result.canonicalRequest.endsWith('\nhost\nUNSIGNED-PAYLOAD'));
  });

  it('validates expiresIn (1..604800 integer seconds)', async () => {
    for (const expiresIn of [0, -1, 1.5, 604801, Number.NaN]) {
      await assert.rejects(presignUrl({ ...base, expiresIn } as PresignUrlOptions), (error: Error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /options\.expiresIn/);
        return true;
      });
    }
    assert.match(await presignUrl({ ...base, expiresIn: 604800 }), /X-Amz-Expires=604800&/);
    assert.match(await presignUrl(base), /X-Amz-Expires=900&/);
  });
});
