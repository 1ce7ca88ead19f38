/**
 * A presigned UploadPart URL for Uppy. Uppy asks for a part's URL by number only (its
 * Companion and signRequest requests carry no length), so unlike presign.ts this signs no
 * Content-Length: the size limit is enforced on the part number when signing, and on the
 * parts S3 lists when completing.
 */
import { type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export interface AnyLengthPartTarget {
  bucket: string;
  key: string;
  uploadId: string;
  partNumber: number;
  /** Lifetime of the URL, seconds. */
  expiresIn: number;
  /** ms since epoch: the signing time. */
  now: number;
}

export async function presignPartAnyLength(
  presigner: S3Client,
  target: AnyLengthPartTarget,
): Promise<{ url: string; expiresAt: string }> {
  const url = await getSignedUrl(
    presigner,
    new UploadPartCommand({
      Bucket: target.bucket,
      Key: target.key,
      UploadId: target.uploadId,
      PartNumber: target.partNumber,
    }),
    { expiresIn: target.expiresIn, signingDate: new Date(target.now) },
  );
  return { url, expiresAt: new Date(target.now + target.expiresIn * 1000).toISOString() };
}
