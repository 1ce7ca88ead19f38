/**
 * IAM configs for the end-to-end tests: a broker user with an access key, allowed to assume
 * an upload role whose trust policy names it; the role may run multipart uploads under one
 * prefix of one bucket.
 */
import { brokerPolicy } from '@hoist/cli/internal/aws/policies';
import type { IamConfigInput } from '@hoist/server/internal/iam/config';

/** What an upload needs: the parts, listing them (to resume) and aborting. */
export const UPLOAD_ACTIONS = ['s3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'];

type Statement = Record<string, unknown>;

/**
 * The broker's own calls besides AssumeRole: GetFederationToken, and S3 on `<bucket>/<prefix>/*`
 * and the bucket (verifying, reading back, deleting and sweeping uploads) — the AWS kit's
 * broker policy, so the tests run the broker with exactly what `hoist aws` grants it.
 */
export function brokerOwnStatements(bucket: string, prefix: string): Statement[] {
  return brokerPolicy({ bucket, prefix, mode: 'federation' }).Statement;
}

export interface BrokerIamOptions {
  accountId: string;
  /** The broker user's access key (copied into the config). */
  accessKey: { accessKeyId: string; secretAccessKey: string };
  bucket: string;
  /** The role may upload to `<bucket>/<prefix>/*`. */
  prefix: string;
  /** `broker` unless named. */
  userName?: string;
  /** `hoist-upload` unless named. */
  roleName?: string;
  /** Also sts:TagSession on the role (user policy and trust policy). */
  tagSession?: boolean;
  maxSessionDuration?: number;
  /** Statements of the user's policy after the one that allows assuming the role. */
  userStatements?: Statement[];
  /** Actions the role has on the prefix besides UPLOAD_ACTIONS. */
  roleActions?: string[];
}

/**
 * The broker user (its policy `broker` allows sts:AssumeRole on the role, then
 * `userStatements`) and the upload role (trusting the user; its policy `uploads` allows
 * UPLOAD_ACTIONS and `roleActions` on `<bucket>/<prefix>/*`).
 */
export function brokerIamConfig(options: BrokerIamOptions): IamConfigInput {
  const { accountId, bucket, prefix, userName = 'broker', roleName = 'hoist-upload' } = options;
  const assume = options.tagSession ? ['sts:AssumeRole', 'sts:TagSession'] : 'sts:AssumeRole';
  return {
    accountId,
    users: [
      {
        name: userName,
        accessKeys: [{ ...options.accessKey }],
        policies: {
          broker: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: assume, Resource: `arn:aws:iam::${accountId}:role/${roleName}` },
              ...(options.userStatements ?? []),
            ],
          },
        },
      },
    ],
    roles: [
      {
        name: roleName,
        ...(options.maxSessionDuration === undefined
          ? {}
          : { maxSessionDuration: options.maxSessionDuration }),
        trustPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${accountId}:user/${userName}` },
              Action: assume,
            },
          ],
        },
        policies: {
          uploads: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: [...UPLOAD_ACTIONS, ...(options.roleActions ?? [])],
                Resource: `arn:aws:s3:::${bucket}/${prefix}/*`,
              },
            ],
          },
        },
      },
    ],
  };
}
