import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3Error } from '@hoist/aws/internal/s3/errors';
import { parseTarget } from './addressing.ts';

const domains = ['localhost'];

test('path-style: bucket and decoded key, trailing slashes and double slashes preserved', () => {
  assert.deepEqual(parseTarget('/', '127.0.0.1:9000', domains), {
    bucket: undefined,
    key: undefined,
    rawPath: '/',
    rawQuery: '',
  });
  assert.equal(parseTarget('/b', 'h', domains).bucket, 'b');
  assert.equal(parseTarget('/b/', 'h', domains).key, undefined);
  assert.equal(parseTarget('/b/a%20b/c//d/', 'h', domains).key, 'a b/c//d/');
  assert.equal(parseTarget('/b/%2e%2e/x?uploads', 'h', domains).key, '../x');
  assert.equal(parseTarget('/b/k?uploads', 'h', domains).rawQuery, 'uploads');
  assert.equal(parseTarget('/b/a+b', 'h', domains).key, 'a+b');
});

test('virtual-host style: the bucket comes from the Host header', () => {
  const target = parseTarget('/photos/cat.jpg', 'my-bucket.localhost:9000', domains);
  assert.equal(target.bucket, 'my-bucket');
  assert.equal(target.key, 'photos/cat.jpg');
  assert.equal(parseTarget('/', 'my-bucket.localhost', domains).key, undefined);
});

test('malformed targets are InvalidURI', () => {
  assert.throws(
    () => parseTarget('/b/%zz', 'h', domains),
    (e: unknown) => e instanceof S3Error && e.code === 'InvalidURI',
  );
  assert.throws(
    () => parseTarget('http://x/b', 'h', domains),
    (e: unknown) => e instanceof S3Error && e.code === 'InvalidURI',
  );
});
