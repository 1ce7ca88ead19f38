/**
 * Request validation at the API edge (zod), one schema per route. A bad request is a 400
 * `invalid-request` whose `errors` name each bad field; nothing reaches S3 before this.
 */

import { CHECKSUM_ALGORITHMS, MiB, S3_LIMITS } from '@hoist/protocol';
import { z } from 'zod';
import { BrokerProblem } from '../errors.ts';
import { isMd5 } from '../etag-chain.ts';
import { normalizeContentType } from '../limits.ts';
import { RESERVED_METADATA_PREFIX } from '../uploads.ts';
import { isChecksum } from '../views.ts';

/** Longest filename accepted, in UTF-8 bytes (what file systems allow). */
export const MAX_FILENAME_BYTES = 255;
/** Part numbers per `POST /uploads/:id/parts`. */
export const MAX_PART_URLS = 100;

const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8');

const checksumText = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64');

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

export const createUploadSchema = z
  .strictObject({
    filename: z
      .string()
      .min(1)
      .refine(
        (name) => utf8Length(name) <= MAX_FILENAME_BYTES,
        `must be at most ${MAX_FILENAME_BYTES} bytes of UTF-8`,
      )
      .refine((name) => !/[\u0000-\u001f\u007f]/.test(name), 'must not contain control characters'),
    size: z.number().int().min(0).max(S3_LIMITS.maxObjectSize),
    contentType: z
      .string()
      .min(3)
      .max(255)
      .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII')
      .refine((type) => normalizeContentType(type) !== undefined, 'must be a media type such as video/mp4'),
    checksumAlgorithm: z.enum(CHECKSUM_ALGORITHMS).optional(),
    metadata: metadata.optional(),
    /** Preferred part size; the broker still grows it to keep within 10,000 parts. */
    partSize: z
      .number()
      .int()
      .min(S3_LIMITS.minPartSize)
      .max(S3_LIMITS.maxPartSize)
      .refine((n) => n % MiB === 0, 'must be a whole number of MiB')
      .optional(),
    /** Base64 checksum of the whole file, for single-request uploads (bound into presigned PUTs). */
    checksum: checksumText.optional(),
    /** Base64 MD5 of the whole file: lets a small file go as one PUT on stores without checksums. */
    contentMd5: checksumText.refine(isMd5, 'is not a base64 MD5 digest').optional(),
    /** `post`: a single-request upload gets a presigned POST form (`postForm`) instead of a PUT. */
    singleRequest: z.enum(['put', 'post']).optional(),
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
  });

export const partUrlsSchema = z.strictObject({
  partNumbers: z
    .array(z.number().int().min(1).max(S3_LIMITS.maxParts))
    .min(1)
    .max(MAX_PART_URLS)
    .refine((list) => new Set(list).size === list.length, 'must not repeat a part number'),
  checksums: z
    .record(z.string().regex(/^[1-9][0-9]{0,4}$/, 'keys are part numbers'), checksumText)
    .optional(),
});

export const completeSchema = z.strictObject({
  parts: z
    .array(
      z.strictObject({
        partNumber: z.number().int().min(1).max(S3_LIMITS.maxParts),
        etag: z
          .string()
          .min(1)
          .max(128)
          .regex(/^[\x21-\x7e]+$/, 'must be an ETag'),
        checksum: checksumText.optional(),
      }),
    )
    .max(S3_LIMITS.maxParts)
    .refine(
      (parts) => parts.every((p, i) => i === 0 || p.partNumber > parts[i - 1]!.partNumber),
      'part numbers must be in ascending order without repeats',
    ),
  /** FULL_OBJECT multipart uploads: the whole file's checksum (checked against the upload's algorithm later). */
  checksum: checksumText.optional(),
});

export const listQuerySchema = z.strictObject({
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, 'must be a number 1..100')
    .transform(Number)
    .pipe(z.number().int().min(1).max(100))
    .optional(),
  cursor: z.string().min(1).max(1024).optional(),
});

/** Upload ids as the broker makes them (and nothing that could be a path). */
export const UPLOAD_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses or throws `invalid-request` with one entry per bad field. */
export function parse<T>(schema: z.ZodType<T>, value: unknown, what = 'body'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.length ? issue.path.join('.') : what,
    message: issue.message,
  }));
  throw new BrokerProblem('invalid-request', `The request ${what} is not valid`, { errors });
}
