import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { chunksOf, rangesToRead, tempStorage } from '../../../../test/helpers/storage.ts';
import type { BlobRef } from './index.ts';
import { SEND_BUFFERS, SEND_SIZE } from './send.ts';

/**
 * A slow sink that reads each chunk only when it completes the write: a buffer
 * reused before its write completed would show up as wrong bytes.
 */
function slowSink(onChunk?: (received: number, sink: Writable) => void) {
  const received: Buffer[] = [];
  let bytes = 0;
  const sink = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, done) {
      setImmediate(() => {
        received.push(Buffer.from(chunk));
        bytes += chunk.length;
        onChunk?.(bytes, sink);
        done();
      });
    },
  });
  return { sink, bytes: () => Buffer.concat(received) };
}

test('sendRange writes exactly the requested bytes across segments, reusing buffers safely', async (t) => {
  const { storage } = tempStorage(t);
  const pieces = [
    randomBytes(1000),
    Buffer.alloc(0),
    randomBytes((SEND_BUFFERS + 2) * SEND_SIZE + 7),
    randomBytes(10),
  ];
  const segments: BlobRef[] = [];
  for (const piece of pieces) segments.push(await storage.writeBlob(chunksOf(piece, 64 * 1024)));
  const all = Buffer.concat(pieces);
  for (const [start, end] of rangesToRead(all.length, [[SEND_SIZE - 3, 3 * SEND_SIZE + 3]])) {
    const { sink, bytes } = slowSink();
    await storage.sendRange(segments, start, end, sink);
    assert.equal(sink.writableEnded, false, 'sendRange never ends the output');
    assert.deepEqual(bytes(), all.subarray(start, end + 1), `${start}-${end}`);
  }
  const { sink } = slowSink();
  await assert.rejects(storage.sendRange(segments, 0, all.length, sink), RangeError);
});

test('sendRange rejects with a premature close when the output is destroyed mid-send', async (t) => {
  const { storage } = tempStorage(t);
  const blob = await storage.writeBlob(chunksOf(randomBytes(8 * SEND_SIZE)));
  const { sink } = slowSink((received, self) => {
    if (received >= SEND_SIZE) self.destroy();
  });
  await assert.rejects(storage.sendRange([blob], 0, blob.size - 1, sink), {
    code: 'ERR_STREAM_PREMATURE_CLOSE',
  });
});

test('sendRange rejects when a blob disappears mid-send or is shorter than recorded', async (t) => {
  const { storage, dataDir } = tempStorage(t);
  const first = await storage.writeBlob(chunksOf(randomBytes(4 * SEND_SIZE)));
  const second = await storage.writeBlob(chunksOf(randomBytes(1024)));
  let removed = false;
  const { sink, bytes } = slowSink(() => {
    if (removed) return;
    removed = true;
    unlinkSync(join(dataDir, 'blobs', second.blobId.slice(0, 2), second.blobId));
  });
  await assert.rejects(storage.sendRange([first, second], 0, first.size + second.size - 1, sink), {
    code: 'ENOENT',
  });
  assert.ok(bytes().length <= first.size);

  const short = await storage.writeBlob(chunksOf(Buffer.from('short')));
  await assert.rejects(storage.sendRange([{ ...short, size: 10 }], 0, 9, slowSink().sink), /shorter/);
});
