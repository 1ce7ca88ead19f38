/**
 * The IAM policy documents of the dev stack: what the upload role may do (the security
 * model's three actions on the upload prefix), who may assume it (the broker user only),
 * and what the broker user itself needs for its own S3 and STS calls in every mode.
 */

type PolicyDocument = { Version: '2012-10-17'; Statement: Record<string, unknown>[] };

const doc = (...statements: Record<string, unknown>[]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: statements,
});

/** Browser credentials: upload parts, list them to resume, abort. Never read, list or delete. */
export const UPLOAD_ROLE_ACTIONS = ['s3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'];

/** Trust policy: only the broker user may assume the upload role. */
export function uploadRoleTrustPolicy(brokerUserArn: string): PolicyDocument {
  return doc({ Effect: 'Allow', Principal: { AWS: brokerUserArn }, Action: 'sts:AssumeRole' });
}

/** The role's permissions; each session narrows them further to one object key. */
export function uploadRolePolicy(bucket: string, prefix: string): PolicyDocument {
  return doc({
    Effect: 'Allow',
    Action: UPLOAD_ROLE_ACTIONS,
    Resource: `arn:aws:s3:::${bucket}/${prefix}/*`,
  });
}

/**
 * The broker's own calls: assume the role (sts mode), federate (federation mode: the
 * credentials get at most these permissions, so they cover the upload actions), create,
 * verify, read back, delete and sweep uploads under the prefix, and presign (presign mode).
 */
export function brokerUserPolicy(bucket: string, prefix: string, roleArn: string): PolicyDocument {
  return doc(
    { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn },
    { Effect: 'Allow', Action: 'sts:GetFederationToken', Resource: '*' },
    {
      Effect: 'Allow',
      Action: [
        's3:PutObject',
        's3:GetObject',
        's3:DeleteObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
      ],
      Resource: `arn:aws:s3:::${bucket}/${prefix}/*`,
    },
    {
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
      Resource: `arn:aws:s3:::${bucket}`,
    },
  );
}
