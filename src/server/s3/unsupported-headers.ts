/**
 * Request headers that ask for features this server does not have are refused,
 * never silently dropped: a client that sets an ACL, a KMS key, object lock or
 * tags must learn that they did not happen.
 */
import { S3Error } from '../../aws/s3/errors.ts';

type Headers = Record<string, string | string[] | undefined>;

function single(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

const NOT_IMPLEMENTED = [
  'x-amz-tagging',
  'x-amz-website-redirect-location',
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-request-payer',
];

export function rejectUnsupportedHeaders(headers: Headers, operation?: string): void {
  // SSE-C key material without its algorithm is a malformed request before it is an unsupported one.
  const ssecKey =
    headers['x-amz-server-side-encryption-customer-key'] !== undefined ||
    headers['x-amz-server-side-encryption-customer-key-md5'] !== undefined;
  if (ssecKey && headers['x-amz-server-side-encryption-customer-algorithm'] === undefined) {
    throw new S3Error(
      'InvalidArgument',
      'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.',
      { extra: { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: 'null' } },
    );
  }
  for (const name of NOT_IMPLEMENTED) {
    if (headers[name] !== undefined) {
      throw new S3Error(
        'NotImplemented',
        `The ${name} header is not implemented by the Hoist local server.`,
        {
          extra: { Header: name },
        },
      );
    }
  }
  // Buckets behave as "bucket owner enforced" (the AWS default since 2023): only ACLs that change nothing are accepted.
  const acl = single(headers, 'x-amz-acl');
  const grants = Object.keys(headers).some((name) => name.startsWith('x-amz-grant-'));
  if (grants || (acl !== undefined && acl !== 'private' && acl !== 'bucket-owner-full-control')) {
    // A new bucket is created owner-enforced, and S3 words that refusal differently.
    throw new S3Error(
      operation === 'CreateBucket' ? 'InvalidBucketAclWithObjectOwnership' : 'AccessControlListNotSupported',
    );
  }
  // SSE-S3 (AES256) is what S3 applies by default; KMS is not available here.
  const sse = single(headers, 'x-amz-server-side-encryption');
  if (sse !== undefined && sse !== 'AES256') {
    throw new S3Error(
      'NotImplemented',
      `Server-side encryption "${sse}" is not implemented by the Hoist local server.`,
      {
        extra: { Header: 'x-amz-server-side-encryption' },
      },
    );
  }
  if (Object.keys(headers).some((name) => name.startsWith('x-amz-object-lock-'))) {
    throw new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
  }
  const storageClass = single(headers, 'x-amz-storage-class');
  if (storageClass !== undefined && storageClass !== 'STANDARD') {
    throw new S3Error(
      'InvalidStorageClass',
      `The storage class ${storageClass} is not available on the Hoist local server; use STANDARD.`,
    );
  }
}

/** Signature Version 2 (header `AWS key:sig` or `?AWSAccessKeyId=…&Signature=…`) is refused as S3 does in SigV4-only regions. */
export function rejectSignatureV2(headers: Headers, query: string): void {
  const authorization = single(headers, 'authorization');
  const v2Query = /(^|&)AWSAccessKeyId=/.test(query) && /(^|&)Signature=/.test(query);
  if ((authorization !== undefined && /^AWS [^:\s]+:/.test(authorization)) || v2Query) {
    throw new S3Error(
      'InvalidRequest',
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    );
  }
}
