/**
 * `hoist aws setup` and `hoist aws doctor` against the local server's IAM, STS and S3 APIs (one
 * port, root keys for the operator, an IAM user for the broker): setup on an empty server, then
 * doctor passes; each misconfiguration is introduced, named by doctor (exit 1) and repaired
 * by setup; a second setup changes nothing. Plus one real child-process run.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  AbortMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  GetBucketCorsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
} from '@aws-sdk/client-s3';
import { createAdminClients } from '@hoist/cli/internal/aws/context';
import { awsCommand } from '@hoist/cli/internal/commands/aws';
import { buildLambda } from '../../packages/broker/scripts/build-lambda.ts';
import { functionUrlEvent } from '../helpers/lambda.ts';
import { suiteCleanup } from '../helpers/s3.ts';
import { startTestServer, TEST_CREDENTIALS, type TestServer, tmpDir } from '../helpers/server.ts';

const execFileAsync = promisify(execFile);
const ACCOUNT = '210987654321';
const BUCKET = 'kit-uploads';
const ORIGIN = 'https://app.example.com';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/hoist-upload`;

describe('hoist aws setup + doctor against the local server', () => {
  const cleanup = suiteCleanup();
  let server: TestServer;
  let iam: IAMClient;
  let configFile: string;

  before(async () => {
    server = await startTestServer(cleanup, { accountId: ACCOUNT });
    iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...TEST_CREDENTIALS } });
    cleanup.after(() => iam.destroy());
    await iam.send(new CreateUserCommand({ UserName: 'broker' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'broker' }))).AccessKey;
    assert.ok(key?.AccessKeyId && key.SecretAccessKey);
    configFile = join(await tmpDir(cleanup), 'broker.json');
    await writeFile(
      configFile,
      JSON.stringify({
        mode: 'sts',
        keyPrefix: 'uploads',
        s3: {
          endpoint: server.url,
          region: server.region,
          bucket: BUCKET,
          credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey },
        },
        sts: { roleArn: ROLE_ARN },
        cors: { origins: [ORIGIN] },
      }),
    );
  });

  async function hoistAws(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await awsCommand([...args, '--config', configFile], {
      out: (text) => {
        out += text;
      },
      err: (text) => {
        err += text;
      },
      env: {},
      adminClients: (options) => createAdminClients({ ...options, credentials: { ...TEST_CREDENTIALS } }),
    });
    return { code, out, err };
  }

  async function expectDoctorError(pattern: RegExp): Promise<string> {
    const doctor = await hoistAws('doctor');
    assert.equal(doctor.code, 1, doctor.out);
    assert.match(doctor.out, pattern);
    assert.match(doctor.out, /fix: /);
    return doctor.out;
  }

  async function repair(): Promise<void> {
    const setup = await hoistAws('setup', '--yes');
    assert.equal(setup.code, 0, setup.out + setup.err);
    const doctor = await hoistAws('doctor');
    assert.equal(doctor.code, 0, doctor.out);
  }

  test('setup plans without --yes, applies with it, then has nothing to change; doctor passes', async () => {
    const dry = await hoistAws('setup');
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /\+ create +bucket kit-uploads/);
    assert.match(dry.out, /\+ create +role hoist-upload: trusting arn:aws:iam::210987654321:user\/broker/);
    assert.match(dry.out, /Run again with --yes/);
    // Nothing was applied: doctor finds no bucket.
    await expectDoctorError(/kit-uploads is not reachable/);

    const applied = await hoistAws('setup', '--yes');
    assert.equal(applied.code, 0, applied.err);
    assert.match(applied.out, /Applied\./);
    assert.match(applied.out, /6 change\(s\)/);

    const again = await hoistAws('setup', '--yes');
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /Nothing to change\./);
    assert.doesNotMatch(again.out, /Applied/);

    const doctor = await hoistAws('doctor');
    assert.equal(doctor.code, 0, doctor.out);
    assert.match(doctor.out, /All checks passed/);
    assert.match(doctor.out, /ok +live +credentials for a test key can upload/);
    // The live check cleaned up after itself.
    const objects = await server.client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    assert.equal(objects.KeyCount, 0);
    const uploads = await server.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.equal(uploads.Uploads?.length ?? 0, 0);
  });

  test('a wildcard CORS origin is named', async () => {
    const rules = (await server.client.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).CORSRules ?? [];
    await server.client.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: rules.map((r) => ({ ...r, AllowedOrigins: ['*'] })),
        },
      }),
    );
    await expectDoctorError(/ERROR cors +CORS rule hoist-uploads allows a wildcard origin/);
    await repair();
  });

  test('ETag not exposed is named', async () => {
    const rules = (await server.client.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).CORSRules ?? [];
    await server.client.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: rules.map((r) => ({ ...r, ExposeHeaders: ['x-amz-request-id'] })),
        },
      }),
    );
    await expectDoctorError(/does not expose ETag/);
    await repair();
  });

  test('a CORS rule without POST is warned about (small files go as POST forms)', async () => {
    const rules = (await server.client.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).CORSRules ?? [];
    await server.client.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: rules.map((r) => ({
            ...r,
            AllowedMethods: (r.AllowedMethods ?? []).filter((m) => m !== 'POST'),
          })),
        },
      }),
    );
    const doctor = await hoistAws('doctor');
    assert.equal(doctor.code, 0, doctor.out);
    assert.match(
      doctor.out,
      /WARN +cors +the CORS rule for \S+ does not allow POST \(small files are sent as POST forms/,
    );
    await repair();
  });

  test('a missing lifecycle rule is named', async () => {
    await server.client.send(new DeleteBucketLifecycleCommand({ Bucket: BUCKET }));
    await expectDoctorError(
      /ERROR lifecycle +no enabled rule aborts incomplete multipart uploads under uploads\//,
    );
    await repair();
  });

  test('a trust policy that does not allow the broker is named (and the live check fails)', async () => {
    await iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'hoist-upload',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/someone-else` },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    const out = await expectDoctorError(/ERROR trust +the role's trust policy does not allow .*user\/broker/);
    assert.match(out, /ERROR live +the broker cannot mint credentials \(AccessDenied/);
    await repair();
  });

  test('a role that is too broad is named (and the live check reads)', async () => {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'hoist-upload',
        PolicyName: 'extra',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }],
        }),
      }),
    );
    // The session policy still narrows every session to one key: the role check is what finds it.
    await expectDoctorError(/ERROR role-policy +the role is too broad: it allows GetObject on the prefix/);
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'hoist-upload', PolicyName: 'extra' }));
    await repair();
  });

  test('the Lambda bundle answers function-URL events against the set-up deployment', async () => {
    const dir = await tmpDir(cleanup);
    const built = await buildLambda(dir);
    assert.ok(built.zipBytes > 0 && built.zipBytes < built.bundleBytes);
    // Asynchronously: the child calls the local server, which runs in this process.
    const invoke = async (event: object) => {
      const run = await execFileAsync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { handler } = await import(process.argv[1]);
           const res = await handler(JSON.parse(process.argv[2]), {});
           process.stdout.write(JSON.stringify(res));
           process.exit(0);`,
          pathToFileURL(built.bundle).href,
          JSON.stringify(event),
        ],
        {
          encoding: 'utf8',
          timeout: 60_000,
          env: {
            PATH: process.env.PATH ?? '',
            HOIST_CONFIG: configFile,
            HOIST_TOKENS: 'alice:alice-token-0123456789',
            HOIST_REGISTRY_URL: 'sqlite::memory:',
            HOIST_LOG_LEVEL: 'silent',
          },
        },
      );
      return JSON.parse(run.stdout) as { statusCode: number; body: string; headers?: Record<string, string> };
    };
    const created = await invoke(
      functionUrlEvent('POST', '/uploads', {
        headers: { authorization: 'Bearer alice-token-0123456789', 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'clip.mp4', size: 20 * 1024 * 1024, contentType: 'video/mp4' }),
      }),
    );
    assert.equal(created.statusCode, 201, created.body);
    const upload = JSON.parse(created.body) as {
      key: string;
      uploadId: string;
      credentials?: { accessKeyId: string };
    };
    assert.match(upload.key, /^uploads\/alice\/.+\/clip\.mp4$/);
    assert.ok(upload.uploadId);
    assert.ok(upload.credentials?.accessKeyId.startsWith('ASIA'));
    const denied = await invoke(functionUrlEvent('GET', '/uploads'));
    assert.equal(denied.statusCode, 401);
    // Leave the server as setup made it: no multipart upload open.
    const open = await server.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    for (const u of open.Uploads ?? [])
      await server.client.send(
        new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: u.Key, UploadId: u.UploadId }),
      );
  });

  test('usage errors exit 2 and name the option', async () => {
    const trust = await hoistAws('trust');
    assert.equal(trust.code, 2);
    assert.match(trust.err, /--principal ARN is required/);
    const cors = await hoistAws('cors', '--origin', '*');
    assert.equal(cors.code, 2);
    assert.match(cors.err, /--allow-any-origin/);
    const days = await hoistAws('lifecycle', '--days', '0');
    assert.equal(days.code, 2);
    const unknown = await hoistAws('frobnicate');
    assert.equal(unknown.code, 2);
  });
});

test('hoist aws policy in a child process prints the role policy from HOIST_* variables', () => {
  const result = spawnSync(process.execPath, ['packages/cli/src/main.ts', 'aws', 'policy'], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      HOIST_S3_BUCKET: 'media-bucket',
      HOIST_KEY_PREFIX: 'incoming',
      HOIST_STS_ROLE_ARN: 'arn:aws:iam::123456789012:role/hoist-upload',
    },
  });
  assert.equal(result.status, 0, result.stderr);
  const policy = JSON.parse(result.stdout) as { Statement: { Resource: string }[] };
  assert.ok(policy.Statement.length > 0);
  for (const statement of policy.Statement)
    assert.equal(statement.Resource, 'arn:aws:s3:::media-bucket/incoming/*');
});
