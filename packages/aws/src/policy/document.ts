/**
 * Strict parsing of IAM policy documents into an immutable {@link Policy}. Anything IAM would
 * reject, and anything this engine could not evaluate faithfully, throws a {@link PolicyError}
 * naming the statement and element. Work is bounded: the packed size is checked before JSON
 * parsing, and every list and string has a ceiling, so hostile input fails fast.
 */
import { type ConditionClause, conditionClauseFrom } from './conditions.ts';
import { PolicyError } from './errors.ts';
import { checkAwsPrincipal, PRINCIPAL_TYPES, type PrincipalSpec } from './principal.ts';
import { splitArnPattern } from './variables.ts';

/** Policy language versions; only `2012-10-17` substitutes policy variables. */
export type PolicyVersion = '2012-10-17' | '2008-10-17';
/** `identity`: identity-based, session or boundary policy. `resource`: e.g. an S3 bucket policy. */
export type PolicyKind = 'identity' | 'resource';
/** A statement's Effect. */
export type Effect = 'Allow' | 'Deny';

/** Action/NotAction or Resource/NotResource: `not` is true for the Not… form. */
export interface ElementList {
  readonly not: boolean;
  readonly values: readonly string[];
}

/** One validated statement. */
export interface Statement {
  /** Position in the document's Statement list (0-based). */
  readonly index: number;
  readonly sid?: string;
  readonly effect: Effect;
  readonly action: ElementList;
  /** Absent only in resource policies parsed with `requireResource: false` (the attached resource). */
  readonly resource?: ElementList;
  /** Principal/NotPrincipal; present exactly in resource policies. */
  readonly principal?: { readonly not: boolean; readonly spec: PrincipalSpec };
  readonly condition: readonly ConditionClause[];
}

/** A validated policy document. */
export interface Policy {
  readonly kind: PolicyKind;
  /** `2008-10-17` when the document has no Version; policy variables only work with `2012-10-17`. */
  readonly version: PolicyVersion;
  readonly id?: string;
  readonly statements: readonly Statement[];
  /** {@link packedSize} of the source document. */
  readonly size: number;
}

/** Options of {@link parsePolicy}. */
export interface ParseOptions {
  /** Which elements are allowed: identity policies forbid Principal, resource policies require it. */
  kind: PolicyKind;
  /**
   * Largest accepted {@link packedSize}; over it the error code is `LimitExceeded`. IAM allows
   * 2,048 for inline user, 10,240 for inline role and 6,144 for managed policies; S3 bucket
   * policies 20,480; STS session policies 2,048 (plus a packed-binary limit).
   * @default 10240
   */
  maxSize?: number;
  /**
   * Whether each statement must have Resource or NotResource. Without one, a statement covers
   * any resource (for a resource policy: the resource it is attached to). S3 bucket policies
   * require Resource (pass `true`); role trust policies have none.
   * @default true for `identity`, false for `resource`
   */
  requireResource?: boolean;
}

/** Default `maxSize`: IAM's limit for inline role policies. */
export const DEFAULT_MAX_POLICY_SIZE = 10_240;

/** Hard ceilings that hold whatever `maxSize` says, so that no input can make parsing expensive. */
export const POLICY_BOUNDS = {
  /** Raw characters of a JSON string, whitespace included. */
  maxRawChars: 1_048_576,
  maxStatements: 1_000,
  /** Entries in any one list (Action, Resource, principal values, condition values). */
  maxValues: 1_000,
  /** Length of any one string (action, ARN, condition key or value, Sid). */
  maxStringLength: 4_096,
  /** Operator/key pairs in one Condition. */
  maxConditionClauses: 200,
} as const;

const TOP_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const ACTION = /^[a-zA-Z0-9-]+:[a-zA-Z0-9*?_.-]+$/;

/**
 * Number of characters of a policy's JSON without insignificant whitespace, which is how IAM
 * measures policy size. Strings are measured as written; objects as `JSON.stringify` writes them.
 */
export function packedSize(policy: string | object): number {
  if (typeof policy !== 'string') {
    try {
      return JSON.stringify(policy).length;
    } catch (cause) {
      throw new PolicyError('MalformedPolicyDocument', 'The policy is not serializable as JSON', undefined, {
        cause,
      });
    }
  }
  let n = 0;
  let inString = false;
  for (let i = 0; i < policy.length; i++) {
    const c = policy.charCodeAt(i);
    if (inString) {
      n++;
      if (c === 0x5c && i + 1 < policy.length) {
        i++;
        n++;
      } else if (c === 0x22) inString = false;
    } else if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) {
      if (c === 0x22) inString = true;
      n++;
    }
  }
  return n;
}

/**
 * Parses and validates a policy document (JSON text or an already-parsed object).
 *
 * @throws {PolicyError} `MalformedPolicyDocument` for anything invalid, `LimitExceeded` over `maxSize`.
 * @throws {TypeError} for invalid options.
 * @example
 * const policy = parsePolicy(json, { kind: 'identity', maxSize: 2048 });
 */
export function parsePolicy(input: string | object, options: ParseOptions): Policy {
  const kind = options?.kind;
  if (kind !== 'identity' && kind !== 'resource') {
    throw new TypeError(`options.kind must be 'identity' or 'resource', got ${String(kind)}`);
  }
  const maxSize = options.maxSize ?? DEFAULT_MAX_POLICY_SIZE;
  if (typeof maxSize !== 'number' || !(maxSize >= 0)) {
    throw new TypeError('options.maxSize must be a non-negative number (Infinity for no cap)');
  }
  const requireResource = options.requireResource ?? kind === 'identity';
  let doc: unknown = input;
  let size: number | undefined;
  if (typeof input === 'string') {
    if (input.length > POLICY_BOUNDS.maxRawChars) {
      throw new PolicyError(
        'LimitExceeded',
        `The policy text exceeds ${POLICY_BOUNDS.maxRawChars} characters`,
      );
    }
    size = checkSize(packedSize(input), maxSize);
    try {
      doc = JSON.parse(input);
    } catch (cause) {
      throw new PolicyError('MalformedPolicyDocument', 'The policy is not valid JSON', undefined, { cause });
    }
  } else if (!isObject(input)) {
    throw new TypeError('input must be a JSON string or a policy object');
  }
  const policy = validateDocument(doc, kind, requireResource);
  // Objects are measured only after validation: the walk above bounds their shape and depth.
  const measured = size ?? checkSize(packedSize(input), maxSize);
  return Object.freeze({ ...policy, size: measured });
}

function checkSize(size: number, maxSize: number): number {
  if (size > maxSize) {
    throw new PolicyError('LimitExceeded', `The policy is ${size} characters; the limit is ${maxSize}`);
  }
  return size;
}

function isObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function malformed(message: string, statement?: number, field?: string): PolicyError {
  const location: { statement?: number; field?: string } = {};
  if (statement !== undefined) location.statement = statement;
  if (field !== undefined) location.field = field;
  return new PolicyError('MalformedPolicyDocument', message, location);
}

function validateDocument(doc: unknown, kind: PolicyKind, requireResource: boolean): Omit<Policy, 'size'> {
  if (!isObject(doc)) throw malformed('The policy must be a JSON object');
  for (const key of Object.keys(doc)) {
    if (!TOP_KEYS.has(key)) throw malformed(`Unknown policy element "${key}"`, undefined, key);
  }
  const version = doc.Version ?? '2008-10-17';
  if (version !== '2012-10-17' && version !== '2008-10-17') {
    throw malformed(
      `Version must be "2012-10-17" or "2008-10-17", got ${JSON.stringify(version)}`,
      undefined,
      'Version',
    );
  }
  if (doc.Id !== undefined && !isBoundedString(doc.Id)) {
    throw malformed('Id must be a string', undefined, 'Id');
  }
  const raw = doc.Statement;
  if (raw === undefined) throw malformed('The policy has no Statement', undefined, 'Statement');
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw malformed('Statement must not be an empty array', undefined, 'Statement');
  if (list.length > POLICY_BOUNDS.maxStatements) {
    throw malformed(`Statement has more than ${POLICY_BOUNDS.maxStatements} entries`, undefined, 'Statement');
  }
  const ctx: DocContext = { kind, requireResource, variables: version === '2012-10-17', sids: new Set() };
  const statements = Object.freeze(list.map((s, i) => validateStatement(s, i, ctx)));
  const policy: { kind: PolicyKind; version: PolicyVersion; id?: string; statements: readonly Statement[] } =
    {
      kind,
      version,
      statements,
    };
  if (typeof doc.Id === 'string') policy.id = doc.Id;
  return policy;
}

interface DocContext {
  kind: PolicyKind;
  requireResource: boolean;
  variables: boolean;
  sids: Set<string>;
}

function isBoundedString(v: unknown): v is string {
  return typeof v === 'string' && v.length <= POLICY_BOUNDS.maxStringLength;
}

function validateStatement(raw: unknown, index: number, ctx: DocContext): Statement {
  if (!isObject(raw)) throw malformed(`Statement[${index}] must be an object`, index);
  let where = `Statement[${index}]`;
  const fail = (field: string, message: string) => malformed(`${where}: ${field} ${message}`, index, field);
  for (const key of Object.keys(raw)) {
    if (!STATEMENT_KEYS.has(key)) throw fail(key, 'is not a statement element');
  }
  const statement: {
    -readonly [K in keyof Statement]: Statement[K];
  } = { index, effect: 'Allow', action: { not: false, values: [] }, condition: [] };
  if (raw.Sid !== undefined) {
    if (!isBoundedString(raw.Sid)) throw fail('Sid', 'must be a string');
    if (raw.Sid !== '') {
      if (ctx.sids.has(raw.Sid)) throw fail('Sid', `"${raw.Sid}" is used by an earlier statement`);
      ctx.sids.add(raw.Sid);
      where += ` (Sid "${raw.Sid}")`;
    }
    statement.sid = raw.Sid;
  }
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') {
    throw fail('Effect', raw.Effect === undefined ? 'is missing' : 'must be "Allow" or "Deny"');
  }
  statement.effect = raw.Effect;

  const principal = pickOne(raw, 'Principal', 'NotPrincipal', fail);
  if (ctx.kind === 'identity' && principal) {
    throw fail(principal.field, 'is not allowed in an identity-based policy');
  }
  if (ctx.kind === 'resource') {
    if (!principal)
      throw fail('Principal', 'is missing (resource-based policies need Principal or NotPrincipal)');
    statement.principal = Object.freeze({
      not: principal.field === 'NotPrincipal',
      spec: principalSpec(principal.value, principal.field, fail),
    });
  }

  const action = pickOne(raw, 'Action', 'NotAction', fail);
  if (!action) throw fail('Action', 'is missing (one of Action or NotAction is required)');
  const actions = stringList(action.value, action.field, fail);
  for (const a of actions) {
    if (a !== '*' && !ACTION.test(a)) {
      throw fail(
        action.field,
        `"${a}" is not "*" or "service:ActionName" (wildcards only in the action name)`,
      );
    }
  }
  statement.action = Object.freeze({ not: action.field === 'NotAction', values: actions });

  const resource = pickOne(raw, 'Resource', 'NotResource', fail);
  if (resource) {
    const resources = stringList(resource.value, resource.field, fail);
    for (const r of resources) {
      if (r !== '*' && (!r.startsWith('arn:') || !splitArnPattern(r, ctx.variables))) {
        throw fail(
          resource.field,
          `"${r}" is not "*" or an ARN (arn:partition:service:region:account:resource)`,
        );
      }
    }
    statement.resource = Object.freeze({ not: resource.field === 'NotResource', values: resources });
  } else if (ctx.requireResource) {
    throw fail('Resource', 'is missing (one of Resource or NotResource is required)');
  }

  if (raw.Condition !== undefined) {
    statement.condition = Object.freeze(conditionClauses(raw.Condition, ctx.variables, fail));
  }
  return Object.freeze(statement);
}

type Fail = (field: string, message: string) => PolicyError;

function pickOne(
  raw: Record<string, unknown>,
  field: string,
  notField: string,
  fail: Fail,
): { field: string; value: unknown } | undefined {
  const has = raw[field] !== undefined;
  const hasNot = raw[notField] !== undefined;
  if (has && hasNot) throw fail(field, `and ${notField} cannot both be present`);
  if (has) return { field, value: raw[field] };
  if (hasNot) return { field: notField, value: raw[notField] };
  return undefined;
}

/** A string or a non-empty array of non-empty strings. */
function stringList(value: unknown, field: string, fail: Fail): readonly string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw fail(field, 'must not be an empty array');
  if (list.length > POLICY_BOUNDS.maxValues)
    throw fail(field, `has more than ${POLICY_BOUNDS.maxValues} entries`);
  for (const v of list) {
    if (typeof v !== 'string') throw fail(field, 'must be a string or an array of strings');
    if (v === '') throw fail(field, 'must not contain an empty string');
    if (v.length > POLICY_BOUNDS.maxStringLength) {
      throw fail(field, `has a value longer than ${POLICY_BOUNDS.maxStringLength} characters`);
    }
  }
  return Object.freeze(list as string[]);
}

function principalSpec(value: unknown, field: string, fail: Fail): PrincipalSpec {
  if (value === '*') return '*';
  if (!isObject(value)) throw fail(field, 'must be "*" or an object such as {"AWS": "arn:…"}');
  const keys = Object.keys(value);
  if (keys.length === 0) throw fail(field, 'must name at least one principal');
  const spec: Record<string, readonly string[]> = {};
  for (const key of keys) {
    if (!(PRINCIPAL_TYPES as readonly string[]).includes(key)) {
      throw fail(`${field}.${key}`, `is not a principal type (${PRINCIPAL_TYPES.join(', ')})`);
    }
    const values = stringList(value[key], `${field}.${key}`, fail);
    for (const v of values) {
      const problem = key === 'AWS' ? checkAwsPrincipal(v) : undefined;
      if (problem) throw fail(`${field}.${key}`, `has an invalid principal ${problem}`);
    }
    spec[key] = values;
  }
  return Object.freeze(spec);
}

function conditionClauses(value: unknown, variables: boolean, fail: Fail): ConditionClause[] {
  if (!isObject(value)) throw fail('Condition', 'must be an object of {operator: {key: values}}');
  const clauses: ConditionClause[] = [];
  for (const [operator, block] of Object.entries(value)) {
    const field = `Condition.${operator}`;
    if (!isObject(block)) throw fail(field, 'must be an object of {key: values}');
    const entries = Object.entries(block);
    if (entries.length === 0) throw fail(field, 'must test at least one condition key');
    for (const [key, values] of entries) {
      if (clauses.length >= POLICY_BOUNDS.maxConditionClauses) {
        throw fail('Condition', `has more than ${POLICY_BOUNDS.maxConditionClauses} operator/key pairs`);
      }
      clauses.push(conditionClauseFrom(operator, key, values, variables, (m) => fail(`${field}.${key}`, m)));
    }
  }
  return clauses;
}
