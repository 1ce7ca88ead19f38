/**
 * The presigned POST form of a single-request upload: S3 itself refuses a form that breaks its
 * policy, which pins the bucket, the broker's key, Content-Type, disposition and metadata, the
 * size (exact when declared, else 1..the largest allowed) and, on stores with flexible
 * checksums, the client's checksum. Signed with the broker's own credentials (those of its
 * presigner), never handed to the client.
 *
 * A POST has no completion call and no If-None-Match: the upload is recorded as a form upload
 * (`FORM_METADATA`) so the lifecycle verifies it when the client completes, when its owner reads
 * it, or when the sweeper finds it after the form expired (reconcile.ts).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { signPostPolicy } from '@hoist/aws/sigv4';
import type { ChecksumAlgorithm, PostForm } from '@hoist/protocol';
import { checksumHeaderName } from '@hoist/protocol';
import { publicEndpoint, type S3Settings } from './aws.ts';
import type { UploadRecord } from './types.ts';

/** Registry-only metadata: this single-request upload is sent as a POST form. */
export const FORM_METADATA = 'hoist-form';
const FORM_VALUE = 'post';
/** Registry-only metadata: the declared size is only the largest allowed (Uppy's companion path). */
export const SIZE_BOUND_METADATA = 'hoist-size-bound';
const SIZE_BOUND_VALUE = 'at-most';
/** What S3 answers a successful form with: 201 and a PostResponse, as Companion asks for. */
const SUCCESS_STATUS = '201';

export function formMetadata(sizeIsBound: boolean): Record<string, string> {
  return {
    [FORM_METADATA]: FORM_VALUE,
    ...(sizeIsBound ? { [SIZE_BOUND_METADATA]: SIZE_BOUND_VALUE } : {}),
  };
}

export function isFormUpload(record: Pick<UploadRecord, 'metadata' | 'uploadId'>): boolean {
  return record.uploadId === null && record.metadata[FORM_METADATA] === FORM_VALUE;
}

/** The record's size is an upper bound: the object may be 1..size bytes. */
export function sizeIsBound(record: Pick<UploadRecord, 'metadata'>): boolean {
  return record.metadata[SIZE_BOUND_METADATA] === SIZE_BOUND_VALUE;
}

/** The URL a form is POSTed to: the bucket (path-style or virtual-hosted, as the broker's clients address it). */
export function bucketUrl(s3: S3Settings): string {
  const endpoint = publicEndpoint(s3);
  if (s3.forcePathStyle) return `${endpoint}/${encodeURIComponent(s3.bucket)}`;
  const url = new URL(endpoint);
  return `${url.protocol}//${s3.bucket}.${url.host}`;
}

export interface FormTarget {
  s3: S3Settings;
  key: string;
  contentType: string;
  contentDisposition: string;
  /** x-amz-meta-* (ASCII values), as a PUT would carry them. */
  metadata: Record<string, string>;
  /** The exact size, or [min, max] when only a bound is known. */
  size: number | readonly [number, number];
  /** Pinned when given (stores with flexible checksums only). */
  checksum?: { algorithm: ChecksumAlgorithm; value: string } | undefined;
  /** Lifetime of the form, seconds. */
  expiresIn: number;
  /** ms since epoch: the signing time. */
  now: number;
}

/** Signs the form with the presigner's credentials (resolved per call: they may rotate). */
export async function signPostForm(presigner: S3Client, target: FormTarget): Promise<PostForm> {
  const credentials = await presigner.config.credentials();
  const fields: Record<string, string> = {
    key: target.key,
    'Content-Type': target.contentType,
    'Content-Disposition': target.contentDisposition,
    success_action_status: SUCCESS_STATUS,
  };
  for (const [name, value] of Object.entries(target.metadata))
    fields[`x-amz-meta-${name.toLowerCase()}`] = value;
  if (target.checksum) {
    fields['x-amz-checksum-algorithm'] = target.checksum.algorithm;
    fields[checksumHeaderName(target.checksum.algorithm)] = target.checksum.value;
  }
  const range: [number, number] =
    typeof target.size === 'number' ? [target.size, target.size] : [target.size[0], target.size[1]];
  const signed = await signPostPolicy({
    bucket: target.s3.bucket,
    fields,
    conditions: [{ contentLengthRange: range }],
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    region: target.s3.region,
    now: target.now,
    expiresIn: target.expiresIn,
  });
  return { url: bucketUrl(target.s3), fields: signed.fields, expiresAt: signed.expiresAt };
}
