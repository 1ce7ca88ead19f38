/**
 * AWS's SigV4 suite case post-sts-header-after: for STS the session token may be added to
 * the request after signing (X-Amz-Security-Token not among the signed headers). S3 keeps
 * requiring every x-amz-* header signed.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { before, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { brokerIamConfig } from '../helpers/iam-fixtures.ts';
import { codeOf, sendRaw } from '../helpers/raw.ts';
import { suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ACCOUNT = '111122223333';
const BROKER = {
  accessKeyId: 'AKIABROKERTOKEN00001',
  secretAccessKey: 'broker-token-secret-0123456789-abcdefg',
};

function post(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method: 'POST', path: '/', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('STS: session token added after signing', () => {
  let server: TestServer;
  let temporary: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  const cleanup = suiteCleanup();

  before(async () => {
    server = await startTestServer(cleanup, {
      buckets: ['tokens'],
      iam: brokerIamConfig({ accountId: ACCOUNT, accessKey: BROKER, bucket: 'tokens', prefix: 'users' }),
    });
    const sts = new STSClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { ...BROKER },
      maxAttempts: 1,
    });
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/hoist-upload`,
        RoleSessionName: 'late-token',
      }),
    );
    sts.destroy();
    const c = out.Credentials!;
    temporary = {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    };
  });

  async function signedWithoutToken(body: string): Promise<Record<string, string>> {
    const { hostname, port, host } = new URL(server.url);
    const signer = new SignatureV4({
      credentials: { accessKeyId: temporary.accessKeyId, secretAccessKey: temporary.secretAccessKey },
      region: 'us-east-1',
      service: 'sts',
      sha256: Sha256,
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname,
      port: Number(port),
      path: '/',
      headers: { host, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    return signed.headers as Record<string, string>;
  }

  test('GetCallerIdentity with X-Amz-Security-Token unsigned answers for the session', async () => {
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const headers = await signedWithoutToken(body);
    assert.doesNotMatch(headers.authorization ?? '', /x-amz-security-token/);
    const answer = await post(
      server.url,
      { ...headers, 'x-amz-security-token': temporary.sessionToken },
      body,
    );
    assert.equal(answer.status, 200, answer.body);
    assert.match(answer.body, /<Arn>arn:aws:sts::111122223333:assumed-role\/hoist-upload\/late-token<\/Arn>/);

    // The token still has to belong to the key that signed.
    const foreign = await post(
      server.url,
      { ...headers, 'x-amz-security-token': `${temporary.sessionToken}x` },
      body,
    );
    assert.equal(foreign.status, 403, foreign.body);
  });

  test('S3 still refuses an unsigned X-Amz-Security-Token', async () => {
    const { sessionToken, ...keys } = temporary;
    const answer = await sendRaw({
      url: server.url,
      path: '/tokens',
      credentials: keys,
      unsignedHeaders: { 'x-amz-security-token': sessionToken },
    });
    assert.equal(answer.status, 403);
    assert.equal(codeOf(answer.body), 'AccessDenied');
    assert.match(answer.body, /not signed/);
  });
});
