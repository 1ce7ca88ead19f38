/**
 * Streaming decoder for S3 `Content-Encoding: aws-chunked` bodies: signed chunks
 * (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`), signed chunks + signed trailer
 * (`…-PAYLOAD-TRAILER`) and unsigned chunks + trailer (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 *
 * Hot path: payload bytes are yielded as subarrays of the incoming buffers, never copied;
 * only chunk-header and trailer lines split across buffers are buffered (bounded).
 * A chunk's bytes are yielded before its signature is checked (at the chunk's end), so a
 * consumer must commit nothing until the generator has completed without throwing.
 */
import { createHash, createHmac, type Hash, timingSafeEqual } from 'node:crypto';
import { SIGNATURE_MISMATCH_MESSAGE, SigV4Error } from '@hoist/aws/sigv4';

export interface AwsChunkedOptions {
  mode:
    | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
    | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
    | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  /** From VerifiedRequest (unused for unsigned). */
  signingKey: Uint8Array;
  seedSignature: string;
  datetime: string;
  scope: string;
  /** x-amz-decoded-content-length */
  decodedContentLength: number | undefined;
  /** Lowercased names from x-amz-trailer. */
  declaredTrailers: string[];
}

export interface AwsChunkedBody {
  payload: AsyncGenerator<Buffer>;
  /** Trailer name (lowercase) -> value; filled, after verification, when `payload` ends. */
  trailers: Map<string, string>;
}

const MODES = new Set<string>([
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
]);
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MAX_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;
const MAX_CHUNK = 5 * 1024 ** 3;
/** S3 rejects any chunk but the last below 8 KiB, in every streaming mode. */
const MIN_CHUNK = 8192;
const SIGNED_HEADER = /^([0-9a-fA-F]{1,16});chunk-signature=([0-9a-f]{64})$/;
const UNSIGNED_HEADER = /^[0-9a-fA-F]{1,16}$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const MALFORMED_TRAILER =
  'The request contained trailing data that was not well-formed or did not conform to our published schema.';

const HEADER = 0;
const DATA = 1;
const DATA_CR = 2;
const DATA_LF = 3;
const TRAILER = 4;
const DONE = 5;

const badChunk = (detail: string) =>
  new SigV4Error('InvalidRequest', 400, `Invalid aws-chunked encoding: ${detail}`);
const badTrailer = (detail: string) =>
  new SigV4Error('MalformedTrailerError', 400, `${MALFORMED_TRAILER} ${detail}`);
const mismatch = () => new SigV4Error('SignatureDoesNotMatch', 403, SIGNATURE_MISMATCH_MESSAGE);

function validate(o: AwsChunkedOptions): void {
  const fail = (option: string, expected: string): never => {
    throw new TypeError(`decodeAwsChunked: options.${option} ${expected}`);
  };
  if (typeof o !== 'object' || o === null) throw new TypeError('decodeAwsChunked: options must be an object');
  if (!MODES.has(o.mode)) fail('mode', 'must be a STREAMING-* x-amz-content-sha256 value');
  if (o.mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') {
    if (!(o.signingKey instanceof Uint8Array) || o.signingKey.length !== 32)
      fail('signingKey', 'must be 32 bytes');
    if (typeof o.seedSignature !== 'string' || !/^[0-9a-f]{64}$/.test(o.seedSignature))
      fail('seedSignature', 'must be 64 lowercase hex characters');
    if (typeof o.datetime !== 'string' || !/^\d{8}T\d{6}Z$/.test(o.datetime))
      fail('datetime', 'must be yyyymmddThhmmssZ');
    if (typeof o.scope !== 'string' || !o.scope.endsWith('/aws4_request'))
      fail('scope', 'must be a credential scope');
  }
  const length = o.decodedContentLength;
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0))
    fail('decodedContentLength', 'must be a non-negative integer or undefined');
  if (!Array.isArray(o.declaredTrailers) || o.declaredTrailers.some((n) => typeof n !== 'string'))
    fail('declaredTrailers', 'must be an array of header names');
}

/** Decodes an aws-chunked body; errors are SigV4Error with S3 codes. */
export function decodeAwsChunked(
  source: AsyncIterable<Uint8Array>,
  options: AwsChunkedOptions,
): AwsChunkedBody {
  validate(options);
  const trailers = new Map<string, string>();
  return { payload: decode(source, options, trailers), trailers };
}

async function* decode(
  source: AsyncIterable<Uint8Array>,
  o: AwsChunkedOptions,
  publicTrailers: Map<string, string>,
): AsyncGenerator<Buffer> {
  const signed = o.mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  const trailerMode = o.mode !== 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
  const declared = new Set(o.declaredTrailers.map((n) => n.toLowerCase()));
  const limit = o.decodedContentLength;

  let state = HEADER;
  let remaining = 0;
  let decoded = 0;
  let chunkNumber = 0;
  let previousSize = -1; // size of the previous data chunk; -1 before the first
  let hash: Hash | undefined;
  let chunkSignature = '';
  let previousSignature = o.seedSignature;
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let trailerBytes = 0;
  const trailers = new Map<string, string>();
  let canonicalTrailers = '';
  let trailerSignature: string | undefined;

  const checkSignature = (stringToSign: string, provided: string) => {
    const expected = createHmac('sha256', o.signingKey).update(stringToSign).digest();
    if (!timingSafeEqual(expected, Buffer.from(provided, 'hex'))) throw mismatch();
    previousSignature = provided;
  };
  const checkChunk = (dataSha256: string) => {
    if (!signed) return;
    checkSignature(
      `AWS4-HMAC-SHA256-PAYLOAD\n${o.datetime}\n${o.scope}\n${previousSignature}\n${EMPTY_SHA256}\n${dataSha256}`,
      chunkSignature,
    );
  };

  const onHeader = (line: string) => {
    let sizeHex: string;
    if (signed) {
      const m = SIGNED_HEADER.exec(line);
      if (!m) throw badChunk('expected "<hex-size>;chunk-signature=<signature>".');
      sizeHex = m[1] as string;
      chunkSignature = m[2] as string;
    } else {
      if (!UNSIGNED_HEADER.test(line)) throw badChunk('expected a hexadecimal chunk size.');
      sizeHex = line;
    }
    const size = Number.parseInt(sizeHex, 16);
    if (size > MAX_CHUNK) throw badChunk('a chunk must not exceed 5 GiB.');
    chunkNumber++;
    if (size > 0 && previousSize >= 0 && previousSize < MIN_CHUNK) {
      throw new SigV4Error(
        'InvalidChunkSizeError',
        403,
        'Only the last chunk is allowed to have a size less than 8192 bytes',
        {
          Chunk: String(chunkNumber),
          BadChunkSize: String(previousSize),
        },
      );
    }
    if (limit !== undefined && decoded + size > limit)
      throw new SigV4Error(
        'IncompleteBody',
        400,
        'The decoded body is longer than x-amz-decoded-content-length.',
      );
    decoded += size;
    if (size > 0) {
      previousSize = size;
      remaining = size;
      hash = signed ? createHash('sha256') : undefined;
      state = DATA;
    } else {
      checkChunk(EMPTY_SHA256);
      state = TRAILER;
    }
  };

  const finishTrailers = () => {
    for (const name of declared)
      if (!trailers.has(name))
        throw badTrailer(`The trailer ${name} was declared in x-amz-trailer but not sent.`);
    if (signed && trailerMode) {
      if (trailerSignature === undefined) throw badTrailer('The x-amz-trailer-signature trailer is missing.');
      const digest = createHash('sha256').update(canonicalTrailers).digest('hex');
      checkSignature(
        `AWS4-HMAC-SHA256-TRAILER\n${o.datetime}\n${o.scope}\n${previousSignature}\n${digest}`,
        trailerSignature,
      );
    }
    for (const [name, value] of trailers) publicTrailers.set(name, value);
    state = DONE;
  };

  const onTrailer = (line: string) => {
    if (line === '') return finishTrailers();
    if (!trailerMode) throw badTrailer('This request declares no trailers.');
    if (trailerSignature !== undefined) throw badTrailer('x-amz-trailer-signature must be the last trailer.');
    const colon = line.indexOf(':');
    const name = line.slice(0, Math.max(colon, 0)).trim().toLowerCase();
    if (colon <= 0 || !TOKEN.test(name)) throw badTrailer('A trailer line must be "name:value".');
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      if (!signed) throw badTrailer('x-amz-trailer-signature is not allowed with unsigned payloads.');
      if (!/^[0-9a-f]{64}$/.test(value))
        throw badTrailer('x-amz-trailer-signature must be 64 hex characters.');
      trailerSignature = value;
      return;
    }
    if (!declared.has(name))
      throw badTrailer(`The trailer ${name.slice(0, 64)} was not declared in x-amz-trailer.`);
    if (trailers.has(name)) throw badTrailer(`The trailer ${name} was sent twice.`);
    trailers.set(name, value);
    canonicalTrailers += `${name}:${value}\n`;
  };

  /** Consumes up to one line; returns the new position. */
  const readLine = (buf: Buffer, pos: number): number => {
    const inHeader = state === HEADER;
    const cap = inHeader ? MAX_LINE : MAX_TRAILER_BYTES - trailerBytes;
    const nl = buf.indexOf(10, pos);
    const end = nl < 0 ? buf.length : nl;
    if (pendingLength + end - pos > cap) {
      throw inHeader
        ? badChunk(`a chunk header line exceeds ${MAX_LINE} bytes.`)
        : badTrailer('The trailers are too large.');
    }
    if (nl < 0) {
      // Copied: the source may reuse its buffer, and this is at most a few KiB.
      pending.push(Buffer.from(buf.subarray(pos)));
      pendingLength += buf.length - pos;
      return buf.length;
    }
    let line: string;
    if (pendingLength === 0) line = buf.toString('latin1', pos, nl);
    else {
      pending.push(buf.subarray(pos, nl));
      line = Buffer.concat(pending).toString('latin1');
      pending = [];
      pendingLength = 0;
    }
    const crlf = line.endsWith('\r');
    if (crlf) line = line.slice(0, -1);
    if (inHeader) {
      if (!crlf) throw badChunk('lines must end with CRLF.');
      onHeader(line);
    } else {
      trailerBytes += line.length + 2;
      onTrailer(line); // clients' trailer lines end with CRLF; a bare LF is tolerated
    }
    return nl + 1;
  };

  for await (const input of source) {
    const buf = Buffer.isBuffer(input)
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    let pos = 0;
    while (pos < buf.length) {
      if (state === DATA) {
        const end = Math.min(buf.length, pos + remaining);
        const piece = buf.subarray(pos, end);
        hash?.update(piece);
        remaining -= end - pos;
        pos = end;
        if (remaining === 0) state = DATA_CR;
        yield piece;
      } else if (state === DATA_CR) {
        if (buf[pos++] !== 13) throw badChunk('chunk data must be followed by CRLF.');
        state = DATA_LF;
      } else if (state === DATA_LF) {
        if (buf[pos++] !== 10) throw badChunk('chunk data must be followed by CRLF.');
        checkChunk(hash ? hash.digest('hex') : EMPTY_SHA256);
        hash = undefined;
        state = HEADER;
      } else if (state === DONE) {
        throw badChunk('data after the final chunk.');
      } else {
        pos = readLine(buf, pos);
      }
    }
  }
  // Clients may end right after the last trailer line (or after `0\r\n` when they send
  // none, as the AWS SDK for JavaScript does) without the closing empty line.
  if (state === TRAILER && pendingLength === 0) finishTrailers();
  if (state !== DONE)
    throw new SigV4Error(
      'IncompleteBody',
      400,
      'You did not provide the number of bytes specified by the Content-Length HTTP header.',
    );
  if (limit !== undefined && decoded !== limit)
    throw new SigV4Error(
      'IncompleteBody',
      400,
      'The decoded body length does not match x-amz-decoded-content-length.',
    );
}
