import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GiB, MiB, TiB } from './limits.ts';
import { formatSize, parseSize } from './size.ts';

test('sizes: bytes, binary and decimal units, with or without a space, any case', () => {
  assert.equal(parseSize('1024'), 1024);
  assert.equal(parseSize('8MiB'), 8 * MiB);
  assert.equal(parseSize('8 MiB'), 8 * MiB);
  assert.equal(parseSize('8mib'), 8 * MiB);
  // Decimal units are powers of 1000, as docs/broker.md has always said.
  assert.equal(parseSize('8MB'), 8_000_000);
  assert.equal(parseSize('8 MB'), 8_000_000);
  assert.equal(parseSize('500MB'), 500_000_000);
  assert.equal(parseSize('5GiB'), 5 * GiB);
  assert.equal(parseSize('5TiB'), 5 * TiB);
  assert.equal(parseSize('1.5KB'), 1500);
  assert.equal(parseSize('1.5MiB'), 1.5 * MiB);
  assert.equal(parseSize(' 7B '), 7);
});

test('fractions are exact: 1.1MB is 1,100,000 bytes, not a float near it', () => {
  assert.equal(parseSize('1.1MB'), 1_100_000);
  assert.equal(parseSize('0.3GB'), 300_000_000);
});

test('anything else is not a size', () => {
  for (const bad of [
    '',
    'lots',
    '-1',
    '1.5B',
    '5 parsecs',
    '8MiBs',
    '1e6',
    '0x10',
    '8 M iB',
    '.5MB',
    '99999999TiB',
  ])
    assert.equal(parseSize(bad), undefined, bad);
});

test('formatSize: the largest exact binary unit, else bytes', () => {
  assert.equal(formatSize(5 * GiB), '5 GiB');
  assert.equal(formatSize(8 * MiB), '8 MiB');
  assert.equal(formatSize(5 * TiB), '5 TiB');
  assert.equal(formatSize(1000), '1000 bytes');
});
