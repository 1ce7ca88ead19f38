/**
 * The one-object session policy handed to STS: the upload actions on exactly one object ARN,
 * and never an overwrite. S3's conditional-write keys make the difference: `s3:PutObject` is
 * allowed for the multipart steps that create nothing (`s3:ObjectCreationOperation` false:
 * CreateMultipartUpload, UploadPart) and for creations that carry `If-None-Match`
 * (`s3:if-none-match` present: PutObject, CompleteMultipartUpload), which S3 refuses with 412
 * once the object exists. So credentials still valid after completion cannot replace the
 * verified object.
 *
 * Every policy is checked with the shared IAM engine before it leaves this module, so a bug
 * in the key builder (a wildcard, a variable, a sibling match) fails closed instead of
 * minting credentials that reach further than one key.
 */
import { evaluate, type PolicyContext, parsePolicy, s3BucketArn, s3ObjectArn } from '@hoist/aws/policy';

/** The only actions browser credentials ever get. */
export const UPLOAD_ACTIONS = [
  's3:PutObject',
  's3:ListMultipartUploadParts',
  's3:AbortMultipartUpload',
] as const;

/** STS's limit on an inline session policy, in characters. */
export const MAX_SESSION_POLICY_CHARS = 2048;

export interface SessionPolicyOptions {
  bucket: string;
  key: string;
  /** @default 'aws' */
  partition?: string;
}

/**
 * The policy document (JSON text) allowing {@link UPLOAD_ACTIONS} on `bucket/key` only, object
 * creation only with `If-None-Match`:
 *
 * ```json
 * {"Version":"2012-10-17","Statement":[
 *   {"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/k",
 *    "Condition":{"Null":{"s3:if-none-match":"false"}}},
 *   {"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/k",
 *    "Condition":{"Bool":{"s3:ObjectCreationOperation":"false"}}},
 *   {"Effect":"Allow","Action":["s3:ListMultipartUploadParts","s3:AbortMultipartUpload"],
 *    "Resource":"arn:aws:s3:::b/k"}]}
 * ```
 * @throws {Error} when the document would allow anything else (a broker bug, never user input).
 */
export function buildSessionPolicy({ bucket, key, partition = 'aws' }: SessionPolicyOptions): string {
  // IAM reads `*` and `?` as wildcards and `${…}` as variables in Resource: none may appear.
  if (/[*?$\u0000-\u001f\u007f]/.test(bucket + key) || key === '')
    throw new Error(`session policy: key ${JSON.stringify(key)} has characters IAM would interpret`);
  const text = JSON.stringify({
    Version: '2012-10-17',
    Statement: uploadStatements(s3ObjectArn(bucket, key, partition)),
  });
  if (text.length > MAX_SESSION_POLICY_CHARS)
    throw new Error(`session policy: ${text.length} characters exceed STS's ${MAX_SESSION_POLICY_CHARS}`);
  selfCheck(text, bucket, key, partition);
  return text;
}

/**
 * The statements allowing an upload on `resource` (one object ARN here; the upload role's
 * `bucket/prefix/*` in the AWS kit): creation only with If-None-Match, the multipart steps
 * that create nothing, listing parts and aborting.
 */
export function uploadStatements(resource: string): UploadStatement[] {
  return [
    // Creating the object (PutObject, CompleteMultipartUpload): only if nothing is there.
    {
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: resource,
      Condition: { Null: { 's3:if-none-match': 'false' } },
    },
    // The multipart steps that create nothing (CreateMultipartUpload, UploadPart).
    {
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: resource,
      Condition: { Bool: { 's3:ObjectCreationOperation': 'false' } },
    },
    {
      Effect: 'Allow',
      Action: ['s3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
      Resource: resource,
    },
  ];
}

export interface UploadStatement {
  Effect: 'Allow';
  Action: string | string[];
  Resource: string;
  Condition?: Record<string, Record<string, string>>;
}

const ALLOW_ALL = parsePolicy(
  { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  { kind: 'identity' },
);
const SESSION_PRINCIPAL = { arn: 'arn:aws:sts::000000000000:assumed-role/upload/self-check' };
// The condition keys S3 sends with s3:PutObject requests, as the self-check replays them.
const CREATE: PolicyContext = { 's3:ObjectCreationOperation': 'true' };
const CREATE_IF_NONE_MATCH: PolicyContext = { ...CREATE, 's3:if-none-match': '*' };
const MULTIPART_STEP: PolicyContext = { 's3:ObjectCreationOperation': 'false' };

function selfCheck(text: string, bucket: string, key: string, partition: string): void {
  const session = parsePolicy(text, { kind: 'identity', maxSize: MAX_SESSION_POLICY_CHARS });
  // As STS applies it: a role session whose role may do anything, narrowed by this policy alone.
  const decide = (action: string, resource: string, context: PolicyContext = {}) =>
    evaluate(
      { action, resource, principal: SESSION_PRINCIPAL, context },
      { identity: [ALLOW_ALL], session: [session], sameAccount: true },
    ).decision;
  const fail = (what: string) => {
    throw new Error(`session policy self-check failed: ${what} (key ${JSON.stringify(key)})`);
  };
  const object = s3ObjectArn(bucket, key, partition);
  if (decide('s3:PutObject', object, CREATE_IF_NONE_MATCH) !== 'Allow')
    fail('PutObject with If-None-Match on the key is not allowed');
  if (decide('s3:PutObject', object, MULTIPART_STEP) !== 'Allow')
    fail('UploadPart on the key is not allowed');
  if (decide('s3:PutObject', object, CREATE) !== 'ImplicitDeny')
    fail('PutObject without If-None-Match (an overwrite) is allowed');
  if (decide('s3:PutObject', object) !== 'ImplicitDeny') fail('PutObject without condition keys is allowed');
  for (const action of ['s3:ListMultipartUploadParts', 's3:AbortMultipartUpload']) {
    if (decide(action, object) !== 'Allow') fail(`${action} on the key is not allowed`);
  }
  const slash = key.lastIndexOf('/');
  const siblings = [
    `${key}x`,
    `${key}/x`,
    key.slice(0, -1) || 'x',
    `${key.slice(0, slash + 1)}other`,
    `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`,
    'x',
  ];
  for (const sibling of siblings) {
    if (sibling === key) continue;
    for (const context of [CREATE_IF_NONE_MATCH, MULTIPART_STEP]) {
      if (decide('s3:PutObject', s3ObjectArn(bucket, sibling, partition), context) !== 'ImplicitDeny')
        fail(`PutObject on ${JSON.stringify(sibling)} is allowed`);
    }
  }
  for (const action of ['s3:GetObject', 's3:DeleteObject', 's3:PutObjectAcl']) {
    if (decide(action, s3ObjectArn(bucket, key, partition)) !== 'ImplicitDeny') fail(`${action} is allowed`);
  }
  if (decide('s3:ListBucket', s3BucketArn(bucket, partition)) !== 'ImplicitDeny')
    fail('ListBucket is allowed');
}
