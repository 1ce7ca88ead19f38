import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tmpDir } from '../../../../test/helpers/server.ts';
import { openFileSource } from './file-source.ts';
import { formEnvelope } from './multipart.ts';
import { createNodeTransport } from './transport.ts';

type Hook = { after(fn: () => unknown): void };

/** A real HTTP server keeping each request's headers and raw body. */
async function recorder(t: Hook) {
  const seen: { headers: IncomingMessage['headers']; body: Buffer }[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen.push({ headers: req.headers, body: Buffer.concat(chunks) });
    res.statusCode = 201;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bucket`, seen };
}

function transport(t: Hook) {
  const tr = createNodeTransport();
  t.after(() => tr.close());
  return tr;
}

describe('multipart form body (Node)', () => {
  it('the envelope is the exact multipart/form-data bytes: fields in order, then the file', () => {
    const envelope = formEnvelope({ key: 'a/b.txt', 'Content-Type': 'text/plain', 'x"y': 'é' }, 'B0UND');
    assert.equal(envelope.contentType, 'multipart/form-data; boundary=B0UND');
    assert.equal(
      envelope.head.toString('utf8'),
      '--B0UND\r\nContent-Disposition: form-data; name="key"\r\n\r\na/b.txt\r\n' +
        '--B0UND\r\nContent-Disposition: form-data; name="Content-Type"\r\n\r\ntext/plain\r\n' +
        '--B0UND\r\nContent-Disposition: form-data; name="x%22y"\r\n\r\né\r\n' +
        '--B0UND\r\nContent-Disposition: form-data; name="file"; filename="file"\r\n' +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
    assert.equal(envelope.tail.toString('utf8'), '\r\n--B0UND--\r\n');
  });

  it('bad input: a field holding the boundary is refused', () => {
    assert.throws(
      () => formEnvelope({ key: 'x\r\n--B0UND\r\n' }, 'B0UND'),
      /contains the multipart boundary/,
    );
  });

  for (const from of ['bytes', 'a file range'] as const) {
    it(`sends a form with ${from} as the file: exact body, exact Content-Length, file progress`, async (t) => {
      const server = await recorder(t);
      const data = randomBytes(700 * 1024 + 3);
      let file: Uint8Array | Blob = data;
      if (from === 'a file range') {
        const path = join(await tmpDir(t), 'f.bin');
        await writeFile(path, data);
        const source = await openFileSource(path);
        t.after(() => source.close());
        assert.ok(source.blob, 'the Node file source hands out file ranges');
        file = source.blob(0, data.byteLength);
      }
      const fields = { key: 'k/f.bin', policy: 'cG9saWN5', 'Content-Type': 'application/octet-stream' };
      const progress: number[] = [];
      const response = await transport(t).send({
        method: 'POST',
        url: server.url,
        headers: {},
        body: { fields, file },
        signal: new AbortController().signal,
        onUploadProgress: (sent) => progress.push(sent),
      });
      assert.equal(response.status, 201);
      const [request] = server.seen;
      assert.ok(request);
      const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(
        request.headers['content-type'] ?? '',
      )?.[1];
      assert.ok(boundary, 'a multipart content type with its boundary');
      const envelope = formEnvelope(fields, boundary);
      const expected = Buffer.concat([envelope.head, data, envelope.tail]);
      assert.equal(request.headers['content-length'], String(expected.byteLength));
      assert.equal(request.headers['transfer-encoding'], undefined);
      assert.ok(request.body.equals(expected), 'the body is the envelope around the file bytes');
      // A parser reads it back as the same fields and file.
      const parsed = await new Response(new Uint8Array(request.body), {
        headers: { 'content-type': request.headers['content-type'] as string },
      }).formData();
      assert.deepEqual([...parsed.keys()], [...Object.keys(fields), 'file']);
      const sentFile = parsed.get('file') as File;
      assert.ok(Buffer.from(await sentFile.arrayBuffer()).equals(data));
      assert.equal(progress.at(-1), data.byteLength, 'progress ends at the file size');
      assert.ok(progress.every((n, i) => n <= data.byteLength && (i === 0 || n >= (progress[i - 1] ?? 0))));
    });
  }
});
