/**
 * The IAM policy engine shared by the local S3+STS server and the broker: strict parsing of
 * policy documents and a pure `evaluate()` that decides a request as AWS IAM does (explicit
 * deny, then identity/resource/session/boundary rules). Runs in browsers and Node alike.
 *
 * @example
 * const role = parsePolicy(roleJson, { kind: 'identity' });
 * const session = parsePolicy(sessionJson, { kind: 'identity', maxSize: 2048 });
 * const { decision } = evaluate(
 *   { action: 's3:PutObject', resource: s3ObjectArn('uploads', 'u/1/file.bin'), principal: { arn: sessionArn } },
 *   { identity: [role], session: [session], sameAccount: true },
 * );
 *
 * @module
 */
export { type Arn, formatArn, parseArn, parseS3Arn, s3BucketArn, s3ObjectArn, splitArn } from './arn.ts';
export type { ConditionClause, ContextValue, PolicyContext } from './conditions.ts';
export {
  DEFAULT_MAX_POLICY_SIZE,
  type Effect,
  type ElementList,
  type ParseOptions,
  POLICY_BOUNDS,
  type Policy,
  type PolicyKind,
  type PolicyVersion,
  packedSize,
  parsePolicy,
  type Statement,
} from './document.ts';
export { PolicyError, type PolicyErrorCode } from './errors.ts';
export {
  type Decision,
  type EvaluationRequest,
  type EvaluationResult,
  evaluate,
  type PolicySet,
  type PolicySource,
  type StatementRef,
} from './evaluate.ts';
export type { MatchLevel, PrincipalSpec, PrincipalType, RequestPrincipal } from './principal.ts';
export { compileWildcard, matchCompiled, type WildcardPattern, wildcardMatch } from './wildcard.ts';
