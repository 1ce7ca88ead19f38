/**
 * The POST policy of a browser form upload (AWS "POST Policy", SigV4): base64 JSON with
 * `expiration` and `conditions`. Every condition must hold for the submitted fields, and
 * every submitted field (but the signature, the policy, the file and `x-ignore-*`) must be
 * named by a condition, so a form cannot carry anything its signer did not allow.
 */
import { S3Error } from '../../aws/s3/errors.ts';

export interface LengthRange {
  min: number;
  max: number;
}

type Condition =
  | { kind: 'eq'; field: string; value: string }
  | { kind: 'starts-with'; field: string; value: string }
  | { kind: 'length'; range: LengthRange };

export interface PostPolicy {
  expiration: number;
  conditions: Condition[];
}

/** Fields S3 never requires a condition for. */
const EXEMPT_FIELDS = new Set(['x-amz-signature', 'policy', 'file']);
const MAX_POLICY_CHARS = 20 * 1024;

function invalidPolicy(detail: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${detail}`);
}

function denied(detail: string): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: ${detail}`);
}

/** `$name` → `name` (lower-cased: form fields are case-insensitive). */
function fieldName(raw: unknown, source: string): string {
  if (typeof raw !== 'string' || !raw.startsWith('$') || raw.length < 2)
    throw invalidPolicy(`Invalid Condition: ${source}`);
  return raw.slice(1).toLowerCase();
}

function lengthBound(raw: unknown, source: string): number {
  const value = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalidPolicy(`Invalid content-length-range: ${source}`);
  return value;
}

function parseCondition(raw: unknown): Condition {
  const source = JSON.stringify(raw) ?? String(raw);
  if (Array.isArray(raw)) {
    const [operator, first, second] = raw as unknown[];
    if (raw.length !== 3) throw invalidPolicy(`Invalid Condition: ${source}`);
    if (operator === 'content-length-range') {
      const range = { min: lengthBound(first, source), max: lengthBound(second, source) };
      if (range.min > range.max) throw invalidPolicy(`Invalid content-length-range: ${source}`);
      return { kind: 'length', range };
    }
    const kind = typeof operator === 'string' ? operator.toLowerCase() : '';
    if ((kind !== 'eq' && kind !== 'starts-with') || typeof second !== 'string')
      throw invalidPolicy(`Invalid Condition: ${source}`);
    return { kind, field: fieldName(first, source), value: second };
  }
  if (raw !== null && typeof raw === 'object') {
    const entries = Object.entries(raw);
    const [entry] = entries;
    if (entries.length !== 1 || !entry || typeof entry[1] !== 'string')
      throw invalidPolicy(`Invalid Simple-Condition: ${source}`);
    return { kind: 'eq', field: entry[0].toLowerCase().replace(/^\$/, ''), value: entry[1] };
  }
  throw invalidPolicy(`Invalid Condition: ${source}`);
}

/** Decodes and validates the policy's shape (not yet its conditions against a form). */
export function parsePostPolicy(base64: string): PostPolicy {
  if (base64.length > MAX_POLICY_CHARS || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64))
    throw invalidPolicy('Policy is not valid base64.');
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document))
    throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = document as { expiration?: unknown; conditions?: unknown };
  if (typeof expiration !== 'string') throw invalidPolicy('Policy missing expiration.');
  const expiresAt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(expiration)
    ? Date.parse(expiration)
    : Number.NaN;
  if (Number.isNaN(expiresAt)) throw invalidPolicy(`Invalid 'expiration' value: '${expiration}'`);
  if (!Array.isArray(conditions)) throw invalidPolicy('Policy missing conditions.');
  return { expiration: expiresAt, conditions: conditions.map(parseCondition) };
}

/**
 * Checks the form against the policy: expiry, each condition, and that no field goes
 * unnamed. `values` holds the fields as S3 compares them (`bucket` and the substituted
 * `key` included). Returns the content-length range, if the policy sets one.
 */
export function checkPostPolicy(
  policy: PostPolicy,
  values: ReadonlyMap<string, string>,
  now: number,
): LengthRange | undefined {
  if (now > policy.expiration) throw denied('Policy expired.');
  const named = new Set<string>();
  let range: LengthRange | undefined;
  for (const condition of policy.conditions) {
    if (condition.kind === 'length') {
      range = condition.range;
      continue;
    }
    named.add(condition.field);
    const value = values.get(condition.field);
    const holds =
      value !== undefined &&
      (condition.kind === 'eq' ? value === condition.value : value.startsWith(condition.value));
    if (!holds) {
      // As S3 words it: every condition in its array form, exact matches as "eq".
      const shown = [condition.kind, `$${condition.field}`, condition.value].map((part) =>
        JSON.stringify(part),
      );
      throw denied(`Policy Condition failed: [${shown.join(', ')}]`);
    }
  }
  const extra = [...values.keys()].filter(
    (name) =>
      name !== 'bucket' && !EXEMPT_FIELDS.has(name) && !name.startsWith('x-ignore-') && !named.has(name),
  );
  if (extra.length > 0) throw denied(`Extra input fields: ${extra.join(', ')}`);
  return range;
}
