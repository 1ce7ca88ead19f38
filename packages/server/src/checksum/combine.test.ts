/**
 * The server's Buffer adapter over protocol/crc-combine.ts (whose own test checks the math
 * against polynomial arithmetic): Buffers out, the server's hashers agree, misuse named.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { type CrcAlgorithm, combineCrc, combineCrcs } from './combine.ts';
import { crc32 } from './crc32.ts';
import { createChecksumHasher } from './hasher.ts';

const ALGORITHMS: CrcAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];
const GiB = 2 ** 30;

function crcOf(algorithm: CrcAlgorithm, ...chunks: Uint8Array[]): Buffer {
  const h = createChecksumHasher(algorithm);
  for (const chunk of chunks) h.update(chunk);
  return h.digest();
}

/** Seeded xorshift32 integer in [0, n), so a failing case is reproducible. */
function prng(seed: number): (n: number) => number {
  let x = seed | 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return Math.floor(((x >>> 0) / 2 ** 32) * n);
  };
}

describe('combineCrc / combineCrcs with the server hashers', () => {
  const data = randomBytes(20_000);
  for (const algorithm of ALGORITHMS) {
    test(`${algorithm}: crc(A‖B) from crc(A), crc(B), len(B) over random splits, as Buffers`, () => {
      const whole = crcOf(algorithm, data);
      const random = prng(0xc0ffee);
      const splits = [0, 1, 7, 8, data.length - 1, data.length];
      for (let k = 0; k < 50; k++) splits.push(random(data.length + 1));
      for (const i of splits) {
        const a = data.subarray(0, i);
        const b = data.subarray(i);
        const out = combineCrc(algorithm, crcOf(algorithm, a), crcOf(algorithm, b), b.length);
        assert.ok(Buffer.isBuffer(out));
        assert.deepEqual(out, whole, `${i}`);
      }
    });

    test(`${algorithm}: combineCrcs over random parts, some empty`, () => {
      const random = prng(0xbeef);
      for (let round = 0; round < 20; round++) {
        const parts: { crc: Buffer; length: number }[] = [];
        const end = random(data.length + 1);
        for (let at = 0; at < end; ) {
          const n = random(4) === 0 ? 0 : Math.min(random(3000), end - at);
          parts.push({ crc: crcOf(algorithm, data.subarray(at, at + n)), length: n });
          at += n;
        }
        const out = combineCrcs(algorithm, parts);
        assert.ok(Buffer.isBuffer(out));
        assert.deepEqual(out, crcOf(algorithm, data.subarray(0, end)), `${round}`);
      }
      assert.deepEqual(combineCrcs(algorithm, []), crcOf(algorithm));
    });
  }
});

test('CRC32: 5 GiB + 1 zero bytes hashed for real', () => {
  const a = randomBytes(1000);
  const mib = Buffer.alloc(2 ** 20);
  const byte = Buffer.alloc(1);
  let zeros = 0;
  for (let k = 0; k < 5 * 1024; k++) zeros = crc32(mib, zeros);
  zeros = crc32(byte, zeros);
  let whole = crc32(a);
  for (let k = 0; k < 5 * 1024; k++) whole = crc32(mib, whole);
  whole = crc32(byte, whole);
  const u32 = (n: number) => Buffer.from(n.toString(16).padStart(8, '0'), 'hex');
  assert.deepEqual(combineCrc('CRC32', u32(crc32(a)), u32(zeros), 5 * GiB + 1), u32(whole));
});

describe('misuse', () => {
  const four = Buffer.alloc(4);
  test('rejects digests of the wrong length', () => {
    assert.throws(() => combineCrc('CRC32C', Buffer.alloc(8), four, 1), {
      name: 'TypeError',
      message: /crcA/,
    });
    assert.throws(() => combineCrc('CRC64NVME', Buffer.alloc(8), four, 1), {
      name: 'TypeError',
      message: /crcB/,
    });
    assert.throws(() => combineCrcs('CRC32', [{ crc: Buffer.alloc(3), length: 1 }]), {
      name: 'TypeError',
      message: /parts\[0\]\.crc/,
    });
  });
  test('rejects lengths that are negative, fractional or unsafe', () => {
    for (const length of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      assert.throws(() => combineCrc('CRC32', four, four, length), { name: 'TypeError', message: /lengthB/ });
    }
    assert.throws(() => combineCrcs('CRC32', [{ crc: four, length: -1 }]), { message: /parts\[0\]\.length/ });
  });
  test('rejects algorithms that are not CRCs', () => {
    assert.throws(() => combineCrc('SHA256' as CrcAlgorithm, four, four, 1), { name: 'TypeError' });
    assert.throws(() => combineCrcs('toString' as CrcAlgorithm, []), { name: 'TypeError' });
  });
});
