/**
 * Authorization: from an authenticated identity to the policies that apply to it,
 * then the shared policy engine decides. Root is allowed everything (as on AWS);
 * a user gets its inline policies; a role session gets the role's current policies
 * intersected with its session policies; a federated session gets its user's
 * policies intersected with its session policy (none: no permissions at all).
 */
import {
  evaluate,
  type Policy,
  type PolicyContext,
  parsePolicy,
  type RequestPrincipal,
} from '@hoist/aws/policy';
import type { IamRole, IamStore } from './iam/types.ts';
import type { Identity } from './identity.ts';

/** Condition keys of one request (aws:*, s3:*, sts:*), as the policy engine reads them. */
export type ConditionContext = Record<string, string | string[] | undefined>;

const ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}';
const CACHE_LIMIT = 1000;
/** STS session policies are at most 2,048 characters. */
const SESSION_POLICY_MAX = 2048;

export interface Authorizer {
  /** Whether the identity may perform `action` on `resource` (identity and session policies). */
  isAllowed(identity: Identity, action: string, resource: string, context: ConditionContext): boolean;
  /** Trust policy (as a resource policy) and the caller's own policies together. */
  mayAssumeRole(caller: Identity, role: IamRole, actions: string[], context: ConditionContext): boolean;
  /** Parses and validates a session policy; throws PolicyError (MalformedPolicyDocument). */
  validateSessionPolicy(json: string): void;
}

export interface AuthorizerOptions {
  iam: IamStore;
  clock: () => number;
}

interface PolicySet {
  identity: Policy[];
  session?: Policy[];
}

export function createAuthorizer(options: AuthorizerOptions): Authorizer {
  const { iam, clock } = options;
  const identityCache = new Map<string, Policy>();
  const resourceCache = new Map<string, Policy>();

  function cached(cache: Map<string, Policy>, json: string, kind: 'identity' | 'resource'): Policy {
    let policy = cache.get(json);
    if (!policy) {
      policy = parsePolicy(json, { kind });
      if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
      cache.set(json, policy);
    }
    return policy;
  }

  const identityPolicy = (json: string) => cached(identityCache, json, 'identity');

  function userPolicies(userName: string | undefined): Policy[] | 'all' {
    if (userName === undefined) return 'all';
    const user = iam.getUser(userName);
    return user ? Object.values(user.policies).map(identityPolicy) : [];
  }

  function sessionPolicies(
    sessionPolicy: string | undefined,
    arns: string[] | undefined,
  ): Policy[] | undefined {
    if (sessionPolicy === undefined && !arns?.length) return undefined;
    const out: Policy[] = [];
    if (sessionPolicy) out.push(identityPolicy(sessionPolicy));
    for (const arn of arns ?? []) {
      const managed = iam.getManagedPolicy(arn);
      if (managed) out.push(identityPolicy(managed.document));
    }
    return out;
  }

  /** The policies that apply to an identity; 'all' for the root. */
  function policySet(identity: Identity): PolicySet | 'all' {
    switch (identity.kind) {
      case 'root':
        return 'all';
      case 'user':
        return { identity: Object.values(identity.user.policies).map(identityPolicy) };
      case 'session': {
        const claims = identity.session;
        const session = sessionPolicies(claims.sessionPolicy, claims.policyArns);
        if (claims.kind === 'AssumeRole') {
          const role = claims.roleArn ? iam.getRoleByArn(claims.roleArn) : undefined;
          // A deleted (or re-created) role's sessions lose their permissions.
          const current =
            role && role.roleId === claims.roleId ? Object.values(role.policies).map(identityPolicy) : [];
          return session ? { identity: current, session } : { identity: current };
        }
        const base = userPolicies(claims.userName);
        if (claims.kind === 'GetSessionToken') return base === 'all' ? 'all' : { identity: base };
        return { identity: base === 'all' ? [identityPolicy(ALLOW_ALL)] : base, session: session ?? [] };
      }
    }
  }

  function principalContext(identity: Identity): ConditionContext {
    const now = clock();
    const context: ConditionContext = {
      'aws:PrincipalArn': identity.arn,
      'aws:PrincipalAccount': identity.accountId,
      'aws:userid': identity.userId,
      'aws:CurrentTime': new Date(now).toISOString(),
      'aws:EpochTime': String(Math.floor(now / 1000)),
      'aws:SecureTransport': 'false',
    };
    if (identity.kind === 'root') context['aws:PrincipalType'] = 'Account';
    if (identity.kind === 'user') {
      context['aws:PrincipalType'] = 'User';
      context['aws:username'] = identity.user.userName;
      for (const [key, value] of Object.entries(identity.user.tags))
        context[`aws:PrincipalTag/${key}`] = value;
    }
    if (identity.kind === 'session') {
      const claims = identity.session;
      context['aws:TokenIssueTime'] = new Date(claims.issuedAt).toISOString();
      if (claims.kind === 'AssumeRole') {
        context['aws:PrincipalType'] = 'AssumedRole';
        // Condition keys name the role, not the session, as aws:PrincipalArn.
        context['aws:PrincipalArn'] = claims.roleArn;
      } else if (claims.kind === 'GetFederationToken') {
        context['aws:PrincipalType'] = 'FederatedUser';
      } else {
        context['aws:PrincipalType'] = claims.userName ? 'User' : 'Account';
        if (claims.userName) context['aws:username'] = claims.userName;
      }
      // Principal tags: the role's (or the federating user's) IAM tags, overridden by session tags.
      // Keys compare without regard to case, so one spelling replaces another.
      const tags = new Map<string, [string, string]>();
      const addTags = (source: Record<string, string> | undefined) => {
        for (const [key, value] of Object.entries(source ?? {})) tags.set(key.toLowerCase(), [key, value]);
      };
      if (claims.kind === 'AssumeRole') {
        const role = claims.roleArn ? iam.getRoleByArn(claims.roleArn) : undefined;
        if (role && role.roleId === claims.roleId) addTags(role.tags);
      } else if (claims.userName) addTags(iam.getUser(claims.userName)?.tags);
      addTags(claims.tags);
      for (const [key, value] of tags.values()) context[`aws:PrincipalTag/${key}`] = value;
    }
    return context;
  }

  function principalOf(identity: Identity): RequestPrincipal {
    const principal: { arn: string; accountId: string; roleArn?: string; userArn?: string } = {
      arn: identity.arn,
      accountId: identity.accountId,
    };
    if (identity.kind === 'session') {
      const claims = identity.session;
      if (claims.roleArn) principal.roleArn = claims.roleArn;
      if (claims.kind === 'GetFederationToken' && claims.userName) {
        principal.userArn =
          iam.getUser(claims.userName)?.arn ?? `arn:aws:iam::${identity.accountId}:user/${claims.userName}`;
      }
    }
    return principal;
  }

  function toEngineContext(context: ConditionContext): PolicyContext {
    const out: PolicyContext = {};
    for (const [key, value] of Object.entries(context)) if (value !== undefined) out[key] = value;
    return out;
  }

  return {
    isAllowed(identity, action, resource, context) {
      const set = policySet(identity);
      if (set === 'all') return true;
      const result = evaluate(
        {
          action,
          resource,
          principal: principalOf(identity),
          context: toEngineContext({ ...principalContext(identity), ...context }),
        },
        { ...set, sameAccount: true },
      );
      return result.decision === 'Allow';
    },
    mayAssumeRole(caller, role, actions, context) {
      const trust = cached(resourceCache, role.assumeRolePolicyDocument, 'resource');
      const set = policySet(caller);
      const principal = principalOf(caller);
      const full = toEngineContext({ ...principalContext(caller), ...context });
      return actions.every((action) => {
        const result = evaluate(
          { action, resource: role.arn, principal, context: full },
          // The trust policy must itself allow the caller (resourceMustAllow), as for every role on AWS.
          set === 'all'
            ? {
                identity: [identityPolicy(ALLOW_ALL)],
                resource: [trust],
                sameAccount: true,
                resourceMustAllow: true,
              }
            : { ...set, resource: [trust], sameAccount: true, resourceMustAllow: true },
        );
        return result.decision === 'Allow';
      });
    },
    validateSessionPolicy(json) {
      parsePolicy(json, { kind: 'identity', maxSize: SESSION_POLICY_MAX });
    },
  };
}
