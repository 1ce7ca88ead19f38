/**
 * STS actions on the Query protocol: AssumeRole, GetFederationToken,
 * GetSessionToken, GetCallerIdentity. Each returns AWS's XML; failures are StsErrors.
 */
import type { KeyObject } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { xmlEscape } from '@hoist/aws/s3';
import type { ConditionContext } from '../authz.ts';
import type { IamRole, IamStore } from '../iam/types.ts';
import { type Identity, sessionPrincipal } from '../identity.ts';
import { generateAccessKeyId, generateSecretAccessKey } from '../root-credentials.ts';
import { type SessionClaims, sealSession } from '../session-token.ts';
import { STS_XMLNS, StsError } from './errors.ts';

export interface StsDeps {
  iam: IamStore;
  tokenKey: KeyObject;
  now: number;
  requestId: string;
  /** Trust policy and caller's own policies together: may `caller` assume `role`? */
  mayAssumeRole(caller: Identity, role: IamRole, actions: string[], context: ConditionContext): boolean;
  /** Do the caller's policies allow `action` on `resource`? */
  isAllowed(caller: Identity, action: string, resource: string, context: ConditionContext): boolean;
  /** Throws StsError MalformedPolicyDocument for a policy that does not parse. */
  validateSessionPolicy(json: string): void;
}

/** Plain-text limit of an inline session policy (AWS: 2,048 characters). */
const MAX_POLICY_CHARS = 2048;
/** Compressed bytes of policy + ARNs + tags that count as 100% of the packed allowance. */
const PACKED_ALLOWANCE_BYTES = 1536;
const NAME = /^[\w+=,.@-]+$/;

function validation(message: string): StsError {
  return new StsError('ValidationError', message);
}

function requireParam(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value === '') {
    throw validation(
      `1 validation error detected: Value null at '${name[0]?.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function durationParam(params: URLSearchParams, min: number, max: number, fallback: number): number {
  const raw = params.get('DurationSeconds');
  if (raw === null) return Math.min(fallback, max);
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw validation(
      `1 validation error detected: Value '${raw}' at 'durationSeconds' failed to satisfy constraint: Member must have value ${Number(raw) < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`}`,
    );
  }
  return Number(raw);
}

/** Sessions of the root last an hour at most: AWS cuts a longer request to one hour (no error). */
function rootCapped(caller: Identity, seconds: number): number {
  return caller.kind === 'root' ? Math.min(seconds, 3600) : seconds;
}

function listParam(params: URLSearchParams, prefix: string, field?: string): string[] {
  const out: string[] = [];
  for (let n = 1; n <= 100; n++) {
    const value = params.get(field ? `${prefix}.member.${n}.${field}` : `${prefix}.member.${n}`);
    if (value === null) break;
    out.push(value);
  }
  return out;
}

function tagsParam(params: URLSearchParams): Record<string, string> {
  const keys = listParam(params, 'Tags', 'Key');
  const values = listParam(params, 'Tags', 'Value');
  if (keys.length > 50) throw validation('Member must have length less than or equal to 50 (Tags).');
  const tags: Record<string, string> = {};
  for (const [i, key] of keys.entries()) {
    if (key.length > 128 || (values[i] ?? '').length > 256)
      throw validation('Tag keys are at most 128 and values at most 256 characters.');
    if (Object.keys(tags).some((k) => k.toLowerCase() === key.toLowerCase())) {
      throw new StsError(
        'InvalidParameterValue',
        'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
      );
    }
    tags[key] = values[i] ?? '';
  }
  return tags;
}

/** Session policy (inline + managed ARNs), checked for size the way STS reports it. */
function sessionPolicyParams(params: URLSearchParams, deps: StsDeps, tags: Record<string, string>) {
  const policy = params.get('Policy') ?? undefined;
  if (policy !== undefined) {
    if (policy.length > MAX_POLICY_CHARS) {
      throw validation(
        `1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to ${MAX_POLICY_CHARS}`,
      );
    }
    deps.validateSessionPolicy(policy);
  }
  const policyArns = listParam(params, 'PolicyArns', 'arn');
  if (policyArns.length > 10)
    throw validation('Member must have length less than or equal to 10 (PolicyArns).');
  for (const arn of policyArns) {
    if (!deps.iam.getManagedPolicy(arn))
      throw new StsError('InvalidParameterValue', `Policy ${arn} does not exist or is not attachable.`);
  }
  const packed = policy === undefined ? undefined : JSON.stringify(JSON.parse(policy));
  const packedBytes = deflateRawSync(JSON.stringify([packed ?? '', policyArns, tags])).length;
  const percent = Math.ceil((packedBytes * 100) / PACKED_ALLOWANCE_BYTES);
  if (percent > 100) {
    throw new StsError(
      'PackedPolicyTooLarge',
      `Packed policy consumes ${percent}% of allotted space, please use smaller policy.`,
    );
  }
  return { packed, policyArns, percent };
}

function credentialsXml(claims: SessionClaims, token: string): string {
  return `<Credentials><AccessKeyId>${claims.accessKeyId}</AccessKeyId><SecretAccessKey>${claims.secretAccessKey}</SecretAccessKey><SessionToken>${token}</SessionToken><Expiration>${new Date(claims.expiresAt).toISOString()}</Expiration></Credentials>`;
}

function respond(action: string, result: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${STS_XMLNS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

function newClaims(
  caller: Identity,
  kind: SessionClaims['kind'],
  now: number,
  seconds: number,
): SessionClaims {
  const user =
    caller.kind === 'user'
      ? { userName: caller.user.userName, userId: caller.user.userId, userArn: caller.user.arn }
      : caller.kind === 'session'
        ? {
            userName: caller.session.userName,
            userId: caller.session.userId,
            userArn: caller.session.userArn,
          }
        : {};
  return {
    v: 1,
    kind,
    accessKeyId: generateAccessKeyId('ASIA'),
    secretAccessKey: generateSecretAccessKey(),
    issuedAt: now,
    expiresAt: now + seconds * 1000,
    accountId: caller.accountId,
    ...(user.userName ? { userName: user.userName } : {}),
    ...(user.userId ? { userId: user.userId } : {}),
    ...(user.userArn ? { userArn: user.userArn } : {}),
  };
}

function denied(caller: Identity, action: string, resource: string, why = ''): StsError {
  return new StsError(
    'AccessDenied',
    `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resource}${why}`,
  );
}

function assumeRole(params: URLSearchParams, caller: Identity, deps: StsDeps): string {
  const roleArn = requireParam(params, 'RoleArn');
  const sessionName = requireParam(params, 'RoleSessionName');
  if (roleArn.length < 20 || roleArn.length > 2048)
    throw validation(
      "Value at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048",
    );
  if (sessionName.length < 2 || sessionName.length > 64 || !NAME.test(sessionName)) {
    throw validation(
      `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  if (caller.kind === 'root')
    throw new StsError('AccessDenied', 'Roles may not be assumed by root accounts.');
  if (caller.kind === 'session' && caller.session.kind === 'GetFederationToken') {
    throw new StsError('AccessDenied', 'Cannot call AssumeRole with federated user credentials.');
  }
  const externalId = params.get('ExternalId') ?? undefined;
  if (externalId !== undefined && (externalId.length < 2 || externalId.length > 1224)) {
    throw validation(
      "Value at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224",
    );
  }
  // The parameter's own range (900..43200) is checked before any authorization, as on AWS.
  durationParam(params, 900, 43200, 3600);
  const chained = caller.kind === 'session' && caller.session.kind === 'AssumeRole';
  const role = deps.iam.getRoleByArn(roleArn);
  const tags = tagsParam(params);
  // Transitive tags of a chained session carry over to the next one.
  const inherited: Record<string, string> = {};
  if (chained) {
    for (const key of caller.session.transitiveTagKeys ?? []) {
      const value = caller.session.tags?.[key];
      if (value !== undefined) inherited[key] = value;
    }
  }
  // Tag keys compare without regard to case; an inherited transitive tag cannot be replaced (AWS).
  const inheritedKeys = new Set(Object.keys(inherited).map((key) => key.toLowerCase()));
  if (Object.keys(tags).some((key) => inheritedKeys.has(key.toLowerCase()))) {
    throw new StsError(
      'InvalidParameterValue',
      "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
    );
  }
  const sessionTags = { ...inherited, ...tags };
  // Each transitive key names one of this request's tags, kept under the tag's own spelling.
  const transitive = listParam(params, 'TransitiveTagKeys').map((key) => {
    const tagKey = Object.keys(tags).find((k) => k.toLowerCase() === key.toLowerCase());
    if (tagKey === undefined) {
      throw new StsError(
        'InvalidParameterValue',
        'The specified transitive tag key must be included in the requested tags.',
      );
    }
    return tagKey;
  });
  const context: ConditionContext = {
    'sts:RoleSessionName': sessionName,
    'sts:ExternalId': externalId,
    'aws:TagKeys': Object.keys(tags).length > 0 ? Object.keys(tags) : undefined,
  };
  for (const [key, value] of Object.entries(tags)) context[`aws:RequestTag/${key}`] = value;
  // Inherited transitive tags are session tags of the new session too: they need sts:TagSession.
  const actions =
    Object.keys(sessionTags).length > 0 ? ['sts:AssumeRole', 'sts:TagSession'] : ['sts:AssumeRole'];
  if (!role || !deps.mayAssumeRole(caller, role, actions, context))
    throw denied(caller, 'sts:AssumeRole', roleArn);
  const max = chained ? 3600 : role.maxSessionDuration;
  const raw = params.get('DurationSeconds');
  if (raw !== null && /^\d+$/.test(raw) && Number(raw) > max && Number(raw) <= 43200) {
    throw validation(
      chained
        ? 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.'
        : 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  }
  const seconds = durationParam(params, 900, Math.min(max, 43200), 3600);
  const policy = sessionPolicyParams(params, deps, sessionTags);
  const claims: SessionClaims = {
    ...newClaims(caller, 'AssumeRole', deps.now, seconds),
    roleArn: role.arn,
    roleId: role.roleId,
    roleSessionName: sessionName,
    ...(policy.packed !== undefined ? { sessionPolicy: policy.packed } : {}),
    ...(policy.policyArns.length > 0 ? { policyArns: policy.policyArns } : {}),
    ...(Object.keys(sessionTags).length > 0 ? { tags: sessionTags } : {}),
    ...(transitive.length > 0 || chained
      ? { transitiveTagKeys: [...new Set([...transitive, ...Object.keys(inherited)])] }
      : {}),
    ...(chained ? { chained: true } : {}),
  };
  const token = sealSession(deps.tokenKey, claims);
  const principal = sessionPrincipal(claims);
  return respond(
    'AssumeRole',
    `${credentialsXml(claims, token)}<AssumedRoleUser><AssumedRoleId>${xmlEscape(principal.userId)}</AssumedRoleId><Arn>${xmlEscape(principal.arn)}</Arn></AssumedRoleUser><PackedPolicySize>${policy.percent}</PackedPolicySize>`,
    deps.requestId,
  );
}

function getFederationToken(params: URLSearchParams, caller: Identity, deps: StsDeps): string {
  const name = requireParam(params, 'Name');
  if (name.length < 2 || name.length > 32 || !NAME.test(name)) {
    throw validation(
      `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  if (caller.kind === 'session') {
    throw new StsError('AccessDenied', 'Cannot call GetFederationToken with session credentials');
  }
  const federatedArn = `arn:aws:sts::${caller.accountId}:federated-user/${name}`;
  if (caller.kind === 'user' && !deps.isAllowed(caller, 'sts:GetFederationToken', federatedArn, {})) {
    throw denied(caller, 'sts:GetFederationToken', federatedArn);
  }
  // The root may call it too; a longer (or default) duration is cut to an hour, as on AWS.
  const seconds = rootCapped(caller, durationParam(params, 900, 129600, 43200));
  const tags = tagsParam(params);
  const policy = sessionPolicyParams(params, deps, tags);
  const claims: SessionClaims = {
    ...newClaims(caller, 'GetFederationToken', deps.now, seconds),
    federatedName: name,
    // Without a policy a federated session has no permissions: an empty session policy set says so.
    sessionPolicy: policy.packed ?? '',
    ...(policy.policyArns.length > 0 ? { policyArns: policy.policyArns } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
  };
  const token = sealSession(deps.tokenKey, claims);
  const principal = sessionPrincipal(claims);
  return respond(
    'GetFederationToken',
    `${credentialsXml(claims, token)}<FederatedUser><FederatedUserId>${xmlEscape(principal.userId)}</FederatedUserId><Arn>${xmlEscape(principal.arn)}</Arn></FederatedUser><PackedPolicySize>${policy.percent}</PackedPolicySize>`,
    deps.requestId,
  );
}

function getSessionToken(params: URLSearchParams, caller: Identity, deps: StsDeps): string {
  if (caller.kind === 'session')
    throw new StsError('AccessDenied', 'Cannot call GetSessionToken with session credentials');
  const seconds = rootCapped(caller, durationParam(params, 900, 129600, 43200));
  const claims = newClaims(caller, 'GetSessionToken', deps.now, seconds);
  const token = sealSession(deps.tokenKey, claims);
  return respond('GetSessionToken', credentialsXml(claims, token), deps.requestId);
}

function getCallerIdentity(caller: Identity, deps: StsDeps): string {
  return respond(
    'GetCallerIdentity',
    `<Arn>${xmlEscape(caller.arn)}</Arn><UserId>${xmlEscape(caller.userId)}</UserId><Account>${caller.accountId}</Account>`,
    deps.requestId,
  );
}

/** Runs one STS action; returns the XML body (status 200) or throws StsError. */
export function handleStsAction(params: URLSearchParams, caller: Identity, deps: StsDeps): string {
  const action = params.get('Action');
  switch (action) {
    case 'AssumeRole':
      return assumeRole(params, caller, deps);
    case 'GetFederationToken':
      return getFederationToken(params, caller, deps);
    case 'GetSessionToken':
      return getSessionToken(params, caller, deps);
    case 'GetCallerIdentity':
      return getCallerIdentity(caller, deps);
    default:
      throw new StsError('InvalidAction', `Could not find operation ${action ?? ''} for version 2011-06-15`);
  }
}
