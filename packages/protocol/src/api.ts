/**
 * The broker API contract shared by the broker and the upload engine: request and
 * response shapes of every route. Plain types (no validation library), so the
 * browser engine stays small; the broker validates requests at its edge.
 */
import type { ChecksumAlgorithm, ChecksumType } from './checksum.ts';

/** How the client gets the right to upload: STS AssumeRole, GetFederationToken, or presigned URLs only. */
export type UploadMode = 'sts' | 'federation' | 'presign';

/**
 * How an upload's bytes are verified, decided by the broker from what the store can do:
 * - `checksum` (also when the field is absent: brokers before this field): each part (and a
 *   single PUT) carries `x-amz-checksum-<checksumAlgorithm>`, which the store verifies and keeps.
 * - `content-md5`: the store keeps no flexible checksums (Ceph RGW 16.2, …). Each part and a
 *   single PUT carry `Content-MD5` instead, which such stores verify; every part "checksum" the
 *   client sends the broker (part URLs, `complete`) is the base64 MD5 of the part, no whole-file
 *   checksum is sent, and the broker checks the ETag chain: each part's ETag is its MD5, the
 *   object's is md5(part MD5s)-N (a single PUT's: its MD5). `GET /uploads/:id` lists each
 *   part's MD5 as its checksum. `checksumAlgorithm` and `checksumType` then describe nothing
 *   the store keeps, and the completed upload has no `checksum`.
 * A separate field rather than a new `checksumAlgorithm` value, so clients that predate it fail
 * closed at completion (their parts carry no MD5 for the broker to check) instead of at parsing.
 */
export type UploadIntegrity = 'checksum' | 'content-md5';

export type UploadStatus = 'created' | 'uploading' | 'completed' | 'rejected' | 'aborted' | 'expired';

/** `POST /uploads` */
export interface CreateUploadRequest {
  filename: string;
  /** Bytes; the broker refuses sizes over its limit before anything is created. */
  size: number;
  contentType: string;
  /** @default 'CRC32C' */
  checksumAlgorithm?: ChecksumAlgorithm;
  /** Application metadata stored as x-amz-meta-* (bounded). */
  metadata?: Record<string, string>;
  /**
   * Preferred part size in bytes (whole MiB, ≥ 5 MiB); the broker keeps it within its bounds
   * and S3's 10,000 parts. Default: the broker's.
   */
  partSize?: number;
  /**
   * Base64 checksum of the whole file (of `checksumAlgorithm`), for single-request uploads:
   * bound into the presigned PUT and checked at completion.
   */
  checksum?: string;
  /**
   * Base64 MD5 of the whole file. On stores without flexible checksums (`integrity:
   * 'content-md5'`) a file can go as one PutObject only when this is given: it is bound into the
   * presigned PUT and the object's ETag must equal it. Without it such a file goes multipart.
   */
  contentMd5?: string;
  /**
   * How a single-request upload is sent: `put` (a PutObject: `putRequest` or `putHeaders`) or
   * `post` (a presigned POST form whose policy S3 checks: `postForm`; any mode).
   * @default 'put'
   */
  singleRequest?: 'put' | 'post';
}

/** A presigned POST form: send `fields` (in order) and then the file as `file`, multipart/form-data, to `url`. */
export interface PostForm {
  url: string;
  fields: Record<string, string>;
  /** ISO 8601: the policy's expiration. */
  expiresAt: string;
}

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601 */
  expiration: string;
}

/** A presigned request: the URL plus the headers that were signed and must be sent as they are. */
export interface PresignedRequest {
  url: string;
  method: 'PUT' | 'GET';
  headers: Record<string, string>;
  /** ISO 8601 */
  expiresAt: string;
}

export interface CreateUploadResponse {
  id: string;
  bucket: string;
  key: string;
  region: string;
  /** S3 endpoint URL the client talks to (AWS's or the local server's). */
  endpoint: string;
  /** Whether the client must use path-style addressing (local servers). */
  forcePathStyle: boolean;
  mode: UploadMode;
  /** null when the file goes as one PutObject (at or under the single-request size). */
  uploadId: string | null;
  partSize: number;
  partCount: number;
  checksumAlgorithm: ChecksumAlgorithm;
  /**
   * How S3 checksums the whole object: FULL_OBJECT (CRC algorithms: the CRC of all the bytes,
   * which the client sends at completion) or COMPOSITE (SHA algorithms: a checksum of the part
   * checksums, "…-N"). Single-request uploads are always FULL_OBJECT.
   */
  checksumType: ChecksumType;
  /** How the bytes are verified (see UploadIntegrity). Absent means `checksum`. */
  integrity?: UploadIntegrity;
  /** sts and federation modes. */
  credentials?: TemporaryCredentials;
  /**
   * sts and federation modes, single-request uploads: headers the PutObject must carry as they
   * are (Content-Type, Content-Disposition, x-amz-meta-*, If-None-Match), decided by the broker.
   */
  putHeaders?: Record<string, string>;
  /** presign mode, single-request uploads: the PutObject to send. */
  putRequest?: PresignedRequest;
  /** Single-request uploads created with `singleRequest: 'post'`: the form to send (instead of a PUT). */
  postForm?: PostForm;
  /** When the upload stops being accepted (ISO 8601). */
  expiresAt: string;
}

/** `POST /uploads/:id/credentials` */
export interface CredentialsResponse {
  credentials: TemporaryCredentials;
}

/** `POST /uploads/:id/parts` (presign mode) */
export interface PartUrlsRequest {
  partNumbers: number[];
  /**
   * Base64 checksum per part number (of the upload's algorithm; the part's MD5 with `integrity:
   * 'content-md5'`), bound into each URL's signature.
   */
  checksums?: Record<string, string>;
}

export interface PartUrlsResponse {
  parts: (PresignedRequest & { partNumber: number })[];
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
  /** Base64, of the upload's algorithm; the part's MD5 (required) with `integrity: 'content-md5'`. */
  checksum?: string;
}

/** `POST /uploads/:id/complete` */
export interface CompleteUploadRequest {
  /** Empty for single-request uploads. */
  parts: CompletedPart[];
  /**
   * FULL_OBJECT multipart uploads: the base64 checksum of the whole file, which S3 checks
   * against the parts when it completes (a mismatch rejects the upload).
   */
  checksum?: string;
}

export interface UploadPartView {
  partNumber: number;
  size: number;
  etag: string;
  /** Base64, of the upload's algorithm; with `integrity: 'content-md5'`, the part's MD5 (from its ETag). */
  checksum?: string;
}

/** `GET /uploads/:id`, items of `GET /uploads`, and the answer of `complete`. */
export interface UploadView {
  id: string;
  status: UploadStatus;
  filename: string;
  key: string;
  size: number;
  contentType: string;
  mode: UploadMode;
  uploadId: string | null;
  partSize: number;
  checksumAlgorithm: ChecksumAlgorithm;
  /** The object's checksum once completed (base64, with "-N" for composite). */
  checksum?: string;
  etag?: string;
  createdAt: string;
  completedAt?: string;
  /** Why an upload was rejected. */
  reason?: string;
  /** `GET /uploads/:id` only: the parts S3 already has (for resuming). */
  parts?: UploadPartView[];
}

export interface UploadListResponse {
  uploads: UploadView[];
  /** Opaque; pass as `?cursor=` for the next page. */
  nextCursor: string | null;
}
