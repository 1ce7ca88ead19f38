import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describeStoreError,
  queryErrorXml,
  refusedForGood,
  remedyFor,
  storeAnswer,
  storeProblem,
} from './store-errors.ts';
import { StoreTimeoutError } from './store-timeouts.ts';

const sdkError = (name: string, message: string, status?: number, extra: object = {}) =>
  Object.assign(new Error(message), {
    name,
    ...(status ? { $metadata: { httpStatusCode: status } } : {}),
    ...extra,
  });

test('codes: the SDK name, else the body code, else the status, else the network code', () => {
  assert.equal(describeStoreError(sdkError('AccessDenied', 'no', 403)).code, 'AccessDenied');
  assert.equal(
    describeStoreError(sdkError('Unknown', 'UnknownError', 405, { Code: 'MethodNotAllowed' })).code,
    'MethodNotAllowed',
  );
  assert.equal(
    describeStoreError(sdkError('UnknownError', 'UnknownError', 405, { Error: { Code: 'X' } })).code,
    'X',
  );
  assert.equal(describeStoreError(sdkError('Unknown', 'UnknownError', 404)).code, 'NotFound');
  assert.equal(describeStoreError(sdkError('Unknown', 'UnknownError', 418)).code, 'HTTP418');
  assert.equal(
    describeStoreError(sdkError('Error', 'connect ECONNREFUSED', undefined, { code: 'ECONNREFUSED' })).code,
    'ECONNREFUSED',
  );
  assert.equal(describeStoreError(new StoreTimeoutError('late')).timeout, true);
  assert.equal(describeStoreError(sdkError('TimeoutError', 'socket timed out')).code, 'Timeout');
});

test('messages: "UnknownError" is no message; secrets are scrubbed; long ones cut', () => {
  assert.equal(describeStoreError(sdkError('Unknown', 'UnknownError', 405)).message, '');
  assert.equal(
    describeStoreError(sdkError('Unknown', 'UnknownError', 403, { Error: { Message: 'denied' } })).message,
    'denied',
  );
  const signed = describeStoreError(
    sdkError('X', 'see https://h/k?X-Amz-Signature=abcdef0123456789abcdef', 400),
  );
  assert.doesNotMatch(signed.message, /abcdef0123456789/);
  assert.ok(describeStoreError(sdkError('X', 'y'.repeat(1000), 400)).message.length <= 300);
});

test('answers and remedies', () => {
  assert.equal(
    storeAnswer(describeStoreError(sdkError('Unknown', 'UnknownError', 405))),
    'the store answered 405 MethodNotAllowed',
  );
  assert.equal(
    storeAnswer(describeStoreError(sdkError('Unknown', 'UnknownError', 418))),
    "the store answered 418 HTTP418 (I'm a Teapot)",
  );
  const federation = storeProblem('GetFederationToken', sdkError('MethodNotAllowed', 'UnknownError', 405));
  assert.equal(federation.type, 'upstream-error');
  assert.match(federation.message, /use mode "sts" \(AssumeRole\) or "presign"$/);
  assert.equal(storeProblem('AssumeRole', new StoreTimeoutError('late')).type, 'upstream-timeout');
  assert.equal(remedyFor('HeadObject', describeStoreError(sdkError('AccessDenied', 'no', 403))), undefined);
  assert.match(
    remedyFor('AssumeRole', describeStoreError(sdkError('NoSuchEntity', 'no', 404))) ?? '',
    /sts\.roleArn/,
  );
});

test("S3's <Error> XML becomes the Query protocol's <ErrorResponse>; anything else is left alone", () => {
  const rewritten = queryErrorXml(
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>MethodNotAllowed</Code><Message></Message><RequestId>tx1</RequestId></Error>',
  );
  assert.equal(
    rewritten,
    '<ErrorResponse><Error><Type>Sender</Type><Code>MethodNotAllowed</Code><Message></Message><RequestId>tx1</RequestId></Error><RequestId>tx1</RequestId></ErrorResponse>',
  );
  assert.equal(queryErrorXml('<ErrorResponse><Error><Code>A</Code></Error></ErrorResponse>'), undefined);
  assert.equal(queryErrorXml(''), undefined);
});

test('a store refusal for good marks the 502 not retryable; transient answers stay retryable', () => {
  const refused = storeProblem('GetFederationToken', sdkError('Unknown', 'UnknownError', 405));
  assert.equal(refused.status, 502);
  assert.equal(refused.toProblem().retryable, false);
  for (const [name, status] of [
    ['AccessDenied', 403],
    ['NoSuchBucket', 404],
  ] as const)
    assert.equal(refusedForGood(describeStoreError(sdkError(name, 'x', status))), true, name);
  for (const [name, status] of [
    ['InternalError', 500],
    ['SlowDown', 503],
    ['RequestTimeout', 400],
    ['RequestTimeTooSkewed', 403],
    ['ExpiredToken', 400],
    ['TooManyRequests', 429],
  ] as const)
    assert.equal(refusedForGood(describeStoreError(sdkError(name, 'x', status))), false, name);
  // No answer at all (a refused connection) may heal: retryable.
  const unreachable = storeProblem(
    'AssumeRole',
    Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  );
  assert.equal(unreachable.toProblem().retryable, undefined);
});
