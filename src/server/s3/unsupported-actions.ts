/**
 * The IAM action each sub-resource this server does not implement would need, so a caller
 * without the permission is told AccessDenied (as AWS would) before it is told NotImplemented.
 */

type Verb = 'GET' | 'PUT' | 'DELETE' | 'POST';

/** [bucket-level actions, object-level actions] by method; `undefined` where S3 has none. */
const ACTIONS: Record<string, [Partial<Record<Verb, string>>, Partial<Record<Verb, string>>]> = {
  acl: [
    { GET: 's3:GetBucketAcl', PUT: 's3:PutBucketAcl' },
    { GET: 's3:GetObjectAcl', PUT: 's3:PutObjectAcl' },
  ],
  policy: [{ GET: 's3:GetBucketPolicy', PUT: 's3:PutBucketPolicy', DELETE: 's3:DeleteBucketPolicy' }, {}],
  policyStatus: [{ GET: 's3:GetBucketPolicyStatus' }, {}],
  tagging: [
    { GET: 's3:GetBucketTagging', PUT: 's3:PutBucketTagging', DELETE: 's3:PutBucketTagging' },
    { GET: 's3:GetObjectTagging', PUT: 's3:PutObjectTagging', DELETE: 's3:DeleteObjectTagging' },
  ],
  website: [{ GET: 's3:GetBucketWebsite', PUT: 's3:PutBucketWebsite', DELETE: 's3:DeleteBucketWebsite' }, {}],
  logging: [{ GET: 's3:GetBucketLogging', PUT: 's3:PutBucketLogging' }, {}],
  notification: [{ GET: 's3:GetBucketNotification', PUT: 's3:PutBucketNotification' }, {}],
  replication: [
    {
      GET: 's3:GetReplicationConfiguration',
      PUT: 's3:PutReplicationConfiguration',
      DELETE: 's3:PutReplicationConfiguration',
    },
    {},
  ],
  encryption: [
    {
      GET: 's3:GetEncryptionConfiguration',
      PUT: 's3:PutEncryptionConfiguration',
      DELETE: 's3:PutEncryptionConfiguration',
    },
    {},
  ],
  'object-lock': [
    { GET: 's3:GetBucketObjectLockConfiguration', PUT: 's3:PutBucketObjectLockConfiguration' },
    {},
  ],
  retention: [{}, { GET: 's3:GetObjectRetention', PUT: 's3:PutObjectRetention' }],
  'legal-hold': [{}, { GET: 's3:GetObjectLegalHold', PUT: 's3:PutObjectLegalHold' }],
  torrent: [{}, { GET: 's3:GetObjectTorrent' }],
  restore: [{}, { POST: 's3:RestoreObject' }],
  select: [{}, { POST: 's3:GetObject' }],
  accelerate: [{ GET: 's3:GetAccelerateConfiguration', PUT: 's3:PutAccelerateConfiguration' }, {}],
  analytics: [
    {
      GET: 's3:GetAnalyticsConfiguration',
      PUT: 's3:PutAnalyticsConfiguration',
      DELETE: 's3:PutAnalyticsConfiguration',
    },
    {},
  ],
  inventory: [
    {
      GET: 's3:GetInventoryConfiguration',
      PUT: 's3:PutInventoryConfiguration',
      DELETE: 's3:PutInventoryConfiguration',
    },
    {},
  ],
  metrics: [
    {
      GET: 's3:GetMetricsConfiguration',
      PUT: 's3:PutMetricsConfiguration',
      DELETE: 's3:PutMetricsConfiguration',
    },
    {},
  ],
  'intelligent-tiering': [
    {
      GET: 's3:GetIntelligentTieringConfiguration',
      PUT: 's3:PutIntelligentTieringConfiguration',
      DELETE: 's3:PutIntelligentTieringConfiguration',
    },
    {},
  ],
  ownershipControls: [
    {
      GET: 's3:GetBucketOwnershipControls',
      PUT: 's3:PutBucketOwnershipControls',
      DELETE: 's3:PutBucketOwnershipControls',
    },
    {},
  ],
  publicAccessBlock: [
    {
      GET: 's3:GetBucketPublicAccessBlock',
      PUT: 's3:PutBucketPublicAccessBlock',
      DELETE: 's3:PutBucketPublicAccessBlock',
    },
    {},
  ],
  requestPayment: [{ GET: 's3:GetBucketRequestPayment', PUT: 's3:PutBucketRequestPayment' }, {}],
  versioning: [{ PUT: 's3:PutBucketVersioning' }, {}],
};

/** The action a request for an unimplemented sub-resource needs, or undefined when S3 names none. */
export function unsupportedSubresourceAction(
  subresource: string,
  method: string,
  onObject: boolean,
): string | undefined {
  const entry = Object.hasOwn(ACTIONS, subresource) ? ACTIONS[subresource] : undefined;
  return entry?.[onObject ? 1 : 0][method as Verb];
}
