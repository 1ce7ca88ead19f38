/** Stable codes a {@link PolicyError} carries, named after the IAM API errors they correspond to. */
export type PolicyErrorCode = 'MalformedPolicyDocument' | 'LimitExceeded';

/**
 * A policy document that cannot be used: malformed JSON, a wrong element, or a size over the
 * caller's cap. `statement` and `field` locate the problem when it sits inside a statement.
 *
 * @example
 * try { parsePolicy(text, { kind: 'identity' }); }
 * catch (e) { if (e instanceof PolicyError) console.log(e.code, e.message); }
 */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly code: PolicyErrorCode;
  /** Index of the offending statement (0-based), when the problem is inside one. */
  readonly statement?: number;
  /** Offending element, e.g. `Action` or `Condition.StringEquals.aws:SourceIp`. */
  readonly field?: string;

  constructor(
    code: PolicyErrorCode,
    message: string,
    location?: { statement?: number; field?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    if (location?.statement !== undefined) this.statement = location.statement;
    if (location?.field !== undefined) this.field = location.field;
  }
}
