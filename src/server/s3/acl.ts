/**
 * ACLs on a bucket-owner-enforced bucket (S3's default since April 2023): reading one
 * answers the owner's FULL_CONTROL, setting one is AccessControlListNotSupported.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../../aws/s3/errors.ts';
import { S3_XMLNS, xmlEscape } from '../../aws/s3/xml.ts';
import type { Storage } from '../storage/types.ts';

export interface AclRequest {
  req: IncomingMessage;
  res: ServerResponse;
  storage: Storage;
  bucket: string;
  key: string | undefined;
  ownerId: string;
  responseHeaders: Record<string, string>;
}

function ownerFullControl(ownerId: string): string {
  const id = xmlEscape(ownerId);
  const owner = `<ID>${id}</ID><DisplayName>hoist</DisplayName>`;
  // The Grantee's xsi:type attribute is why this is written by hand rather than with renderXml.
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<AccessControlPolicy xmlns="${S3_XMLNS}"><Owner>${owner}</Owner><AccessControlList><Grant>` +
    `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${owner}</Grantee>` +
    '<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>'
  );
}

/** GET/PUT `?acl` on a bucket or object, once the caller is authorized for it. */
export function answerAcl(request: AclRequest): void {
  const { storage, bucket, key, req, res } = request;
  if (!storage.getBucket(bucket))
    throw new S3Error('NoSuchBucket', undefined, { extra: { BucketName: bucket } });
  if (key !== undefined && !storage.getObject(bucket, key))
    throw new S3Error('NoSuchKey', undefined, { extra: { Key: key } });
  if (req.method === 'PUT') throw new S3Error('AccessControlListNotSupported');
  const body = Buffer.from(ownerFullControl(request.ownerId));
  res.writeHead(200, {
    ...request.responseHeaders,
    'content-type': 'application/xml',
    'content-length': String(body.length),
  });
  res.end(body);
}
