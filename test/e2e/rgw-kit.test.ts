/**
 * The periphery on a store Hoist did not write (Ceph RGW, test/helpers/rgw.ts): `hoist aws
 * cors|lifecycle|policy|setup` with RGW's empty-account role ARNs, the broker's honest answer
 * when federation meets a store without GetFederationToken (405), and `hoist dev` pointed at
 * RGW instead of the local server.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parseBrokerConfig } from '@hoist/broker/internal/config';
import { createAdminClients } from '@hoist/cli/internal/aws/context';
import { awsCommand } from '@hoist/cli/internal/commands/aws';
import { startTestBroker, TOKENS } from '../helpers/broker.ts';
import { startDev } from '../helpers/cli.ts';
import { type RgwEndpoint, rgwClient, rgwUnavailable, uniqueBucket, useRgw } from '../helpers/rgw.ts';
import { tmpDir } from '../helpers/server.ts';

const skip = rgwUnavailable();
const ORIGIN = 'http://127.0.0.1:8080';

describe('hoist aws, the broker and hoist dev on Ceph RGW', { skip }, () => {
  let rgw: RgwEndpoint;
  let s3: S3Client;
  let iam: IAMClient;
  const bucket = uniqueBucket('kit');
  const roleName = `hoist-upload-${bucket}`;
  const roleArn = `arn:aws:iam:::role/${roleName}`;
  let configFile: string;
  const cleanup: (() => unknown)[] = [];

  before(async () => {
    rgw = await useRgw();
    s3 = rgwClient(rgw);
    iam = new IAMClient({ endpoint: rgw.endpoint, region: rgw.region, credentials: { ...rgw.credentials } });
    const dir = await tmpDir({ after: (fn) => void cleanup.push(fn) }, 'hoist-rgw-kit-');
    configFile = join(dir, 'broker.json');
    await writeFile(
      configFile,
      JSON.stringify({
        mode: 'sts',
        keyPrefix: 'uploads',
        s3: { endpoint: rgw.endpoint, region: rgw.region, bucket, credentials: rgw.credentials },
        sts: { roleArn },
        cors: { origins: [ORIGIN] },
      }),
    );
  });
  after(async () => {
    s3?.destroy();
    iam?.destroy();
    for (const fn of cleanup.reverse()) await fn();
  });

  const hoistAws = (...args: string[]) => hoistAwsAt(configFile, ...args);
  async function hoistAwsAt(
    file: string,
    ...args: string[]
  ): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await awsCommand([...args, '--config', file], {
      out: (text) => {
        out += text;
      },
      err: (text) => {
        err += text;
      },
      env: {},
      adminClients: (options) => createAdminClients({ ...options, credentials: { ...rgw.credentials } }),
    });
    return { code, out, err };
  }

  test('cors, lifecycle and policy print with an RGW role ARN', async () => {
    for (const args of [['cors'], ['lifecycle'], ['policy'], ['policy', '--broker']]) {
      const run = await hoistAws(...args);
      assert.equal(run.code, 0, `${args.join(' ')}: ${run.err}`);
      JSON.parse(run.out);
    }
    assert.match((await hoistAws('policy', '--broker')).out, new RegExp(`"${roleArn}"`));
  });

  test('setup creates the bucket, its rules and the role on RGW; a second run changes nothing', async () => {
    const applied = await hoistAws('setup', '--yes', '--principal', rgw.userArn);
    assert.equal(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, /Applied\./);
    const cors = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
    assert.ok(cors.CORSRules?.some((rule) => rule.AllowedOrigins?.includes(ORIGIN)));
    const lifecycle = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    assert.ok(lifecycle.Rules?.some((rule) => rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation));
    const role = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    assert.equal(role.Role?.Arn, roleArn);
    const names = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 'hoist-upload' }),
    );
    assert.ok(names.PolicyDocument);

    const again = await hoistAws('setup', '--yes', '--principal', rgw.userArn);
    assert.equal(again.code, 0, again.out + again.err);
    assert.match(again.out, /Nothing to change\./);
  });

  test('doctor in presign mode probes RGW, finds no checksums, and checks a Content-MD5 upload instead', async () => {
    const presignConfig = join(configFile, '..', 'broker-presign.json');
    await writeFile(
      presignConfig,
      JSON.stringify({
        mode: 'presign',
        keyPrefix: 'uploads',
        s3: { endpoint: rgw.endpoint, region: rgw.region, bucket, credentials: rgw.credentials },
        cors: { origins: [ORIGIN] },
      }),
    );
    const { code, out, err } = await hoistAwsAt(presignConfig, 'doctor', '--principal', rgw.userArn);
    assert.equal(code, 0, out + err);
    assert.match(
      out,
      /WARN +capability +flexibleChecksums \(probed\): the store keeps no flexible checksums/,
    );
    assert.match(out, /ok +capability +ifNoneMatchOnPut \(probed\)/);
    assert.match(out, /WARN +capability +ifNoneMatchOnComplete \(probed\)/);
    assert.match(out, /ok +integrity +uploads are verified by Content-MD5/);
    assert.match(out, /ok +mode +presign mode can run on this store/);
    assert.match(
      out,
      /ok +live +a presigned PutObject as the broker signs it uploads \(Content-MD5 verified\)/,
    );
    assert.match(out, /All checks passed/);
  });

  test('doctor in sts mode on RGW names what the store lacks to prevent overwrites', async () => {
    const { code, out, err } = await hoistAws('doctor', '--principal', rgw.userArn, '--skip-live');
    assert.equal(code, 1, out + err);
    assert.match(out, /WARN +capability +conditionalWriteKeys \(probed\)/);
    assert.match(out, /ERROR mode +sts mode cannot stop upload credentials from overwriting/);
    assert.match(out, /fix: HOIST_MODE=presign/);
  });

  test('federation on RGW: the broker refuses to start, naming GetFederationToken', async () => {
    const config = parseBrokerConfig({
      mode: 'federation',
      s3: { endpoint: rgw.endpoint, region: rgw.region, bucket, credentials: { ...rgw.credentials } },
      keyPrefix: 'uploads',
      auth: { tokens: { ...TOKENS } },
      registry: { url: 'sqlite::memory:' },
      port: 0,
      sweepIntervalSeconds: 0,
    });
    await assert.rejects(startTestBroker({ after: (fn) => void cleanup.push(fn) }, config), {
      name: 'StoreCapabilityError',
      code: 'federation-unavailable',
      message: /federation mode needs STS GetFederationToken, which this store does not offer/,
    });
  });

  test('federation pinned on RGW: the store 405 reaches the user as such, also on a replay', async (t) => {
    const config = parseBrokerConfig({
      mode: 'federation',
      // The operator insists the store has it: the create itself meets the store's answer.
      store: { federationToken: true, acceptOverwriteRisk: true },
      s3: { endpoint: rgw.endpoint, region: rgw.region, bucket, credentials: { ...rgw.credentials } },
      keyPrefix: 'uploads',
      partSize: '5MiB',
      singleRequestMaxSize: '5MiB',
      auth: { tokens: { ...TOKENS } },
      registry: { url: 'sqlite::memory:' },
      port: 0,
      sweepIntervalSeconds: 0,
    });
    const broker = await startTestBroker(t, config);
    const answers: { status: number; body: { type?: string; detail?: string } }[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${broker.url}/uploads`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKENS.alice}`,
          'content-type': 'application/json',
          'idempotency-key': 'rgw-federation-1',
        },
        body: JSON.stringify({
          filename: 'a.bin',
          size: 12 * 1024 * 1024,
          contentType: 'application/octet-stream',
        }),
      });
      answers.push({ status: res.status, body: (await res.json()) as { type?: string; detail?: string } });
    }
    for (const answer of answers) {
      assert.equal(answer.status, 502, JSON.stringify(answer.body));
      assert.equal(answer.body.type, 'https://hoist.dev/problems/upstream-error');
      assert.match(
        answer.body.detail ?? '',
        /^GetFederationToken failed: the store answered 405 MethodNotAllowed/,
      );
      assert.match(
        answer.body.detail ?? '',
        /no STS GetFederationToken: use mode "sts" \(AssumeRole\) or "presign"/,
      );
    }
  });

  test('sts mode on RGW with a role that does not exist names the store answer and sts.roleArn', async (t) => {
    const config = parseBrokerConfig({
      mode: 'sts',
      s3: { endpoint: rgw.endpoint, region: rgw.region, bucket, credentials: { ...rgw.credentials } },
      sts: { roleArn: 'arn:aws:iam:::role/no-such-role' },
      keyPrefix: 'uploads',
      auth: { tokens: { ...TOKENS } },
      registry: { url: 'sqlite::memory:' },
      port: 0,
      sweepIntervalSeconds: 0,
    });
    // The start-up probe assumes the role first: the broker stops there, with the store's answer.
    const failure = await startTestBroker(t, config).then(
      () => assert.fail('the broker started with a role that does not exist'),
      (error: Error) => error,
    );
    assert.equal(failure.name, 'StoreProbeError');
    assert.match(failure.message, /failed at AssumeRole: the store answered (403|404) [A-Za-z]+/);
    assert.doesNotMatch(failure.message, /Unknown/);
    assert.match(failure.message, /check sts\.roleArn \(HOIST_STS_ROLE_ARN\)/);
  });

  test('hoist dev --mode sts against RGW stops at start: the store cannot prevent overwrites', async () => {
    const dataDir = await tmpDir({ after: (fn) => void cleanup.push(fn) }, 'hoist-rgw-dev-');
    const args = ['--port', '0', '--data-dir', dataDir, '--mode', 'sts', '--role-arn', roleArn];
    args.push('--bucket', bucket, '--s3-endpoint', rgw.endpoint, '--region', rgw.region);
    const failure = await startDev(args, {
      HOIST_DEV_ACCESS_KEY_ID: rgw.credentials.accessKeyId,
      HOIST_DEV_SECRET_ACCESS_KEY: rgw.credentials.secretAccessKey,
    }).then(
      async (dev) => {
        await dev.stop();
        return assert.fail('hoist dev started in sts mode on RGW without the accepted risk');
      },
      (error: Error) => error.message,
    );
    assert.match(failure, /^hoist dev exited with [1-9]/);
    assert.match(
      failure,
      /sts mode cannot stop upload credentials from overwriting a finished object on this store/,
    );
    assert.match(failure, /conditional-write policy keys/);
    assert.match(failure, /Use mode "presign"/);
    assert.doesNotMatch(failure, new RegExp(rgw.credentials.secretAccessKey));
  });

  for (const mode of ['presign', 'sts'] as const) {
    test(`hoist dev --mode ${mode} against RGW gets ready and serves the broker${mode === 'sts' ? ' (overwrite risk accepted)' : ''}`, async () => {
      const dataDir = await tmpDir({ after: (fn) => void cleanup.push(fn) }, 'hoist-rgw-dev-');
      const args = ['--port', '0', '--data-dir', dataDir, '--mode', mode];
      args.push('--bucket', bucket, '--s3-endpoint', rgw.endpoint, '--region', rgw.region);
      if (mode === 'sts') args.push('--role-arn', roleArn);
      const dev = await startDev(args, {
        HOIST_DEV_ACCESS_KEY_ID: rgw.credentials.accessKeyId,
        HOIST_DEV_SECRET_ACCESS_KEY: rgw.credentials.secretAccessKey,
        ...(mode === 'sts' ? { HOIST_DEV_ACCEPT_OVERWRITE_RISK: 'true' } : {}),
      });
      try {
        const { info } = dev;
        assert.deepEqual(info.s3, { endpoint: rgw.endpoint, region: rgw.region, bucket, external: true });
        assert.doesNotMatch(JSON.stringify(info) + dev.stderr(), new RegExp(rgw.credentials.secretAccessKey));
        const health = await fetch(`${info.broker}/healthz`);
        assert.equal(health.status, 200);
        // A create reaches RGW: CreateMultipartUpload, and in sts mode AssumeRole of the role setup made.
        const created = await fetch(`${info.broker}/uploads`, {
          method: 'POST',
          headers: { authorization: `Bearer ${info.users[0]?.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            filename: 'a.bin',
            size: 12 * 1024 * 1024,
            contentType: 'application/octet-stream',
          }),
        });
        const body = (await created.json()) as { mode?: string; uploadId?: string; credentials?: unknown };
        assert.equal(created.status, 201, JSON.stringify(body));
        assert.equal(body.mode, mode);
        assert.ok(body.uploadId);
        assert.equal(body.credentials !== undefined, mode === 'sts');
        // The accepted risk is said at every start.
        if (mode === 'sts')
          assert.match(dev.stderr(), /store\.acceptOverwriteRisk: upload credentials can overwrite/);
      } finally {
        await dev.stop();
      }
    });
  }
});
