/**
 * The decision: explicit deny anywhere wins; otherwise AWS's same-account and cross-account
 * rules combine identity, session, permissions-boundary and resource-based policies.
 */
import { splitArn } from './arn.ts';
import { ContextView, conditionsHold, type PolicyContext } from './conditions.ts';
import type { Effect, ElementList, Policy, PolicyKind, Statement } from './document.ts';
import {
  type MatchLevel,
  notPrincipalApplies,
  principalMatch,
  type RequestPrincipal,
  type ResolvedPrincipal,
  resolvePrincipal,
} from './principal.ts';
import { splitArnPattern, substitute } from './variables.ts';
import { compilePieces, compileWildcard, matchCompiled, wildcardMatch } from './wildcard.ts';

/** What is being authorized. */
export interface EvaluationRequest {
  /** The IAM action, e.g. `s3:PutObject` (see `S3_OPERATIONS`); matched case-insensitively. */
  action: string;
  /**
   * The resource ARN, e.g. `arn:aws:s3:::bucket/key` or `arn:aws:s3:::bucket`. For actions
   * without a resource (s3:ListAllMyBuckets) pass `arn:aws:s3:::*`, which only policies
   * written as `*` or `arn:aws:s3:::*` match.
   */
  resource: string;
  /** The authenticated caller; omit for an anonymous request. */
  principal?: RequestPrincipal;
  /** Condition keys (case-insensitive) and the values policy variables resolve to. */
  context?: Readonly<PolicyContext>;
}

/** The policies that apply to the request, grouped by type. */
export interface PolicySet {
  /** Identity-based policies of the user or role (parsed with `kind: 'identity'`). */
  identity: readonly Policy[];
  /** Session policies; `undefined` when the session has none (which is not the same as `[]`). */
  session?: readonly Policy[];
  /** The user's or role's permissions boundary; `undefined` when it has none. */
  permissionsBoundary?: readonly Policy[];
  /** Resource-based policies such as the bucket policy (parsed with `kind: 'resource'`). */
  resource?: readonly Policy[];
  /** Whether the caller and the resource belong to the same account. */
  sameAccount: boolean;
  /**
   * Set for role trust policies and KMS key policies, which must themselves allow the caller:
   * identity policies alone never grant, and a grant to the account still needs them.
   * @default false
   */
  resourceMustAllow?: boolean;
}

/** `ImplicitDeny`: nothing allowed the request (or a session policy or boundary did not). */
export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
/** Which group of {@link PolicySet} a statement came from. */
export type PolicySource = 'identity' | 'session' | 'permissionsBoundary' | 'resource';

/** A statement that matched the request (action, resource, principal and conditions). */
export interface StatementRef {
  source: PolicySource;
  /** Index of the policy within its group of {@link PolicySet}. */
  policyIndex: number;
  policyId?: string;
  statementIndex: number;
  sid?: string;
  effect: Effect;
  /** For resource policies: how the Principal element named the caller. */
  principalMatch?: MatchLevel;
}

/** Outcome of {@link evaluate}. */
export interface EvaluationResult {
  decision: Decision;
  /** Every matching statement, in evaluation order (Deny and Allow alike). */
  matched: StatementRef[];
}

const SOURCES: readonly PolicySource[] = ['identity', 'session', 'permissionsBoundary', 'resource'];

/**
 * Decides a request as AWS IAM does.
 *
 * 1. Any matching Deny statement, in any policy → `ExplicitDeny`.
 * 2. Same account: allowed when the identity side allows (an identity policy allows, and the
 *    boundary and session policies — when present — allow too), or when a resource policy names
 *    the caller itself (user, role session or federated session ARN, or `*`), or names the role
 *    (or federating user) behind a session and the boundary and session policies allow.
 *    A resource policy naming only the account grants nothing by itself in the same account.
 * 3. Cross-account: the identity side and some resource policy must both allow.
 *
 * The account root user's identity side always allows; anonymous and service callers are
 * allowed only by resource policies; a federated user session without a session policy has no
 * identity-side permissions.
 *
 * @throws {TypeError} when the request or policy set is malformed (names the field).
 */
export function evaluate(request: EvaluationRequest, policies: PolicySet): EvaluationResult {
  checkInputs(request, policies);
  const principal = resolvePrincipal(request.principal);
  const context = new ContextView(request.context);
  const matched: StatementRef[] = [];
  const allowed = new Set<PolicySource>();
  let denied = false;
  let resourceLevel: MatchLevel | undefined;
  const hasBoundary = policies.permissionsBoundary !== undefined;

  for (const source of SOURCES) {
    const group = policies[source];
    if (group === undefined) continue;
    group.forEach((policy, policyIndex) => {
      const variables = policy.version === '2012-10-17';
      for (const statement of policy.statements) {
        const level = statementMatches(statement, request, principal, context, variables, hasBoundary);
        if (level === undefined) continue;
        const ref: StatementRef = {
          source,
          policyIndex,
          statementIndex: statement.index,
          effect: statement.effect,
        };
        if (policy.id !== undefined) ref.policyId = policy.id;
        if (statement.sid !== undefined) ref.sid = statement.sid;
        if (source === 'resource') ref.principalMatch = level;
        matched.push(ref);
        if (statement.effect === 'Deny') denied = true;
        else {
          allowed.add(source);
          if (source === 'resource' && (!resourceLevel || RANK[level] > RANK[resourceLevel]))
            resourceLevel = level;
        }
      }
    });
  }
  if (denied) return { decision: 'ExplicitDeny', matched };
  return {
    decision: decide(principal, policies, allowed, resourceLevel) ? 'Allow' : 'ImplicitDeny',
    matched,
  };
}

const RANK: Record<MatchLevel, number> = { direct: 3, entity: 2, account: 1 };

function decide(
  p: ResolvedPrincipal,
  policies: PolicySet,
  allowed: Set<PolicySource>,
  resourceLevel: MatchLevel | undefined,
): boolean {
  // Callers outside IAM (anonymous, AWS services) have no identity side at all.
  if (p.type === 'anonymous' || p.type === 'service') return resourceLevel !== undefined;
  const boundaryOk = policies.permissionsBoundary === undefined || allowed.has('permissionsBoundary');
  // Without a session policy a role session keeps its role's permissions; a federated user has none.
  const sessionOk = policies.session === undefined ? p.type !== 'federated-user' : allowed.has('session');
  const identitySide = (allowed.has('identity') || p.type === 'root') && boundaryOk && sessionOk;
  if (!policies.sameAccount) return identitySide && resourceLevel !== undefined;
  const resourceGrants =
    resourceLevel === 'direct' || (resourceLevel === 'entity' && boundaryOk && sessionOk);
  if (resourceGrants) return true;
  return policies.resourceMustAllow === true ? resourceLevel === 'account' && identitySide : identitySide;
}

/** The principal match level when the statement applies (`direct` for identity policies), else undefined. */
function statementMatches(
  s: Statement,
  request: EvaluationRequest,
  principal: ResolvedPrincipal,
  context: ContextView,
  variables: boolean,
  hasBoundary: boolean,
): MatchLevel | undefined {
  if (!actionMatches(s.action, request.action)) return undefined;
  if (!resourceMatches(s.resource, request.resource, context, variables)) return undefined;
  let level: MatchLevel | undefined = 'direct';
  if (s.principal) {
    if (s.principal.not) {
      // AWS: a Deny with NotPrincipal always applies to a principal that has a permissions boundary.
      const applies =
        (s.effect === 'Deny' && hasBoundary && principal.arn !== undefined) ||
        notPrincipalApplies(s.principal.spec, principal);
      level = applies ? 'direct' : undefined;
    } else level = principalMatch(s.principal.spec, principal);
    if (level === undefined) return undefined;
  }
  return conditionsHold(s.condition, context, variables) ? level : undefined;
}

function actionMatches(element: ElementList, action: string): boolean {
  const hit = element.values.some((v) => v === '*' || wildcardMatch(v, action, { ignoreCase: true }));
  return hit !== element.not;
}

function resourceMatches(
  element: ElementList | undefined,
  resource: string,
  context: ContextView,
  variables: boolean,
): boolean {
  if (element === undefined) return true;
  const target = splitArn(resource);
  const hit = element.values.some((v) => resourceValueMatches(v, resource, target, context, variables));
  return hit !== element.not;
}

/** Resource ARNs match component by component; variables only count in the resource part. */
function resourceValueMatches(
  pattern: string,
  resource: string,
  target: string[] | undefined,
  context: ContextView,
  variables: boolean,
): boolean {
  if (pattern === '*') return true;
  if (pattern === resource && !pattern.includes('$')) return true;
  const parts = splitArnPattern(pattern, variables);
  if (!parts || !target) return false;
  for (let i = 0; i < 5; i++) {
    if (!matchCompiled(compileWildcard(parts[i]!), target[i]!)) return false;
  }
  const last = parts[5]!;
  const pieces = variables ? substitute(last, context.variable) : [{ text: last, literal: false }];
  // A variable the request cannot resolve makes this value match nothing.
  if (!pieces) return false;
  return matchCompiled(compilePieces(pieces), target[5]!);
}

const KINDS: Record<PolicySource, PolicyKind> = {
  identity: 'identity',
  session: 'identity',
  permissionsBoundary: 'identity',
  resource: 'resource',
};

function checkInputs(request: EvaluationRequest, policies: PolicySet): void {
  if (typeof request !== 'object' || request === null) throw new TypeError('request must be an object');
  if (typeof request.action !== 'string' || !/^[^:*?]+:[^*?]+$/.test(request.action)) {
    throw new TypeError(
      `request.action must be "service:Action" without wildcards, got ${String(request.action)}`,
    );
  }
  if (typeof request.resource !== 'string' || request.resource === '') {
    throw new TypeError('request.resource must be a non-empty ARN string');
  }
  if (typeof policies !== 'object' || policies === null) throw new TypeError('policies must be an object');
  if (typeof policies.sameAccount !== 'boolean')
    throw new TypeError('policies.sameAccount must be a boolean');
  if (!Array.isArray(policies.identity))
    throw new TypeError('policies.identity must be an array of policies');
  for (const source of SOURCES) {
    const group = policies[source];
    if (group === undefined) continue;
    if (!Array.isArray(group)) throw new TypeError(`policies.${source} must be an array of policies`);
    group.forEach((p: Policy, i) => {
      if (typeof p !== 'object' || p === null || !Array.isArray(p.statements)) {
        throw new TypeError(`policies.${source}[${i}] is not a parsed policy (use parsePolicy)`);
      }
      if (p.kind !== KINDS[source]) {
        throw new TypeError(
          `policies.${source}[${i}] must be parsed with kind '${KINDS[source]}', not '${p.kind}'`,
        );
      }
    });
  }
}
