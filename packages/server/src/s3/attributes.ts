/** GetObjectAttributes: ETag, Checksum, ObjectParts, StorageClass, ObjectSize without reading the object. */

import type { XmlNode } from '@hoist/aws/s3';
import { S3Error } from '@hoist/aws/s3';
import { existingBucket } from './buckets.ts';
import { header, httpDate, requireBucketName, requireKey, type S3Context, sendXml } from './context.ts';
import { parseMaxKeys } from './listing.ts';
import { checksumElement } from './multipart.ts';
import { existingObject } from './objects.ts';

const ATTRIBUTES = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']);

export function getObjectAttributes(ctx: S3Context): void {
  existingBucket(ctx);
  const requested = (header(ctx, 'x-amz-object-attributes') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (requested.length === 0 || requested.some((name) => !ATTRIBUTES.has(name))) {
    throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', {
      extra: { ArgumentName: 'x-amz-object-attributes' },
    });
  }
  const object = existingObject(ctx, requireBucketName(ctx), requireKey(ctx));
  const want = new Set(requested);
  const body: XmlNode = {};
  if (want.has('ETag')) body.ETag = object.etag.replace(/"/g, '');
  if (want.has('Checksum') && object.checksum) {
    // The composite value is reported without its "-N" suffix; the part count is in ObjectParts.
    body.Checksum = {
      [checksumElement(object.checksum.algorithm)]: object.checksum.value.replace(/-\d+$/, ''),
      ChecksumType: object.checksum.type,
    };
  }
  if (want.has('ObjectParts') && object.partsCount !== undefined) {
    const maxParts = ctxMaxParts(ctx);
    const markerText = header(ctx, 'x-amz-part-number-marker') ?? '0';
    if (!/^\d{1,5}$/.test(markerText)) {
      throw new S3Error('InvalidArgument', 'Invalid part number marker', {
        extra: { ArgumentName: 'x-amz-part-number-marker' },
      });
    }
    const marker = Number(markerText);
    const after = object.segments.filter((segment) => (segment.partNumber ?? 0) > marker);
    const page = after.slice(0, maxParts);
    const algorithm = object.checksum?.algorithm;
    body.ObjectParts = {
      PartsCount: object.partsCount,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.length > 0 ? page[page.length - 1]?.partNumber : undefined,
      MaxParts: maxParts,
      IsTruncated: after.length > page.length,
      Part: page.map((segment) => ({
        PartNumber: segment.partNumber,
        Size: segment.size,
        ...(algorithm && segment.checksum ? { [checksumElement(algorithm)]: segment.checksum } : {}),
      })),
    };
  }
  if (want.has('StorageClass')) body.StorageClass = 'STANDARD';
  if (want.has('ObjectSize')) body.ObjectSize = object.size;
  sendXml(ctx, 200, 'GetObjectAttributesResponse', body, { 'last-modified': httpDate(object.lastModified) });
}

function ctxMaxParts(ctx: S3Context): number {
  const value = header(ctx, 'x-amz-max-parts');
  if (value === undefined) return 1000;
  const query = new URLSearchParams({ 'max-parts': value });
  return parseMaxKeys({ ...ctx, query }, 'max-parts');
}
