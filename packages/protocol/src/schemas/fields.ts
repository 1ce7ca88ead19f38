/** Field schemas the API's requests and responses share. */
import { z } from 'zod';
import { CHECKSUM_ALGORITHMS } from '../checksum.ts';
import { S3_LIMITS } from '../limits.ts';
import { documented } from './registry.ts';

/** Object metadata the broker sets itself; application metadata may not use the prefix. */
export const RESERVED_METADATA_PREFIX = 'hoist-';

/** Upload ids as the broker makes them (and nothing that could be a path). */
export const UPLOAD_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** What an `Idempotency-Key` header may be: a UUID fits, and it is safe to store and log. */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{1,128}$/;

export const checksumAlgorithm = documented(z.enum(CHECKSUM_ALGORITHMS), { id: 'ChecksumAlgorithm' });

export const checksumType = documented(z.enum(['COMPOSITE', 'FULL_OBJECT']), {
  id: 'ChecksumType',
  description:
    'How S3 checksums the whole object. FULL_OBJECT: the checksum of all the bytes (CRC algorithms: the client sends it at completion; every single-request upload); COMPOSITE: a checksum of the part checksums, "…-N" (SHA multipart uploads).',
});

export const uploadMode = documented(z.enum(['sts', 'federation', 'presign']), {
  id: 'UploadMode',
  description:
    'How the client gets the right to upload: STS AssumeRole, GetFederationToken, or presigned URLs only.',
});

export const uploadIntegrity = documented(z.enum(['checksum', 'content-md5']), {
  id: 'UploadIntegrity',
  description:
    'How the bytes are verified, decided by the broker from what the store can do. checksum (also when absent): each part and single PUT carries x-amz-checksum-<checksumAlgorithm>, which the store verifies and keeps. content-md5: the store keeps no flexible checksums; send Content-MD5 on every part and single PUT, give part MD5s as part checksums, no whole-file checksum; the broker checks the ETag chain.',
});

export const uploadStatus = documented(
  z.enum(['created', 'uploading', 'completed', 'rejected', 'aborted', 'expired']),
  { id: 'UploadStatus' },
);

/** Base64 as the API carries checksums and digests (bounded; the digest length is checked later). */
export const base64Text = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64');

export const partNumber = z.number().int().min(1).max(S3_LIMITS.maxParts);

// Factories, not shared instances: each use may carry its own description (see documented()).
/** ISO 8601 instants, as the broker writes them (`toISOString()`). */
export const isoDate = () => z.iso.datetime();

export const stringRecord = () => z.record(z.string(), z.string());

export const uploadId = documented(z.string().regex(UPLOAD_ID), 'The upload id returned by `POST /uploads`.');
