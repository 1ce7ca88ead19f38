/**
 * The IAM world of the STS benchmark, shared by the server child (sts-child.ts) and the
 * in-process measurements: one account, a broker user with an access key that may assume
 * two roles, and the session policies the broker would pass to AssumeRole.
 *
 * - `bench-uploader`: the broker's usual role; its policy allows the upload actions (and
 *   s3:GetObject, so HeadObject can be measured) on `uploads/*`; sessions get a one-key
 *   session policy (`oneKeySessionPolicy`, ~300 characters).
 * - `bench-tagged`: sessions carry the tag `uploader=alice`; the session policy names the
 *   caller's prefix with `${aws:PrincipalTag/uploader}` and has conditions (StringLike on
 *   s3:prefix, StringEquals, IpAddress). An assumed-role session has no `aws:username` (as on
 *   AWS), so a session tag is the variable a broker would use.
 */
import type { IamConfigInput } from '@hoist/server/internal/iam/config';

export const ACCOUNT = '123456789012';
export const BUCKET = 'bench';
export const ROOT_CREDENTIALS = {
  accessKeyId: 'AKIAHOISTSTSBENCHROOT',
  secretAccessKey: 'hoist-sts-bench-root-secret-0123456789',
};
export const BROKER_CREDENTIALS = {
  accessKeyId: 'AKIAHOISTSTSBROKER01',
  secretAccessKey: 'hoist-sts-bench-broker-secret-012345678',
};
export const BROKER_USER = 'broker';
export const UPLOADER_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/bench-uploader`;
export const TAGGED_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/bench-tagged`;
export const UPLOAD_ACTIONS = [
  's3:PutObject',
  's3:GetObject',
  's3:ListMultipartUploadParts',
  's3:AbortMultipartUpload',
];
/** The one object the sessions may touch (and the one the end-to-end requests use). */
export const SESSION_KEY = 'uploads/users/alice/0f1e2d3c4b5a69788796a5b4c3d2e1f0/holiday-video.mp4';
/** Inside the roles' prefix, outside the one-key session policy. */
export const OTHER_KEY = 'uploads/users/bob/7a6b5c4d3e2f10011223344556677889/notes.txt';
export const SESSION_TAG = { key: 'uploader', value: 'alice' };

const UPLOADS = `arn:aws:s3:::${BUCKET}/uploads/*`;

export const IAM_CONFIG: IamConfigInput = {
  accountId: ACCOUNT,
  users: [
    {
      name: BROKER_USER,
      accessKeys: [BROKER_CREDENTIALS],
      policies: {
        'assume-upload-roles': {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['sts:AssumeRole', 'sts:TagSession'],
              Resource: [UPLOADER_ROLE_ARN, TAGGED_ROLE_ARN],
            },
          ],
        },
        'bracket-uploads': {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: [...UPLOAD_ACTIONS, 's3:DeleteObject'], Resource: UPLOADS },
            { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}` },
          ],
        },
      },
    },
  ],
  roles: [
    {
      name: 'bench-uploader',
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/${BROKER_USER}` },
            Action: 'sts:AssumeRole',
          },
        ],
      },
      policies: {
        uploads: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: UPLOAD_ACTIONS, Resource: UPLOADS }],
        },
      },
    },
    {
      name: 'bench-tagged',
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/${BROKER_USER}` },
            Action: ['sts:AssumeRole', 'sts:TagSession'],
          },
        ],
      },
      policies: {
        uploads: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: UPLOAD_ACTIONS, Resource: `arn:aws:s3:::${BUCKET}/uploads/users/*` },
            {
              Effect: 'Allow',
              Action: 's3:ListBucket',
              Resource: `arn:aws:s3:::${BUCKET}`,
              Condition: { StringLike: { 's3:prefix': 'uploads/users/*' } },
            },
          ],
        },
      },
    },
  ],
};

/** What a broker passes as AssumeRole's Policy: the upload actions on exactly one object (~300 chars). */
export function oneKeySessionPolicy(key = SESSION_KEY): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'UploadOneObject',
        Effect: 'Allow',
        Action: UPLOAD_ACTIONS,
        Resource: `arn:aws:s3:::${BUCKET}/${key}`,
      },
    ],
  });
}

/** A session policy with policy variables and conditions, for `bench-tagged` sessions. */
export function conditionalSessionPolicy(): string {
  const own = `uploads/users/\${aws:PrincipalTag/${SESSION_TAG.key}}/`;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'UploadOwnPrefix',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        Resource: `arn:aws:s3:::${BUCKET}/${own}*`,
        Condition: {
          StringEquals: { 's3:authType': 'REST-HEADER' },
          IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] },
        },
      },
      {
        Sid: 'ListOwnPrefix',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: `arn:aws:s3:::${BUCKET}`,
        Condition: { StringLike: { 's3:prefix': [`${own}*`] } },
      },
    ],
  });
}

/** AssumeRole's form parameters (Query protocol). */
export function assumeRoleParams(
  roleArn: string,
  sessionName: string,
  policy: string,
  tag?: { key: string; value: string },
): URLSearchParams {
  const params = new URLSearchParams({
    Action: 'AssumeRole',
    Version: '2011-06-15',
    RoleArn: roleArn,
    RoleSessionName: sessionName,
    DurationSeconds: '3600',
    Policy: policy,
  });
  if (tag) {
    params.set('Tags.member.1.Key', tag.key);
    params.set('Tags.member.1.Value', tag.value);
  }
  return params;
}
