/** Assertions and hooks shared by the S3 end-to-end tests. */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Hook } from './server.ts';

/** Asserts the promise rejects with the named AWS error (and status), with a non-empty message. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  status?: number,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    const failure = error as Error & { $metadata?: { httpStatusCode?: number } };
    assert.equal(failure.name, code, `${failure.name}: ${failure.message}`);
    assert.ok(failure.message.length > 0, 'errors carry a message');
    if (status !== undefined) assert.equal(failure.$metadata?.httpStatusCode, status);
    return failure;
  }
  assert.fail(`expected ${code}`);
}

/**
 * Cleanup for a describe() block: what is registered runs, last first, after the block's tests.
 * Call it at describe level (it registers node:test's `after` hook there).
 */
export function suiteCleanup(): Hook {
  const cleanup: (() => unknown)[] = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });
  return { after: (fn) => cleanup.push(fn) };
}

export async function objectExists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
      return false;
    throw error;
  }
}
