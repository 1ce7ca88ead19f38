/**
 * The broker API as an OpenAPI 3.1 document, written by hand next to the contract in
 * protocol/api.ts (a test checks that every route of the app appears here).
 */

import { CHECKSUM_ALGORITHMS, PROBLEM_BASE, PROBLEMS, S3_LIMITS } from '@hoist/protocol';

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json) => ({ 'application/json': { schema } });
const iso = { type: 'string', format: 'date-time' };

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The upload id returned by `POST /uploads`.',
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
};

const common = {
  '400': problem('invalid-request: the body, query or a field is not valid'),
  '401': problem('unauthorized: no, or an invalid, bearer token'),
  '404': problem("not-found: no such upload (or another user's)"),
  '409': problem('conflict: the upload is not in a state (or mode) that allows this'),
  '429': problem('rate-limited / quota-exceeded (with Retry-After)'),
  '502': problem('upstream-error: S3 or STS failed (the detail says how)'),
  '504': problem('upstream-timeout: S3 or STS did not answer in time'),
};

const schemas: Record<string, Json> = {
  ChecksumAlgorithm: { type: 'string', enum: [...CHECKSUM_ALGORITHMS] },
  ChecksumType: {
    type: 'string',
    enum: ['FULL_OBJECT', 'COMPOSITE'],
    description:
      'FULL_OBJECT: the checksum of all the bytes (CRC algorithms, and every single-request upload); COMPOSITE: a checksum of the part checksums, "…-N" (SHA multipart uploads).',
  },
  UploadMode: { type: 'string', enum: ['sts', 'federation', 'presign'] },
  UploadStatus: {
    type: 'string',
    enum: ['created', 'uploading', 'completed', 'rejected', 'aborted', 'expired'],
  },
  CreateUploadRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['filename', 'size', 'contentType'],
    properties: {
      filename: {
        type: 'string',
        minLength: 1,
        description: 'Original name (≤ 255 bytes of UTF-8, no control characters).',
      },
      size: { type: 'integer', minimum: 0, maximum: S3_LIMITS.maxObjectSize },
      contentType: { type: 'string', examples: ['video/mp4'] },
      checksumAlgorithm: { ...ref('ChecksumAlgorithm'), default: 'CRC32C' },
      metadata: {
        type: 'object',
        additionalProperties: { type: 'string', maxLength: 1024 },
        propertyNames: { pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
        description: 'Application metadata stored as x-amz-meta-* (the hoist- prefix is reserved).',
      },
      checksum: {
        type: 'string',
        description:
          'Base64 checksum of the whole file (single-request uploads): bound into the presigned PUT and verified at completion.',
      },
      contentMd5: {
        type: 'string',
        description:
          'Base64 MD5 of the whole file. On stores without flexible checksums a file goes as one PutObject only with it (bound into the presigned PUT; the ETag must equal it).',
      },
      partSize: {
        type: 'integer',
        minimum: S3_LIMITS.minPartSize,
        maximum: S3_LIMITS.maxPartSize,
        description: 'Preferred part size in bytes (whole MiB); grown as needed to stay within 10,000 parts.',
      },
      singleRequest: {
        type: 'string',
        enum: ['put', 'post'],
        default: 'put',
        description:
          'post: a single-request upload gets a presigned POST form (postForm) whose policy pins key, type, size and checksum.',
      },
    },
  },
  TemporaryCredentials: {
    type: 'object',
    required: ['accessKeyId', 'secretAccessKey', 'sessionToken', 'expiration'],
    properties: {
      accessKeyId: { type: 'string' },
      secretAccessKey: { type: 'string' },
      sessionToken: { type: 'string' },
      expiration: iso,
    },
  },
  PresignedRequest: {
    type: 'object',
    required: ['url', 'method', 'headers', 'expiresAt'],
    properties: {
      url: { type: 'string', format: 'uri' },
      method: { type: 'string', enum: ['PUT', 'GET'] },
      headers: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Signed headers to send as they are.',
      },
      expiresAt: iso,
    },
  },
  PostForm: {
    type: 'object',
    required: ['url', 'fields', 'expiresAt'],
    properties: {
      url: { type: 'string', format: 'uri' },
      fields: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Form fields to send as they are, in order, before the file (field name `file`).',
      },
      expiresAt: iso,
    },
  },
  CreateUploadResponse: {
    type: 'object',
    required: [
      'id',
      'bucket',
      'key',
      'region',
      'endpoint',
      'forcePathStyle',
      'mode',
      'uploadId',
      'partSize',
      'partCount',
      'checksumAlgorithm',
      'checksumType',
      'expiresAt',
    ],
    properties: {
      id: { type: 'string' },
      bucket: { type: 'string' },
      key: { type: 'string', description: '{prefix}/{user}/{id}/{sanitised filename}, built by the broker.' },
      region: { type: 'string' },
      endpoint: { type: 'string', format: 'uri' },
      forcePathStyle: { type: 'boolean' },
      mode: ref('UploadMode'),
      uploadId: { type: ['string', 'null'], description: 'null: send the file as one PutObject.' },
      partSize: { type: 'integer' },
      partCount: { type: 'integer' },
      checksumAlgorithm: ref('ChecksumAlgorithm'),
      checksumType: ref('ChecksumType'),
      integrity: {
        type: 'string',
        enum: ['checksum', 'content-md5'],
        description:
          'Absent: checksum. content-md5: the store keeps no flexible checksums; send Content-MD5 on every part and single PUT, give part MD5s as part checksums, no whole-file checksum; the broker checks the ETag chain.',
      },
      credentials: {
        ...ref('TemporaryCredentials'),
        description: 'sts and federation modes: scoped to the one key, never allowed to overwrite it.',
      },
      putHeaders: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description:
          'sts and federation modes, single-request uploads: headers the PutObject must carry as they are (content-type, content-disposition, x-amz-meta-*, if-none-match: *). The client adds its own x-amz-checksum-<algorithm>.',
      },
      putRequest: { ...ref('PresignedRequest'), description: 'presign mode, single-request uploads.' },
      postForm: {
        ...ref('PostForm'),
        description: "Single-request uploads created with singleRequest: 'post'.",
      },
      expiresAt: iso,
    },
  },
  CredentialsResponse: {
    type: 'object',
    required: ['credentials'],
    properties: { credentials: ref('TemporaryCredentials') },
  },
  PartUrlsRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['partNumbers'],
    properties: {
      partNumbers: {
        type: 'array',
        items: { type: 'integer', minimum: 1, maximum: S3_LIMITS.maxParts },
        minItems: 1,
        maxItems: 100,
        uniqueItems: true,
      },
      checksums: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Base64 checksum per part number, bound into each signature.',
      },
    },
  },
  PartUrlsResponse: {
    type: 'object',
    required: ['parts'],
    properties: {
      parts: {
        type: 'array',
        items: {
          allOf: [
            ref('PresignedRequest'),
            { type: 'object', required: ['partNumber'], properties: { partNumber: { type: 'integer' } } },
          ],
        },
      },
    },
  },
  CompletedPart: {
    type: 'object',
    additionalProperties: false,
    required: ['partNumber', 'etag'],
    properties: {
      partNumber: { type: 'integer', minimum: 1 },
      etag: { type: 'string' },
      checksum: { type: 'string' },
    },
  },
  CompleteUploadRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['parts'],
    properties: {
      parts: {
        type: 'array',
        items: ref('CompletedPart'),
        maxItems: S3_LIMITS.maxParts,
        description: 'Ascending; empty for single-request uploads.',
      },
      checksum: {
        type: 'string',
        description:
          "FULL_OBJECT multipart uploads only: base64 checksum of the whole file (of the upload's algorithm). S3 checks it against the parts; a mismatch rejects the upload (422).",
      },
    },
  },
  UploadPartView: {
    type: 'object',
    required: ['partNumber', 'size', 'etag'],
    properties: {
      partNumber: { type: 'integer' },
      size: { type: 'integer' },
      etag: { type: 'string' },
      checksum: { type: 'string' },
    },
  },
  UploadView: {
    type: 'object',
    required: [
      'id',
      'status',
      'filename',
      'key',
      'size',
      'contentType',
      'mode',
      'uploadId',
      'partSize',
      'checksumAlgorithm',
      'createdAt',
    ],
    properties: {
      id: { type: 'string' },
      status: ref('UploadStatus'),
      filename: { type: 'string' },
      key: { type: 'string' },
      size: { type: 'integer' },
      contentType: { type: 'string' },
      mode: ref('UploadMode'),
      uploadId: { type: ['string', 'null'] },
      partSize: { type: 'integer' },
      checksumAlgorithm: ref('ChecksumAlgorithm'),
      checksum: { type: 'string' },
      etag: { type: 'string' },
      createdAt: iso,
      completedAt: iso,
      reason: { type: 'string' },
      parts: {
        type: 'array',
        items: ref('UploadPartView'),
        description: '`GET /uploads/{id}` of an open multipart upload only.',
      },
    },
  },
  UploadListResponse: {
    type: 'object',
    required: ['uploads', 'nextCursor'],
    properties: {
      uploads: { type: 'array', items: ref('UploadView') },
      nextCursor: { type: ['string', 'null'] },
    },
  },
  Problem: {
    type: 'object',
    required: ['type', 'title', 'status'],
    description: `RFC 9457. \`type\` is ${PROBLEM_BASE}<code>; codes: ${Object.keys(PROBLEMS).join(', ')}.`,
    properties: {
      type: { type: 'string', format: 'uri' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      instance: { type: 'string', description: 'The request id.' },
      errors: {
        type: 'array',
        items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
      },
      retryAfter: { type: 'integer' },
      retryable: {
        type: 'boolean',
        description: 'false when the same request will fail the same way (a store refusal behind a 502)',
      },
    },
  },
};

const secured = { security: [{ bearer: [] }] };

const paths: Record<string, Json> = {
  '/uploads': {
    post: {
      ...secured,
      operationId: 'createUpload',
      summary: 'Start an upload: key, multipart upload, and credentials (or a presigned PUT)',
      parameters: [
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'One per upload, reused on retries: when this user already has an upload made with the key, ' +
            'it is answered again (same upload, fresh credentials) instead of a second one being created.',
          schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' },
        },
      ],
      requestBody: { required: true, content: json(ref('CreateUploadRequest')) },
      responses: {
        '201': {
          description: 'Created (or, with `Idempotent-Replayed: true`, the upload this Idempotency-Key made)',
          headers: {
            'Idempotent-Replayed': {
              description: '`true` when the answer is a replay of an earlier create with the same key',
              schema: { type: 'string', enum: ['true'] },
            },
          },
          content: json(ref('CreateUploadResponse')),
        },
        ...common,
        '409': problem(
          'conflict: the Idempotency-Key names an upload that is no longer open, or a different upload',
        ),
        '413': problem('too-large: over the size limit (nothing was created)'),
        '415': problem('unsupported-type: content type not allowed'),
      },
    },
    get: {
      ...secured,
      operationId: 'listUploads',
      summary: "The caller's uploads, newest first",
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
        { name: 'cursor', in: 'query', schema: { type: 'string' } },
      ],
      responses: { '200': { description: 'A page', content: json(ref('UploadListResponse')) }, ...common },
    },
  },
  '/uploads/{id}': {
    parameters: [idParam],
    get: {
      ...secured,
      operationId: 'getUpload',
      summary: 'Status, and the parts S3 already has (for resuming)',
      responses: { '200': { description: 'The upload', content: json(ref('UploadView')) }, ...common },
    },
    delete: {
      ...secured,
      operationId: 'abortUpload',
      summary: 'Abort: the multipart upload and any unverified object are removed',
      responses: { '200': { description: 'Aborted', content: json(ref('UploadView')) }, ...common },
    },
  },
  '/uploads/{id}/credentials': {
    parameters: [idParam],
    post: {
      ...secured,
      operationId: 'refreshCredentials',
      summary: 'Fresh temporary credentials for the same key (sts and federation modes)',
      responses: {
        '200': { description: 'Credentials', content: json(ref('CredentialsResponse')) },
        ...common,
      },
    },
  },
  '/uploads/{id}/parts': {
    parameters: [idParam],
    post: {
      ...secured,
      operationId: 'partUrls',
      summary: 'Presigned UploadPart URLs with length and checksum signed (presign mode)',
      requestBody: { required: true, content: json(ref('PartUrlsRequest')) },
      responses: { '200': { description: 'URLs', content: json(ref('PartUrlsResponse')) }, ...common },
    },
  },
  '/uploads/{id}/complete': {
    parameters: [idParam],
    post: {
      ...secured,
      operationId: 'completeUpload',
      summary: 'Complete (never overwriting) and verify size, type and checksum',
      requestBody: { required: true, content: json(ref('CompleteUploadRequest')) },
      responses: {
        '200': { description: 'Completed', content: json(ref('UploadView')) },
        ...common,
        '422': problem('upload-rejected: the object did not match; it was deleted'),
      },
    },
  },
  '/uploads/{id}/download': {
    parameters: [idParam],
    get: {
      ...secured,
      operationId: 'downloadUrl',
      summary: 'A short-lived presigned GET for a completed upload',
      responses: { '200': { description: 'URL', content: json(ref('PresignedRequest')) }, ...common },
    },
  },
  '/healthz': {
    get: {
      operationId: 'health',
      summary: 'Liveness and registry reachability',
      responses: {
        '200': {
          description: 'OK',
          content: json({ type: 'object', properties: { status: { type: 'string' } } }),
        },
        '503': { description: 'The registry does not answer' },
      },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      responses: {
        '200': {
          description: 'Text exposition format',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'openapi',
      summary: 'This document',
      responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
    },
  },
};

/** The document (a fresh object each call, so callers may change theirs). */
export function openApiDocument(): Json {
  return structuredClone({
    openapi: '3.1.0',
    info: {
      title: 'Hoist broker',
      version: '1',
      description:
        'Credential vending and the upload lifecycle for direct-to-S3 uploads. Errors are RFC 9457 problem+json with stable `type` codes.',
    },
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A JWT or a static development token.' },
      },
    },
  });
}
