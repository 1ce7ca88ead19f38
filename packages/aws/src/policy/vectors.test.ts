/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal `${…}` text. */
// Decision vectors: {policies, request, expected}. Most come from examples in AWS's IAM user
// guide (policy evaluation logic, session policies, permissions boundaries, NotPrincipal,
// NotAction/NotResource, policy variables); the rest pin down the rules those pages state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePolicy } from './document.ts';
import { type Decision, type EvaluationRequest, evaluate } from './evaluate.ts';

interface Vector {
  name: string;
  policies: {
    identity?: object[];
    session?: object[];
    permissionsBoundary?: object[];
    resource?: object[];
    /** @default true */
    sameAccount?: boolean;
    resourceMustAllow?: boolean;
  };
  request: EvaluationRequest;
  expected: Decision;
}

const ACCT = '111122223333';
const OTHER = '444455556666';
const USER = `arn:aws:iam::${ACCT}:user/carlossalazar`;
const ROLE = `arn:aws:iam::${ACCT}:role/uploader`;
const SESSION = `arn:aws:sts::${ACCT}:assumed-role/uploader/s1`;
const OTHER_SESSION = `arn:aws:sts::${ACCT}:assumed-role/uploader/s2`;
const FED_USER = `arn:aws:iam::${ACCT}:user/broker`;
const FED = `arn:aws:sts::${ACCT}:federated-user/alice`;
const V = '2012-10-17';

const carlosIdentity = {
  Version: V,
  Statement: [
    {
      Sid: 'AllowS3ListRead',
      Effect: 'Allow',
      Action: [
        's3:GetBucketLocation',
        's3:GetAccountPublicAccessBlock',
        's3:ListAccessPoints',
        's3:ListAllMyBuckets',
      ],
      Resource: 'arn:aws:s3:::*',
    },
    {
      Sid: 'AllowS3Self',
      Effect: 'Allow',
      Action: 's3:*',
      Resource: ['arn:aws:s3:::carlossalazar/*', 'arn:aws:s3:::carlossalazar'],
    },
    { Sid: 'DenyS3Logs', Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::*log*' },
  ],
};
const carlosBucket = {
  Version: V,
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: USER },
      Action: 's3:*',
      Resource: ['arn:aws:s3:::carlossalazar/*', 'arn:aws:s3:::carlossalazar'],
    },
  ],
};
const getListDenyReports = {
  Version: V,
  Statement: [
    { Sid: 'AllowGetList', Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' },
    { Sid: 'DenyReports', Effect: 'Deny', Action: 'iam:*Report', Resource: '*' },
  ],
};
const allowAll = { Version: V, Statement: { Effect: 'Allow', Action: '*', Resource: '*' } };
const roleS3OnBucket = {
  Version: V,
  Statement: {
    Effect: 'Allow',
    Action: 's3:*',
    Resource: ['arn:aws:s3:::uploads', 'arn:aws:s3:::uploads/*'],
  },
};
const sessionOneKey = {
  Version: V,
  Statement: {
    Effect: 'Allow',
    Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
    Resource: 'arn:aws:s3:::uploads/u/alice/123/video.mp4',
  },
};
const bucketGrant = (principal: unknown, extra: object = {}) => ({
  Version: V,
  Statement: {
    Effect: 'Allow',
    Principal: principal,
    Action: 's3:*',
    Resource: ['arn:aws:s3:::uploads', 'arn:aws:s3:::uploads/*'],
    ...extra,
  },
});
const homeDirs = {
  Version: V,
  Statement: [
    {
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::mybucket',
      Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/'] } },
    },
    {
      Effect: 'Allow',
      Action: 's3:*',
      Resource: [
        'arn:aws:s3:::mybucket/home/${aws:username}',
        'arn:aws:s3:::mybucket/home/${aws:username}/*',
      ],
    },
  ],
};
const notPrincipalDeny = (names: string[]) => ({
  Version: V,
  Statement: {
    Effect: 'Deny',
    NotPrincipal: { AWS: names },
    Action: 's3:*',
    Resource: ['arn:aws:s3:::uploads', 'arn:aws:s3:::uploads/*'],
  },
});

const put = (key: string) => ({ action: 's3:PutObject', resource: `arn:aws:s3:::uploads/${key}` });
const asUser = { arn: USER };
const asSession = { arn: SESSION, roleArn: ROLE };
const KEY = 'u/alice/123/video.mp4';

const VECTORS: Vector[] = [
  // Policy evaluation logic: the carlossalazar example.
  {
    name: 'carlos: Deny on *log* buckets wins',
    policies: { identity: [carlosIdentity], resource: [carlosBucket] },
    request: { action: 's3:PutObject', resource: 'arn:aws:s3:::carlossalazar-logs/f', principal: asUser },
    expected: 'ExplicitDeny',
  },
  {
    name: 'carlos: own bucket allowed by both',
    policies: { identity: [carlosIdentity], resource: [carlosBucket] },
    request: { action: 's3:PutObject', resource: 'arn:aws:s3:::carlossalazar/f', principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'carlos: list all buckets',
    policies: { identity: [carlosIdentity] },
    request: { action: 's3:ListAllMyBuckets', resource: 'arn:aws:s3:::*', principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'carlos: another bucket is implicitly denied',
    policies: { identity: [carlosIdentity] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::someone-else/f', principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'carlos: bucket policy alone grants the user ARN',
    policies: { identity: [], resource: [carlosBucket] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::carlossalazar/f', principal: asUser },
    expected: 'Allow',
  },
  // Explicit and implicit denies.
  {
    name: 'iam:Get* allowed',
    policies: { identity: [getListDenyReports] },
    request: { action: 'iam:GetUser', resource: `arn:aws:iam::${ACCT}:user/x`, principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'iam:*Report explicitly denied',
    policies: { identity: [getListDenyReports] },
    request: { action: 'iam:GetOrganizationsAccessReport', resource: '*', principal: asUser },
    expected: 'ExplicitDeny',
  },
  {
    name: 'iam:CreatePolicy implicitly denied',
    policies: { identity: [getListDenyReports] },
    request: { action: 'iam:CreatePolicy', resource: `arn:aws:iam::${ACCT}:policy/p`, principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'another policy cannot undo an explicit deny',
    policies: { identity: [getListDenyReports, allowAll] },
    request: { action: 'iam:GenerateCredentialReport', resource: '*', principal: asUser },
    expected: 'ExplicitDeny',
  },
  {
    name: 'actions match case-insensitively',
    policies: { identity: [getListDenyReports] },
    request: { action: 'IAM:getuser', resource: `arn:aws:iam::${ACCT}:user/x`, principal: asUser },
    expected: 'Allow',
  },
  // NotAction.
  {
    name: 'Allow NotAction iam:*: s3 allowed',
    policies: {
      identity: [{ Version: V, Statement: { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } }],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'Allow NotAction iam:*: iam not allowed',
    policies: {
      identity: [{ Version: V, Statement: { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } }],
    },
    request: { action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCT}:user/x`, principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'Deny NotAction without MFA denies everything but iam',
    policies: {
      identity: [
        allowAll,
        {
          Version: V,
          Statement: {
            Effect: 'Deny',
            NotAction: 'iam:*',
            Resource: '*',
            Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
          },
        },
      ],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', principal: asUser },
    expected: 'ExplicitDeny',
  },
  {
    name: 'Deny NotAction without MFA lets iam through',
    policies: {
      identity: [
        allowAll,
        {
          Version: V,
          Statement: {
            Effect: 'Deny',
            NotAction: 'iam:*',
            Resource: '*',
            Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
          },
        },
      ],
    },
    request: { action: 'iam:ListUsers', resource: '*', principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'Deny NotAction with MFA present does not apply',
    policies: {
      identity: [
        allowAll,
        {
          Version: V,
          Statement: {
            Effect: 'Deny',
            NotAction: 'iam:*',
            Resource: '*',
            Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
          },
        },
      ],
    },
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::b/k',
      principal: asUser,
      context: { 'aws:MultiFactorAuthPresent': 'true' },
    },
    expected: 'Allow',
  },
  // NotResource.
  {
    name: 'Allow NotResource: other buckets allowed',
    policies: {
      identity: [
        {
          Version: V,
          Statement: {
            Effect: 'Allow',
            Action: 's3:*',
            NotResource: ['arn:aws:s3:::secret', 'arn:aws:s3:::secret/*'],
          },
        },
      ],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::public/k', principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'Allow NotResource: the excluded bucket is not',
    policies: {
      identity: [
        {
          Version: V,
          Statement: {
            Effect: 'Allow',
            Action: 's3:*',
            NotResource: ['arn:aws:s3:::secret', 'arn:aws:s3:::secret/*'],
          },
        },
      ],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::secret/k', principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'Deny NotResource confines to one bucket',
    policies: {
      identity: [
        allowAll,
        {
          Version: V,
          Statement: {
            Effect: 'Deny',
            Action: 's3:*',
            NotResource: ['arn:aws:s3:::mine', 'arn:aws:s3:::mine/*'],
          },
        },
      ],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::other/k', principal: asUser },
    expected: 'ExplicitDeny',
  },
  {
    name: 'Deny NotResource leaves the bucket alone',
    policies: {
      identity: [
        allowAll,
        {
          Version: V,
          Statement: {
            Effect: 'Deny',
            Action: 's3:*',
            NotResource: ['arn:aws:s3:::mine', 'arn:aws:s3:::mine/*'],
          },
        },
      ],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::mine/k', principal: asUser },
    expected: 'Allow',
  },
  // Session policies: the intersection with the role's policies.
  {
    name: 'session: PutObject on the one key',
    policies: { identity: [roleS3OnBucket], session: [sessionOneKey] },
    request: { ...put(KEY), principal: asSession },
    expected: 'Allow',
  },
  {
    name: 'session: PutObject on another key',
    policies: { identity: [roleS3OnBucket], session: [sessionOneKey] },
    request: { ...put('u/alice/124/video.mp4'), principal: asSession },
    expected: 'ImplicitDeny',
  },
  {
    name: 'session: GetObject on the key',
    policies: { identity: [roleS3OnBucket], session: [sessionOneKey] },
    request: { action: 's3:GetObject', resource: `arn:aws:s3:::uploads/${KEY}`, principal: asSession },
    expected: 'ImplicitDeny',
  },
  {
    name: 'session: ListBucket',
    policies: { identity: [roleS3OnBucket], session: [sessionOneKey] },
    request: { action: 's3:ListBucket', resource: 'arn:aws:s3:::uploads', principal: asSession },
    expected: 'ImplicitDeny',
  },
  {
    name: 'session: cannot exceed the role',
    policies: {
      identity: [{ Version: V, Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' } }],
      session: [sessionOneKey],
    },
    request: { ...put(KEY), principal: asSession },
    expected: 'ImplicitDeny',
  },
  {
    name: 'session: no session policy keeps the role permissions',
    policies: { identity: [roleS3OnBucket] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x', principal: asSession },
    expected: 'Allow',
  },
  {
    name: 'session: a Deny in the session policy is explicit',
    policies: {
      identity: [roleS3OnBucket],
      session: [{ Version: V, Statement: { Effect: 'Deny', Action: 's3:*', Resource: '*' } }],
    },
    request: { ...put(KEY), principal: asSession },
    expected: 'ExplicitDeny',
  },
  // Resource-based policies and session policies.
  {
    name: 'bucket policy naming the role is limited by the session policy',
    policies: { identity: [], session: [sessionOneKey], resource: [bucketGrant({ AWS: ROLE })] },
    request: { action: 's3:GetObject', resource: `arn:aws:s3:::uploads/${KEY}`, principal: asSession },
    expected: 'ImplicitDeny',
  },
  {
    name: 'bucket policy naming the role: allowed within the session policy',
    policies: { identity: [], session: [sessionOneKey], resource: [bucketGrant({ AWS: ROLE })] },
    request: { ...put(KEY), principal: asSession },
    expected: 'Allow',
  },
  {
    name: 'bucket policy naming the role, no session policy',
    policies: { identity: [], resource: [bucketGrant({ AWS: ROLE })] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x', principal: asSession },
    expected: 'Allow',
  },
  {
    name: 'bucket policy naming the session grants directly',
    policies: { identity: [], session: [sessionOneKey], resource: [bucketGrant({ AWS: SESSION })] },
    request: { action: 's3:GetObject', resource: `arn:aws:s3:::uploads/${KEY}`, principal: asSession },
    expected: 'Allow',
  },
  {
    name: 'bucket policy naming another session',
    policies: { identity: [], resource: [bucketGrant({ AWS: OTHER_SESSION })] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x', principal: asSession },
    expected: 'ImplicitDeny',
  },
  {
    name: 'bucket policy naming the account grants nothing alone (same account)',
    policies: { identity: [], resource: [bucketGrant({ AWS: ACCT })] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x', principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'bucket policy naming the account root, identity allows',
    policies: { identity: [roleS3OnBucket], resource: [bucketGrant({ AWS: `arn:aws:iam::${ACCT}:root` })] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x', principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'bucket policy Deny beats identity Allow',
    policies: {
      identity: [allowAll],
      resource: [
        {
          Version: V,
          Statement: {
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:DeleteObject',
            Resource: 'arn:aws:s3:::uploads/*',
          },
        },
      ],
    },
    request: { action: 's3:DeleteObject', resource: 'arn:aws:s3:::uploads/x', principal: asUser },
    expected: 'ExplicitDeny',
  },
  {
    name: 'bucket policy Deny on plain HTTP',
    policies: {
      identity: [allowAll],
      resource: [
        {
          Version: V,
          Statement: {
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: ['arn:aws:s3:::uploads', 'arn:aws:s3:::uploads/*'],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        },
      ],
    },
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::uploads/x',
      principal: asUser,
      context: { 'aws:SecureTransport': false },
    },
    expected: 'ExplicitDeny',
  },
  {
    name: 'bucket policy Deny on plain HTTP, request over TLS',
    policies: {
      identity: [allowAll],
      resource: [
        {
          Version: V,
          Statement: {
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: ['arn:aws:s3:::uploads', 'arn:aws:s3:::uploads/*'],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        },
      ],
    },
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::uploads/x',
      principal: asUser,
      context: { 'aws:SecureTransport': true },
    },
    expected: 'Allow',
  },
  {
    name: 'public read: anonymous allowed',
    policies: { identity: [], resource: [bucketGrant('*', { Action: 's3:GetObject' })] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x' },
    expected: 'Allow',
  },
  {
    name: 'public read: anonymous cannot write',
    policies: { identity: [], resource: [bucketGrant('*', { Action: 's3:GetObject' })] },
    request: put('x'),
    expected: 'ImplicitDeny',
  },
  {
    name: 'anonymous without a bucket policy',
    policies: { identity: [] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x' },
    expected: 'ImplicitDeny',
  },
  {
    name: '{"AWS": "*"} includes anonymous callers',
    policies: { identity: [], resource: [bucketGrant({ AWS: '*' })] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x' },
    expected: 'Allow',
  },
  {
    name: 'service principal',
    policies: {
      identity: [],
      resource: [bucketGrant({ Service: 'logging.s3.amazonaws.com' }, { Action: 's3:PutObject' })],
    },
    request: { ...put('logs/1'), principal: { service: 'logging.s3.amazonaws.com' } },
    expected: 'Allow',
  },
  {
    name: 'service principal, other service',
    policies: {
      identity: [],
      resource: [bucketGrant({ Service: 'logging.s3.amazonaws.com' }, { Action: 's3:PutObject' })],
    },
    request: { ...put('logs/1'), principal: { service: 'cloudtrail.amazonaws.com' } },
    expected: 'ImplicitDeny',
  },
  // Permissions boundaries.
  {
    name: 'boundary caps identity permissions',
    policies: {
      identity: [allowAll],
      permissionsBoundary: [{ Version: V, Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } }],
    },
    request: { action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCT}:user/x`, principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'boundary and identity both allow',
    policies: {
      identity: [allowAll],
      permissionsBoundary: [{ Version: V, Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } }],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'boundary alone grants nothing',
    policies: { identity: [], permissionsBoundary: [allowAll] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'boundary Deny is explicit',
    policies: {
      identity: [allowAll],
      permissionsBoundary: [
        allowAll,
        { Version: V, Statement: { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' } },
      ],
    },
    request: { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/k', principal: asUser },
    expected: 'ExplicitDeny',
  },
  {
    name: 'bucket policy naming the user is not limited by the boundary',
    policies: {
      identity: [],
      permissionsBoundary: [{ Version: V, Statement: { Effect: 'Allow', Action: 'ec2:*', Resource: '*' } }],
      resource: [carlosBucket],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::carlossalazar/f', principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'bucket policy naming the role is limited by the boundary',
    policies: {
      identity: [],
      permissionsBoundary: [{ Version: V, Statement: { Effect: 'Allow', Action: 'ec2:*', Resource: '*' } }],
      resource: [bucketGrant({ AWS: ROLE })],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x', principal: asSession },
    expected: 'ImplicitDeny',
  },
  {
    name: 'bucket policy naming the session is not limited by the boundary',
    policies: {
      identity: [],
      permissionsBoundary: [{ Version: V, Statement: { Effect: 'Allow', Action: 'ec2:*', Resource: '*' } }],
      resource: [bucketGrant({ AWS: SESSION })],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x', principal: asSession },
    expected: 'Allow',
  },
  {
    name: 'session policy and boundary intersect',
    policies: {
      identity: [roleS3OnBucket],
      session: [sessionOneKey],
      permissionsBoundary: [
        { Version: V, Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' } },
      ],
    },
    request: { ...put(KEY), principal: asSession },
    expected: 'ImplicitDeny',
  },
  // Federated users (GetFederationToken).
  {
    name: 'federated user without a session policy has no permissions',
    policies: { identity: [allowAll] },
    request: { ...put(KEY), principal: { arn: FED, userArn: FED_USER } },
    expected: 'ImplicitDeny',
  },
  {
    name: 'federated user: user policy ∩ session policy',
    policies: { identity: [allowAll], session: [sessionOneKey] },
    request: { ...put(KEY), principal: { arn: FED, userArn: FED_USER } },
    expected: 'Allow',
  },
  {
    name: 'bucket policy naming the federated session grants directly',
    policies: { identity: [], resource: [bucketGrant({ AWS: FED })] },
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::uploads/x',
      principal: { arn: FED, userArn: FED_USER },
    },
    expected: 'Allow',
  },
  {
    name: 'bucket policy naming the federating user is limited by the session policy',
    policies: { identity: [], session: [sessionOneKey], resource: [bucketGrant({ AWS: FED_USER })] },
    request: {
      action: 's3:GetObject',
      resource: `arn:aws:s3:::uploads/${KEY}`,
      principal: { arn: FED, userArn: FED_USER },
    },
    expected: 'ImplicitDeny',
  },
  // Root user.
  {
    name: 'root needs no policy in its own account',
    policies: { identity: [] },
    request: {
      action: 's3:DeleteBucket',
      resource: 'arn:aws:s3:::uploads',
      principal: { arn: `arn:aws:iam::${ACCT}:root` },
    },
    expected: 'Allow',
  },
  {
    name: 'a bucket policy can deny root',
    policies: {
      identity: [],
      resource: [
        {
          Version: V,
          Statement: {
            Effect: 'Deny',
            Principal: { AWS: ACCT },
            Action: 's3:DeleteBucket',
            Resource: 'arn:aws:s3:::uploads',
          },
        },
      ],
    },
    request: {
      action: 's3:DeleteBucket',
      resource: 'arn:aws:s3:::uploads',
      principal: { arn: `arn:aws:iam::${ACCT}:root` },
    },
    expected: 'ExplicitDeny',
  },
  {
    name: 'root of another account needs the bucket policy',
    policies: { identity: [], sameAccount: false },
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::uploads/x',
      principal: { arn: `arn:aws:iam::${OTHER}:root` },
    },
    expected: 'ImplicitDeny',
  },
  {
    name: 'root of another account granted by account',
    policies: { identity: [], resource: [bucketGrant({ AWS: OTHER })], sameAccount: false },
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::uploads/x',
      principal: { arn: `arn:aws:iam::${OTHER}:root` },
    },
    expected: 'Allow',
  },
  // Cross-account: both sides must allow.
  {
    name: 'cross-account: both allow',
    policies: { identity: [roleS3OnBucket], resource: [bucketGrant({ AWS: OTHER })], sameAccount: false },
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::uploads/x',
      principal: { arn: `arn:aws:iam::${OTHER}:user/bob` },
    },
    expected: 'Allow',
  },
  {
    name: 'cross-account: bucket policy only',
    policies: {
      identity: [],
      resource: [bucketGrant({ AWS: `arn:aws:iam::${OTHER}:user/bob` })],
      sameAccount: false,
    },
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::uploads/x',
      principal: { arn: `arn:aws:iam::${OTHER}:user/bob` },
    },
    expected: 'ImplicitDeny',
  },
  {
    name: 'cross-account: identity only',
    policies: { identity: [roleS3OnBucket], sameAccount: false },
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::uploads/x',
      principal: { arn: `arn:aws:iam::${OTHER}:user/bob` },
    },
    expected: 'ImplicitDeny',
  },
  {
    name: 'cross-account: bucket policy names a different account',
    policies: { identity: [roleS3OnBucket], resource: [bucketGrant({ AWS: ACCT })], sameAccount: false },
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::uploads/x',
      principal: { arn: `arn:aws:iam::${OTHER}:user/bob` },
    },
    expected: 'ImplicitDeny',
  },
  {
    name: 'cross-account: session policy still applies',
    policies: {
      identity: [roleS3OnBucket],
      session: [sessionOneKey],
      resource: [bucketGrant({ AWS: `arn:aws:sts::${OTHER}:assumed-role/uploader/s1` })],
      sameAccount: false,
    },
    request: {
      action: 's3:GetObject',
      resource: `arn:aws:s3:::uploads/${KEY}`,
      principal: { arn: `arn:aws:sts::${OTHER}:assumed-role/uploader/s1` },
    },
    expected: 'ImplicitDeny',
  },
  // NotPrincipal with Deny.
  {
    name: 'NotPrincipal: the listed session (with role and account) is not denied',
    policies: {
      identity: [roleS3OnBucket],
      resource: [notPrincipalDeny([SESSION, ROLE, `arn:aws:iam::${ACCT}:root`])],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x', principal: asSession },
    expected: 'Allow',
  },
  {
    name: 'NotPrincipal: another session of the role is denied',
    policies: {
      identity: [roleS3OnBucket],
      resource: [notPrincipalDeny([SESSION, ROLE, `arn:aws:iam::${ACCT}:root`])],
    },
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::uploads/x',
      principal: { arn: OTHER_SESSION, roleArn: ROLE },
    },
    expected: 'ExplicitDeny',
  },
  {
    name: 'NotPrincipal: listing only the session is not enough',
    policies: { identity: [roleS3OnBucket], resource: [notPrincipalDeny([SESSION])] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x', principal: asSession },
    expected: 'ExplicitDeny',
  },
  {
    name: 'NotPrincipal: user and account listed',
    policies: {
      identity: [carlosIdentity],
      resource: [notPrincipalDeny([USER, `arn:aws:iam::${ACCT}:root`])],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x', principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'NotPrincipal: anonymous is denied',
    policies: { identity: [], resource: [bucketGrant('*'), notPrincipalDeny([USER, ACCT])] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x' },
    expected: 'ExplicitDeny',
  },
  {
    name: 'NotPrincipal Deny always denies a principal with a boundary',
    policies: {
      identity: [roleS3OnBucket],
      permissionsBoundary: [allowAll],
      resource: [notPrincipalDeny([SESSION, ROLE, ACCT])],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x', principal: asSession },
    expected: 'ExplicitDeny',
  },
  // Policy variables.
  {
    name: 'home directory via ${aws:username}',
    policies: { identity: [homeDirs] },
    request: {
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::mybucket/home/alice/notes.txt',
      principal: asUser,
      context: { 'aws:username': 'alice' },
    },
    expected: 'Allow',
  },
  {
    name: 'home directory of someone else',
    policies: { identity: [homeDirs] },
    request: {
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::mybucket/home/bob/notes.txt',
      principal: asUser,
      context: { 'aws:username': 'alice' },
    },
    expected: 'ImplicitDeny',
  },
  {
    name: "listing one's own prefix",
    policies: { identity: [homeDirs] },
    request: {
      action: 's3:ListBucket',
      resource: 'arn:aws:s3:::mybucket',
      principal: asUser,
      context: { 'aws:username': 'alice', 's3:prefix': 'home/alice/' },
    },
    expected: 'Allow',
  },
  {
    name: 'listing the bucket root',
    policies: { identity: [homeDirs] },
    request: {
      action: 's3:ListBucket',
      resource: 'arn:aws:s3:::mybucket',
      principal: asUser,
      context: { 'aws:username': 'alice', 's3:prefix': '' },
    },
    expected: 'Allow',
  },
  {
    name: "listing someone else's prefix",
    policies: { identity: [homeDirs] },
    request: {
      action: 's3:ListBucket',
      resource: 'arn:aws:s3:::mybucket',
      principal: asUser,
      context: { 'aws:username': 'alice', 's3:prefix': 'home/bob/' },
    },
    expected: 'ImplicitDeny',
  },
  {
    name: 'an unresolvable variable matches nothing',
    policies: { identity: [homeDirs] },
    request: {
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::mybucket/home/${aws:username}/x',
      principal: asSession,
    },
    expected: 'ImplicitDeny',
  },
  {
    name: 'a default fills a missing variable',
    policies: {
      identity: [
        {
          Version: V,
          Statement: {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: "arn:aws:s3:::b/${aws:userid, 'anonymous'}/*",
          },
        },
      ],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/anonymous/x', principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'Version 2008-10-17 takes ${…} literally',
    policies: {
      identity: [
        {
          Version: '2008-10-17',
          Statement: {
            Effect: 'Allow',
            Action: 's3:*',
            Resource: 'arn:aws:s3:::mybucket/home/${aws:username}/*',
          },
        },
      ],
    },
    request: {
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::mybucket/home/alice/x',
      principal: asUser,
      context: { 'aws:username': 'alice' },
    },
    expected: 'ImplicitDeny',
  },
  {
    name: 'Version 2008-10-17 literal match',
    policies: {
      identity: [
        {
          Statement: {
            Effect: 'Allow',
            Action: 's3:*',
            Resource: 'arn:aws:s3:::mybucket/home/${aws:username}/*',
          },
        },
      ],
    },
    request: {
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::mybucket/home/${aws:username}/x',
      principal: asUser,
      context: { 'aws:username': 'alice' },
    },
    expected: 'Allow',
  },
  {
    name: 'a * from ${*} is literal',
    policies: {
      identity: [
        {
          Version: V,
          Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/star${*}' },
        },
      ],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/starry', principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'a * from ${*} matches a literal *',
    policies: {
      identity: [
        {
          Version: V,
          Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/star${*}' },
        },
      ],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/star*', principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'principal tag in the resource',
    policies: {
      identity: [
        {
          Version: V,
          Statement: {
            Effect: 'Allow',
            Action: 's3:*',
            Resource: 'arn:aws:s3:::${aws:PrincipalTag/department}/*',
          },
        },
      ],
    },
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::hr/x',
      principal: asUser,
      context: { 'aws:PrincipalTag/department': 'hr' },
    },
    expected: 'Allow',
  },
  // Resource matching.
  {
    name: 'resource ARNs are case-sensitive',
    policies: { identity: [roleS3OnBucket] },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::Uploads/x', principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'a bucket ARN does not cover its objects',
    policies: {
      identity: [
        { Version: V, Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::uploads' } },
      ],
    },
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::uploads/x', principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'wildcards stay within ARN components',
    policies: {
      identity: [
        {
          Version: V,
          Statement: { Effect: 'Allow', Action: 'sqs:*', Resource: 'arn:aws:sqs:*:111122223333:q' },
        },
      ],
    },
    request: {
      action: 'sqs:SendMessage',
      resource: 'arn:aws:sqs:us-east-1:111122223333:q',
      principal: asUser,
    },
    expected: 'Allow',
  },
  {
    name: 'a region wildcard cannot swallow the account',
    policies: {
      identity: [
        {
          Version: V,
          Statement: { Effect: 'Allow', Action: 'sqs:*', Resource: 'arn:aws:sqs:*:111122223333:q' },
        },
      ],
    },
    request: {
      action: 'sqs:SendMessage',
      resource: 'arn:aws:sqs:us-east-1:999999999999:111122223333:q',
      principal: asUser,
    },
    expected: 'ImplicitDeny',
  },
  // Trust-policy style evaluation (the resource policy must allow).
  {
    name: 'trust: identity alone cannot assume',
    policies: {
      identity: [allowAll],
      resource: [
        { Version: V, Statement: { Effect: 'Allow', Principal: { AWS: OTHER }, Action: 'sts:AssumeRole' } },
      ],
      resourceMustAllow: true,
    },
    request: { action: 'sts:AssumeRole', resource: ROLE, principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'trust: account trusted and identity allows',
    policies: {
      identity: [allowAll],
      resource: [
        { Version: V, Statement: { Effect: 'Allow', Principal: { AWS: ACCT }, Action: 'sts:AssumeRole' } },
      ],
      resourceMustAllow: true,
    },
    request: { action: 'sts:AssumeRole', resource: ROLE, principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'trust: account trusted, identity silent',
    policies: {
      identity: [],
      resource: [
        { Version: V, Statement: { Effect: 'Allow', Principal: { AWS: ACCT }, Action: 'sts:AssumeRole' } },
      ],
      resourceMustAllow: true,
    },
    request: { action: 'sts:AssumeRole', resource: ROLE, principal: asUser },
    expected: 'ImplicitDeny',
  },
  {
    name: 'trust: user trusted directly',
    policies: {
      identity: [],
      resource: [
        { Version: V, Statement: { Effect: 'Allow', Principal: { AWS: USER }, Action: 'sts:AssumeRole' } },
      ],
      resourceMustAllow: true,
    },
    request: { action: 'sts:AssumeRole', resource: ROLE, principal: asUser },
    expected: 'Allow',
  },
  {
    name: 'trust: ExternalId condition',
    policies: {
      identity: [],
      resource: [
        {
          Version: V,
          Statement: {
            Effect: 'Allow',
            Principal: { AWS: USER },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'sts:ExternalId': 'x-1' } },
          },
        },
      ],
      resourceMustAllow: true,
    },
    request: {
      action: 'sts:AssumeRole',
      resource: ROLE,
      principal: asUser,
      context: { 'sts:ExternalId': 'x-2' },
    },
    expected: 'ImplicitDeny',
  },
];

describe('policy vectors', () => {
  for (const v of VECTORS) {
    it(`${v.name} → ${v.expected}`, () => {
      const parse = (kind: 'identity' | 'resource') => (p: object) => parsePolicy(p, { kind });
      const {
        identity = [],
        session,
        permissionsBoundary,
        resource,
        sameAccount = true,
        resourceMustAllow,
      } = v.policies;
      const result = evaluate(v.request, {
        identity: identity.map(parse('identity')),
        ...(session && { session: session.map(parse('identity')) }),
        ...(permissionsBoundary && { permissionsBoundary: permissionsBoundary.map(parse('identity')) }),
        ...(resource && { resource: resource.map(parse('resource')) }),
        ...(resourceMustAllow !== undefined && { resourceMustAllow }),
        sameAccount,
      });
      assert.equal(result.decision, v.expected);
    });
  }
});
