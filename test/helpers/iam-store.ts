/** Shared by the IAM tests: temp data dirs, a store on a fixed clock, small policy documents. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openIamStore } from '@hoist/server/internal/iam/store';
import type { IamSeed, IamStore } from '@hoist/server/internal/iam/types';

export const ACCOUNT = '123456789012';

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'hoist-iam-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

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
