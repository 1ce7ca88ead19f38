/**
 * The Principal/NotPrincipal element of resource-based policies and how a requester matches it.
 *
 * A requester is seen as a chain of identities, outermost first: its account, then (for a role
 * session) the role or (for a federated user) the IAM user that federated, then the session or
 * user itself. A Principal entry matches at one of three levels, which decide how much of the
 * requester's own policies still apply (see evaluate.ts): `direct` (the requester itself or `*`),
 * `entity` (the role or federating user behind a session) and `account`.
 */
import { parseArn } from './arn.ts';

/** The `Principal` value of a statement: `"*"` or a map of principal types to values. */
export type PrincipalSpec =
  | '*'
  | {
      readonly AWS?: readonly string[];
      readonly Service?: readonly string[];
      readonly Federated?: readonly string[];
      readonly CanonicalUser?: readonly string[];
    };

export const PRINCIPAL_TYPES = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;

/**
 * Who makes the request. Omit it entirely for an anonymous request.
 *
 * @example { arn: 'arn:aws:sts::111122223333:assumed-role/uploader/session-1', roleArn: 'arn:aws:iam::111122223333:role/app/uploader' }
 */
export interface RequestPrincipal {
  /**
   * The caller's ARN: `arn:aws:iam::<account>:root`, `…:user/<path/name>`,
   * `arn:aws:sts::<account>:assumed-role/<role>/<session>` or `…:federated-user/<name>`.
   */
  readonly arn?: string;
  /** The caller's account; optional, as it is read from `arn`, but must agree with it when given. */
  readonly accountId?: string;
  /**
   * For a role session: the role's ARN, with its path.
   * @default `arn:<partition>:iam::<account>:role/<role>` built from the session ARN (no path)
   */
  readonly roleArn?: string;
  /** For a federated user session: the ARN of the IAM user that called GetFederationToken. */
  readonly userArn?: string;
  /** An AWS service principal such as `s3.amazonaws.com` (instead of `arn`). */
  readonly service?: string;
  /** A web identity or SAML provider (matched by `Federated`), with `arn` naming the session. */
  readonly federatedProvider?: string;
  /** An S3 canonical user ID (matched by `CanonicalUser`). */
  readonly canonicalUser?: string;
}

/** Kind of caller, read from its ARN (or its absence). */
export type PrincipalType = 'anonymous' | 'service' | 'root' | 'user' | 'assumed-role' | 'federated-user';

/** A requester resolved for matching. */
export interface ResolvedPrincipal {
  readonly type: PrincipalType;
  readonly arn: string | undefined;
  readonly account: string | undefined;
  /** Role ARN (role session) or federating user ARN (federated user). */
  readonly parentArn: string | undefined;
  readonly service: string | undefined;
  readonly federatedProvider: string | undefined;
  readonly canonicalUser: string | undefined;
}

/**
 * How a Principal element names the caller: `direct` (its own ARN, or `*`), `entity` (the role or
 * federating user behind its session) or `account` (its account ID or root ARN).
 */
export type MatchLevel = 'direct' | 'entity' | 'account';

const ACCOUNT_ID = /^\d{12}$/;

/** Resolves a request principal; throws TypeError when its ARN is not a principal ARN. */
export function resolvePrincipal(p: RequestPrincipal | undefined): ResolvedPrincipal {
  const base = {
    parentArn: undefined,
    service: p?.service,
    federatedProvider: p?.federatedProvider,
    canonicalUser: p?.canonicalUser,
  };
  if (p === undefined) return { ...base, type: 'anonymous', arn: undefined, account: undefined };
  if (p.arn === undefined) {
    if (p.service === undefined) throw new TypeError('principal needs an arn or a service');
    return { ...base, type: 'service', arn: undefined, account: undefined };
  }
  const arn = parseArn(p.arn);
  const kind = principalArnKind(p.arn);
  if (!arn || !kind || kind === 'role') {
    throw new TypeError(`principal.arn "${p.arn}" is not a root, user, assumed-role or federated-user ARN`);
  }
  if (p.accountId !== undefined && p.accountId !== arn.account) {
    throw new TypeError(`principal.accountId "${p.accountId}" does not match principal.arn "${p.arn}"`);
  }
  let parentArn: string | undefined;
  if (kind === 'assumed-role') {
    const role = arn.resource.split('/')[1]!;
    parentArn = p.roleArn ?? `arn:${arn.partition}:iam::${arn.account}:role/${role}`;
  } else if (kind === 'federated-user') {
    parentArn = p.userArn;
  }
  return { ...base, type: kind, arn: p.arn, account: arn.account, parentArn };
}

/** What kind of principal an ARN names, or `undefined` when it names none. */
export function principalArnKind(
  text: string,
): 'root' | 'user' | 'role' | 'assumed-role' | 'federated-user' | undefined {
  const arn = parseArn(text);
  if (arn?.region !== '' || !ACCOUNT_ID.test(arn.account)) return undefined;
  const r = arn.resource;
  if (arn.service === 'iam') {
    if (r === 'root') return 'root';
    if (/^user\/.+/.test(r)) return 'user';
    if (/^role\/.+/.test(r)) return 'role';
  } else if (arn.service === 'sts') {
    if (/^assumed-role\/[^/]+\/.+/.test(r)) return 'assumed-role';
    if (/^federated-user\/.+/.test(r)) return 'federated-user';
  }
  return undefined;
}

/** Why an `AWS` principal value is invalid, or `undefined` when it is valid. */
export function checkAwsPrincipal(value: string): string | undefined {
  if (value === '*' || ACCOUNT_ID.test(value)) return undefined;
  if (value.includes('*') || value.includes('?')) {
    return `"${value}": wildcards are only allowed as the whole value "*"`;
  }
  return principalArnKind(value) ? undefined : `"${value}" is not an account ID or a principal ARN`;
}

/** The account a root ARN or bare account ID names, else `undefined`. */
function accountOf(value: string): string | undefined {
  if (ACCOUNT_ID.test(value)) return value;
  if (principalArnKind(value) === 'root') return parseArn(value)!.account;
  return undefined;
}

function awsLevel(value: string, p: ResolvedPrincipal): MatchLevel | undefined {
  if (value === '*') return 'direct';
  if (p.account === undefined) return undefined;
  const account = accountOf(value);
  if (account !== undefined) {
    if (account !== p.account) return undefined;
    return p.type === 'root' ? 'direct' : 'account';
  }
  if (value === p.arn) return 'direct';
  if (value === p.parentArn) return 'entity';
  return undefined;
}

const RANK: Record<MatchLevel, number> = { direct: 3, entity: 2, account: 1 };

/** The strongest level at which `spec` names the requester, or `undefined` if it does not. */
export function principalMatch(spec: PrincipalSpec, p: ResolvedPrincipal): MatchLevel | undefined {
  if (spec === '*') return 'direct';
  let best: MatchLevel | undefined;
  const consider = (level: MatchLevel | undefined) => {
    if (level && (!best || RANK[level] > RANK[best])) best = level;
  };
  for (const v of spec.AWS ?? []) consider(awsLevel(v, p));
  for (const v of spec.Service ?? []) {
    if (p.service !== undefined && (v === '*' || v === p.service)) consider('direct');
  }
  for (const v of spec.Federated ?? []) {
    if (p.federatedProvider !== undefined && (v === '*' || v === p.federatedProvider)) consider('direct');
  }
  for (const v of spec.CanonicalUser ?? []) {
    if (p.canonicalUser !== undefined && (v === '*' || v === p.canonicalUser)) consider('direct');
  }
  return best;
}

/**
 * Whether a NotPrincipal statement applies to the requester: it does unless every identity in
 * the requester's chain (account, role or federating user, session or user) is listed — which
 * is why AWS tells you to list the account and role next to a session.
 */
export function notPrincipalApplies(spec: PrincipalSpec, p: ResolvedPrincipal): boolean {
  if (spec === '*') return false;
  const aws = spec.AWS ?? [];
  if (aws.includes('*')) return false;
  const listed = (arn: string) => aws.includes(arn);
  switch (p.type) {
    case 'anonymous':
      return true;
    case 'service':
      return !(spec.Service ?? []).some((v) => v === '*' || v === p.service);
    default: {
      const accountListed = aws.some((v) => accountOf(v) === p.account);
      if (!accountListed) return true;
      if (p.type === 'root') return false;
      if ((p.type === 'assumed-role' || p.type === 'federated-user') && p.parentArn && !listed(p.parentArn)) {
        return true;
      }
      return !listed(p.arn!);
    }
  }
}
