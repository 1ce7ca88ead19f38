/**
 * Who signed a request: the root, an IAM user (long-term key), or an STS session
 * (temporary key + sealed token). Authentication resolves the secret; authorization
 * (authz.ts) later turns the identity into the policies that apply.
 */
import type { KeyObject } from 'node:crypto';
import { S3Error } from '@hoist/aws/s3';
import type { IamStore, IamUser } from './iam/types.ts';
import { safeEqual } from './safe-equal.ts';
import { openSession, type SessionClaims } from './session-token.ts';
import { toS3Error } from './to-s3-error.ts';

export type Identity =
  | { kind: 'root'; accessKeyId: string; accountId: string; arn: string; userId: string }
  | { kind: 'user'; accessKeyId: string; accountId: string; arn: string; userId: string; user: IamUser }
  | {
      kind: 'session';
      accessKeyId: string;
      accountId: string;
      arn: string;
      userId: string;
      session: SessionClaims;
    };

export interface CredentialLookupResult {
  secretAccessKey: string;
  identity: Identity;
}

/** Resolves an access key (and session token) to its secret and identity, or throws an S3Error. */
export type CredentialLookup = (
  accessKeyId: string,
  sessionToken: string | undefined,
) => Promise<CredentialLookupResult>;

export const DEFAULT_ACCOUNT_ID = '000000000000';

export interface CredentialSources {
  root: { accessKeyId: string; secretAccessKey: string };
  accountId: string;
  iam?: IamStore;
  /** Key that seals session tokens; without it no temporary credential is accepted. */
  tokenKey?: KeyObject;
  clock: () => number;
}

/** The ARN and user id AWS reports for a session (GetCallerIdentity, aws:userid). */
export function sessionPrincipal(claims: SessionClaims): { arn: string; userId: string } {
  if (claims.kind === 'AssumeRole') {
    const roleName = (claims.roleArn ?? '').split('/').pop() ?? '';
    return {
      arn: `arn:aws:sts::${claims.accountId}:assumed-role/${roleName}/${claims.roleSessionName ?? ''}`,
      userId: `${claims.roleId ?? ''}:${claims.roleSessionName ?? ''}`,
    };
  }
  if (claims.kind === 'GetFederationToken') {
    return {
      arn: `arn:aws:sts::${claims.accountId}:federated-user/${claims.federatedName ?? ''}`,
      userId: `${claims.accountId}:${claims.federatedName ?? ''}`,
    };
  }
  // GetSessionToken: the session acts as the user (or root) that created it.
  // AWS reports the user's ARN (with its path) and unique id (AIDA…); tokens sealed before
  // those were carried fall back to what the user name gives.
  return claims.userName
    ? {
        arn: claims.userArn ?? `arn:aws:iam::${claims.accountId}:user/${claims.userName}`,
        userId: claims.userId ?? claims.userName,
      }
    : { arn: `arn:aws:iam::${claims.accountId}:root`, userId: claims.accountId };
}

function invalidKey(accessKeyId: string): S3Error {
  return new S3Error('InvalidAccessKeyId', undefined, { extra: { AWSAccessKeyId: accessKeyId } });
}

export function createCredentialLookup(sources: CredentialSources): CredentialLookup {
  const { root, accountId, iam, tokenKey, clock } = sources;
  const rootIdentity: Identity = {
    kind: 'root',
    accessKeyId: root.accessKeyId,
    accountId,
    arn: `arn:aws:iam::${accountId}:root`,
    userId: accountId,
  };
  return async (accessKeyId, sessionToken) => {
    if (sessionToken !== undefined) {
      // A token is only ever valid with the temporary key it was issued with.
      if (!tokenKey || !accessKeyId.startsWith('ASIA')) throw new S3Error('InvalidToken');
      let claims: SessionClaims;
      try {
        claims = openSession(tokenKey, sessionToken);
      } catch (error) {
        throw toS3Error(error) ?? new S3Error('InvalidToken');
      }
      if (!safeEqual(claims.accessKeyId, accessKeyId)) throw new S3Error('InvalidToken');
      if (clock() >= claims.expiresAt) throw new S3Error('ExpiredToken');
      const principal = sessionPrincipal(claims);
      return {
        secretAccessKey: claims.secretAccessKey,
        identity: {
          kind: 'session',
          accessKeyId,
          accountId: claims.accountId,
          ...principal,
          session: claims,
        },
      };
    }
    if (safeEqual(accessKeyId, root.accessKeyId))
      return { secretAccessKey: root.secretAccessKey, identity: rootIdentity };
    const found = iam?.findAccessKey(accessKeyId);
    if (found?.key.status !== 'Active') throw invalidKey(accessKeyId);
    return {
      secretAccessKey: found.key.secretAccessKey,
      identity: {
        kind: 'user',
        accessKeyId,
        accountId,
        arn: found.user.arn,
        userId: found.user.userId,
        user: found.user,
      },
    };
  };
}

/** Root-only lookup (no IAM, no STS). */
export function rootCredentialLookup(
  root: { accessKeyId: string; secretAccessKey: string },
  accountId = DEFAULT_ACCOUNT_ID,
): CredentialLookup {
  return createCredentialLookup({ root, accountId, clock: Date.now });
}
