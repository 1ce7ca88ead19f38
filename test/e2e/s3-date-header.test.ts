/**
 * A request dated by its `Date` header alone (no X-Amz-Date), in the RFC 2822 numeric-zone
 * form botocore sends when a caller sets Date, signed here by hand (node:crypto).
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { before, describe, test } from 'node:test';
import { codeOf } from '../helpers/raw.ts';
import { suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.ts';

const BUCKET = 'dated';
const EMPTY = createHash('sha256').update('').digest('hex');

function signed(
  method: string,
  host: string,
  path: string,
  date: string,
  time: number,
): Record<string, string> {
  const amz = new Date(time)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const scope = `${amz.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const canonical = [
    method,
    path,
    '',
    `date:${date}`,
    `host:${host}`,
    `x-amz-content-sha256:${EMPTY}`,
    '',
    'date;host;x-amz-content-sha256',
    EMPTY,
  ].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amz, scope, createHash('sha256').update(canonical).digest('hex')].join(
    '\n',
  );
  let key: Buffer = createHmac('sha256', `AWS4${TEST_CREDENTIALS.secretAccessKey}`)
    .update(amz.slice(0, 8))
    .digest();
  for (const part of ['us-east-1', 's3', 'aws4_request'])
    key = createHmac('sha256', key).update(part).digest();
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return {
    host,
    date,
    'x-amz-content-sha256': EMPTY,
    authorization: `AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/${scope}, SignedHeaders=date;host;x-amz-content-sha256, Signature=${signature}`,
  };
}

function send(
  method: string,
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Date header as the request time', () => {
  let server: TestServer;
  const cleanup = suiteCleanup();

  before(async () => {
    server = await startTestServer(cleanup, { buckets: [BUCKET] });
  });

  test('IMF-fixdate and RFC 2822 numeric zones (-0000, +0100) are accepted when there is no X-Amz-Date', async () => {
    const host = new URL(server.url).host;
    const time = Math.floor(Date.now() / 1000) * 1000;
    const gmt = new Date(time).toUTCString();
    const shifted = new Date(time + 3_600_000).toUTCString().replace('GMT', '+0100');
    for (const date of [gmt, gmt.replace('GMT', '-0000'), shifted]) {
      const answer = await send(
        'HEAD',
        server.url,
        `/${BUCKET}`,
        signed('HEAD', host, `/${BUCKET}`, date, time),
      );
      assert.equal(answer.status, 200, date);
    }
  });

  test('a Date in another form is refused as AWS does (403, nothing to date the request by)', async () => {
    const host = new URL(server.url).host;
    const time = Math.floor(Date.now() / 1000) * 1000;
    const iso = new Date(time).toISOString();
    const answer = await send('GET', server.url, `/${BUCKET}`, signed('GET', host, `/${BUCKET}`, iso, time));
    assert.equal(answer.status, 403);
    assert.equal(codeOf(answer.body), 'AccessDenied');
    assert.match(answer.body, /requires a valid Date or x-amz-date header/);
  });
});
