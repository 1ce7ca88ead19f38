import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3Error } from '../../aws/s3/errors.ts';
import { formBoundary, readPostForm } from './post-form.ts';

const BOUNDARY = '----hoistFormBoundary7MA4YWxk';

function body(fields: [string, string][], file: Buffer, after = ''): Buffer {
  const parts = fields.map(
    ([name, value]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return Buffer.concat([
    Buffer.from(
      `${parts.join('')}--${BOUNDARY}\r\nContent-Disposition: form-data; name="File"; filename="dir/a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    file,
    Buffer.from(
      `\r\n--${BOUNDARY}\r\n${after}Content-Disposition: form-data; name="late"\r\n\r\nx\r\n--${BOUNDARY}--\r\n`,
    ),
  ]);
}

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(file: AsyncGenerator<Buffer>): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of file) pieces.push(piece);
  return Buffer.concat(pieces);
}

test('fields and file survive any chunking, the file may contain CRLF and boundary look-alikes', async () => {
  const file = Buffer.concat([
    Buffer.from(`\r\n--${BOUNDARY.slice(0, -1)}X\r\n`),
    Buffer.from([0, 1, 2, 13, 10, 45, 45]),
  ]);
  const data = body(
    [
      ['Key', 'a/b c'],
      ['x-amz-meta-note', 'line1\r\nline2'],
      ['key', 'second wins not'],
    ],
    file,
  );
  for (const size of [1, 2, 7, 64, data.length]) {
    const form = await readPostForm(chunked(data, size), BOUNDARY);
    assert.equal(form.fields.get('key'), 'a/b c');
    assert.equal(form.fields.get('x-amz-meta-note'), 'line1\r\nline2');
    assert.equal(form.filename, 'a.bin');
    assert.deepEqual(await collect(form.file), file, `chunk size ${size}`);
    assert.equal(form.fields.has('late'), false);
  }
});

test('no file, no closing boundary, oversized pre-file fields and bad part headers are refused', async () => {
  const refused = async (data: Buffer | string, code: string) => {
    await assert.rejects(
      async () => {
        const form = await readPostForm(chunked(Buffer.from(data), 5), BOUNDARY);
        await collect(form.file);
      },
      (error: unknown) => error instanceof S3Error && error.code === code,
    );
  };
  await refused(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--${BOUNDARY}--\r\n`,
    'InvalidArgument',
  );
  await refused(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nbytes without end`,
    'MalformedPOSTRequest',
  );
  await refused(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="pad"\r\n\r\n${'p'.repeat(21 * 1024)}\r\n--${BOUNDARY}--\r\n`,
    'MaxPostPreDataLengthExceededError',
  );
  await refused(`--${BOUNDARY}\r\nno colon here\r\n\r\nv\r\n--${BOUNDARY}--\r\n`, 'MalformedPOSTRequest');
  await refused(
    `--${BOUNDARY}\r\nContent-Disposition: attachment; name="x"\r\n\r\nv\r\n`,
    'MalformedPOSTRequest',
  );
});

test('formBoundary reads the boundary of multipart/form-data only', () => {
  assert.equal(formBoundary(`multipart/form-data; boundary=${BOUNDARY}`), BOUNDARY);
  assert.equal(formBoundary('multipart/form-data; boundary="quoted b"'), 'quoted b');
  assert.equal(formBoundary('multipart/mixed; boundary=x'), undefined);
  assert.equal(formBoundary('application/x-www-form-urlencoded'), undefined);
  assert.equal(formBoundary(undefined), undefined);
});
