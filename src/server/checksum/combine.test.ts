import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { type CrcAlgorithm, combineCrc, combineCrcs } from './combine.ts';
import { crc32 } from './crc32.ts';
import { createChecksumHasher } from './hasher.ts';

const CRCS: { algorithm: CrcAlgorithm; width: bigint; poly: bigint }[] = [
  { algorithm: 'CRC32', width: 32n, poly: 0xedb88320n },
  { algorithm: 'CRC32C', width: 32n, poly: 0x82f63b78n },
  { algorithm: 'CRC64NVME', width: 64n, poly: 0x9a6c9329ac4bc9b5n },
];

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

/**
 * An independent reference for long zero runs: polynomial arithmetic mod P instead of
 * matrices. Appending n zero bytes multiplies the (un-reflected) register by x^(8n) mod P.
 */
function referenceCombine(width: bigint, poly: bigint, crcA: Buffer, crcB: Buffer, lengthB: number): Buffer {
  const reflect = (v: bigint) => {
    let r = 0n;
    for (let i = 0n; i < width; i++) if ((v >> i) & 1n) r |= 1n << (width - 1n - i);
    return r;
  };
  const top = 1n << width;
  const normal = reflect(poly);
  const mulmod = (a: bigint, b: bigint) => {
    let r = 0n;
    for (let i = width - 1n; i >= 0n; i--) {
      r = r & (top >> 1n) ? ((r << 1n) ^ normal) & (top - 1n) : r << 1n;
      if ((b >> i) & 1n) r ^= a;
    }
    return r;
  };
  let power = 1n; // x^0
  let base = 2n; // x^1
  for (let e = 8n * BigInt(lengthB); e > 0n; e >>= 1n) {
    if (e & 1n) power = mulmod(power, base);
    base = mulmod(base, base);
  }
  const hex = (b: Buffer) => BigInt(`0x${b.toString('hex')}`);
  const out = reflect(mulmod(reflect(hex(crcA)), power)) ^ hex(crcB);
  return Buffer.from(out.toString(16).padStart(Number(width / 4n), '0'), 'hex');
}

describe('combineCrc', () => {
  const data = randomBytes(20_000);
  for (const { algorithm } of CRCS) {
    test(`${algorithm}: crc(A‖B) from crc(A), crc(B), len(B) over random splits`, () => {
      const whole = crcOf(algorithm, data);
      const random = prng(0xc0ffee);
      const splits = [0, 1, 7, 8, data.length - 1, data.length];
      for (let k = 0; k < 150; k++) splits.push(random(data.length + 1));
      for (const i of splits) {
        const a = data.subarray(0, i);
        const b = data.subarray(i);
        assert.deepEqual(
          combineCrc(algorithm, crcOf(algorithm, a), crcOf(algorithm, b), b.length),
          whole,
          `${i}`,
        );
      }
    });

    test(`${algorithm}: combineCrcs over random parts, some empty`, () => {
      const random = prng(0xbeef);
      for (let round = 0; round < 30; round++) {
        const parts: { crc: Buffer; length: number }[] = [];
        const end = random(data.length + 1);
        for (let at = 0; at < end; ) {
          const n = random(4) === 0 ? 0 : Math.min(random(3000), end - at);
          parts.push({ crc: crcOf(algorithm, data.subarray(at, at + n)), length: n });
          at += n;
        }
        assert.deepEqual(combineCrcs(algorithm, parts), crcOf(algorithm, data.subarray(0, end)), `${round}`);
      }
    });

    test(`${algorithm}: lengthB = 0 leaves crc(A) alone`, () => {
      const a = crcOf(algorithm, data.subarray(0, 100));
      const empty = crcOf(algorithm);
      assert.deepEqual(combineCrc(algorithm, a, empty, 0), a);
      assert.deepEqual(combineCrcs(algorithm, []), empty);
      assert.deepEqual(combineCrcs(algorithm, [{ crc: a, length: 100 }]), a);
    });
  }
});

describe('lengths beyond 2^32', () => {
  const a = randomBytes(1000);
  const mib = Buffer.alloc(2 ** 20);
  const byte = Buffer.alloc(1);

  for (const { algorithm, width, poly } of CRCS) {
    test(`${algorithm}: 5 GiB + 1 zero bytes equals 5120 folded 1 MiB blocks and one byte`, () => {
      const block = crcOf(algorithm, mib);
      let zeros = combineCrcs(algorithm, []);
      let expected = crcOf(algorithm, a);
      for (let k = 0; k < 5 * 1024; k++) {
        zeros = combineCrc(algorithm, zeros, block, mib.length);
        expected = combineCrc(algorithm, expected, block, mib.length);
      }
      zeros = combineCrc(algorithm, zeros, crcOf(algorithm, byte), 1);
      expected = combineCrc(algorithm, expected, crcOf(algorithm, byte), 1);
      const crcA = crcOf(algorithm, a);
      assert.deepEqual(combineCrc(algorithm, crcA, zeros, 5 * GiB + 1), expected);
      assert.deepEqual(referenceCombine(width, poly, crcA, zeros, 5 * GiB + 1), expected);
    });

    test(`${algorithm}: agrees with polynomial arithmetic at 32-bit edges and up to 2^53`, () => {
      const crcA = crcOf(algorithm, a);
      const crcB = crcOf(algorithm, a.subarray(0, 8));
      for (const length of [
        2 ** 31 - 1,
        2 ** 31,
        2 ** 32 - 1,
        2 ** 32,
        2 ** 32 + 1,
        5 * 2 ** 40,
        2 ** 53 - 1,
      ]) {
        assert.deepEqual(
          combineCrc(algorithm, crcA, crcB, length),
          referenceCombine(width, poly, crcA, crcB, length),
          `${length}`,
        );
      }
    });
  }

  test('CRC32: 5 GiB + 1 zero bytes hashed for real', () => {
    let zeros = 0;
    for (let k = 0; k < 5 * 1024; k++) zeros = crc32(mib, zeros);
    zeros = crc32(byte, zeros);
    let whole = crc32(a);
    for (let k = 0; k < 5 * 1024; k++) whole = crc32(mib, whole);
    whole = crc32(byte, whole);
    const u32 = (n: number) => Buffer.from(n.toString(16).padStart(8, '0'), 'hex');
    assert.deepEqual(combineCrc('CRC32', u32(crc32(a)), u32(zeros), 5 * GiB + 1), u32(whole));
  });
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

test('10,000 parts of odd sizes combine consistently however they are grouped', () => {
  // Speed is measured by the benchmarks, not asserted; here the fold must be associative.
  const parts = Array.from({ length: 10_000 }, (_, i) => ({
    crc: crcOf('CRC64NVME', Buffer.from([i & 0xff])),
    length: 5 * 2 ** 20 + 2 * i + 1,
  }));
  const whole = combineCrcs('CRC64NVME', parts);
  const left = combineCrcs('CRC64NVME', parts.slice(0, 4321));
  const rightParts = parts.slice(4321);
  const right = combineCrcs('CRC64NVME', rightParts);
  const rightLength = rightParts.reduce((sum, p) => sum + p.length, 0);
  assert.deepEqual(combineCrc('CRC64NVME', left, right, rightLength), whole);
});
