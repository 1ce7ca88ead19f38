import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { Crc32, Crc32cJs, Crc64NvmeJs } from '@aws-sdk/checksums/crc';
import { combineCrcs } from './combine.ts';
import { crc32 } from './crc32.ts';
import { crc32c } from './crc32c.ts';
import { Crc64Nvme, crc64nvme } from './crc64nvme.ts';
import { createChecksumHasher } from './hasher.ts';

const CHECK = new TextEncoder().encode('123456789');

/** Bit-at-a-time reflected CRC with init = xorout = all ones: the textbook definition. */
function naive(poly: bigint, width: bigint, data: Uint8Array): bigint {
  const mask = (1n << width) - 1n;
  let crc = mask;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc ^ mask;
}
const naive32c = (d: Uint8Array) => Number(naive(0x82f63b78n, 32n, d));
const naive64 = (d: Uint8Array) => naive(0x9a6c9329ac4bc9b5n, 64n, d);

type Oracle = new () => { update(data: Uint8Array): void; digest(): Promise<Uint8Array> };
async function oracle(Impl: Oracle, chunks: Uint8Array[]): Promise<Buffer> {
  const o = new Impl();
  for (const chunk of chunks) o.update(chunk);
  return Buffer.from(await o.digest());
}

const ALGORITHMS = [
  { name: 'CRC32', Oracle: Crc32 as Oracle },
  { name: 'CRC32C', Oracle: Crc32cJs as Oracle },
  { name: 'CRC64NVME', Oracle: Crc64NvmeJs as Oracle },
] as const;

function digestOf(name: (typeof ALGORITHMS)[number]['name'], chunks: Uint8Array[]): Buffer {
  const h = createChecksumHasher(name);
  for (const chunk of chunks) h.update(chunk);
  return h.digest();
}

/** Seeded xorshift32 in [0, 1), so a failing split is reproducible. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** `data` split at random points (some pieces empty), so chunks start at every alignment. */
function randomChunks(data: Uint8Array, maxChunk: number, random: () => number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < data.length; ) {
    const n = random() < 0.1 ? 0 : Math.floor(random() * maxChunk);
    chunks.push(data.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

describe('check values ("123456789")', () => {
  test('CRC-32C = 0xE3069283', () => {
    assert.equal(crc32c(CHECK), 0xe3069283);
  });
  test('CRC-64/NVME = 0xAE8B14860A799888', () => {
    assert.equal(new Crc64Nvme().update(CHECK).value(), 0xae8b14860a799888n);
    assert.equal(crc64nvme(CHECK).toString('hex'), 'ae8b14860a799888');
  });
  test('CRC-32 = 0xCBF43926', () => {
    assert.equal(crc32(CHECK), 0xcbf43926);
  });
  test('the CRC of no bytes is 0', () => {
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32(new Uint8Array(0)), 0);
    assert.equal(crc64nvme(new Uint8Array(0)).toString('hex'), '0000000000000000');
  });
});

describe('against a bitwise reference', () => {
  // Every length up to 80 at every alignment covers the head, word and tail loops.
  const pool = randomBytes(100);
  test('CRC-32C', () => {
    for (let off = 0; off < 8; off++) {
      for (let len = 0; len <= 80; len++) {
        const d = pool.subarray(off, off + len);
        assert.equal(crc32c(d), naive32c(d), `offset ${off} length ${len}`);
      }
    }
  });
  test('CRC-64/NVME', () => {
    for (let off = 0; off < 8; off++) {
      for (let len = 0; len <= 80; len++) {
        const d = pool.subarray(off, off + len);
        assert.equal(new Crc64Nvme().update(d).value(), naive64(d), `offset ${off} length ${len}`);
      }
    }
  });
});

describe('incremental equals one-shot', () => {
  const small = randomBytes(67).subarray(3);
  for (const { name } of ALGORITHMS) {
    test(`${name}: every split point of a small buffer`, () => {
      const whole = digestOf(name, [small]);
      for (let i = 0; i <= small.length; i++) {
        for (const j of [i, Math.min(i + 1, small.length), Math.min(i + 13, small.length)]) {
          const parts = [small.subarray(0, i), small.subarray(i, j), small.subarray(j)];
          assert.deepEqual(digestOf(name, parts), whole, `split at ${i}, ${j}`);
        }
      }
    });
  }

  const big = randomBytes(3 * 1024 * 1024 + 5);
  for (const { name, Oracle } of ALGORITHMS) {
    test(`${name}: random splits of 3 MiB match the @aws-sdk/checksums oracle`, async () => {
      const expected = await oracle(Oracle, [big]);
      assert.deepEqual(digestOf(name, [big]), expected);
      assert.deepEqual(digestOf(name, [big.subarray(1)]), await oracle(Oracle, [big.subarray(1)]));
      const random = prng(0x5eed);
      for (let round = 0; round < 12; round++) {
        const chunks = randomChunks(big, round < 6 ? 4096 : 400_000, random);
        assert.deepEqual(digestOf(name, chunks), expected, `round ${round}`);
      }
    });
  }

  test('crc32c and crc32 continue from `previous`', () => {
    const a = big.subarray(0, 1000);
    const b = big.subarray(1000, 5001);
    assert.equal(crc32c(b, crc32c(a)), crc32c(big.subarray(0, 5001)));
    assert.equal(crc32(b, crc32(a)), crc32(big.subarray(0, 5001)));
  });

  test('digest() of Crc64Nvme does not end the computation', () => {
    const h = new Crc64Nvme().update(big.subarray(0, 100));
    h.digest();
    assert.deepEqual(h.update(big.subarray(100, 200)).digest(), crc64nvme(big.subarray(0, 200)));
  });
});

test('buffers over 1 GiB (processed in windows) match folded 1 MiB zero blocks', () => {
  // Untouched calloc'd pages read as the shared zero page, so this costs little memory.
  const length = 2 ** 30 + 13;
  const zeros = Buffer.alloc(length);
  const mib = zeros.subarray(0, 2 ** 20);
  const tail = zeros.subarray(0, 13);
  const parts = (crc: (d: Uint8Array) => Buffer) => {
    const block = { crc: crc(mib), length: mib.length };
    return [...Array.from({ length: 1024 }, () => block), { crc: crc(tail), length: tail.length }];
  };
  assert.deepEqual(
    u32(crc32c(zeros)),
    combineCrcs(
      'CRC32C',
      parts((d) => u32(crc32c(d))),
    ),
  );
  assert.deepEqual(crc64nvme(zeros), combineCrcs('CRC64NVME', parts(crc64nvme)));
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
