/**
 * The one place IAM checks that a policy document is well formed before storing it, with the
 * shared policy engine's strict parser. Failures are MalformedPolicyDocument naming the
 * statement and element.
 */
import { type Policy, PolicyError, parsePolicy } from '@hoist/aws/policy';
import { IamError } from './types.ts';

/** `identity`: user/role/managed permission policies; `trust`: a role's assume-role policy. */
export type PolicyDocumentKind = 'identity' | 'trust';

/**
 * MalformedPolicyDocument, with where the problem is when known: the statement's index and
 * the element inside it (e.g. `Condition.StringEquals`), for config errors that name the field.
 */
export class MalformedPolicyError extends IamError {
  readonly statement?: number;
  readonly field?: string;
  constructor(message: string, location: { statement?: number; field?: string } = {}) {
    super('MalformedPolicyDocument', message);
    if (location.statement !== undefined) this.statement = location.statement;
    if (location.field !== undefined) this.field = location.field;
  }
}

const malformed = (message: string, statement?: number, field?: string): MalformedPolicyError =>
  new MalformedPolicyError(message, {
    ...(statement === undefined ? {} : { statement }),
    ...(field === undefined ? {} : { field }),
  });

/** Trust policies: resource-based (Principal required), Resource prohibited, STS actions only. */
function checkTrust(policy: Policy): void {
  for (const statement of policy.statements) {
    if (statement.resource) throw malformed('Has prohibited field Resource', statement.index, 'Resource');
    if (statement.action.not) continue;
    for (const action of statement.action.values) {
      if (action !== '*' && !action.toLowerCase().startsWith('sts:')) {
        throw malformed(
          'AssumeRole policy may only specify STS AssumeRole actions.',
          statement.index,
          'Action',
        );
      }
    }
  }
}

/** Throws MalformedPolicyDocument unless `text` is a usable policy of this kind. */
export function checkPolicyDocument(text: string, kind: PolicyDocumentKind): void {
  let policy: Policy;
  try {
    // Sizes are IAM quotas on the entity (aggregate inline size, trust policy size), checked by the store.
    policy = parsePolicy(
      text,
      kind === 'identity'
        ? { kind: 'identity', maxSize: Number.POSITIVE_INFINITY }
        : { kind: 'resource', requireResource: false, maxSize: Number.POSITIVE_INFINITY },
    );
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    if (error.code === 'LimitExceeded') throw new IamError('LimitExceeded', error.message);
    throw malformed(error.message, error.statement, error.field);
  }
  if (kind === 'trust') checkTrust(policy);
}
