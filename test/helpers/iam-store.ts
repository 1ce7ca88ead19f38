/**
 * Shared by the IAM tests: temp data dirs, a store on a fixed clock, small policy documents
 * and the example config of iam/config.ts.
 */
import type { TestContext } from 'node:test';
import type { IamConfigInput } from '@hoist/server/internal/iam/config';
import { openIamStore } from '@hoist/server/internal/iam/store';
import type { IamSeed, IamStore } from '@hoist/server/internal/iam/types';
import { tempDirSync } from './temp-dir.ts';

export const ACCOUNT = '123456789012';

export const tempDir = (t: TestContext): string => tempDirSync(t, 'hoist-iam-');

/** A store in a fresh temp dir; `now.value` drives its clock. */
export function tempStore(
  t: TestContext,
  options: { seed?: IamSeed; dataDir?: string } = {},
): { store: IamStore; dataDir: string; now: { value: number }; reopen(seed?: IamSeed): IamStore } {
  const now = { value: Date.UTC(2024, 0, 2, 3, 4, 5) };
  const dataDir = options.dataDir ?? tempDir(t);
  const open = (seed?: IamSeed) =>
    openIamStore({ dataDir, accountId: ACCOUNT, clock: () => now.value, ...(seed ? { seed } : {}) });
  return { store: open(options.seed), dataDir, now, reopen: open };
}

export const trustPolicy = (principal = `arn:aws:iam::${ACCOUNT}:root`): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }],
  });

export const allowPolicy = (action = 's3:GetObject', resource = 'arn:aws:s3:::bucket/*'): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
  });

/** An identity policy whose packed size (white space excluded) is exactly `size`. */
export function policyOfSize(size: number): string {
  const base = allowPolicy('s3:GetObject', 'arn:aws:s3:::b/');
  const pad = size - base.length;
  if (pad < 0) throw new RangeError(`smallest policy is ${base.length}`);
  return allowPolicy('s3:GetObject', `arn:aws:s3:::b/${'k'.repeat(pad)}`);
}

/** The example config in iam/config.ts's header. */
export const EXAMPLE_IAM_CONFIG: IamConfigInput = {
  accountId: '123456789012',
  users: [
    {
      name: 'hoist-broker',
      accessKeys: [
        { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      ],
      policies: {
        'assume-uploader': {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sts:AssumeRole',
              Resource: 'arn:aws:iam::123456789012:role/hoist/uploader',
            },
          ],
        },
        'bracket-uploads': {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: [
                's3:PutObject',
                's3:GetObject',
                's3:DeleteObject',
                's3:AbortMultipartUpload',
                's3:ListMultipartUploadParts',
              ],
              Resource: 'arn:aws:s3:::hoist-dev/uploads/*',
            },
          ],
        },
      },
      tags: { team: 'media' },
    },
  ],
  roles: [
    {
      name: 'uploader',
      path: '/hoist/',
      description: 'Assumed by the broker with a one-object session policy',
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::123456789012:user/hoist-broker' },
            Action: 'sts:AssumeRole',
          },
        ],
      },
      policies: {
        'upload-parts': {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
              Resource: 'arn:aws:s3:::hoist-dev/uploads/*',
            },
          ],
        },
      },
      maxSessionDuration: 3600,
    },
  ],
  managedPolicies: [
    {
      name: 'uploads-read-only',
      document: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::hoist-dev/uploads/*' },
        ],
      },
    },
  ],
};
