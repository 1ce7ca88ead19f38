/**
 * The broker API contract shared by the broker and the upload engine: request and response
 * shapes of every route, inferred from the zod schemas in `./schemas/` (their descriptions
 * document each field). Type-only imports: nothing here loads zod, so the browser engine stays
 * small; the broker validates requests at its edge with the schemas themselves.
 */
import type { z } from 'zod';
import type * as schemas from './schemas/index.ts';

/** How the client gets the right to upload: STS AssumeRole, GetFederationToken, or presigned URLs only. */
export type UploadMode = z.output<typeof schemas.uploadMode>;

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
export type UploadIntegrity = z.output<typeof schemas.uploadIntegrity>;

export type UploadStatus = z.output<typeof schemas.uploadStatus>;

/** `POST /uploads` */
export type CreateUploadRequest = z.output<typeof schemas.createUploadRequest>;
export type CreateUploadResponse = z.output<typeof schemas.createUploadResponse>;
export type TemporaryCredentials = z.output<typeof schemas.temporaryCredentials>;
/** A presigned request: the URL plus the headers that were signed and must be sent as they are. */
export type PresignedRequest = z.output<typeof schemas.presignedRequest>;

/** `POST /uploads/:id/credentials` */
export type CredentialsResponse = z.output<typeof schemas.credentialsResponse>;

/** `POST /uploads/:id/parts` (presign mode) */
export type PartUrlsRequest = z.output<typeof schemas.partUrlsRequest>;
export type PartUrlsResponse = z.output<typeof schemas.partUrlsResponse>;

/** `POST /uploads/:id/complete` */
export type CompleteUploadRequest = z.output<typeof schemas.completeUploadRequest>;
export type CompletedPart = z.output<typeof schemas.completedPart>;

/** `GET /uploads/:id`, items of `GET /uploads`, and the answer of `complete` and `DELETE`. */
export type UploadView = z.output<typeof schemas.uploadView>;
export type UploadPartView = z.output<typeof schemas.uploadPartView>;

/** `GET /uploads?limit=&cursor=`, as the broker reads it (limit defaulted). */
export type ListUploadsQuery = z.output<typeof schemas.listUploadsQuery>;
export type UploadListResponse = z.output<typeof schemas.uploadListResponse>;

/** The body of every broker error (`application/problem+json`): see `PROBLEMS` for the codes. */
export type Problem = z.output<typeof schemas.problem>;
