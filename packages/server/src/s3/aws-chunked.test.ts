import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { toHex } from '@hoist/aws/internal/sigv4/crypto';
import { SigV4Error } from '@hoist/aws/internal/sigv4/errors';
import { deriveSigningKey } from '@hoist/aws/internal/sigv4/signing-key';
import { nodeSigV4Crypto } from '@hoist/aws/node';
import { type AwsChunkedOptions, decodeAwsChunked } from './aws-chunked.ts';

type Mode = AwsChunkedOptions['mode'];
const SIGNED: Mode = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
const SIGNED_TRAILER: Mode = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
const UNSIGNED_TRAILER: Mode = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const KEY = createHash('sha256').update('test signing key').digest();
const SEED = createHash('sha256').update('seed').digest('hex');
const DATETIME = '20240102T030405Z';
const SCOPE = '20240102/us-east-1/s3/aws4_request';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

interface EncodeOptions {
  mode: Mode;
  chunkSize: number;
  trailers?: [string, string][];
  key?: Uint8Array;
  seed?: string;
  datetime?: string;
  scope?: string;
  /** Leave out the closing empty line. */
  noFinalCrlf?: boolean;
}

/** Our own aws-chunked encoder, following the AWS documentation. */
function encode(data: Buffer, o: EncodeOptions): Buffer {
  const key = o.key ?? KEY;
  const datetime = o.datetime ?? DATETIME;
  const scope = o.scope ?? SCOPE;
  const signed = o.mode !== UNSIGNED_TRAILER;
  const hmac = (text: string) => createHmac('sha256', key).update(text).digest('hex');
  let previous = o.seed ?? SEED;
  const parts: (Buffer | string)[] = [];
  const header = (size: number, chunk: Buffer) => {
    if (!signed) return `${size.toString(16)}\r\n`;
    previous = hmac(
      `AWS4-HMAC-SHA256-PAYLOAD\n${datetime}\n${scope}\n${previous}\n${EMPTY}\n${sha256(chunk)}`,
    );
    return `${size.toString(16)};chunk-signature=${previous}\r\n`;
  };
  for (let offset = 0; offset < data.length; offset += o.chunkSize) {
    const chunk = data.subarray(offset, offset + o.chunkSize);
    parts.push(header(chunk.length, chunk), chunk, '\r\n');
  }
  parts.push(header(0, Buffer.alloc(0)));
  for (const [name, value] of o.trailers ?? []) parts.push(`${name}:${value}\r\n`);
  if (o.mode === SIGNED_TRAILER) {
    const canonical = (o.trailers ?? []).map(([n, v]) => `${n}:${v}\n`).join('');
    const signature = hmac(
      `AWS4-HMAC-SHA256-TRAILER\n${datetime}\n${scope}\n${previous}\n${sha256(canonical)}`,
    );
    parts.push(`x-amz-trailer-signature:${signature}\r\n`);
  }
  if (!o.noFinalCrlf) parts.push('\r\n');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
}

function options(mode: Mode, patch: Partial<AwsChunkedOptions> = {}): AwsChunkedOptions {
  return {
    mode,
    signingKey: KEY,
    seedSignature: SEED,
    datetime: DATETIME,
    scope: SCOPE,
    decodedContentLength: undefined,
    declaredTrailers: [],
    ...patch,
  };
}

async function* pieces(body: Buffer, sizes: () => number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < body.length; ) {
    const size = Math.max(1, sizes());
    // Fresh Uint8Array views (not Buffers) to exercise conversion.
    yield new Uint8Array(body.buffer, body.byteOffset + offset, Math.min(size, body.length - offset));
    offset += size;
  }
}

async function decodeAll(source: AsyncIterable<Uint8Array>, o: AwsChunkedOptions) {
  const decoded = decodeAwsChunked(source, o);
  const out: Buffer[] = [];
  for await (const piece of decoded.payload) out.push(piece);
  return { data: Buffer.concat(out), trailers: decoded.trailers, pieces: out };
}

async function expectCode(promise: Promise<unknown>, code: string, status?: number): Promise<SigV4Error> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`expected ${code}`),
    (error: unknown) => {
      caught = error;
    },
  );
  assert.ok(caught instanceof SigV4Error, String(caught));
  assert.equal(caught.code, code, caught.message);
  if (status !== undefined) assert.equal(caught.status, status);
  assert.ok(caught.message.length > 0);
  return caught;
}

/** Deterministic pseudo-random sizes. */
function rng(seed: number) {
  let x = seed;
  return (max: number) => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return 1 + (x % max);
  };
}

const CRC = ['x-amz-checksum-crc32', 'AAAAAA=='] as [string, string];

describe('decodeAwsChunked: AWS documentation example', () => {
  it('verifies the documented chunk signatures (64 KiB + 1 KiB of "a")', async () => {
    const key = await deriveSigningKey(
      nodeSigV4Crypto,
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      '20130524',
      'us-east-1',
      's3',
    );
    const seed = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
    const a = (n: number) => 'a'.repeat(n);
    const body = Buffer.from(
      `10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n${a(65536)}\r\n` +
        `400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n${a(1024)}\r\n` +
        '0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n',
    );
    const o = options(SIGNED, {
      signingKey: key,
      seedSignature: seed,
      datetime: '20130524T000000Z',
      scope: '20130524/us-east-1/s3/aws4_request',
      decodedContentLength: 66560,
    });
    const { data } = await decodeAll(
      pieces(body, () => 4096),
      o,
    );
    assert.equal(data.toString(), a(66560));
    assert.equal(toHex(key).length, 64);
  });
});

describe('decodeAwsChunked: round trips', () => {
  const small = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 7) & 0xff));
  const cases: [Mode, [string, string][], string[]][] = [
    [SIGNED, [], []],
    [SIGNED_TRAILER, [CRC], ['x-amz-checksum-crc32']],
    [UNSIGNED_TRAILER, [CRC], ['x-amz-checksum-crc32']],
    [UNSIGNED_TRAILER, [], []],
  ];
  for (const [mode, trailers, declared] of cases) {
    it(`${mode} (${trailers.length} trailers), 1-byte pieces`, async () => {
      const body = encode(small, { mode, chunkSize: 8192, trailers });
      const result = await decodeAll(
        pieces(body, () => 1),
        options(mode, { decodedContentLength: small.length, declaredTrailers: declared }),
      );
      assert.ok(result.data.equals(small));
      assert.deepEqual([...result.trailers], trailers);
    });

    it(`${mode} (${trailers.length} trailers), 1 MiB in random pieces, zero-copy`, async () => {
      const big = randomBytes(1024 * 1024);
      const body = encode(big, { mode, chunkSize: 65536, trailers });
      for (const seed of [1, 2, 3]) {
        const next = rng(seed);
        const max = [17, 9000, 200_000][seed - 1] as number;
        const result = await decodeAll(
          pieces(body, () => next(max)),
          options(mode, { decodedContentLength: big.length, declaredTrailers: declared }),
        );
        assert.ok(result.data.equals(big));
        assert.deepEqual([...result.trailers], trailers);
        for (const piece of result.pieces)
          assert.equal(piece.buffer, body.buffer, 'payload pieces are views of the input');
      }
    });
  }

  it('handles an empty payload', async () => {
    for (const mode of [SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER]) {
      const body = encode(Buffer.alloc(0), { mode, chunkSize: 8192 });
      const result = await decodeAll(
        pieces(body, () => 3),
        options(mode, { decodedContentLength: 0 }),
      );
      assert.equal(result.data.length, 0);
    }
  });

  it('accepts small chunks when only the last one is small', async () => {
    const data = randomBytes(8192 * 2 + 5);
    const body = encode(data, { mode: SIGNED, chunkSize: 8192 });
    assert.ok(
      (
        await decodeAll(
          pieces(body, () => 1000),
          options(SIGNED),
        )
      ).data.equals(data),
    );
  });
});

describe('decodeAwsChunked: what real clients send', () => {
  it('AWS SDK for JavaScript without a checksum: body ends right after "0\\r\\n"', async () => {
    const body = Buffer.from(`5\r\nhello\r\n0\r\n`);
    const result = await decodeAll(
      pieces(body, () => 2),
      options(UNSIGNED_TRAILER, { decodedContentLength: 5 }),
    );
    assert.equal(result.data.toString(), 'hello');
  });

  it('AWS SDK for JavaScript / botocore with a checksum trailer', async () => {
    const body = Buffer.from(`5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n`);
    const result = await decodeAll(
      pieces(body, () => 7),
      options(UNSIGNED_TRAILER, { decodedContentLength: 5, declaredTrailers: ['x-amz-checksum-crc32'] }),
    );
    assert.equal(result.trailers.get('x-amz-checksum-crc32'), 'NhCmhg==');
  });

  it('tolerates a missing final empty line, "name: value" and bare LF trailer lines', async () => {
    const o = options(UNSIGNED_TRAILER, { declaredTrailers: ['x-amz-checksum-crc32c'] });
    for (const tail of [
      'x-amz-checksum-crc32c:abc=\r\n',
      'X-Amz-Checksum-CRC32C: abc= \r\n\r\n',
      'x-amz-checksum-crc32c:abc=\n\n',
    ]) {
      const result = await decodeAll(
        pieces(Buffer.from(`1\r\nx\r\n0\r\n${tail}`), () => 1),
        o,
      );
      assert.equal(result.trailers.get('x-amz-checksum-crc32c'), 'abc=', JSON.stringify(tail));
    }
  });
});

describe('decodeAwsChunked: errors', () => {
  const data = Buffer.from(Array.from({ length: 30_000 }, (_, i) => (i * 13) & 0xff));
  const signedBody = () => encode(data, { mode: SIGNED, chunkSize: 8192 });
  const run = (body: Buffer, o: AwsChunkedOptions, size = 1000) =>
    decodeAll(
      pieces(body, () => size),
      o,
    );

  it('a tampered data byte', async () => {
    // Position of byte `within` of data chunk `index` in an encoded signed body.
    const dataPosition = (body: Buffer, index: number, within: number) => {
      let pos = 0;
      for (let k = 0; ; k++) {
        const dataStart = body.indexOf('\r\n', pos) + 2;
        if (k === index) return dataStart + within;
        pos = dataStart + Number.parseInt(body.toString('latin1', pos, body.indexOf(';', pos)), 16) + 2;
      }
    };
    for (const [index, within] of [
      [0, 0],
      [1, 4000],
      [3, 5000],
    ] as const) {
      const body = signedBody();
      const i = dataPosition(body, index, within);
      body[i] = (body[i] as number) ^ 1;
      await expectCode(run(body, options(SIGNED)), 'SignatureDoesNotMatch', 403);
    }
  });

  it('a tampered chunk signature, first or final chunk', async () => {
    const first = signedBody();
    const at = first.indexOf('chunk-signature=') + 20;
    first[at] = first[at] === 0x30 ? 0x31 : 0x30;
    await expectCode(run(first, options(SIGNED)), 'SignatureDoesNotMatch', 403);
    const last = signedBody();
    const end = last.lastIndexOf('chunk-signature=') + 20;
    last[end] = last[end] === 0x30 ? 0x31 : 0x30;
    await expectCode(run(last, options(SIGNED)), 'SignatureDoesNotMatch', 403);
    // Wrong key or seed.
    await expectCode(run(signedBody(), options(SIGNED, { seedSignature: EMPTY })), 'SignatureDoesNotMatch');
  });

  it('a wrong trailer signature or tampered trailer; trailers stay empty', async () => {
    const o = options(SIGNED_TRAILER, { declaredTrailers: ['x-amz-checksum-crc32'] });
    const good = encode(data, { mode: SIGNED_TRAILER, chunkSize: 8192, trailers: [CRC] });
    assert.equal((await run(good, o)).trailers.get('x-amz-checksum-crc32'), 'AAAAAA==');
    const tampered = Buffer.from(good.toString('latin1').replace('AAAAAA==', 'AAAAAB=='), 'latin1');
    const decoded = decodeAwsChunked(
      pieces(tampered, () => 500),
      o,
    );
    await expectCode(
      (async () => {
        for await (const _ of decoded.payload);
      })(),
      'SignatureDoesNotMatch',
      403,
    );
    assert.equal(decoded.trailers.size, 0);
    const badSig = Buffer.from(
      good.toString('latin1').replace(/trailer-signature:[0-9a-f]/, 'trailer-signature:x'),
      'latin1',
    );
    await expectCode(run(badSig, o), 'MalformedTrailerError', 400);
    const noSig = Buffer.from(
      good.toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''),
      'latin1',
    );
    await expectCode(run(noSig, o), 'MalformedTrailerError', 400);
  });

  it('a truncated body', async () => {
    const body = signedBody();
    for (const cut of [0, 10, 100, 8300, body.length - 100, body.length - 3]) {
      await expectCode(run(body.subarray(0, cut), options(SIGNED)), 'IncompleteBody', 400);
    }
    const unsigned = encode(data, { mode: UNSIGNED_TRAILER, chunkSize: 8192, trailers: [CRC] });
    const partialTrailer = unsigned.subarray(0, unsigned.length - 6);
    await expectCode(
      run(partialTrailer, options(UNSIGNED_TRAILER, { declaredTrailers: ['x-amz-checksum-crc32'] })),
      'IncompleteBody',
    );
  });

  it('a decoded length that differs from x-amz-decoded-content-length', async () => {
    await expectCode(
      run(signedBody(), options(SIGNED, { decodedContentLength: data.length + 1 })),
      'IncompleteBody',
      400,
    );
    await expectCode(
      run(signedBody(), options(SIGNED, { decodedContentLength: data.length - 1 })),
      'IncompleteBody',
      400,
    );
  });

  it('an oversized chunk-header line or trailer section', async () => {
    await expectCode(run(Buffer.from('a'.repeat(5000)), options(UNSIGNED_TRAILER)), 'InvalidRequest', 400);
    await expectCode(
      run(Buffer.from(`${'0'.repeat(5000)}1\r\nx\r\n0\r\n\r\n`), options(UNSIGNED_TRAILER), 7),
      'InvalidRequest',
    );
    const huge = Buffer.from(`1\r\nx\r\n0\r\nx-amz-checksum-crc32:${'A'.repeat(17_000)}\r\n\r\n`);
    await expectCode(
      run(huge, options(UNSIGNED_TRAILER, { declaredTrailers: ['x-amz-checksum-crc32'] })),
      'MalformedTrailerError',
      400,
    );
  });

  it('malformed chunk framing', async () => {
    const o = options(UNSIGNED_TRAILER);
    for (const body of [
      'zz\r\nx\r\n0\r\n\r\n', // not hex
      '1;ext=1\r\nx\r\n0\r\n\r\n', // extension in unsigned mode
      '1\nx\r\n0\r\n\r\n', // bare LF after the size
      '1\r\nxy\r\n0\r\n\r\n', // data longer than declared
      '1\r\nx0\r\n\r\n', // missing CRLF after data
      '200000000\r\n', // 8 GiB chunk
      '1\r\nx\r\n0\r\n\r\nextra', // data after the end
    ]) {
      await expectCode(run(Buffer.from(body), o, 3), 'InvalidRequest', 400);
    }
    const s = options(SIGNED);
    await expectCode(run(Buffer.from('1\r\nx\r\n'), s), 'InvalidRequest', 400);
    await expectCode(
      run(Buffer.from(`1;chunk-signature=${'A'.repeat(64)}\r\nx\r\n`), s),
      'InvalidRequest',
      400,
    );
  });

  it('a non-final chunk under 8 KiB', async () => {
    const body = encode(data, { mode: UNSIGNED_TRAILER, chunkSize: 1000 });
    const error = await expectCode(run(body, options(UNSIGNED_TRAILER)), 'InvalidChunkSizeError', 403);
    assert.deepEqual(error.extra, { Chunk: '2', BadChunkSize: '1000' });
    await expectCode(
      run(encode(data, { mode: SIGNED, chunkSize: 4096 }), options(SIGNED)),
      'InvalidChunkSizeError',
      403,
    );
  });

  it('undeclared, duplicate, missing or malformed trailers', async () => {
    const o = options(UNSIGNED_TRAILER, { declaredTrailers: ['x-amz-checksum-crc32'] });
    for (const tail of [
      'x-amz-checksum-sha256:abc\r\n\r\n', // undeclared
      'x-amz-checksum-crc32:a\r\nx-amz-checksum-crc32:b\r\n\r\n', // twice
      '\r\n', // declared but missing
      'no colon here\r\n\r\n',
      ':value\r\n\r\n',
      `x-amz-checksum-crc32:a\r\nx-amz-trailer-signature:${'0'.repeat(64)}\r\n\r\n`, // signature in unsigned mode
    ]) {
      await expectCode(run(Buffer.from(`1\r\nx\r\n0\r\n${tail}`), o, 2), 'MalformedTrailerError', 400);
    }
    // Trailers are not allowed at all without a -TRAILER mode.
    const signedBodyWithTrailer = Buffer.from(
      encode(Buffer.from('x'), { mode: SIGNED, chunkSize: 8192, noFinalCrlf: true }).toString('latin1') +
        'a:b\r\n\r\n',
      'latin1',
    );
    await expectCode(run(signedBodyWithTrailer, options(SIGNED)), 'MalformedTrailerError', 400);
  });

  it('throws a TypeError naming a bad option', () => {
    const source = pieces(Buffer.alloc(0), () => 1);
    const bad: [Partial<AwsChunkedOptions>, RegExp][] = [
      [{ mode: 'UNSIGNED-PAYLOAD' as Mode }, /options\.mode/],
      [{ signingKey: new Uint8Array(3) }, /options\.signingKey/],
      [{ seedSignature: 'abc' }, /options\.seedSignature/],
      [{ datetime: '2024' }, /options\.datetime/],
      [{ scope: 'x' }, /options\.scope/],
      [{ decodedContentLength: -1 }, /options\.decodedContentLength/],
      [{ declaredTrailers: 'x' as never }, /options\.declaredTrailers/],
    ];
    for (const [patch, message] of bad)
      assert.throws(() => decodeAwsChunked(source, options(SIGNED, patch)), message);
    // Unsigned mode needs no key material.
    decodeAwsChunked(source, options(UNSIGNED_TRAILER, { signingKey: new Uint8Array(0), seedSignature: '' }));
  });
});
