/** S3's documented limits, shared by broker, engine and local server. */
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

export const S3_LIMITS = {
  /** Smallest size of every part but the last. */
  minPartSize: 5 * MiB,
  /** Largest part, and largest single PutObject. */
  maxPartSize: 5 * GiB,
  maxPutObjectSize: 5 * GiB,
  maxParts: 10_000,
  /** Largest object a multipart upload can build (10,000 × 5 GiB). */
  maxObjectSize: 10_000 * 5 * GiB,
  /** Object keys are at most 1,024 bytes of UTF-8. */
  maxKeyBytes: 1024,
  /** User-defined metadata (names + values of x-amz-meta-*) is at most 2 KB. */
  maxUserMetadataBytes: 2048,
  maxKeysPerList: 1000,
  maxDeleteObjects: 1000,
  /** Presigned URLs live at most 7 days. */
  maxPresignExpiresSeconds: 7 * 24 * 3600,
  /** Requests whose date is further than this from the server's clock are refused. */
  maxClockSkewMs: 15 * 60 * 1000,
} as const;
