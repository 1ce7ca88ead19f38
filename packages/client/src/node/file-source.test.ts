import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tmpDir } from '../../../../test/helpers/server.ts';
import { UploadError } from '../errors.ts';
import { guessContentType, openFileSource } from './file-source.ts';

const MiB = 1024 * 1024;

function isCode(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof UploadError, `expected an UploadError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

describe('openFileSource', () => {
  it('describes the file and reads exact ranges, the last one partial', async (t) => {
    const dir = await tmpDir(t);
    const path = join(dir, 'clip.MP4');
    const data = randomBytes(3 * MiB + 12_345);
    await writeFile(path, data);
    await utimes(path, new Date(1_700_000_000_000), new Date(1_700_000_000_000));
    const source = await openFileSource(path);
    t.after(() => source.close());

    assert.equal(source.path, path);
    assert.equal(source.name, 'clip.MP4');
    assert.equal(source.size, data.byteLength);
    assert.equal(source.type, 'video/mp4');
    assert.equal(source.lastModified, 1_700_000_000_000);

    const ranges: [number, number][] = [];
    for (let start = 0; start < data.byteLength; start += MiB)
      ranges.push([start, Math.min(start + MiB, data.byteLength)]);
    ranges.push([5, 6], [MiB - 1, MiB + 1], [data.byteLength, data.byteLength], [0, data.byteLength]);
    // In parallel: one handle, positional reads, no shared cursor.
    const chunks = await Promise.all(ranges.map(([start, end]) => source.read(start, end)));
    chunks.forEach((chunk, i) => {
      const [start, end] = ranges[i]!;
      assert.equal(Object.getPrototypeOf(chunk), Uint8Array.prototype);
      // Its own memory: the caller may keep or transfer it.
      assert.equal(chunk.buffer.byteLength, end - start);
      assert.ok(Buffer.from(chunk).equals(data.subarray(start, end)), `range ${start}-${end}`);
    });
  });

  it('reads a 0-byte file', async (t) => {
    const path = join(await tmpDir(t), 'empty.bin');
    await writeFile(path, '');
    const source = await openFileSource(path);
    t.after(() => source.close());
    assert.equal(source.size, 0);
    assert.equal((await source.read(0, 0)).byteLength, 0);
    await assert.rejects(source.read(0, 1), RangeError);
  });

  it('rejects ranges outside the file', async (t) => {
    const path = join(await tmpDir(t), 'a.txt');
    await writeFile(path, 'hello');
    const source = await openFileSource(path);
    t.after(() => source.close());
    assert.equal(source.type, 'text/plain');
    await assert.rejects(source.read(-1, 2), RangeError);
    await assert.rejects(source.read(3, 2), RangeError);
    await assert.rejects(source.read(0, 6), RangeError);
    await assert.rejects(source.read(0.5, 2), RangeError);
  });

  it('detects a file truncated after open', async (t) => {
    const path = join(await tmpDir(t), 'data.bin');
    await writeFile(path, randomBytes(2 * MiB));
    const source = await openFileSource(path);
    t.after(() => source.close());
    await truncate(path, MiB);
    await assert.rejects(source.read(MiB, 2 * MiB), isCode('read-failed'));
    // Even a range that still exists: the size changed, so the file is not the one we started.
    await assert.rejects(source.read(0, 1000), isCode('read-failed'));
  });

  it('detects a file modified in place after open', async (t) => {
    const path = join(await tmpDir(t), 'data.bin');
    await writeFile(path, randomBytes(64 * 1024));
    const source = await openFileSource(path);
    t.after(() => source.close());
    assert.equal((await source.read(0, 1024)).byteLength, 1024);
    await writeFile(path, randomBytes(64 * 1024));
    await utimes(path, new Date(), new Date(source.lastModified + 60_000));
    await assert.rejects(source.read(0, 1024), (error: unknown) => {
      isCode('read-failed')(error);
      assert.match((error as Error).message, /changed/);
      return true;
    });
  });

  it('refuses a missing path or a directory with invalid-options naming the path', async (t) => {
    const dir = await tmpDir(t);
    const missing = join(dir, 'nope.bin');
    await assert.rejects(openFileSource(missing), (error: unknown) => {
      isCode('invalid-options')(error);
      assert.ok((error as Error).message.includes(missing));
      return true;
    });
    const sub = join(dir, 'folder');
    await mkdir(sub);
    await assert.rejects(openFileSource(sub), (error: unknown) => {
      isCode('invalid-options')(error);
      assert.ok((error as Error).message.includes(sub));
      return true;
    });
    await assert.rejects(openFileSource(''), TypeError);
  });

  it('rejects reads after close; close is idempotent', async (t) => {
    const path = join(await tmpDir(t), 'x.bin');
    await writeFile(path, 'abc');
    const source = await openFileSource(path);
    await source.close();
    await source.close();
    await assert.rejects(source.read(0, 3), isCode('read-failed'));
  });
});

describe('guessContentType', () => {
  it('maps common extensions and leaves the rest to the engine', () => {
    assert.equal(guessContentType('a/b/photo.JPEG'), 'image/jpeg');
    assert.equal(guessContentType('archive.tar.gz'), 'application/gzip');
    assert.equal(guessContentType('data.csv'), 'text/csv');
    assert.equal(guessContentType('movie.mov'), 'video/quicktime');
    assert.equal(guessContentType('README'), '');
    assert.equal(guessContentType('weird.xyz'), '');
  });
});
