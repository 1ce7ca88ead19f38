/**
 * Names the S3 operation of a request from its method, addressing and query
 * markers (as AWS routes them), and maps each operation to its IAM action.
 */
export const S3_OPERATIONS = {
  ListBuckets: { action: 's3:ListAllMyBuckets', resource: 'all' },
  CreateBucket: { action: 's3:CreateBucket', resource: 'bucket' },
  HeadBucket: { action: 's3:ListBucket', resource: 'bucket' },
  DeleteBucket: { action: 's3:DeleteBucket', resource: 'bucket' },
  GetBucketLocation: { action: 's3:GetBucketLocation', resource: 'bucket' },
  GetBucketVersioning: { action: 's3:GetBucketVersioning', resource: 'bucket' },
  PutBucketCors: { action: 's3:PutBucketCORS', resource: 'bucket' },
  GetBucketCors: { action: 's3:GetBucketCORS', resource: 'bucket' },
  DeleteBucketCors: { action: 's3:PutBucketCORS', resource: 'bucket' },
  PutBucketLifecycleConfiguration: { action: 's3:PutLifecycleConfiguration', resource: 'bucket' },
  GetBucketLifecycleConfiguration: { action: 's3:GetLifecycleConfiguration', resource: 'bucket' },
  DeleteBucketLifecycle: { action: 's3:PutLifecycleConfiguration', resource: 'bucket' },
  ListObjects: { action: 's3:ListBucket', resource: 'bucket' },
  ListObjectsV2: { action: 's3:ListBucket', resource: 'bucket' },
  ListObjectVersions: { action: 's3:ListBucketVersions', resource: 'bucket' },
  ListMultipartUploads: { action: 's3:ListBucketMultipartUploads', resource: 'bucket' },
  DeleteObjects: { action: 's3:DeleteObject', resource: 'object' },
  PutObject: { action: 's3:PutObject', resource: 'object' },
  CopyObject: { action: 's3:PutObject', resource: 'object' },
  GetObject: { action: 's3:GetObject', resource: 'object' },
  HeadObject: { action: 's3:GetObject', resource: 'object' },
  GetObjectAttributes: { action: 's3:GetObjectAttributes', resource: 'object' },
  GetObjectTagging: { action: 's3:GetObjectTagging', resource: 'object' },
  DeleteObject: { action: 's3:DeleteObject', resource: 'object' },
  CreateMultipartUpload: { action: 's3:PutObject', resource: 'object' },
  UploadPart: { action: 's3:PutObject', resource: 'object' },
  UploadPartCopy: { action: 's3:PutObject', resource: 'object' },
  CompleteMultipartUpload: { action: 's3:PutObject', resource: 'object' },
  AbortMultipartUpload: { action: 's3:AbortMultipartUpload', resource: 'object' },
  ListParts: { action: 's3:ListMultipartUploadParts', resource: 'object' },
} as const satisfies Record<string, { action: string; resource: 'all' | 'bucket' | 'object' }>;

export type S3Operation = keyof typeof S3_OPERATIONS;

export interface RequestShape {
  method: string;
  bucket: string | undefined;
  key: string | undefined;
  query: URLSearchParams;
  /** Whether x-amz-copy-source is present. */
  hasCopySource: boolean;
}

/** Sub-resources this server knows; any other sub-resource is NotImplemented rather than misrouted. */
const KNOWN_BUCKET_SUBRESOURCES = new Set([
  'cors',
  'lifecycle',
  'location',
  'uploads',
  'delete',
  'versions',
  'versioning',
]);
const UNSUPPORTED_SUBRESOURCES = [
  'acl',
  'policy',
  'tagging',
  'website',
  'logging',
  'notification',
  'replication',
  'encryption',
  'object-lock',
  'retention',
  'legal-hold',
  'torrent',
  'restore',
  'select',
  'accelerate',
  'analytics',
  'inventory',
  'metrics',
  'ownershipControls',
  'publicAccessBlock',
  'requestPayment',
  'intelligent-tiering',
  'policyStatus',
  'session',
  'renameObject',
];

export type Classification =
  | { operation: S3Operation }
  | { unsupported: string }
  | { methodNotAllowed: true };

export function classifyS3Request(shape: RequestShape): Classification {
  const { method, bucket, key, query } = shape;
  // Reading an object's (always empty) tag set is supported: the AWS CLI v2 asks for it on every multipart copy.
  if (method === 'GET' && key !== undefined && query.has('tagging')) return { operation: 'GetObjectTagging' };
  for (const name of UNSUPPORTED_SUBRESOURCES) if (query.has(name)) return { unsupported: name };
  if (bucket === undefined) {
    return method === 'GET' ? { operation: 'ListBuckets' } : { methodNotAllowed: true };
  }
  if (key === undefined) return classifyBucket(method, query);
  return classifyObject(method, query, shape.hasCopySource);
}

function classifyBucket(method: string, query: URLSearchParams): Classification {
  switch (method) {
    case 'GET':
      if (query.has('cors')) return { operation: 'GetBucketCors' };
      if (query.has('lifecycle')) return { operation: 'GetBucketLifecycleConfiguration' };
      if (query.has('location')) return { operation: 'GetBucketLocation' };
      if (query.has('versioning')) return { operation: 'GetBucketVersioning' };
      if (query.has('uploads')) return { operation: 'ListMultipartUploads' };
      if (query.has('versions')) return { operation: 'ListObjectVersions' };
      if (query.get('list-type') === '2') return { operation: 'ListObjectsV2' };
      return { operation: 'ListObjects' };
    case 'HEAD':
      return { operation: 'HeadBucket' };
    case 'PUT':
      if (query.has('cors')) return { operation: 'PutBucketCors' };
      if (query.has('lifecycle')) return { operation: 'PutBucketLifecycleConfiguration' };
      if (query.has('versioning')) return { unsupported: 'versioning' };
      return { operation: 'CreateBucket' };
    case 'DELETE':
      if (query.has('cors')) return { operation: 'DeleteBucketCors' };
      if (query.has('lifecycle')) return { operation: 'DeleteBucketLifecycle' };
      return { operation: 'DeleteBucket' };
    case 'POST':
      if (query.has('delete')) return { operation: 'DeleteObjects' };
      return { methodNotAllowed: true };
    default:
      return { methodNotAllowed: true };
  }
}

function classifyObject(method: string, query: URLSearchParams, hasCopySource: boolean): Classification {
  for (const name of KNOWN_BUCKET_SUBRESOURCES) {
    if (name !== 'uploads' && query.has(name)) return { methodNotAllowed: true };
  }
  switch (method) {
    case 'GET':
      if (query.has('uploadId')) return { operation: 'ListParts' };
      if (query.has('attributes')) return { operation: 'GetObjectAttributes' };
      return { operation: 'GetObject' };
    case 'HEAD':
      return { operation: 'HeadObject' };
    case 'PUT':
      if (query.has('partNumber') || query.has('uploadId')) {
        return { operation: hasCopySource ? 'UploadPartCopy' : 'UploadPart' };
      }
      return { operation: hasCopySource ? 'CopyObject' : 'PutObject' };
    case 'POST':
      if (query.has('uploads')) return { operation: 'CreateMultipartUpload' };
      if (query.has('uploadId')) return { operation: 'CompleteMultipartUpload' };
      return { methodNotAllowed: true };
    case 'DELETE':
      if (query.has('uploadId')) return { operation: 'AbortMultipartUpload' };
      return { operation: 'DeleteObject' };
    default:
      return { methodNotAllowed: true };
  }
}
