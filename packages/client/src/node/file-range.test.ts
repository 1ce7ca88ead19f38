import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { truncate, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DigestAlgorithm } from '@hoist/protocol';
import { tmpDir } from '../../../../test/helpers/server.ts';
import { createPartHasher } from '../checksum.ts';
import { UploadError } from '../errors.ts';
import { CHUNK_BYTES, fileRangeOf } from './file-range.ts';
import { openFileSource } from './file-source.ts';
import { createNodeHasher } from './hasher.ts';
import { type Hook, startHttp } from './test-helpers.ts';
import { createNodeTransport } from './transport.ts';

const MiB = 1024 * 1024;
const ALGORITHMS: DigestAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256', 'MD5'];

async function fileOf(t: Hook, size: number) {
  const data = randomBytes(size);
  const path = join(await tmpDir(t), 'data.bin');
  await writeFile(path, data);
  const source = await openFileSource(path);
  t.after(() => source.close());
  return { data, path, source };
}

/** A node:http server answering each request with the SHA-256 and length of the body it got. */
async function startEcho(t: Hook): Promise<string> {
  const server = await startHttp(t, async (req: IncomingMessage, res: ServerResponse) => {
    const hash = createHash('sha256');
    let length = 0;
    try {
      for await (const chunk of req) {
        hash.update(chunk as Buffer);
        length += (chunk as Buffer).byteLength;
      }
    } catch {
      return; // the client gave up on the request
    }
    res.end(JSON.stringify({ sha: hash.digest('hex'), length }));
  });
  return server.url;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('file ranges: the Node file source, hasher and transport', () => {
  it('the source hands out file ranges as real Blobs of the right bytes', async (t) => {
    const { data, source } = await fileOf(t, 3 * MiB);
    const blob = source.blob!(5, 2 * MiB + 9);
    assert.ok(blob instanceof Blob);
    assert.equal(blob.size, 2 * MiB + 4);
    assert.deepEqual(fileRangeOf(blob), {
      ...fileRangeOf(blob),
      path: source.path,
      start: 5,
      end: 2 * MiB + 9,
    });
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(data.subarray(5, 2 * MiB + 9)));
    assert.equal(fileRangeOf(new Blob(['x'])), undefined);
    assert.throws(() => source.blob!(0, 3 * MiB + 1), RangeError);
  });

  it('digestBlob of a file range is the digest of its bytes, for every algorithm', async (t) => {
    // Not a whole number of chunks, and starting mid-chunk.
    const { data, source } = await fileOf(t, 3 * CHUNK_BYTES + 123);
    const [start, end] = [7, 3 * CHUNK_BYTES + 100];
    const bytes = new Uint8Array(data.subarray(start, end));
    const node = createNodeHasher();
    const reference = createPartHasher();
    for (const algorithm of ALGORITHMS) {
      const expected = await reference.digest(algorithm, bytes);
      assert.equal(await node.digestBlob!(algorithm, source.blob!(start, end)), expected, algorithm);
      assert.equal(await node.digest(algorithm, bytes), expected, algorithm);
      // Any other Blob is read whole, then hashed.
      assert.equal(await node.digestBlob!(algorithm, new Blob([bytes])), expected, algorithm);
    }
    assert.equal(await node.digestBlob!('CRC32', source.blob!(0, 0)), 'AAAAAA==');
    await assert.rejects(node.digestBlob!('MD4' as DigestAlgorithm, source.blob!(0, 1)), TypeError);
  });

  it("digestBlob of a file truncated after open fails with 'read-failed'", async (t) => {
    const { path, source } = await fileOf(t, 2 * MiB);
    await truncate(path, MiB);
    await assert.rejects(createNodeHasher().digestBlob!('CRC32', source.blob!(0, 2 * MiB)), (error) => {
      assert.ok(error instanceof UploadError);
      assert.equal(error.code, 'read-failed');
      return true;
    });
  });

  it('the transport sends concurrent file ranges byte for byte from reused chunks, with progress', async (t) => {
    const url = await startEcho(t);
    const { data, source } = await fileOf(t, 10 * MiB + 77);
    const transport = createNodeTransport();
    t.after(() => transport.close());
    // Six overlapping, unaligned ranges at once, three times over: every chunk buffer is reused
    // many times while others are still being written.
    const ranges = Array.from({ length: 6 }, (_, i) => [i * MiB + i, i * MiB + i + 4 * MiB + 3 * i] as const);
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(
        ranges.map(async ([start, end]) => {
          const progress: number[] = [];
          const res = await transport.send({
            method: 'PUT',
            url: `${url}/b/k`,
            headers: {},
            body: source.blob!(start, end),
            signal: new AbortController().signal,
            onUploadProgress: (sent) => progress.push(sent),
          });
          return { start, end, progress, echo: JSON.parse(res.text) as { sha: string; length: number } };
        }),
      );
      for (const { start, end, progress, echo } of results) {
        assert.deepEqual(echo, { sha: sha256(data.subarray(start, end)), length: end - start });
        assert.deepEqual(
          progress,
          [...progress].sort((a, b) => a - b),
          'monotonic',
        );
        assert.equal(progress.at(-1), end - start);
      }
    }
    // Any other Blob is sent as its bytes.
    const plain = new Uint8Array(randomBytes(3 * MiB));
    const res = await transport.send({
      method: 'PUT',
      url: `${url}/b/k`,
      headers: {},
      body: new Blob([plain]),
      signal: new AbortController().signal,
    });
    assert.deepEqual(JSON.parse(res.text), { sha: sha256(plain), length: plain.byteLength });
  });

  it("the transport rejects a range of a file truncated after open with 'read-failed'", async (t) => {
    const url = await startEcho(t);
    const { path, source } = await fileOf(t, 4 * MiB);
    await truncate(path, MiB);
    const transport = createNodeTransport();
    t.after(() => transport.close());
    await assert.rejects(
      transport.send({
        method: 'PUT',
        url: `${url}/b/k`,
        headers: {},
        body: source.blob!(0, 4 * MiB),
        signal: new AbortController().signal,
      }),
      (error) => {
        assert.ok(error instanceof UploadError);
        assert.equal(error.code, 'read-failed');
        return true;
      },
    );
  });
});
