/**
 * Presigned requests for clients (presign mode, and downloads), signed just in time with the
 * broker's own credentials. What must not change is a signed header — length, type,
 * disposition, checksum — so S3 refuses a request that differs (SignatureDoesNotMatch).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { PresignedRequest } from '@hoist/protocol';
import { type ChecksumAlgorithm, checksumHeaderName } from '@hoist/protocol';
import { CHECKSUM_FIELD } from './aws.ts';

interface Timing {
  /** Lifetime of the URL, seconds. */
  expiresIn: number;
  /** ms since epoch: the signing time. */
  now: number;
}

function expiresAt({ expiresIn, now }: Timing): string {
  return new Date(now + expiresIn * 1000).toISOString();
}

export interface PartTarget extends Timing {
  bucket: string;
  key: string;
  uploadId: string;
  partNumber: number;
  contentLength: number;
  algorithm: ChecksumAlgorithm;
  /** Base64; bound into the signature (as a header, not hoisted into the query) when given. */
  checksum?: string | undefined;
  /** Base64 MD5 (stores without flexible checksums): signed in as Content-MD5, which the store verifies. */
  contentMd5?: string | undefined;
}

export async function presignUploadPart(presigner: S3Client, target: PartTarget): Promise<PresignedRequest> {
  const header = checksumHeaderName(target.algorithm);
  const headers: Record<string, string> = { 'content-length': String(target.contentLength) };
  if (target.checksum) headers[header] = target.checksum;
  if (target.contentMd5) headers['content-md5'] = target.contentMd5;
  const url = await getSignedUrl(
    presigner,
    new UploadPartCommand({
      Bucket: target.bucket,
      Key: target.key,
      UploadId: target.uploadId,
      PartNumber: target.partNumber,
      ContentLength: target.contentLength,
      ...(target.checksum ? { [CHECKSUM_FIELD[target.algorithm]]: target.checksum } : {}),
      ...(target.contentMd5 ? { ContentMD5: target.contentMd5 } : {}),
    }),
    {
      expiresIn: target.expiresIn,
      signableHeaders: new Set(['content-length', 'content-md5']),
      unhoistableHeaders: new Set([header]),
      signingDate: new Date(target.now),
    },
  );
  return { url, method: 'PUT', headers, expiresAt: expiresAt(target) };
}

/** What the broker decides about a single-request object. */
export interface PutObjectSettings {
  contentType: string;
  contentDisposition: string;
  /** x-amz-meta-*: headers the client sends as given (ASCII values). */
  metadata: Record<string, string>;
}

/**
 * The headers a single-request PutObject carries as they are (`putHeaders` in sts and federation
 * modes, signed into the URL in presign mode): type, disposition and metadata as the broker
 * decided, and `If-None-Match: *`, without which the session policy refuses the write.
 */
export function putObjectHeaders(settings: PutObjectSettings): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': settings.contentType,
    'content-disposition': settings.contentDisposition,
  };
  for (const [name, value] of Object.entries(settings.metadata))
    headers[`x-amz-meta-${name.toLowerCase()}`] = value;
  headers['if-none-match'] = '*';
  return headers;
}

export interface PutTarget extends Timing, PutObjectSettings {
  bucket: string;
  key: string;
  contentLength: number;
  algorithm: ChecksumAlgorithm;
  checksum?: string | undefined;
  /** Base64 MD5, signed in as Content-MD5 (stores without flexible checksums). */
  contentMd5?: string | undefined;
}

export async function presignPutObject(presigner: S3Client, target: PutTarget): Promise<PresignedRequest> {
  const header = checksumHeaderName(target.algorithm);
  const headers: Record<string, string> = {
    ...putObjectHeaders(target),
    'content-length': String(target.contentLength),
  };
  if (target.checksum) headers[header] = target.checksum;
  if (target.contentMd5) headers['content-md5'] = target.contentMd5;
  // Kept as headers rather than hoisted into the query: not every S3 reads metadata there.
  const metadataHeaders = Object.keys(target.metadata).map((name) => `x-amz-meta-${name.toLowerCase()}`);
  const url = await getSignedUrl(
    presigner,
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: target.key,
      ContentType: target.contentType,
      ContentLength: target.contentLength,
      ContentDisposition: target.contentDisposition,
      Metadata: target.metadata,
      // Signed: the URL can create the object once and never overwrite it.
      IfNoneMatch: '*',
      ...(target.checksum ? { [CHECKSUM_FIELD[target.algorithm]]: target.checksum } : {}),
      ...(target.contentMd5 ? { ContentMD5: target.contentMd5 } : {}),
    }),
    {
      expiresIn: target.expiresIn,
      // The presigner leaves Content-Type unsigned unless told: here it is the point.
      signableHeaders: new Set([
        'content-type',
        'content-length',
        'content-disposition',
        'if-none-match',
        'content-md5',
      ]),
      unhoistableHeaders: new Set([header, ...metadataHeaders]),
      signingDate: new Date(target.now),
    },
  );
  return { url, method: 'PUT', headers, expiresAt: expiresAt(target) };
}

export interface GetTarget extends Timing {
  bucket: string;
  key: string;
  responseContentDisposition: string;
}

export async function presignGetObject(presigner: S3Client, target: GetTarget): Promise<PresignedRequest> {
  const url = await getSignedUrl(
    presigner,
    new GetObjectCommand({
      Bucket: target.bucket,
      Key: target.key,
      ResponseContentDisposition: target.responseContentDisposition,
    }),
    { expiresIn: target.expiresIn, signingDate: new Date(target.now) },
  );
  return { url, method: 'GET', headers: {}, expiresAt: expiresAt(target) };
}
