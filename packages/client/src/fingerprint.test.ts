import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fingerprint } from './fingerprint.ts';
import type { UploadSource } from './types.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Deterministic bytes (xorshift), so two sources built alike hold the same content. */
function bytesOf(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

interface CountingSource extends UploadSource {
  reads: [number, number][];
}

function memorySource(data: Uint8Array, overrides: Partial<UploadSource> = {}): CountingSource {
  const reads: [number, number][] = [];
  return {
    name: 'dataset.bin',
    size: data.length,
    type: 'application/octet-stream',
    lastModified: 1_700_000_000_000,
    read: async (start, end) => {
      reads.push([start, end]);
      assert.ok(start >= 0 && end <= data.length && start < end, `read [${start}, ${end}) within the file`);
      return data.slice(start, end);
    },
    ...overrides,
    reads,
  };
}

function flipped(data: Uint8Array, at: number): Uint8Array {
  const copy = data.slice();
  copy[at] = (copy[at]! ^ 0x01) & 0xff;
  return copy;
}

describe('fingerprint', () => {
  const data = bytesOf(1 * MiB);

  test('is a SHA-256 hex string', async () => {
    assert.match(await fingerprint(memorySource(data)), /^[0-9a-f]{64}$/);
  });

  test('the same file gives the same value, every time', async () => {
    const a = await fingerprint(memorySource(data));
    const b = await fingerprint(memorySource(data.slice()));
    assert.equal(a, b);
    assert.equal(await fingerprint(memorySource(data)), a);
  });

  test('one changed byte in the first, middle or last 64 KiB changes it', async () => {
    const original = await fingerprint(memorySource(data));
    const size = data.length;
    const positions = {
      'first byte': 0,
      'end of first 64 KiB': 64 * KiB - 1,
      middle: size / 2,
      'start of middle sample': size / 2 - 32 * KiB,
      'end of middle sample': size / 2 + 32 * KiB - 1,
      'start of last 64 KiB': size - 64 * KiB,
      'last byte': size - 1,
    };
    for (const [where, at] of Object.entries(positions)) {
      assert.notEqual(await fingerprint(memorySource(flipped(data, at))), original, where);
    }
  });

  test('a different name, size or modification time changes it', async () => {
    const original = await fingerprint(memorySource(data));
    assert.notEqual(await fingerprint(memorySource(data, { name: 'dataset2.bin' })), original, 'name');
    assert.notEqual(
      await fingerprint(memorySource(data, { lastModified: 1_700_000_000_001 })),
      original,
      'mtime',
    );
    assert.notEqual(await fingerprint(memorySource(data.slice(0, data.length - 1))), original, 'size');
    assert.notEqual(await fingerprint(memorySource(bytesOf(data.length + 1))), original, 'size');
  });

  test('the type is not part of it (browsers guess types differently)', async () => {
    assert.equal(
      await fingerprint(memorySource(data, { type: 'video/mp4' })),
      await fingerprint(memorySource(data, { type: '' })),
    );
  });

  test('reads at most 3 × 64 KiB, however large the file', async () => {
    const size = 10 * 1024 * MiB; // 10 GiB, produced on demand
    const source: CountingSource = {
      ...memorySource(new Uint8Array(0)),
      size,
      read: async (start, end) => {
        source.reads.push([start, end]);
        assert.ok(start >= 0 && end <= size && start < end);
        return bytesOf(end - start, start + 1);
      },
    };
    const value = await fingerprint(source);
    assert.match(value, /^[0-9a-f]{64}$/);
    assert.ok(source.reads.length <= 3);
    const read = source.reads.reduce((n, [s, e]) => n + e - s, 0);
    assert.ok(read <= 3 * 64 * KiB, `read ${read} bytes`);
    assert.equal(source.reads[0]![0], 0, 'the start');
    assert.equal(source.reads.at(-1)![1], size, 'the end');
  });

  test('small files: read within bounds, still sensitive to every byte', async () => {
    for (const size of [1, 100, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 100 * KiB]) {
      const small = bytesOf(size);
      const source = memorySource(small);
      const original = await fingerprint(source);
      assert.ok(source.reads.length >= 1);
      for (const at of [0, Math.floor(size / 2), size - 1]) {
        assert.notEqual(
          await fingerprint(memorySource(flipped(small, at))),
          original,
          `size ${size}, byte ${at}`,
        );
      }
    }
  });

  test('an empty file reads nothing and still has a fingerprint', async () => {
    const source = memorySource(new Uint8Array(0));
    const value = await fingerprint(source);
    assert.match(value, /^[0-9a-f]{64}$/);
    assert.equal(source.reads.length, 0);
    assert.notEqual(value, await fingerprint(memorySource(new Uint8Array(0), { name: 'other' })));
  });

  test('a read failure propagates', async () => {
    const failing = memorySource(data, {
      read: () => Promise.reject(new Error('file is gone')),
    });
    await assert.rejects(fingerprint(failing), /file is gone/);
  });
});
