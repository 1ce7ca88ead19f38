/**
 * The IAM config file: the account, and the users, roles and managed policies the local
 * server starts with. Validated with zod; every error names the field it is about, e.g.
 * `roles[0].trustPolicy.Statement[0].Effect: must be "Allow" or "Deny"`. Policy documents may
 * be JSON objects or JSON strings. Applying a config creates or updates each declared entity
 * to match the file; entities created through the IAM API are kept too.
 *
 * Example (the IAM tests load it as `EXAMPLE_IAM_CONFIG` from test/helpers/iam-store.ts):
 *
 * ```json
 * {
 *   "accountId": "123456789012",
 *   "users": [{
 *     "name": "hoist-broker",
 *     "accessKeys": [{ "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
 *                      "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" }],
 *     "policies": {
 *       "assume-uploader": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow",
 *         "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::123456789012:role/hoist/uploader" }] },
 *       "bracket-uploads": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow",
 *         "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
 *                    "s3:ListMultipartUploadParts"],
 *         "Resource": "arn:aws:s3:::hoist-dev/uploads/*" }] }
 *     },
 *     "tags": { "team": "media" }
 *   }],
 *   "roles": [{
 *     "name": "uploader",
 *     "path": "/hoist/",
 *     "description": "Assumed by the broker with a one-object session policy",
 *     "trustPolicy": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow",
 *       "Principal": { "AWS": "arn:aws:iam::123456789012:user/hoist-broker" }, "Action": "sts:AssumeRole" }] },
 *     "policies": {
 *       "upload-parts": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow",
 *         "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
 *         "Resource": "arn:aws:s3:::hoist-dev/uploads/*" }] }
 *     },
 *     "maxSessionDuration": 3600
 *   }],
 *   "managedPolicies": [{
 *     "name": "uploads-read-only",
 *     "document": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow",
 *       "Action": "s3:GetObject", "Resource": "arn:aws:s3:::hoist-dev/uploads/*" }] }
 *   }]
 * }
 * ```
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ServerError } from '../errors.ts';
import { formatIssues } from './issues.ts';
import { checkPolicyDocument, MalformedPolicyError, type PolicyDocumentKind } from './policy-document.ts';
import { IamError, type IamSeed, type IamStore } from './types.ts';
import { checkDocumentText, LIMITS, policySize, throwIfFailed } from './validate.ts';

const NAME = /^[\w+=,.@-]+$/;
const PATH = /^(?:\/|\/[\u0021-\u007e]+\/)$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const entityName = (max: number) =>
  z.string().min(1).max(max).regex(NAME, 'may contain only letters, digits and + = , . @ _ -');
const path = z
  .string()
  .max(LIMITS.path)
  .regex(PATH, 'must be "/" or start and end with "/" (printable ASCII, no spaces)');
const tags = z
  .record(
    z
      .string()
      .min(1)
      .max(LIMITS.tagKey)
      .regex(TAG_KEY, 'tag keys may contain letters, digits, spaces and _.:/=+-@'),
    z
      .string()
      .max(LIMITS.tagValue)
      .regex(TAG_VALUE, 'tag values may contain letters, digits, spaces and _.:/=+-@'),
  )
  .refine((t) => Object.keys(t).length <= LIMITS.tagsPerEntity, `at most ${LIMITS.tagsPerEntity} tags`)
  .refine(
    (t) => new Set(Object.keys(t).map((k) => k.toLowerCase())).size === Object.keys(t).length,
    'tag keys must be unique without regard to case',
  );

/** Where a MalformedPolicyError points inside a document, as a zod path. */
function locationPath(document: unknown, error: MalformedPolicyError): PropertyKey[] {
  if (error.statement === undefined) return error.field ? [error.field] : [];
  const statements = (document as { Statement?: unknown }).Statement;
  const out: PropertyKey[] = Array.isArray(statements) ? ['Statement', error.statement] : ['Statement'];
  if (error.field) {
    const [element, operator, ...key] = error.field.split('.');
    out.push(element!);
    if (operator !== undefined) out.push(operator);
    if (key.length > 0) out.push(key.join('.'));
  }
  return out;
}

/** A policy document given as an object or as JSON text; the output is always the JSON text. */
const policyDocument = (kind: PolicyDocumentKind) =>
  z.unknown().transform((value, ctx): string => {
    let document: unknown = value;
    let text: string;
    if (typeof value === 'string') {
      text = value;
      try {
        document = JSON.parse(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `is not valid JSON (${(error as Error).message})` });
        return z.NEVER;
      }
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      text = JSON.stringify(value);
    } else {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a policy document (a JSON object, or a string holding one)',
      });
      return z.NEVER;
    }
    try {
      throwIfFailed([checkDocumentText(text, 'document')]);
      checkPolicyDocument(text, kind);
    } catch (error) {
      if (!(error instanceof IamError)) throw error;
      const message = error.message.replace(/^Statement\[\d+\](?: \(Sid "[^"]*"\))?: /, '');
      const path = error instanceof MalformedPolicyError ? locationPath(document, error) : [];
      ctx.addIssue({ code: 'custom', message, path });
      return z.NEVER;
    }
    return text;
  });

const totalSize = (policies: Record<string, string>) =>
  Object.values(policies).reduce((sum, document) => sum + policySize(document), 0);

const accessKey = z.strictObject({
  accessKeyId: z
    .string()
    .min(16)
    .max(128)
    .regex(/^\w+$/, 'may contain only letters, digits and _')
    .refine((id) => !id.startsWith('ASIA'), 'ASIA… ids are reserved for temporary (STS) credentials'),
  secretAccessKey: z.string().min(16).max(128).regex(/^\S+$/, 'must not contain white space'),
});

const user = z.strictObject({
  name: entityName(LIMITS.userName),
  path: path.optional(),
  accessKeys: z
    .array(accessKey)
    .max(LIMITS.accessKeysPerUser, `at most ${LIMITS.accessKeysPerUser} access keys per user`)
    .optional(),
  policies: z
    .record(entityName(LIMITS.policyName), policyDocument('identity'))
    .refine(
      (p) => totalSize(p) <= LIMITS.userInlinePolicies,
      `inline policies of a user may total at most ${LIMITS.userInlinePolicies} characters (white space not counted)`,
    )
    .optional(),
  tags: tags.optional(),
});

const role = z.strictObject({
  name: entityName(LIMITS.roleName),
  path: path.optional(),
  description: z
    .string()
    .max(LIMITS.description)
    .regex(/^[\u0009\u000a\u000d\u0020-\u007e\u00a1-\u00ff]*$/, 'must be printable Latin-1 text')
    .optional(),
  trustPolicy: policyDocument('trust').refine(
    (d) => policySize(d) <= LIMITS.trustPolicy,
    `a trust policy may have at most ${LIMITS.trustPolicy} characters (white space not counted)`,
  ),
  policies: z
    .record(entityName(LIMITS.policyName), policyDocument('identity'))
    .refine(
      (p) => totalSize(p) <= LIMITS.roleInlinePolicies,
      `inline policies of a role may total at most ${LIMITS.roleInlinePolicies} characters (white space not counted)`,
    )
    .optional(),
  maxSessionDuration: z
    .number()
    .int()
    .min(LIMITS.minSessionDuration)
    .max(LIMITS.maxSessionDuration)
    .optional(),
  tags: tags.optional(),
});

const managedPolicy = z.strictObject({
  name: entityName(LIMITS.policyName),
  path: path.optional(),
  document: policyDocument('identity').refine(
    (d) => policySize(d) <= LIMITS.managedPolicy,
    `a managed policy may have at most ${LIMITS.managedPolicy} characters (white space not counted)`,
  ),
});

/** Reports the second and later occurrences of a key (compared by `key`) at `field`. */
function duplicates<T>(
  ctx: z.RefinementCtx,
  list: readonly T[] | undefined,
  key: (item: T) => string,
  where: (index: number) => PropertyKey[],
  what: string,
): void {
  const seen = new Map<string, number>();
  list?.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else
      ctx.addIssue({
        code: 'custom',
        message: `${what} is already declared at index ${first}`,
        path: where(i),
      });
  });
}

export const iamConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    accountId: z.string().regex(/^\d{12}$/, 'must be 12 digits'),
    users: z.array(user).optional(),
    roles: z.array(role).optional(),
    managedPolicies: z.array(managedPolicy).optional(),
  })
  .superRefine((config, ctx) => {
    // IAM names are unique without regard to case.
    duplicates(
      ctx,
      config.users,
      (u) => u.name.toLowerCase(),
      (i) => ['users', i, 'name'],
      'this user name',
    );
    duplicates(
      ctx,
      config.roles,
      (r) => r.name.toLowerCase(),
      (i) => ['roles', i, 'name'],
      'this role name',
    );
    duplicates(
      ctx,
      config.managedPolicies,
      (p) => p.name.toLowerCase(),
      (i) => ['managedPolicies', i, 'name'],
      'this policy name',
    );
    const keys = (config.users ?? []).flatMap((u, i) =>
      (u.accessKeys ?? []).map((k, j) => ({
        id: k.accessKeyId,
        path: ['users', i, 'accessKeys', j, 'accessKeyId'],
      })),
    );
    duplicates(
      ctx,
      keys,
      (k) => k.id,
      (i) => keys[i]!.path,
      'this access key id',
    );
  });

/** A config file as written (documents as objects or strings). */
export type IamConfigInput = z.input<typeof iamConfigSchema>;
/** A validated config (documents as JSON text). */
export type IamConfig = z.output<typeof iamConfigSchema>;

/** An invalid IAM config: `issues` has one `field.path: problem` line per problem. */
export class IamConfigError extends ServerError<'InvalidIamConfig'> {
  readonly issues: string[];
  constructor(source: string, issues: string[], options?: { cause?: unknown }) {
    super('InvalidIamConfig', `${source}: invalid IAM config:\n  ${issues.join('\n  ')}`, options);
    this.issues = issues;
  }
}

/** Validates a parsed config value; `source` names it in the error (e.g. the file path). */
export function parseIamConfig(value: unknown, source = 'IAM config'): IamConfig {
  const result = iamConfigSchema.safeParse(value);
  if (!result.success) throw new IamConfigError(source, formatIssues(result.error.issues).split('\n'));
  return result.data;
}

/** Reads and validates the config file at `path`. */
export function loadIamConfig(path: string): IamConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new IamConfigError(path, [`cannot read the file (${(error as Error).message})`], { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new IamConfigError(path, [`not valid JSON (${(error as Error).message})`], { cause: error });
  }
  return parseIamConfig(value, path);
}

/** The config as a store seed. */
export function iamSeedFromConfig(config: IamConfig): IamSeed {
  const optional = <K extends string, V>(key: K, value: V | undefined) =>
    (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
  return {
    users: (config.users ?? []).map((u) => ({
      userName: u.name,
      ...optional('path', u.path),
      ...optional('tags', u.tags),
      ...optional('accessKeys', u.accessKeys),
      ...optional('policies', u.policies),
    })),
    roles: (config.roles ?? []).map((r) => ({
      roleName: r.name,
      assumeRolePolicyDocument: r.trustPolicy,
      ...optional('path', r.path),
      ...optional('description', r.description),
      ...optional('maxSessionDuration', r.maxSessionDuration),
      ...optional('tags', r.tags),
      ...optional('policies', r.policies),
    })),
    managedPolicies: (config.managedPolicies ?? []).map((p) => ({
      policyName: p.name,
      document: p.document,
      ...optional('path', p.path),
    })),
  };
}

/**
 * Seeds `store` from a validated config, in one durable write: declared entities are created
 * or updated to match the file; everything else in the store stays. Idempotent.
 * @throws {TypeError} when the config is for another account than the store.
 */
export function applyIamConfig(store: IamStore, config: IamConfig): void {
  if (config.accountId !== store.accountId) {
    throw new TypeError(
      `applyIamConfig: the config is for account ${config.accountId} but the store is for ${store.accountId}; open the store with the config's accountId`,
    );
  }
  store.applySeed(iamSeedFromConfig(config));
}
