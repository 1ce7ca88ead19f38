/**
 * The AWS CLI's STS flow against the local server, as a broker and a browser would use it:
 * `aws sts assume-role --policy file://…` with the broker's long-term keys, then `aws s3 cp`
 * with the returned temporary credentials (AWS_SESSION_TOKEN) inside and outside the one key
 * the session policy allows, and `aws sts get-caller-identity`. Debian's AWS CLI v2
 * (`/usr/bin/aws`) always runs; the pyenv AWS CLI v1 too when it is installed. Each CLI runs
 * with a clean environment (empty config files, its own HOME, no CA bundle, no instance
 * metadata, one attempt, no pager) and its stdin closed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  assertCliFailed,
  assertCliOk,
  CLIS,
  type CliResult,
  cleanCliEnv,
  runCli,
} from '../helpers/aws-cli.ts';
import { brokerIamConfig, UPLOAD_ACTIONS } from '../helpers/iam-fixtures.ts';
import { objectExists, suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, type TestServer, tmpDir } from '../helpers/server.ts';

const MiB = 1024 * 1024;
/** Upper bound of one CLI invocation (a Python start plus a 9 MiB loopback transfer). */
const CLI_TIMEOUT_MS = 60_000;

const ACCOUNT = '210987654321';
const BROKER = {
  accessKeyId: 'AKIASTSCLIBROKER0001',
  secretAccessKey: 'sts-cli-broker-secret-0123456789abcdef',
};
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/hoist-upload`;
// The role may upload (and read) anywhere under users/; the session policy narrows it to one key.
const iamConfig = (bucket: string) =>
  brokerIamConfig({
    accountId: ACCOUNT,
    accessKey: BROKER,
    bucket,
    prefix: 'users',
    roleActions: ['s3:GetObject'],
  });

interface AssumeRoleOutput {
  Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string };
  AssumedRoleUser: { AssumedRoleId: string; Arn: string };
  PackedPolicySize?: number;
}

// The CLIs start slowly (a Python process per call): the suites, and the tests in each, run concurrently.
describe('AWS CLI: STS credentials scoped to one key', { concurrency: true }, () => {
  for (const cli of CLIS) {
    describe(`AWS CLI ${cli.name} (${cli.bin})`, { skip: cli.skip, concurrency: true }, () => {
      const bucket = `sts-cli-${cli.name}`;
      const allowedKey = 'users/alice/u1/video.bin';
      let server: TestServer;
      let work: string;
      let baseEnv: Record<string, string>;
      const hook = suiteCleanup();

      before(async () => {
        server = await startTestServer(hook, { iam: iamConfig(bucket), buckets: [bucket] });
        work = await tmpDir(hook, `hoist-sts-cli-${cli.name}-`);
        baseEnv = await cleanCliEnv(work);
      });

      /** Runs the CLI against the server with `keys`; never rejects for a non-zero exit. */
      function aws(
        args: string[],
        keys: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
      ): Promise<CliResult> {
        const env: Record<string, string> = {
          ...baseEnv,
          AWS_ACCESS_KEY_ID: keys.accessKeyId,
          AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
          ...(keys.sessionToken ? { AWS_SESSION_TOKEN: keys.sessionToken } : {}),
        };
        return runCli(cli, args, {
          env,
          cwd: work,
          endpoint: server.url,
          timeoutMs: CLI_TIMEOUT_MS,
          maxBuffer: 4 * MiB,
        });
      }

      async function ok(args: string[], keys: Parameters<typeof aws>[1]): Promise<string> {
        return assertCliOk(args, await aws(args, keys));
      }

      /** Asserts the CLI failed and its stderr matches `pattern`; returns stderr. */
      async function fails(
        args: string[],
        keys: Parameters<typeof aws>[1],
        pattern: RegExp,
      ): Promise<string> {
        const stderr = assertCliFailed(args, await aws(args, keys));
        assert.match(stderr, pattern);
        return stderr;
      }

      const exists = (key: string) => objectExists(server.client, bucket, key);

      test('assume-role --policy file://, then s3 cp inside and outside the allowed key', async () => {
        const policyPath = join(work, 'policy.json');
        await writeFile(
          policyPath,
          JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: UPLOAD_ACTIONS, Resource: `arn:aws:s3:::${bucket}/${allowedKey}` },
            ],
          }),
        );
        const out = JSON.parse(
          await ok(
            [
              'sts',
              'assume-role',
              '--role-arn',
              ROLE_ARN,
              '--role-session-name',
              `cli-${cli.name}-alice`,
              '--policy',
              `file://${policyPath}`,
              '--duration-seconds',
              '900',
              '--output',
              'json',
            ],
            BROKER,
          ),
        ) as AssumeRoleOutput;
        const c = out.Credentials;
        assert.match(c.AccessKeyId, /^ASIA/);
        assert.ok(c.SecretAccessKey && c.SessionToken);
        const lifetime = Date.parse(c.Expiration) - Date.now();
        assert.ok(lifetime > 0 && lifetime <= 900_000, `Expiration ${c.Expiration}`);
        const sessionArn = `arn:aws:sts::${ACCOUNT}:assumed-role/hoist-upload/cli-${cli.name}-alice`;
        assert.equal(out.AssumedRoleUser.Arn, sessionArn);
        assert.equal(typeof out.PackedPolicySize, 'number');
        const session = {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          sessionToken: c.SessionToken,
        };

        // 9 MiB: above the CLI's 8 MiB threshold, so a multipart upload, all of it s3:PutObject.
        const data = randomBytes(9 * MiB);
        const file = join(work, 'video.bin');
        await writeFile(file, data);
        await ok(['s3', 'cp', file, `s3://${bucket}/${allowedKey}`, '--no-progress'], session);
        const stored = await server.client.send(new GetObjectCommand({ Bucket: bucket, Key: allowedKey }));
        assert.ok(Buffer.from(await stored.Body!.transformToByteArray()).equals(data), 'uploaded bytes');

        // Another key, even one the role itself would allow: AccessDenied, nothing written.
        const otherKey = 'users/alice/u1/other.bin';
        await fails(
          ['s3', 'cp', file, `s3://${bucket}/${otherKey}`, '--no-progress'],
          session,
          /An error occurred \(AccessDenied\)/,
        );
        assert.equal(await exists(otherKey), false);
        const small = join(work, 'small.txt');
        await writeFile(small, 'small');
        await fails(
          ['s3', 'cp', small, `s3://${bucket}/users/bob/u2/evil.txt`, '--no-progress'],
          session,
          /An error occurred \(AccessDenied\)/,
        );
        assert.equal(await exists('users/bob/u2/evil.txt'), false);

        // Reading the allowed key back is not allowed (no s3:GetObject in the session policy).
        // `s3 cp` starts with HeadObject, whose 403 has no body: the CLI reports the status.
        const downloaded = join(work, 'down.bin');
        await fails(
          ['s3', 'cp', `s3://${bucket}/${allowedKey}`, downloaded, '--no-progress'],
          session,
          /\(403\)|Forbidden|AccessDenied/,
        );
        assert.equal(existsSync(downloaded), false);
        await fails(
          ['s3api', 'get-object', '--bucket', bucket, '--key', allowedKey, downloaded],
          session,
          /An error occurred \(AccessDenied\) when calling the GetObject operation/,
        );
        assert.equal(existsSync(downloaded), false);

        const me = JSON.parse(await ok(['sts', 'get-caller-identity', '--output', 'json'], session)) as {
          Arn: string;
          UserId: string;
          Account: string;
        };
        assert.equal(me.Arn, sessionArn);
        assert.equal(me.UserId, out.AssumedRoleUser.AssumedRoleId);
        assert.equal(me.Account, ACCOUNT);

        // A session cannot mint itself a wider one.
        await fails(
          ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'wider'],
          session,
          /An error occurred \(AccessDenied\) when calling the AssumeRole operation/,
        );
        // The stored object is still the one uploaded.
        assert.ok((await readFile(file)).equals(data));
      });

      test('STS errors reach the CLI with their codes', async () => {
        const wrong = { ...BROKER, secretAccessKey: 'not-the-broker-secret-00000000000000000' };
        await fails(
          ['sts', 'get-caller-identity'],
          wrong,
          /An error occurred \(SignatureDoesNotMatch\) when calling the GetCallerIdentity operation[^:]*: \S/,
        );
        await fails(
          [
            'sts',
            'assume-role',
            '--role-arn',
            `arn:aws:iam::${ACCOUNT}:role/ghost`,
            '--role-session-name',
            'x1',
          ],
          BROKER,
          /An error occurred \(AccessDenied\) when calling the AssumeRole operation[^:]*: \S/,
        );
        await fails(
          [
            'sts',
            'assume-role',
            '--role-arn',
            ROLE_ARN,
            '--role-session-name',
            'bad-policy',
            '--policy',
            '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}',
          ],
          BROKER,
          /An error occurred \(MalformedPolicyDocument\) when calling the AssumeRole operation[^:]*: \S/,
        );
      });
    });
  }
});
