/**
 * The request-body pipeline: declared length and limits checked before a byte is
 * read, aws-chunked decoded (chunk signatures verified), MD5 + the requested
 * checksum + the signed SHA-256 computed as the bytes stream past, and every
 * digest compared once the last byte is in — before anything is committed.
 */
import { S3Error } from '@hoist/aws/s3';
import { SigV4Error } from '@hoist/aws/sigv4';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checksumHeaderName,
  parseChecksumAlgorithm,
} from '@hoist/protocol';
import { type HashAlgorithm, type HashSession, inlineHashSession } from '../checksum/hash-pool.ts';
import { isValidChecksumValue } from '../checksum/index.ts';
import { decodeAwsChunked } from './aws-chunked.ts';
import { header, type S3Context } from './context.ts';

export interface ReceivedPayload {
  size: number;
  md5: Buffer;
  /** Present when the client sent a checksum or the caller required an algorithm. */
  checksum?: { algorithm: ChecksumAlgorithm; digest: Buffer; base64: string };
}

export interface PayloadOptions {
  /** Largest acceptable decoded body. */
  maxSize: number;
  /** Algorithm whose digest the caller needs even if the client sent none (an upload's algorithm). */
  requireAlgorithm?: ChecksumAlgorithm;
  /** Whether a body may be absent altogether (no Content-Length). */
  allowMissingLength?: boolean;
  /**
   * The request's x-amz-checksum-* headers describe the object, not this body
   * (CompleteMultipartUpload's full-object checksum): don't check the body against them.
   */
  checksumHeadersDescribeObject?: boolean;
}

export interface PayloadStream {
  /**
   * The body's bytes. Each chunk is a fresh buffer nothing reuses (node:http copies
   * every body piece into its own; aws-chunked yields subarrays of those), so a
   * writer may keep it: `writeBlob(chunks, { ownedChunks: true })`.
   */
  chunks: AsyncGenerator<Buffer>;
  /** Available after `chunks` finished without throwing. */
  result(): ReceivedPayload;
  declaredSize: number;
}

/** Bodies from this size on are hashed on a worker thread; smaller ones inline. */
const WORKER_HASH_THRESHOLD = 1024 * 1024;

const STREAMING_MODES = new Set([
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
]);

function parseLength(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,16}$/.test(value))
    throw new S3Error('InvalidArgument', `${name} must be a non-negative integer.`);
  return Number(value);
}

/** Which checksum the client promised, and where its value comes from (header or trailer). */
function expectedChecksum(
  ctx: S3Context,
  trailers: string[],
): { algorithm: ChecksumAlgorithm; value?: string; fromTrailer: boolean } | undefined {
  const present = CHECKSUM_ALGORITHMS.filter(
    (algorithm) => header(ctx, checksumHeaderName(algorithm)) !== undefined,
  );
  const trailerAlgorithms = trailers
    .filter((name) => name.startsWith('x-amz-checksum-'))
    .map((name) => parseChecksumAlgorithm(name.slice('x-amz-checksum-'.length)));
  if (trailerAlgorithms.some((algorithm) => algorithm === undefined)) {
    throw new S3Error('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported');
  }
  if (present.length + trailerAlgorithms.length > 1) {
    throw new S3Error(
      'InvalidRequest',
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  }
  const sdkAlgorithmHeader = header(ctx, 'x-amz-sdk-checksum-algorithm');
  const sdkAlgorithm =
    sdkAlgorithmHeader === undefined ? undefined : parseChecksumAlgorithm(sdkAlgorithmHeader);
  if (sdkAlgorithmHeader !== undefined && sdkAlgorithm === undefined) {
    throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
  }
  const headerAlgorithm = present[0];
  if (headerAlgorithm) {
    const value = header(ctx, checksumHeaderName(headerAlgorithm)) ?? '';
    if (!isValidChecksumValue(headerAlgorithm, value)) {
      throw new S3Error(
        'InvalidRequest',
        `Value for ${checksumHeaderName(headerAlgorithm)} header is invalid.`,
      );
    }
    if (sdkAlgorithm && sdkAlgorithm !== headerAlgorithm) {
      throw new S3Error(
        'InvalidRequest',
        'x-amz-sdk-checksum-algorithm does not match the checksum header sent.',
      );
    }
    return { algorithm: headerAlgorithm, value, fromTrailer: false };
  }
  const trailerAlgorithm = trailerAlgorithms[0];
  if (trailerAlgorithm) return { algorithm: trailerAlgorithm, fromTrailer: true };
  if (sdkAlgorithm) return { algorithm: sdkAlgorithm, fromTrailer: false };
  return undefined;
}

/**
 * Prepares to receive the body. Throws at once (before reading) for a missing or
 * too-large length, a malformed checksum header or Content-MD5.
 */
export function receivePayload(ctx: S3Context, options: PayloadOptions): PayloadStream {
  const payloadHash = ctx.auth.payloadHash;
  const streaming = STREAMING_MODES.has(payloadHash);
  const contentLength = parseLength(header(ctx, 'content-length'), 'Content-Length');
  const decodedLength = parseLength(
    header(ctx, 'x-amz-decoded-content-length'),
    'x-amz-decoded-content-length',
  );
  if (!streaming && payloadHash !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-f]{64}$/.test(payloadHash)) {
    throw new S3Error(
      'InvalidArgument',
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a SHA-256 hex digest.',
    );
  }
  let declaredSize: number | undefined = streaming ? decodedLength : contentLength;
  if (declaredSize === undefined) {
    if (
      contentLength === undefined &&
      header(ctx, 'transfer-encoding') === undefined &&
      options.allowMissingLength
    ) {
      declaredSize = 0;
    } else {
      throw new S3Error('MissingContentLength');
    }
  }
  if (declaredSize > options.maxSize) {
    throw new S3Error('EntityTooLarge', undefined, {
      extra: { ProposedSize: String(declaredSize), MaxSizeAllowed: String(options.maxSize) },
    });
  }
  const trailerHeader = header(ctx, 'x-amz-trailer');
  const declaredTrailers = trailerHeader
    ? trailerHeader
        .split(',')
        .map((name) => name.trim().toLowerCase())
        .filter(Boolean)
    : [];
  if (declaredTrailers.length > 0 && !payloadHash.endsWith('-TRAILER')) {
    throw new S3Error('InvalidRequest', 'x-amz-trailer requires a STREAMING-*-TRAILER x-amz-content-sha256.');
  }
  const expected = options.checksumHeadersDescribeObject
    ? undefined
    : expectedChecksum(ctx, declaredTrailers);
  if (options.requireAlgorithm && expected && expected.algorithm !== options.requireAlgorithm) {
    throw new S3Error(
      'InvalidRequest',
      `Checksum Type mismatch occurred, expected checksum Type: ${options.requireAlgorithm.toLowerCase()}, actual checksum Type: ${expected.algorithm.toLowerCase()}`,
    );
  }
  const contentMd5 = header(ctx, 'content-md5');
  if (contentMd5 !== undefined && !/^[A-Za-z0-9+/]{22}==$/.test(contentMd5))
    throw new S3Error('InvalidDigest');

  const algorithm = expected?.algorithm ?? options.requireAlgorithm;
  const signedSha256 = /^[0-9a-f]{64}$/.test(payloadHash);
  const algorithms = new Set<HashAlgorithm>(['MD5']);
  if (algorithm) algorithms.add(algorithm);
  if (signedSha256) algorithms.add('SHA256');
  // Large bodies are hashed on worker threads, beside the socket reads and disk writes.
  const hashing: HashSession =
    declaredSize >= WORKER_HASH_THRESHOLD
      ? ctx.hashPool.open([...algorithms])
      : inlineHashSession([...algorithms]);
  const expectedSize = declaredSize;
  let result: ReceivedPayload | undefined;

  const source: AsyncIterable<Uint8Array> = ctx.req;
  const decoded = streaming
    ? decodeAwsChunked(source, {
        mode: payloadHash as 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        signingKey: ctx.auth.signingKey,
        seedSignature: ctx.auth.signature,
        datetime: ctx.auth.datetime,
        scope: ctx.auth.scope,
        decodedContentLength: decodedLength,
        declaredTrailers,
      })
    : undefined;

  async function* chunks(): AsyncGenerator<Buffer> {
    let size = 0;
    const iterable: AsyncIterable<Uint8Array> = decoded ? decoded.payload : source;
    try {
      for await (const piece of iterable) {
        const chunk = Buffer.isBuffer(piece)
          ? piece
          : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
        size += chunk.length;
        if (size > expectedSize)
          throw new S3Error('IncompleteBody', 'The request body is longer than its declared length.');
        const backpressure = hashing.update(chunk);
        if (backpressure) await backpressure;
        yield chunk;
      }
    } catch (error) {
      hashing.close();
      // S3's answers and the aws-chunked decoder's signature failures go out as they are.
      if (error instanceof S3Error || error instanceof SigV4Error) throw error;
      throw new S3Error('IncompleteBody', undefined, { cause: error });
    }
    if (size !== expectedSize) {
      hashing.close();
      throw new S3Error('IncompleteBody');
    }
    const digests = await hashing.digest();
    const md5Digest = digests.get('MD5') as Buffer;
    if (contentMd5 !== undefined && md5Digest.toString('base64') !== contentMd5) {
      throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
        extra: { ExpectedDigest: contentMd5, CalculatedDigest: md5Digest.toString('base64') },
      });
    }
    if (signedSha256 && digests.get('SHA256')?.toString('hex') !== payloadHash) {
      throw new S3Error('XAmzContentSHA256Mismatch', undefined, {
        extra: { ClientComputedContentSHA256: payloadHash },
      });
    }
    let checksum: ReceivedPayload['checksum'];
    const digest = algorithm ? digests.get(algorithm) : undefined;
    if (algorithm && digest) {
      const base64 = digest.toString('base64');
      let claimed = expected?.value;
      if (expected?.fromTrailer) {
        claimed = decoded?.trailers.get(checksumHeaderName(expected.algorithm));
        if (claimed === undefined) {
          throw new S3Error(
            'MalformedTrailerError',
            `The trailer ${checksumHeaderName(expected.algorithm)} was declared but not sent.`,
          );
        }
        if (!isValidChecksumValue(expected.algorithm, claimed)) {
          throw new S3Error(
            'InvalidRequest',
            `Value for ${checksumHeaderName(expected.algorithm)} trailing header is invalid.`,
          );
        }
      }
      if (claimed !== undefined && claimed !== base64) {
        throw new S3Error(
          'BadDigest',
          `The ${algorithm} you specified did not match the calculated checksum.`,
        );
      }
      checksum = { algorithm, digest, base64 };
    }
    result = checksum ? { size, md5: md5Digest, checksum } : { size, md5: md5Digest };
  }

  return {
    chunks: chunks(),
    declaredSize: expectedSize,
    result() {
      if (!result) throw new Error('payload not fully received');
      return result;
    },
  };
}

/** Reads a small body (XML documents) into memory, bounded, with the same verification. */
export async function readSmallBody(
  ctx: S3Context,
  maxSize: number,
  options: Pick<PayloadOptions, 'checksumHeadersDescribeObject'> = {},
): Promise<Buffer> {
  const stream = receivePayload(ctx, { maxSize, allowMissingLength: true, ...options });
  const pieces: Buffer[] = [];
  for await (const chunk of stream.chunks) pieces.push(chunk);
  return Buffer.concat(pieces);
}

/** Whether the request carried an integrity header (required by DeleteObjects and PutBucketCors). */
export function hasIntegrityHeader(ctx: S3Context): boolean {
  if (header(ctx, 'content-md5') !== undefined) return true;
  if (header(ctx, 'x-amz-sdk-checksum-algorithm') !== undefined) return true;
  if ((header(ctx, 'x-amz-trailer') ?? '').includes('x-amz-checksum-')) return true;
  return CHECKSUM_ALGORITHMS.some((algorithm) => header(ctx, checksumHeaderName(algorithm)) !== undefined);
}
