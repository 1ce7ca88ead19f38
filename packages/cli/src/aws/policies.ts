/**
 * The IAM permission policies of a Hoist deployment, built from the broker config:
 *
 * - the upload role's policy: the three upload actions on `bucket/prefix/*` and nothing else,
 *   with the same no-overwrite conditions as the per-upload session policy (so even a session
 *   minted without a session policy could not replace a finished object);
 * - the broker's own policy: AssumeRole on the upload role (or GetFederationToken), and the
 *   S3 calls the broker makes itself on the prefix and the bucket.
 *
 * `checkUploadRolePolicy` replays the upload flow and a list of requests that must never be
 * allowed through the shared policy engine; the commands, the template and `doctor` use it.
 */

import { evaluate, type Policy, type PolicyContext, parsePolicy } from '@hoist/aws/policy';
import { buildSessionPolicy, uploadStatements } from '@hoist/broker';

export type PolicyDocument = { Version: '2012-10-17'; Statement: Record<string, unknown>[] };

export interface Scope {
  bucket: string;
  /** The broker's keyPrefix (no leading or trailing slash). */
  prefix: string;
  /** @default 'aws' */
  partition?: string;
}

/**
 * Role names and ARNs. The account is AWS's 12 digits, or empty or a tenant name on
 * S3-compatible stores (Ceph RGW: `arn:aws:iam:::role/NAME`, `arn:aws:iam::tenant:role/NAME`).
 */
const ROLE_ARN =
  /^arn:(aws[a-z-]*):iam::(\d{12}|[A-Za-z0-9_-]{0,64}):role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;

/** The partition, account ('' or a tenant on some S3-compatible stores) and name of a role ARN; undefined when it is not one. */
export function parseRoleArn(arn: string): { partition: string; account: string; name: string } | undefined {
  const match = ROLE_ARN.exec(arn);
  return match ? { partition: match[1]!, account: match[2]!, name: match[3]! } : undefined;
}

/** `aws`, `aws-cn` or `aws-us-gov`, from a known ARN or else the region. */
export function partitionOf(region: string, arn?: string): string {
  const fromArn = arn === undefined ? undefined : /^arn:(aws[a-z-]*):/.exec(arn)?.[1];
  if (fromArn) return fromArn;
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export const objectsArn = ({ bucket, prefix, partition = 'aws' }: Scope): string =>
  `arn:${partition}:s3:::${bucket}/${prefix}/*`;
export const bucketArn = ({ bucket, partition = 'aws' }: Scope): string => `arn:${partition}:s3:::${bucket}`;

/** The upload role's permission policy: the session policy's statements on the whole prefix. */
export function uploadRolePolicy(scope: Scope): PolicyDocument {
  const sids = ['CreateOnlyIfAbsent', 'MultipartSteps', 'ResumeAndAbort'];
  return {
    Version: '2012-10-17',
    Statement: uploadStatements(objectsArn(scope)).map((statement, i) => ({ Sid: sids[i], ...statement })),
  };
}

export interface BrokerPolicyOptions extends Scope {
  mode: 'sts' | 'federation' | 'presign';
  /** The upload role (sts mode). */
  roleArn?: string;
  /** Also sts:TagSession (when the role's sessions carry tags). */
  tagSession?: boolean;
}

/**
 * The broker identity's own policy: minting credentials, and its S3 calls (create, complete,
 * verify and delete uploads under the prefix; list the bucket's multipart uploads to sweep).
 */
export function brokerPolicy(options: BrokerPolicyOptions): PolicyDocument {
  const statements: Record<string, unknown>[] = [];
  if (options.mode === 'sts') {
    if (!options.roleArn) throw new TypeError('brokerPolicy: roleArn is required in sts mode');
    statements.push({
      Sid: 'AssumeUploadRole',
      Effect: 'Allow',
      Action: options.tagSession ? ['sts:AssumeRole', 'sts:TagSession'] : 'sts:AssumeRole',
      Resource: options.roleArn,
    });
  } else if (options.mode === 'federation') {
    statements.push({
      Sid: 'FederateUploads',
      Effect: 'Allow',
      Action: 'sts:GetFederationToken',
      Resource: '*',
    });
  }
  statements.push(
    {
      Sid: 'ManageUploads',
      Effect: 'Allow',
      Action: [
        's3:PutObject',
        's3:GetObject',
        's3:DeleteObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
      ],
      Resource: objectsArn(options),
    },
    {
      Sid: 'SweepUploads',
      Effect: 'Allow',
      Action: ['s3:ListBucketMultipartUploads', 's3:ListBucket'],
      Resource: bucketArn(options),
    },
  );
  return { Version: '2012-10-17', Statement: statements };
}

/** An example per-upload session policy, as the broker builds it for one key. */
export function exampleSessionPolicy(scope: Scope): PolicyDocument {
  const key = `${scope.prefix}/alice/01J0EXAMPLEUPLOADID0000000/video.mp4`;
  const text = buildSessionPolicy({ bucket: scope.bucket, key, partition: scope.partition ?? 'aws' });
  return JSON.parse(text) as PolicyDocument;
}

// ---------------------------------------------------------------------------------------------
// Checks through the policy engine

export interface Finding {
  /** `error`: the deployment is broken or unsafe; `warning`: works, but weaker than it should be. */
  level: 'error' | 'warning';
  message: string;
}

const PRINCIPAL = { arn: 'arn:aws:sts::000000000000:assumed-role/hoist-upload/check' };
const CREATE_IF_ABSENT: PolicyContext = { 's3:ObjectCreationOperation': 'true', 's3:if-none-match': '*' };
const MULTIPART_STEP: PolicyContext = { 's3:ObjectCreationOperation': 'false' };
const OVERWRITE: PolicyContext = { 's3:ObjectCreationOperation': 'true' };

/** A request the checks replay: action, resource and condition keys. */
export interface Probe {
  what: string;
  action: string;
  resource: string;
  context?: PolicyContext;
}

/** What the upload flow needs (must be allowed) on a key under the prefix. */
export function requiredProbes(scope: Scope): Probe[] {
  const object = `arn:${scope.partition ?? 'aws'}:s3:::${scope.bucket}/${scope.prefix}/alice/01J0UPLOAD/file.bin`;
  return [
    {
      what: 'CreateMultipartUpload/UploadPart',
      action: 's3:PutObject',
      resource: object,
      context: MULTIPART_STEP,
    },
    {
      what: 'PutObject/CompleteMultipartUpload with If-None-Match',
      action: 's3:PutObject',
      resource: object,
      context: CREATE_IF_ABSENT,
    },
    { what: 'ListParts', action: 's3:ListMultipartUploadParts', resource: object },
    { what: 'AbortMultipartUpload', action: 's3:AbortMultipartUpload', resource: object },
  ];
}

/** Requests an upload role must never be allowed: reads, lists, deletes, elsewhere, admin. */
export function forbiddenProbes(scope: Scope): Probe[] {
  const p = scope.partition ?? 'aws';
  const object = `arn:${p}:s3:::${scope.bucket}/${scope.prefix}/alice/01J0UPLOAD/file.bin`;
  const bucket = `arn:${p}:s3:::${scope.bucket}`;
  const outside = `arn:${p}:s3:::${scope.bucket}/elsewhere/file.bin`;
  const sibling = `arn:${p}:s3:::${scope.bucket}/${scope.prefix}x/file.bin`;
  const other = `arn:${p}:s3:::some-other-bucket/${scope.prefix}/file.bin`;
  return [
    { what: 'GetObject on the prefix', action: 's3:GetObject', resource: object },
    { what: 'DeleteObject on the prefix', action: 's3:DeleteObject', resource: object },
    { what: 'PutObjectAcl on the prefix', action: 's3:PutObjectAcl', resource: object },
    { what: 'ListBucket', action: 's3:ListBucket', resource: bucket },
    { what: 'ListBucketMultipartUploads', action: 's3:ListBucketMultipartUploads', resource: bucket },
    { what: 'PutBucketPolicy', action: 's3:PutBucketPolicy', resource: bucket },
    { what: 'PutBucketCORS', action: 's3:PutBucketCORS', resource: bucket },
    {
      what: 'UploadPart outside the prefix',
      action: 's3:PutObject',
      resource: outside,
      context: MULTIPART_STEP,
    },
    {
      what: 'PutObject on a sibling prefix',
      action: 's3:PutObject',
      resource: sibling,
      context: CREATE_IF_ABSENT,
    },
    {
      what: 'PutObject in another bucket',
      action: 's3:PutObject',
      resource: other,
      context: CREATE_IF_ABSENT,
    },
    { what: 'iam:PassRole', action: 'iam:PassRole', resource: `arn:${p}:iam::000000000000:role/admin` },
    { what: 'iam:CreateUser', action: 'iam:CreateUser', resource: `arn:${p}:iam::000000000000:user/x` },
    { what: 'sts:AssumeRole', action: 'sts:AssumeRole', resource: `arn:${p}:iam::000000000000:role/admin` },
  ];
}

/** Parses identity policies (objects or JSON text) for the engine. */
export function parseIdentityPolicies(documents: readonly (string | object)[]): Policy[] {
  return documents.map((document) => parsePolicy(document, { kind: 'identity' }));
}

export function decide(policies: readonly Policy[], probe: Probe): string {
  return evaluate(
    {
      action: probe.action,
      resource: probe.resource,
      principal: PRINCIPAL,
      ...(probe.context ? { context: probe.context } : {}),
    },
    { identity: policies, sameAccount: true },
  ).decision;
}

/**
 * Checks an upload role's permission policies (all of them together): every step of the
 * upload flow allowed on the prefix, nothing on the forbidden list; an overwrite allowed is a
 * warning (the session policy still forbids it).
 */
export function checkUploadRolePolicy(documents: readonly (string | object)[], scope: Scope): Finding[] {
  const findings: Finding[] = [];
  let policies: Policy[];
  try {
    policies = parseIdentityPolicies(documents);
  } catch (error) {
    return [{ level: 'error', message: `the role's policy does not parse: ${(error as Error).message}` }];
  }
  for (const probe of requiredProbes(scope)) {
    if (decide(policies, probe) !== 'Allow')
      findings.push({
        level: 'error',
        message: `the role does not allow ${probe.what} on ${objectsArn(scope)}`,
      });
  }
  for (const probe of forbiddenProbes(scope)) {
    if (decide(policies, probe) === 'Allow')
      findings.push({ level: 'error', message: `the role is too broad: it allows ${probe.what}` });
  }
  const object = `arn:${scope.partition ?? 'aws'}:s3:::${scope.bucket}/${scope.prefix}/alice/01J0UPLOAD/file.bin`;
  if (
    decide(policies, { what: 'overwrite', action: 's3:PutObject', resource: object, context: OVERWRITE }) ===
    'Allow'
  )
    findings.push({
      level: 'warning',
      message:
        'the role allows PutObject without If-None-Match (overwrites); the session policy still forbids it',
    });
  return findings;
}
