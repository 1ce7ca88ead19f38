/**
 * What the broker answers, one schema per shape. The broker builds these values itself, so they
 * are not parsed at run time: they type the answers and document them (and a test checks real
 * answers against them).
 */
import { z } from 'zod';
import { PROBLEM_BASE, PROBLEMS } from '../problems.ts';
import {
  checksumAlgorithm,
  checksumType,
  isoDate,
  stringRecord,
  uploadIntegrity,
  uploadMode,
  uploadStatus,
} from './fields.ts';
import { documented } from './registry.ts';

export const temporaryCredentials = documented(
  z.object({
    accessKeyId: z.string(),
    secretAccessKey: z.string(),
    sessionToken: z.string(),
    expiration: isoDate(),
  }),
  { id: 'TemporaryCredentials' },
);

/** A presigned request: the URL plus the headers that were signed and must be sent as they are. */
export const presignedRequest = documented(
  z.object({
    url: z.url(),
    method: z.enum(['PUT', 'GET']),
    headers: documented(stringRecord(), 'Signed headers to send as they are.'),
    expiresAt: isoDate(),
  }),
  { id: 'PresignedRequest' },
);

/** `POST /uploads` */
export const createUploadResponse = documented(
  z.object({
    id: z.string(),
    bucket: z.string(),
    key: documented(z.string(), '{prefix}/{user}/{id}/{sanitised filename}, built by the broker.'),
    region: z.string(),
    endpoint: documented(z.url(), "S3 endpoint URL the client talks to (AWS's or the local server's)."),
    forcePathStyle: documented(z.boolean(), 'Whether the client must use path-style addressing.'),
    mode: uploadMode,
    uploadId: documented(z.string().nullable(), 'null: send the file as one PutObject.'),
    partSize: z.number().int(),
    partCount: z.number().int(),
    checksumAlgorithm,
    checksumType,
    integrity: documented(uploadIntegrity.exactOptional(), 'Absent means checksum.'),
    credentials: documented(
      temporaryCredentials.exactOptional(),
      'sts and federation modes: scoped to the one key, never allowed to overwrite it.',
    ),
    putHeaders: documented(
      stringRecord().exactOptional(),
      'sts and federation modes, single-request uploads: headers the PutObject must carry as they are (content-type, content-disposition, x-amz-meta-*, if-none-match: *). The client adds its own x-amz-checksum-<algorithm>.',
    ),
    putRequest: documented(
      presignedRequest.exactOptional(),
      'presign mode, single-request uploads: the PutObject to send.',
    ),
    expiresAt: documented(isoDate(), 'When the upload stops being accepted.'),
  }),
  { id: 'CreateUploadResponse' },
);

/** `POST /uploads/:id/credentials` */
export const credentialsResponse = documented(z.object({ credentials: temporaryCredentials }), {
  id: 'CredentialsResponse',
});

/** `POST /uploads/:id/parts` (presign mode) */
export const partUrlsResponse = documented(
  z.object({ parts: z.array(presignedRequest.extend({ partNumber: z.number().int() })) }),
  { id: 'PartUrlsResponse' },
);

export const uploadPartView = documented(
  z.object({
    partNumber: z.number().int(),
    size: z.number().int(),
    etag: z.string(),
    checksum: documented(
      z.string().exactOptional(),
      "Base64, of the upload's algorithm; with integrity: content-md5, the part's MD5 (from its ETag).",
    ),
  }),
  { id: 'UploadPartView' },
);

/** `GET /uploads/:id`, items of `GET /uploads`, and the answer of `complete` and `DELETE`. */
export const uploadView = documented(
  z.object({
    id: z.string(),
    status: uploadStatus,
    filename: z.string(),
    key: z.string(),
    size: z.number().int(),
    contentType: z.string(),
    mode: uploadMode,
    uploadId: z.string().nullable(),
    partSize: z.number().int(),
    checksumAlgorithm,
    checksum: documented(
      z.string().exactOptional(),
      'The object\'s checksum once completed (base64, with "-N" for composite).',
    ),
    etag: z.string().exactOptional(),
    createdAt: isoDate(),
    completedAt: isoDate().exactOptional(),
    reason: documented(z.string().exactOptional(), 'Why an upload was rejected.'),
    parts: documented(
      z.array(uploadPartView).exactOptional(),
      '`GET /uploads/{id}` of an open multipart upload only: the parts S3 already has (for resuming).',
    ),
  }),
  { id: 'UploadView' },
);

/** `GET /uploads` */
export const uploadListResponse = documented(
  z.object({
    uploads: z.array(uploadView),
    nextCursor: documented(z.string().nullable(), 'Opaque; pass as ?cursor= for the next page.'),
  }),
  { id: 'UploadListResponse' },
);

/** `GET /healthz` */
export const healthResponse = documented(
  z.object({ status: z.enum(['ok', 'unavailable']), registry: z.literal('unreachable').exactOptional() }),
  { id: 'Health' },
);

/** The body of every broker error (`application/problem+json`, RFC 9457). */
export const problem = documented(
  z.object({
    type: documented(z.url(), `${PROBLEM_BASE}<code>; the last segment is the stable code.`),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().exactOptional(),
    instance: documented(z.string().exactOptional(), 'The request id, also in the x-request-id header.'),
    errors: documented(
      z.array(z.object({ path: z.string(), message: z.string() })).exactOptional(),
      'Field-level errors for invalid-request.',
    ),
    retryAfter: documented(z.number().exactOptional(), 'Seconds, for rate-limited and quota-exceeded.'),
    retryable: documented(
      z.boolean().exactOptional(),
      'false when asking again cannot help although the status says it might: a 502 whose store refused the call for good (AccessDenied, NoSuchBucket, …).',
    ),
  }),
  {
    id: 'Problem',
    description: `RFC 9457. \`type\` is ${PROBLEM_BASE}<code>; codes: ${Object.keys(PROBLEMS).join(', ')}.`,
  },
);
