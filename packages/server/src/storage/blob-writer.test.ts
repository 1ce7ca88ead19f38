import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { WRITE_SIZE, writeCoalesced } from './blob-writer.ts';

function tempFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'hoist-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'blob');
}

/** A chunk that is a whole ArrayBuffer of its own, as node:http's request chunks are. */
function ownBuffer(size: number): Uint8Array {
  const chunk = new Uint8Array(size);
  chunk.set(randomBytes(size));
  return chunk;
}

async function* yieldAll(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

test('owned chunks are written as they are, in order, and each whole buffer is freed once written', async (t) => {
  const path = tempFile(t);
  // Whole buffers of varied sizes (as node:http hands them over), empty ones, and views into a shared buffer.
  const shared = randomBytes(300_000);
  const chunks: Uint8Array[] = [
    ...Array.from({ length: 120 }, (_, i) => ownBuffer(1 + ((i * 7919) % 100_000))),
    new Uint8Array(0),
    shared.subarray(0, 100_000),
    shared.subarray(100_000),
  ];
  const expected = Buffer.concat(chunks.map((chunk) => Buffer.from(chunk)));
  assert.ok(expected.length > 2 * WRITE_SIZE, 'spans several writes');
  const file = await open(path, 'wx');
  const written = await writeCoalesced(file, yieldAll(chunks), Infinity, { ownedChunks: true });
  await file.close();
  assert.equal(written, expected.length);
  assert.ok(readFileSync(path).equals(expected));
  for (const chunk of chunks.slice(0, 120))
    assert.equal(chunk.byteLength, 0, 'a written whole buffer is detached');
  assert.equal(shared.subarray(0, 100_000).byteLength, 100_000, 'views into a larger buffer are left alone');
});

test('chunks not owned are copied: a source reusing its buffer still gets every byte written', async (t) => {
  const path = tempFile(t);
  const reused = Buffer.alloc(100_000);
  const expected: Buffer[] = [];
  async function* reusing(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 50; i++) {
      reused.fill(i);
      expected.push(Buffer.from(reused));
      yield reused;
    }
  }
  const file = await open(path, 'wx');
  await writeCoalesced(file, reusing(), Infinity);
  await file.close();
  assert.ok(readFileSync(path).equals(Buffer.concat(expected)));
  assert.equal(reused.byteLength, 100_000, 'a chunk that is not owned is never freed');
});

test('a failing write rejects after the writes in flight settle', async (t) => {
  const path = tempFile(t);
  (await open(path, 'wx')).close();
  const readOnly = await open(path, 'r');
  t.after(() => readOnly.close());
  await assert.rejects(
    writeCoalesced(readOnly, yieldAll([randomBytes(3 * WRITE_SIZE)]), Infinity, { ownedChunks: true }),
    { code: 'EBADF' },
  );
});
