/**
 * What clients send the broker, one schema per route: a bad request is a 400 `invalid-request`
 * whose `errors` name each bad field, before anything reaches S3.
 */
import { z } from 'zod';
import { isChecksum, isMd5 } from '../checksum.ts';
import { MiB, S3_LIMITS } from '../limits.ts';
import { contentTypeProblem, MAX_CONTENT_TYPE_LENGTH } from '../media-type.ts';
import { base64Text, checksumAlgorithm, partNumber, RESERVED_METADATA_PREFIX } from './fields.ts';
import { documented } from './registry.ts';

/** Longest filename accepted, in UTF-8 bytes (what file systems allow). */
export const MAX_FILENAME_BYTES = 255;
/** Part numbers per `POST /uploads/:id/parts`. */
export const MAX_PART_URLS = 100;
/** Most uploads per page of `GET /uploads`, and the page size when none is asked for. */
export const MAX_LIST_LIMIT = 100;
export const DEFAULT_LIST_LIMIT = 20;

const utf8 = new TextEncoder();

const metadata = z
  .record(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'metadata names are lowercase letters, digits and -, at most 64')
      .refine(
        (name) => !name.startsWith(RESERVED_METADATA_PREFIX),
        `the prefix ${RESERVED_METADATA_PREFIX} is reserved`,
      ),
    z
      .string()
      .max(1024)
      .regex(/^[\x20-\x7e]*$/, 'metadata values are printable ASCII'),
  )
  .refine((value) => Object.keys(value).length <= 32, 'at most 32 entries');

// Bounds stated for the OpenAPI document; contentTypeProblem is the rule (and names both).
const contentType = z
  .string()
  .min(3)
  .max(MAX_CONTENT_TYPE_LENGTH)
  .superRefine((value, ctx) => {
    const problem = contentTypeProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** `POST /uploads` */
export const createUploadRequest = documented(
  z
    .strictObject({
      filename: documented(
        z
          .string()
          .min(1)
          .refine(
            (name) => utf8.encode(name).length <= MAX_FILENAME_BYTES,
            `must be at most ${MAX_FILENAME_BYTES} bytes of UTF-8`,
          )
          .refine((name) => !/[\u0000-\u001f\u007f]/.test(name), 'must not contain control characters'),
        'Original name (≤ 255 bytes of UTF-8, no control characters).',
      ),
      size: documented(
        z.number().int().min(0).max(S3_LIMITS.maxObjectSize),
        'Bytes; the broker refuses sizes over its limit before anything is created.',
      ),
      contentType: documented(contentType, { examples: ['video/mp4'] }),
      checksumAlgorithm: documented(checksumAlgorithm.exactOptional(), { default: 'CRC32C' }),
      metadata: documented(
        metadata.exactOptional(),
        'Application metadata stored as x-amz-meta-* (the hoist- prefix is reserved; 32 entries, 2 KB with the filename).',
      ),
      partSize: documented(
        z
          .number()
          .int()
          .min(S3_LIMITS.minPartSize)
          .max(S3_LIMITS.maxPartSize)
          .refine((n) => n % MiB === 0, 'must be a whole number of MiB')
          .exactOptional(),
        "Preferred part size in bytes (whole MiB, ≥ 5 MiB); the broker keeps it within its bounds and S3's 10,000 parts. Default: the broker's.",
      ),
      checksum: documented(
        base64Text.exactOptional(),
        'Base64 checksum of the whole file (of checksumAlgorithm), for single-request uploads: bound into the presigned PUT and verified at completion.',
      ),
      contentMd5: documented(
        base64Text.refine(isMd5, 'is not a base64 MD5 digest').exactOptional(),
        'Base64 MD5 of the whole file. On stores without flexible checksums (integrity: content-md5) a file goes as one PutObject only with it (bound into the presigned PUT; the ETag must equal it); without it such a file goes multipart.',
      ),
    })
    .superRefine((value, ctx) => {
      const algorithm = value.checksumAlgorithm ?? 'CRC32C';
      if (value.checksum !== undefined && !isChecksum(algorithm, value.checksum))
        ctx.addIssue({ code: 'custom', path: ['checksum'], message: `is not a base64 ${algorithm} digest` });
      // S3's 2 KB of user metadata also holds the broker's own entries.
      const total = Object.entries(value.metadata ?? {}).reduce((n, [k, v]) => n + k.length + v.length, 0);
      const own = 3 * encodeURIComponent(value.filename).length + 200;
      if (total + own > S3_LIMITS.maxUserMetadataBytes)
        ctx.addIssue({
          code: 'custom',
          path: ['metadata'],
          message: 'is too large for S3 (2 KB with the filename)',
        });
    }),
  { id: 'CreateUploadRequest' },
);

/** `POST /uploads/:id/parts` (presign mode) */
export const partUrlsRequest = documented(
  z.strictObject({
    partNumbers: z
      .array(partNumber)
      .min(1)
      .max(MAX_PART_URLS)
      .refine((list) => new Set(list).size === list.length, 'must not repeat a part number'),
    checksums: documented(
      z.record(z.string().regex(/^[1-9][0-9]{0,4}$/, 'keys are part numbers'), base64Text).exactOptional(),
      "Base64 checksum per part number (of the upload's algorithm; the part's MD5 with integrity: content-md5), bound into each URL's signature.",
    ),
  }),
  { id: 'PartUrlsRequest' },
);

export const completedPart = documented(
  z.strictObject({
    partNumber,
    etag: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\x21-\x7e]+$/, 'must be an ETag'),
    checksum: documented(
      base64Text.exactOptional(),
      "Base64, of the upload's algorithm; the part's MD5 (required) with integrity: content-md5.",
    ),
  }),
  { id: 'CompletedPart' },
);

/** `POST /uploads/:id/complete` */
export const completeUploadRequest = documented(
  z.strictObject({
    parts: documented(
      z
        .array(completedPart)
        .max(S3_LIMITS.maxParts)
        .refine(
          (parts) => parts.every((p, i) => i === 0 || p.partNumber > parts[i - 1]!.partNumber),
          'part numbers must be in ascending order without repeats',
        ),
      'Ascending; empty for single-request uploads.',
    ),
    checksum: documented(
      base64Text.exactOptional(),
      "FULL_OBJECT multipart uploads only: base64 checksum of the whole file (of the upload's algorithm). S3 checks it against the parts; a mismatch rejects the upload (422).",
    ),
  }),
  { id: 'CompleteUploadRequest' },
);

/** `GET /uploads?limit=&cursor=` */
export const listUploadsQuery = z.strictObject({
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, `must be a number 1..${MAX_LIST_LIMIT}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_LIST_LIMIT))
    .default(DEFAULT_LIST_LIMIT),
  cursor: documented(z.string().min(1).max(1024).exactOptional(), 'From the previous page (nextCursor).'),
});
