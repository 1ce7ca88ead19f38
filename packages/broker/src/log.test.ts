import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  auditCredentialIssued,
  createLogger,
  policyDigest,
  REDACTED,
  redactValue,
  scrubText,
} from './log.ts';

const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION_TOKEN = 'FwoGZXIvYXdzEJr//////////wEaDEXAMPLESESSIONTOKEN';
const SIGNATURE = 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
const BEARER = 'dev-token-alice-123';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz';
const SECRETS = [
  SECRET_KEY,
  SESSION_TOKEN,
  SIGNATURE,
  BEARER,
  JWT,
  'hunter2-password',
  'webhook-secret-123456',
];

/** A logger writing into an array of parsed lines. */
function capture() {
  const chunks: string[] = [];
  const logger = createLogger({ destination: { write: (chunk: string) => void chunks.push(chunk) } });
  return {
    logger,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const presignedUrl =
  'https://bucket.s3.amazonaws.com/uploads/alice/1/v.mp4?partNumber=1&uploadId=abc' +
  '&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request' +
  `&X-Amz-Security-Token=${encodeURIComponent(SESSION_TOKEN)}&X-Amz-Signature=${SIGNATURE}&X-Amz-SignedHeaders=host`;

test('no secret reaches the output: headers, credentials, URLs, messages, errors, bindings', () => {
  const { logger, text, lines } = capture();
  const request = logger.child({ requestId: 'req-1', authorization: `Bearer ${BEARER}` });
  request.info(
    {
      req: {
        method: 'POST',
        url: presignedUrl,
        headers: {
          Authorization: `Bearer ${JWT}`,
          'x-amz-security-token': SESSION_TOKEN,
          cookie: 'sid=abc',
          'content-type': 'video/mp4',
        },
      },
      credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: SECRET_KEY, sessionToken: SESSION_TOKEN },
      config: {
        auth: { tokens: { alice: BEARER }, jwt: { secret: 'x'.repeat(40) } },
        registry: { url: 'postgres://hoist:hunter2-password@db:5432/hoist' },
        webhook: { url: 'https://hooks.example', secret: 'webhook-secret-123456' },
      },
      nested: { deeper: [{ list: [{ sessionToken: SESSION_TOKEN }] }] },
    },
    'request to %s with %s',
    presignedUrl,
    `AWS4-HMAC-SHA256 Credential=AKIA/x, SignedHeaders=host, Signature=${SIGNATURE}`,
  );
  const error = new Error(`upload failed: ${presignedUrl}`);
  Object.assign(error, { sessionToken: SESSION_TOKEN, $metadata: { httpStatusCode: 403 } });
  request.error(error);
  request.warn({ err: error }, 'with key err');
  request.info(`token was ${JWT}`);
  request.child({ level2: { sessionToken: SESSION_TOKEN } }).info('grandchild');

  const output = text();
  for (const secret of SECRETS) assert.ok(!output.includes(secret), `leaked ${secret.slice(0, 12)}…`);
  assert.ok(!output.includes(encodeURIComponent(SESSION_TOKEN)));

  const [first, second, third] = lines();
  const req = first!.req as { url: string; headers: Record<string, string> };
  assert.equal(first!.requestId, 'req-1');
  assert.equal(first!.authorization, REDACTED);
  assert.equal(req.headers.Authorization, REDACTED);
  assert.equal(req.headers['x-amz-security-token'], REDACTED);
  assert.equal(req.headers['content-type'], 'video/mp4');
  assert.match(req.url, /X-Amz-Signature=\[Redacted\]/);
  assert.match(req.url, /partNumber=1&uploadId=abc/);
  assert.match(req.url, /X-Amz-Credential=ASIAEXAMPLE/);
  assert.deepEqual(first!.credentials, {
    accessKeyId: 'ASIAEXAMPLE',
    secretAccessKey: REDACTED,
    sessionToken: REDACTED,
  });
  assert.match(String(first!.msg), /^request to https:\/\/bucket/);
  const err = second!.err as Record<string, unknown>;
  assert.equal(err.type, 'Error');
  assert.match(String(err.message), /upload failed/);
  assert.equal(err.sessionToken, REDACTED);
  assert.deepEqual(err.$metadata, { httpStatusCode: 403 });
  assert.match(String(second!.msg), /upload failed/);
  assert.equal((third!.err as Record<string, unknown>).type, 'Error');
});

test('the audit line has who, what, until when and the policy digest, never the credentials', () => {
  const { logger, text, lines } = capture();
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:PutObject'], Resource: 'arn:aws:s3:::b/uploads/alice/u1/v.mp4' },
    ],
  });
  auditCredentialIssued(logger, {
    userId: 'alice',
    uploadId: 'u1',
    key: 'uploads/alice/u1/v.mp4',
    expiration: new Date('2025-01-01T00:15:00Z'),
    policy,
    mode: 'sts',
    accessKeyId: 'ASIAEXAMPLE',
  });
  const [line] = lines();
  assert.equal(line!.audit, 'credential-issued');
  assert.equal(line!.userId, 'alice');
  assert.equal(line!.uploadId, 'u1');
  assert.equal(line!.key, 'uploads/alice/u1/v.mp4');
  assert.equal(line!.expiration, '2025-01-01T00:15:00.000Z');
  assert.equal(line!.mode, 'sts');
  assert.equal(line!.policySha256, createHash('sha256').update(policy).digest('hex'));
  assert.equal(policyDigest(JSON.parse(policy)), line!.policySha256);
  assert.ok(!text().includes('s3:PutObject'), 'the policy itself is not logged');
  for (const secret of SECRETS) assert.ok(!text().includes(secret));
});

test('scrubText and redactValue', () => {
  assert.equal(scrubText('Authorization: Bearer abc.def'), `Authorization: Bearer ${REDACTED}`);
  assert.equal(scrubText('/x?Signature=abc&a=1'), `/x?Signature=${REDACTED}&a=1`);
  assert.equal(scrubText('plain text, nothing to hide'), 'plain text, nothing to hide');
  assert.deepEqual(redactValue({ webhookSecret: 's', maxTokens: 3, token: null, ok: 1 }), {
    webhookSecret: REDACTED,
    maxTokens: REDACTED,
    token: null,
    ok: 1,
  });
  const headers = new Headers({ authorization: 'Bearer x', 'x-request-id': 'r1' });
  assert.deepEqual(redactValue(headers), { authorization: REDACTED, 'x-request-id': 'r1' });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.doesNotThrow(() => JSON.stringify(redactValue(cyclic)));
});
