import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from '@hoist/protocol/internal/checksum';
import { checksumBase64, createChecksumHasher, createMd5Hasher, isValidChecksumValue } from './hasher.ts';

const CHECK = new TextEncoder().encode('123456789');

describe('createChecksumHasher', () => {
  test('CRC digests are big-endian, as S3 encodes them', () => {
    assert.equal(checksumBase64('CRC32', CHECK), Buffer.from('cbf43926', 'hex').toString('base64'));
    assert.equal(checksumBase64('CRC32C', CHECK), Buffer.from('e3069283', 'hex').toString('base64'));
    assert.equal(
      checksumBase64('CRC64NVME', CHECK),
      Buffer.from('ae8b14860a799888', 'hex').toString('base64'),
    );
  });

  test('SHA1 and SHA256 match node:crypto, across chunks', () => {
    const data = randomBytes(10_000);
    for (const [algorithm, name] of [
      ['SHA1', 'sha1'],
      ['SHA256', 'sha256'],
    ] as const) {
      const h = createChecksumHasher(algorithm);
      h.update(data.subarray(0, 3333));
      h.update(data.subarray(3333));
      assert.deepEqual(h.digest(), createHash(name).update(data).digest());
    }
  });

  test('every algorithm: chunked equals one-shot, digest has the right length', () => {
    const data = randomBytes(4099);
    const lengths: Record<ChecksumAlgorithm, number> = {
      CRC32: 4,
      CRC32C: 4,
      CRC64NVME: 8,
      SHA1: 20,
      SHA256: 32,
    };
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const h = createChecksumHasher(algorithm);
      for (let at = 0; at < data.length; at += 1000) h.update(data.subarray(at, at + 1000));
      const digest = h.digest();
      assert.equal(digest.length, lengths[algorithm]);
      assert.equal(digest.toString('base64'), checksumBase64(algorithm, data));
    }
  });

  test('digest() ends every hasher', () => {
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const h = createChecksumHasher(algorithm);
      h.update(CHECK);
      h.digest();
      assert.throws(() => h.digest(), Error, algorithm);
      assert.throws(() => h.update(CHECK), Error, algorithm);
    }
  });

  test('an unknown algorithm is a TypeError', () => {
    assert.throws(() => createChecksumHasher('MD5' as ChecksumAlgorithm), {
      name: 'TypeError',
      message: /algorithm/,
    });
  });
});

test('createMd5Hasher matches node:crypto', () => {
  const h = createMd5Hasher();
  h.update(CHECK.subarray(0, 4));
  h.update(CHECK.subarray(4));
  assert.deepEqual(h.digest(), createHash('md5').update(CHECK).digest());
});

describe('isValidChecksumValue', () => {
  test('accepts what S3 sends', () => {
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      for (let k = 0; k < 20; k++) {
        assert.ok(isValidChecksumValue(algorithm, checksumBase64(algorithm, randomBytes(k))), algorithm);
      }
    }
    assert.ok(isValidChecksumValue('CRC32', 'AAAAAA=='));
    assert.ok(isValidChecksumValue('CRC64NVME', '/+/+/+/+/+8='));
  });

  test('rejects the wrong decoded length', () => {
    assert.ok(!isValidChecksumValue('CRC32', 'AAAAAAAA')); // 6 bytes, no padding
    assert.ok(!isValidChecksumValue('CRC32', 'AAAAAAA=')); // 5 bytes
    assert.ok(!isValidChecksumValue('CRC32', 'AAAA')); // 3 bytes
    assert.ok(!isValidChecksumValue('CRC64NVME', 'AAAAAA==')); // a CRC32 value
    assert.ok(!isValidChecksumValue('SHA256', checksumBase64('SHA1', CHECK)));
    assert.ok(!isValidChecksumValue('SHA1', checksumBase64('SHA256', CHECK)));
    assert.ok(!isValidChecksumValue('CRC32C', ''));
  });

  test('rejects what is not base64', () => {
    for (const value of [
      'AAAA!A==',
      'AA-_AA==',
      'AAAA AA==',
      ' AAAAAA==',
      'AAAAAA==\n',
      'AAAA\u00e9A==',
      'AAAAAAé=',
    ]) {
      assert.ok(!isValidChecksumValue('CRC32', value), JSON.stringify(value));
    }
  });

  test('rejects padding errors and non-canonical encodings', () => {
    for (const value of [
      'AAAAAA',
      'AAAAAA=',
      'AAAAAA===',
      'AAAAAA=A',
      'AAAAA=A=',
      '=AAAAAA=',
      'AAAAAB==',
      'AAAAAA%3D%3D',
    ]) {
      assert.ok(!isValidChecksumValue('CRC32', value), value);
    }
    assert.ok(!isValidChecksumValue('CRC64NVME', 'AAAAAAAAAAB=')); // stray bits after the 8th byte
    assert.ok(!isValidChecksumValue('CRC64NVME', 'AAAAAAAAAAA')); // padding missing
  });
});
