/**
 * The ETag-chain maths the broker verifies uploads with on stores without checksums, checked
 * against an independent implementation (the engine's, on hash-wasm) and fixed vectors.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { createPartHasher } from '@hoist/client/internal/checksum';
import { isMd5 } from '@hoist/protocol';
import { EMPTY_MD5, etagIsMd5, etagToMd5, md5Hex, multipartEtagOf, normalizeEtag } from './etag-chain.ts';
import { multipartEtag as etagOfParts } from './views.ts';

const md5 = (text: string) => createHash('md5').update(text).digest('base64');

test('EMPTY_MD5 is the MD5 of nothing, and isMd5 takes canonical 16-byte base64 only', () => {
  assert.equal(EMPTY_MD5, md5(''));
  assert.equal(md5Hex(EMPTY_MD5), 'd41d8cd98f00b204e9800998ecf8427e');
  assert.ok(isMd5(md5('abc')));
  assert.ok(!isMd5('4waSgw=='), 'a CRC32C is not an MD5');
  assert.ok(!isMd5(createHash('sha1').update('x').digest('base64')));
  assert.ok(!isMd5('kAFQmDzST7DWlj99KOF/cg=')); // unpadded
  assert.ok(!isMd5('kAFQmDzST7DWlj99KOF/cg==\n'));
  assert.ok(!isMd5('kAFQmDzST7DWlj99KOF/ch=='), 'non-canonical trailing bits');
});

test('a part ETag matches its MD5 quoted, weak or in capitals; another MD5 never', () => {
  const digest = md5('part one');
  const hex = md5Hex(digest);
  assert.ok(etagIsMd5(`"${hex}"`, digest));
  assert.ok(etagIsMd5(`W/"${hex.toUpperCase()}"`, digest));
  assert.ok(!etagIsMd5(`"${hex}"`, md5('part two')));
  assert.ok(!etagIsMd5(undefined, digest));
  assert.ok(!etagIsMd5(`"${hex}-1"`, digest), 'a one-part multipart ETag is not the part MD5');
  assert.equal(normalizeEtag('W/"ABC"'), 'abc');
});

test('the multipart ETag: md5 of the binary part MD5s, then -N; as computed from the part list', () => {
  const parts = ['first part', 'second part', 'third'].map(md5);
  const joined = Buffer.concat(parts.map((p) => Buffer.from(p, 'base64')));
  const expected = `${createHash('md5').update(joined).digest('hex')}-3`;
  assert.equal(multipartEtagOf(parts), expected);
  assert.equal(etagOfParts(parts.map((p) => ({ etag: `"${md5Hex(p)}"` }))), expected);
  // Order matters: the same parts in another order are another object.
  assert.notEqual(multipartEtagOf([parts[1]!, parts[0]!, parts[2]!]), expected);
  // One part: still the chain, never the part's own MD5.
  assert.notEqual(multipartEtagOf([parts[0]!]), `${md5Hex(parts[0]!)}-1`);
  // A part's ETag gives back its MD5; a multipart ETag or anything else gives none.
  assert.equal(etagToMd5(`"${md5Hex(parts[0]!).toUpperCase()}"`), parts[0]);
  assert.equal(etagToMd5(`"${expected}"`), undefined);
  assert.equal(etagToMd5('"not-an-md5"'), undefined);
});

test('the engine hashes MD5 with hash-wasm exactly as node:crypto does', async () => {
  const hasher = createPartHasher();
  const data = new Uint8Array(1024 * 1024 + 3).map((_, i) => (i * 31) % 251);
  assert.equal(await hasher.digest('MD5', data), createHash('md5').update(data).digest('base64'));
  assert.equal(await hasher.digest('MD5', new Uint8Array(0)), EMPTY_MD5);
});
