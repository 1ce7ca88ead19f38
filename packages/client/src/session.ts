/** The upload as the engine runs it (from the broker's answer or a stored record), and how its parts are hashed. */
import type { ChecksumAlgorithm, CreateUploadResponse, DigestAlgorithm } from '@hoist/protocol';
import { checksumHeaderName, partCount } from '@hoist/protocol';
import type { ObjectTarget } from './s3.ts';

/** The object's place (endpoint, bucket, key, region, path style) and how its parts go. */
export interface Session extends ObjectTarget {
  id: string;
  mode: CreateUploadResponse['mode'];
  uploadId: string | null;
  partSize: number;
  partCount: number;
  checksumType: CreateUploadResponse['checksumType'];
  /** 'content-md5' on stores without flexible checksums: parts carry Content-MD5, ETags are checked. */
  integrity?: CreateUploadResponse['integrity'];
  createdAt: string;
  expiresAt: string;
  putHeaders?: Record<string, string> | undefined;
  putRequest?: CreateUploadResponse['putRequest'];
  postForm?: CreateUploadResponse['postForm'];
}

export function sessionOf(fields: Omit<Session, 'partCount'>, size: number): Session {
  return { ...fields, partCount: fields.uploadId === null ? 1 : partCount(size, fields.partSize) };
}

/** What parts are hashed with: the upload's checksum algorithm, or MD5 where the store keeps none. */
export function digestAlgorithm(session: Session | undefined, algorithm: ChecksumAlgorithm): DigestAlgorithm {
  return session?.integrity === 'content-md5' ? 'MD5' : algorithm;
}

/** The header a digest travels in: Content-MD5 where the store keeps no checksums. */
export function digestHeader(algorithm: DigestAlgorithm, digest: string): Record<string, string> {
  return { [algorithm === 'MD5' ? 'content-md5' : checksumHeaderName(algorithm)]: digest };
}
