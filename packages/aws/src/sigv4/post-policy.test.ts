import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { nodeSigV4Crypto } from '../node/sigv4-crypto.ts';
import { signPostPolicy } from './post-policy.ts';

const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const base = {
  bucket: 'sigv4examplebucket',
  fields: { key: 'user/user1/photo.jpg', 'Content-Type': 'image/jpeg', success_action_status: '201' },
  credentials,
  region: 'us-east-1',
  now: Date.UTC(2015, 11, 29, 0, 0, 0),
  expiresIn: 300,
};

/** AWS's recipe, computed here with node:crypto independently of the signer. */
function expectedSignature(secret: string, day: string, region: string, policy: string): string {
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(day).digest();
  for (const part of [region, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(policy).digest('hex');
}

function decode(policy: string): { expiration: string; conditions: unknown[] } {
  return JSON.parse(Buffer.from(policy, 'base64').toString('utf8'));
}

describe('signPostPolicy', () => {
  it('signs the base64 policy with the scope signing key, on WebCrypto and node:crypto alike', async () => {
    const web = await signPostPolicy(base);
    const node = await signPostPolicy({ ...base, crypto: nodeSigV4Crypto });
    assert.deepEqual(web.fields, node.fields);
    const { fields } = web;
    assert.equal(fields['x-amz-algorithm'], 'AWS4-HMAC-SHA256');
    assert.equal(fields['x-amz-credential'], 'AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request');
    assert.equal(fields['x-amz-date'], '20151229T000000Z');
    assert.equal(
      fields['x-amz-signature'],
      expectedSignature(credentials.secretAccessKey, '20151229', 'us-east-1', fields.policy ?? ''),
    );
    assert.equal(fields['x-amz-security-token'], undefined);
  });

  it('pins the bucket, every field and the signer fields, with the expiration from the clock', async () => {
    const signed = await signPostPolicy({
      ...base,
      conditions: [{ contentLengthRange: [5, 5] }, { startsWith: 'x-amz-meta-tag', value: '' }],
    });
    const policy = decode(signed.fields.policy ?? '');
    assert.deepEqual(policy, signed.policy);
    assert.equal(policy.expiration, '2015-12-29T00:05:00.000Z');
    assert.equal(signed.expiresAt, '2015-12-29T00:05:00.000Z');
    assert.deepEqual(policy.conditions, [
      { bucket: 'sigv4examplebucket' },
      ['eq', '$key', 'user/user1/photo.jpg'],
      ['eq', '$Content-Type', 'image/jpeg'],
      ['eq', '$success_action_status', '201'],
      ['eq', '$x-amz-algorithm', 'AWS4-HMAC-SHA256'],
      ['eq', '$x-amz-credential', 'AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request'],
      ['eq', '$x-amz-date', '20151229T000000Z'],
      ['content-length-range', 5, 5],
      ['starts-with', '$x-amz-meta-tag', ''],
    ]);
  });

  it('adds and pins x-amz-security-token for temporary credentials', async () => {
    const signed = await signPostPolicy({
      ...base,
      credentials: { ...credentials, sessionToken: 'tok/en+=' },
    });
    assert.equal(signed.fields['x-amz-security-token'], 'tok/en+=');
    assert.deepEqual(
      decode(signed.fields.policy ?? '').conditions.find(
        (c) => Array.isArray(c) && c[1] === '$x-amz-security-token',
      ),
      ['eq', '$x-amz-security-token', 'tok/en+='],
    );
  });

  it('encodes a non-ASCII key as UTF-8', async () => {
    const signed = await signPostPolicy({ ...base, fields: { key: 'u/naïve 名前.txt' } });
    assert.deepEqual(decode(signed.fields.policy ?? '').conditions[1], ['eq', '$key', 'u/naïve 名前.txt']);
  });

  it('refuses misuse with a TypeError naming the option', async () => {
    await assert.rejects(signPostPolicy({ ...base, expiresIn: 0 }), /expiresIn/);
    await assert.rejects(signPostPolicy({ ...base, expiresIn: 8 * 24 * 3600 }), /expiresIn/);
    await assert.rejects(signPostPolicy({ ...base, bucket: '' }), /bucket/);
    await assert.rejects(
      signPostPolicy({ ...base, fields: { Policy: 'x' } }),
      /"Policy" is set by the signer/,
    );
    await assert.rejects(
      signPostPolicy({ ...base, conditions: [{ contentLengthRange: [10, 1] }] }),
      /contentLengthRange/,
    );
    await assert.rejects(
      signPostPolicy({ ...base, credentials: { accessKeyId: 'A', secretAccessKey: '' } }),
      /credentials/,
    );
  });
});
