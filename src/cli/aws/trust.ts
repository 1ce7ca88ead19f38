/**
 * The upload role's trust policy: who may assume it. The broker's identity is an IAM role
 * (Lambda execution role, ECS task role) or an IAM user; a session ARN
 * (`arn:aws:sts::…:assumed-role/Name/session`) is turned into its role, which is what a trust
 * policy names.
 */
import { evaluate, parsePolicy } from '../../aws/policy/index.ts';
import type { Finding, PolicyDocument } from './policies.ts';

/** The account: AWS's 12 digits, or empty or a tenant on S3-compatible stores (Ceph RGW: `arn:aws:iam:::user/NAME`). */
const PRINCIPAL = /^arn:(aws[a-z-]*):(iam|sts)::(\d{12}|[A-Za-z0-9_-]{0,64}):([\x21-\x7e]+)$/;

/** Normalises the broker's principal ARN; throws TypeError naming `--principal` when it is not one. */
export function brokerPrincipalArn(arn: string): string {
  const match = PRINCIPAL.exec(arn);
  const [, partition, service, account, resource] = match ?? [];
  if (service === 'sts') {
    const role = /^assumed-role\/([\w+=,.@-]{1,64})\/[\w+=,.@-]+$/.exec(resource ?? '')?.[1];
    if (role) return `arn:${partition}:iam::${account}:role/${role}`;
  } else if (
    service === 'iam' &&
    /^(?:user|role)\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/.test(resource ?? '')
  ) {
    return arn;
  }
  throw new TypeError(
    `--principal must be the broker's IAM role or user ARN (arn:aws:iam::123456789012:role/NAME), got "${arn}"`,
  );
}

export interface TrustOptions {
  /** The broker's role or user ARN (see {@link brokerPrincipalArn}). */
  principal: string;
  /** Also allow sts:TagSession (session tags). */
  tagSession?: boolean;
  /** Require this sts:ExternalId (the broker's sts.externalId). */
  externalId?: string;
}

export function trustPolicy(options: TrustOptions): PolicyDocument {
  const statement: Record<string, unknown> = {
    Sid: 'HoistBroker',
    Effect: 'Allow',
    Principal: { AWS: brokerPrincipalArn(options.principal) },
    Action: options.tagSession ? ['sts:AssumeRole', 'sts:TagSession'] : 'sts:AssumeRole',
  };
  if (options.externalId) statement.Condition = { StringEquals: { 'sts:ExternalId': options.externalId } };
  return { Version: '2012-10-17', Statement: [statement] };
}

/**
 * Checks a role's trust policy with the policy engine: the broker may assume it (with the
 * external id, when configured), and a stranger in another account may not.
 */
export function checkTrustPolicy(
  document: string | object,
  options: { principal: string; roleArn: string; externalId?: string | undefined },
): Finding[] {
  let policy: ReturnType<typeof parsePolicy>;
  try {
    policy = parsePolicy(document, { kind: 'resource' });
  } catch (error) {
    return [{ level: 'error', message: `the trust policy does not parse: ${(error as Error).message}` }];
  }
  const principal = brokerPrincipalArn(options.principal);
  const account = PRINCIPAL.exec(principal)?.[3] ?? '';
  const roleAccount = /^arn:[^:]+:iam::([^:]*):/.exec(options.roleArn)?.[1] ?? '';
  // A stranger's own account may let them do anything: only the trust policy stands in the way.
  const anything = parsePolicy(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    { kind: 'identity' },
  );
  const decide = (arn: string, sameAccount: boolean, externalId?: string) =>
    evaluate(
      {
        action: 'sts:AssumeRole',
        resource: options.roleArn,
        principal: { arn },
        ...(externalId ? { context: { 'sts:ExternalId': externalId } } : {}),
      },
      { identity: sameAccount ? [] : [anything], resource: [policy], sameAccount, resourceMustAllow: true },
    ).decision;
  const findings: Finding[] = [];
  // A role session calls AssumeRole; the trust policy names the role behind it.
  const caller = principal.includes(':role/')
    ? `${principal.replace(':iam::', ':sts::').replace(/:role\/(?:.*\/)?/, ':assumed-role/')}/hoist-broker`
    : principal;
  if (decide(caller, account === roleAccount, options.externalId) !== 'Allow') {
    // Same account: an identity policy cannot make up for a trust policy that names someone else.
    findings.push({
      level: 'error',
      message: `the role's trust policy does not allow ${principal} to assume it`,
    });
  }
  const stranger = 'arn:aws:iam::999999999999:user/stranger';
  if (decide(stranger, false, options.externalId) === 'Allow')
    findings.push({ level: 'error', message: "the role's trust policy lets any AWS account assume it" });
  return findings;
}
