/**
 * IAM's input constraints (names, paths, tags, documents, quotas) as AWS's API reference
 * documents them, the entity-id/key generators, and ValidationError messages in AWS's words.
 */
import { randomBytes } from 'node:crypto';
import { packedSize } from '@hoist/aws/policy';
import { IamError } from './types.ts';

export const LIMITS = {
  userName: 64,
  roleName: 64,
  policyName: 128,
  path: 512,
  description: 1000,
  /** Request-level cap on any policy document parameter. */
  documentChars: 131_072,
  /** Aggregate inline policy size per entity, white space not counted. */
  userInlinePolicies: 2048,
  roleInlinePolicies: 10_240,
  managedPolicy: 6144,
  /** Role trust policy (quota ACLSizePerRole). */
  trustPolicy: 2048,
  accessKeysPerUser: 2,
  usersPerAccount: 5000,
  rolesPerAccount: 1000,
  tagsPerEntity: 50,
  tagKey: 128,
  tagValue: 256,
  minSessionDuration: 3600,
  maxSessionDuration: 43_200,
} as const;

export const NAME_PATTERN = '[\\w+=,.@-]+';
const NAME_RE = /^[\w+=,.@-]+$/;
const PATH_RE = /^(?:\/|\/[\u0021-\u007e]+\/)$/;
const DESCRIPTION_RE = /^[\u0009\u000a\u000d\u0020-\u007e\u00a1-\u00ff]*$/;
const DOCUMENT_RE = /^[\u0009\u000a\u000d\u0020-\u00ff]+$/;
const TAG_KEY_RE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;
const TAG_VALUE_RE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** The text of one failed constraint, as IAM words it (`Value 'x' at 'roleName' failed …`). */
export function constraintMessage(field: string, value: string | null, constraint: string): string {
  const shown = value === null ? 'null' : `'${value}'`;
  return `Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`;
}

/** One ValidationError for one or more failed constraints. */
export function validationError(messages: string[]): IamError {
  const count = messages.length;
  return new IamError(
    'ValidationError',
    `${count} validation error${count === 1 ? '' : 's'} detected: ${messages.join('; ')}`,
  );
}

/** A failed constraint for a length/pattern checked string, or undefined when it holds. */
export function checkString(
  field: string,
  value: string,
  rule: { min?: number; max: number; re?: RegExp; pattern?: string },
): string | undefined {
  const min = rule.min ?? 1;
  if (value.length < min)
    return constraintMessage(field, value, `Member must have length greater than or equal to ${min}`);
  if (value.length > rule.max) {
    return constraintMessage(field, value, `Member must have length less than or equal to ${rule.max}`);
  }
  if (rule.re && !rule.re.test(value)) {
    return constraintMessage(
      field,
      value,
      `Member must satisfy regular expression pattern: ${rule.pattern ?? ''}`,
    );
  }
  return undefined;
}

export const checkUserName = (value: string, field = 'userName'): string | undefined =>
  checkString(field, value, { max: LIMITS.userName, re: NAME_RE, pattern: NAME_PATTERN });
export const checkRoleName = (value: string, field = 'roleName'): string | undefined =>
  checkString(field, value, { max: LIMITS.roleName, re: NAME_RE, pattern: NAME_PATTERN });
export const checkPolicyName = (value: string, field = 'policyName'): string | undefined =>
  checkString(field, value, { max: LIMITS.policyName, re: NAME_RE, pattern: NAME_PATTERN });
export const checkPath = (value: string, field = 'path'): string | undefined =>
  checkString(field, value, {
    max: LIMITS.path,
    re: PATH_RE,
    pattern: '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)',
  });
export const checkDescription = (value: string, field = 'description'): string | undefined =>
  checkString(field, value, {
    min: 0,
    max: LIMITS.description,
    re: DESCRIPTION_RE,
    pattern: '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*',
  });
export const checkDocumentText = (value: string, field: string): string | undefined =>
  checkString(field, value, {
    max: LIMITS.documentChars,
    re: DOCUMENT_RE,
    pattern: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+',
  });

export function checkMaxSessionDuration(value: number, field = 'maxSessionDuration'): string | undefined {
  const shown = String(value);
  if (!Number.isInteger(value)) return constraintMessage(field, shown, 'Member must be an integer');
  if (value < LIMITS.minSessionDuration) {
    return constraintMessage(
      field,
      shown,
      `Member must have value greater than or equal to ${LIMITS.minSessionDuration}`,
    );
  }
  if (value > LIMITS.maxSessionDuration) {
    return constraintMessage(
      field,
      shown,
      `Member must have value less than or equal to ${LIMITS.maxSessionDuration}`,
    );
  }
  return undefined;
}

/** Tag constraints; duplicate keys (compared case-insensitively, as IAM does) are InvalidInput. */
export function checkTags(tags: readonly { key: string; value: string }[], field = 'tags'): string[] {
  const failures: string[] = [];
  if (tags.length > LIMITS.tagsPerEntity) {
    failures.push(
      constraintMessage(
        field,
        `[${tags.length} tags]`,
        `Member must have length less than or equal to ${LIMITS.tagsPerEntity}`,
      ),
    );
  }
  tags.forEach((tag, i) => {
    const keyFailure = checkString(`${field}.${i + 1}.member.key`, tag.key, {
      max: LIMITS.tagKey,
      re: TAG_KEY_RE,
      pattern: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+',
    });
    if (keyFailure) failures.push(keyFailure);
    const valueFailure = checkString(`${field}.${i + 1}.member.value`, tag.value, {
      min: 0,
      max: LIMITS.tagValue,
      re: TAG_VALUE_RE,
      pattern: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*',
    });
    if (valueFailure) failures.push(valueFailure);
  });
  return failures;
}

export function assertUniqueTagKeys(tags: readonly { key: string }[]): void {
  const seen = new Set<string>();
  for (const { key } of tags) {
    const folded = key.toLowerCase();
    if (seen.has(folded)) {
      throw new IamError(
        'InvalidInput',
        'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
      );
    }
    seen.add(folded);
  }
}

/** A tag record as IAM checks it: each key and value, and no key twice (case-insensitively). */
export function validateTags(tags: Record<string, string>): void {
  const list = Object.entries(tags).map(([key, value]) => ({ key, value }));
  throwIfFailed(checkTags(list));
  assertUniqueTagKeys(list);
}

/** Throws one ValidationError listing every failure, if any. */
export function throwIfFailed(failures: (string | undefined)[]): void {
  const messages = failures.filter((f): f is string => f !== undefined);
  if (messages.length > 0) throw validationError(messages);
}

/** Size of a policy as IAM counts it against its quotas: characters, white space excluded. */
export const policySize = (document: string): number => packedSize(document);

export function isValidPath(path: string): boolean {
  return path.length <= LIMITS.path && PATH_RE.test(path);
}

/** IAM names are unique without regard to case ("John" and "john" are the same user). */
export const nameKey = (name: string): string => name.toLowerCase();

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += BASE32[byte & 31];
  return out;
}

/** Unique ids as IAM issues them: `AIDA…`/`AROA…`/`ANPA…` + 17 characters. */
export const newUniqueId = (prefix: 'AIDA' | 'AROA' | 'ANPA'): string => prefix + randomBase32(17);

/** Long-term access key ids: `AKIA` + 16 characters (20 in all). */
export const newAccessKeyId = (): string => `AKIA${randomBase32(16)}`;

/** 40 characters of base64 from 240 random bits, the shape of an AWS secret access key. */
export const newSecretAccessKey = (): string => randomBytes(30).toString('base64');
