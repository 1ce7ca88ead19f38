/**
 * Who signed a request. The S3 handlers only see this; the next layer (STS and
 * IAM) adds temporary and user identities behind the same lookup.
 */
import { S3Error } from '../aws/s3/errors.ts';
import { safeEqual } from './safe-equal.ts';

export interface Identity {
  kind: 'root';
  accessKeyId: string;
  accountId: string;
  arn: string;
}

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

export function rootCredentialLookup(
  root: { accessKeyId: string; secretAccessKey: string },
  accountId = DEFAULT_ACCOUNT_ID,
): CredentialLookup {
  const identity: Identity = {
    kind: 'root',
    accessKeyId: root.accessKeyId,
    accountId,
    arn: `arn:aws:iam::${accountId}:root`,
  };
  return async (accessKeyId, sessionToken) => {
    if (!safeEqual(accessKeyId, root.accessKeyId))
      throw new S3Error('InvalidAccessKeyId', undefined, { extra: { AWSAccessKeyId: accessKeyId } });
    // Long-term keys never carry a session token; AWS rejects one it did not issue.
    if (sessionToken !== undefined) throw new S3Error('InvalidToken');
    return { secretAccessKey: root.secretAccessKey, identity };
  };
}
