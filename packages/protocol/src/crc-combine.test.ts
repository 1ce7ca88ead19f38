import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { type CrcAlgorithm, combineCrc, combineCrcPair, isCrcAlgorithm } from './crc-combine.ts';

const CRCS: { algorithm: CrcAlgorithm; width: bigint; poly: bigint; check: string }[] = [
  { algorithm: 'CRC32', width: 32n, poly: 0xedb88320n, check: 'cbf43926' },
  { algorithm: 'CRC32C', width: 32n, poly: 0x82f63b78n, check: 'e3069283' },
  { algorithm: 'CRC64NVME', width: 64n, poly: 0x9a6c9329ac4bc9b5n, check: 'ae8b14860a799888' },
];

const GiB = 2 ** 30;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * An independent byte-at-a-time reflected CRC (init = xorout = all ones), written from the
 * CRC definition rather than shared with any implementation under test.
 */
function referenceCrc(width: bigint, poly: bigint): (...chunks: Uint8Array[]) => Uint8Array {
  const bytes = Number(width / 8n);
  const polyLo = Number(poly & 0xffffffffn) | 0;
  const polyHi = Number(poly >> 32n) | 0;
  const tLo = new Int32Array(256);
  const tHi = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let lo = n;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const mask = -(lo & 1);
      lo = ((lo >>> 1) | (hi << 31)) ^ (mask & polyLo);
      hi = (hi >>> 1) ^ (mask & polyHi);
    }
    tLo[n] = lo;
    tHi[n] = hi;
  }
  return (...chunks) => {
    let lo = -1;
    let hi = bytes === 8 ? -1 : 0;
    for (const chunk of chunks) {
      for (const byte of chunk) {
        const i = (lo ^ byte) & 0xff;
        lo = ((lo >>> 8) | (hi << 24)) ^ tLo[i]!;
        hi = (hi >>> 8) ^ tHi[i]!;
      }
    }
    const out = Buffer.alloc(8);
    out.writeInt32BE(~hi, 0);
    out.writeInt32BE(~lo, 4);
    return new Uint8Array(out.subarray(8 - bytes));
  };
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
function referenceCombine(
  width: bigint,
  poly: bigint,
  crcA: Uint8Array,
  crcB: Uint8Array,
  lengthB: number,
): Uint8Array {
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
  const big = (b: Uint8Array) => BigInt(`0x${hex(b)}`);
  const out = reflect(mulmod(reflect(big(crcA)), power)) ^ big(crcB);
  return new Uint8Array(Buffer.from(out.toString(16).padStart(Number(width / 4n), '0'), 'hex'));
}

for (const { algorithm, width, poly, check } of CRCS) {
  const crcOf = referenceCrc(width, poly);

  describe(algorithm, () => {
    const data = new Uint8Array(randomBytes(4000));

    test('the reference CRC gives the catalogue check value', () => {
      assert.equal(hex(crcOf(new TextEncoder().encode('123456789'))), check);
    });

    test('combineCrcPair: crc(A‖B) from crc(A), crc(B), len(B) over random splits', () => {
      const whole = crcOf(data);
      const random = prng(0xc0ffee);
      const splits = [0, 1, 7, 8, data.length - 1, data.length];
      for (let k = 0; k < 60; k++) splits.push(random(data.length + 1));
      for (const i of splits) {
        const a = data.subarray(0, i);
        const b = data.subarray(i);
        assert.deepEqual(combineCrcPair(algorithm, crcOf(a), crcOf(b), b.length), whole, `${i}`);
      }
    });

    test('combineCrc: random parts, some empty, equal the CRC of their concatenation', () => {
      const random = prng(0xbeef);
      for (let round = 0; round < 30; round++) {
        const parts: { crc: Uint8Array; length: number }[] = [];
        const end = random(data.length + 1);
        for (let at = 0; at < end; ) {
          const n = random(4) === 0 ? 0 : Math.min(random(600), end - at);
          parts.push({ crc: crcOf(data.subarray(at, at + n)), length: n });
          at += n;
        }
        assert.deepEqual(combineCrc(algorithm, parts), crcOf(data.subarray(0, end)), `${round}`);
      }
    });

    test('empty inputs: no parts is the CRC of no bytes; a zero-length B leaves crc(A) alone', () => {
      const a = crcOf(data.subarray(0, 100));
      const empty = crcOf();
      assert.deepEqual(combineCrc(algorithm, []), empty);
      assert.deepEqual(combineCrc(algorithm, [{ crc: a, length: 100 }]), a);
      assert.deepEqual(combineCrcPair(algorithm, a, empty, 0), a);
    });

    test('output is a fresh plain Uint8Array; inputs may be views at any offset', () => {
      const bytes = width / 8n;
      const backing = new Uint8Array(Number(bytes) + 3);
      backing.set(crcOf(data), 3);
      const view = backing.subarray(3);
      const out = combineCrc(algorithm, [{ crc: view, length: data.length }]);
      assert.equal(Object.getPrototypeOf(out), Uint8Array.prototype);
      assert.deepEqual(out, crcOf(data));
      assert.notEqual(out.buffer, backing.buffer);
    });

    test('5 GiB + 1 zero bytes equals 5120 folded 1 MiB blocks and one byte', () => {
      const a = data.subarray(0, 1000);
      const block = crcOf(new Uint8Array(2 ** 20));
      let zeros = combineCrc(algorithm, []);
      let expected = crcOf(a);
      for (let k = 0; k < 5 * 1024; k++) {
        zeros = combineCrcPair(algorithm, zeros, block, 2 ** 20);
        expected = combineCrcPair(algorithm, expected, block, 2 ** 20);
      }
      const byte = crcOf(new Uint8Array(1));
      zeros = combineCrcPair(algorithm, zeros, byte, 1);
      expected = combineCrcPair(algorithm, expected, byte, 1);
      assert.deepEqual(combineCrcPair(algorithm, crcOf(a), zeros, 5 * GiB + 1), expected);
      assert.deepEqual(referenceCombine(width, poly, crcOf(a), zeros, 5 * GiB + 1), expected);
    });

    test('agrees with polynomial arithmetic at 32-bit edges and up to 2^53', () => {
      const crcA = crcOf(data.subarray(0, 1000));
      const crcB = crcOf(data.subarray(0, 8));
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
          combineCrcPair(algorithm, crcA, crcB, length),
          referenceCombine(width, poly, crcA, crcB, length),
          `${length}`,
        );
      }
    });
  });
}

test('10,000 parts of odd sizes combine consistently however they are grouped', () => {
  // Speed is measured by benchmarks, not asserted; here the fold must be associative.
  const crcOf = referenceCrc(64n, 0x9a6c9329ac4bc9b5n);
  const parts = Array.from({ length: 10_000 }, (_, i) => ({
    crc: crcOf(new Uint8Array([i & 0xff])),
    length: 5 * 2 ** 20 + 2 * i + 1,
  }));
  const whole = combineCrc('CRC64NVME', parts);
  const left = combineCrc('CRC64NVME', parts.slice(0, 4321));
  const rightParts = parts.slice(4321);
  const rightLength = rightParts.reduce((sum, p) => sum + p.length, 0);
  assert.deepEqual(
    combineCrcPair('CRC64NVME', left, combineCrc('CRC64NVME', rightParts), rightLength),
    whole,
  );
});

describe('misuse', () => {
  const four = new Uint8Array(4);
  test('rejects digests of the wrong length or type', () => {
    assert.throws(() => combineCrcPair('CRC32C', new Uint8Array(8), four, 1), {
      name: 'TypeError',
      message: /crcA/,
    });
    assert.throws(() => combineCrcPair('CRC64NVME', new Uint8Array(8), four, 1), {
      name: 'TypeError',
      message: /crcB/,
    });
    assert.throws(() => combineCrc('CRC32', [{ crc: new Uint8Array(3), length: 1 }]), {
      name: 'TypeError',
      message: /parts\[0\]\.crc/,
    });
    assert.throws(() => combineCrc('CRC32', [{ crc: [0, 0, 0, 0] as unknown as Uint8Array, length: 1 }]), {
      name: 'TypeError',
      message: /parts\[0\]\.crc/,
    });
  });
  test('rejects lengths that are negative, fractional or unsafe', () => {
    for (const length of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      assert.throws(() => combineCrcPair('CRC32', four, four, length), {
        name: 'TypeError',
        message: /lengthB/,
      });
    }
    assert.throws(() => combineCrc('CRC32', [{ crc: four, length: -1 }]), { message: /parts\[0\]\.length/ });
  });
  test('rejects algorithms that are not CRCs, and parts that are not an array', () => {
    assert.throws(() => combineCrcPair('SHA256' as CrcAlgorithm, four, four, 1), { name: 'TypeError' });
    assert.throws(() => combineCrc('toString' as CrcAlgorithm, []), { name: 'TypeError' });
    assert.throws(() => combineCrc('CRC32', {} as never), { name: 'TypeError', message: /parts/ });
  });
  test('isCrcAlgorithm names exactly the combinable algorithms', () => {
    assert.deepEqual(
      ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256', 'crc32', 'toString', '__proto__'].filter(
        isCrcAlgorithm,
      ),
      ['CRC32', 'CRC32C', 'CRC64NVME'],
    );
  });
});
