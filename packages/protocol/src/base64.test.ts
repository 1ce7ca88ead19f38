import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { base64ToBytes, bytesToBase64 } from './base64.ts';

test('round-trips every length 0..300 and a large buffer, matching Node', () => {
  const samples = Array.from({ length: 301 }, (_, n) => randomBytes(n));
  samples.push(randomBytes(100_003));
  for (const sample of samples) {
    const text = bytesToBase64(new Uint8Array(sample));
    assert.equal(text, sample.toString('base64'), `${sample.length}`);
    const back = base64ToBytes(text);
    assert.equal(Object.getPrototypeOf(back), Uint8Array.prototype);
    assert.deepEqual(Buffer.from(back), sample, `${sample.length}`);
  }
});

test('RFC 4648 vectors', () => {
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ];
  for (const [plain, encoded] of vectors) {
    assert.equal(bytesToBase64(new TextEncoder().encode(plain)), encoded);
    assert.equal(new TextDecoder().decode(base64ToBytes(encoded)), plain);
  }
  assert.equal(bytesToBase64(new Uint8Array([0xfb, 0xff, 0xbf])), '+/+/');
});

test('views encode only their own bytes', () => {
  const backing = new Uint8Array([1, 2, 3, 4, 5, 6]);
  assert.equal(bytesToBase64(backing.subarray(2, 5)), Buffer.from([3, 4, 5]).toString('base64'));
});

test('decoding is strict: anything but canonical padded base64 throws a TypeError', () => {
  for (const bad of [
    'Zg', // missing padding
    'Zg=',
    'Zm9v=',
    'Zh==', // non-zero bits after the last byte
    'Zm9=',
    'Zm 9v', // whitespace
    'Zm9v\n',
    '-_-_', // URL-safe alphabet
    '====',
    'Z===',
    'Zg==Zg==', // padding in the middle
    'Zm=v',
    'Zm9vé===',
    'Zm9\u{1F600}',
  ]) {
    assert.throws(() => base64ToBytes(bad), { name: 'TypeError' }, JSON.stringify(bad));
  }
  assert.throws(() => base64ToBytes(42 as unknown as string), { name: 'TypeError' });
  assert.throws(() => bytesToBase64([1, 2] as unknown as Uint8Array), { name: 'TypeError' });
});
