/**
 * `hoist aws` on S3-compatible stores: the role ARNs they use (empty account, tenants), the
 * printing commands without any role ARN, IAM errors in S3's XML format, and `doctor` in
 * presign mode running the broker's own presigned upload — against the local server, through
 * a fault proxy that hides the object's checksum as Ceph RGW 16.2 does, and against a tiny
 * node:http server that answers every call as RGW answers a refused IAM call.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { createAdminClients } from '@hoist/cli/internal/aws/context';
import { parseRoleArn } from '@hoist/cli/internal/aws/policies';
import { awsCommand } from '@hoist/cli/internal/commands/aws';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { silentServer } from '../helpers/net.ts';
import { suiteCleanup } from '../helpers/s3.ts';
import { type Hook, startTestServer, TEST_CREDENTIALS, type TestServer, tmpDir } from '../helpers/server.ts';

const ACCOUNT = '310987654321';
const BUCKET = 'kit-stores';
const ORIGIN = 'https://app.example.com';

async function hoistAws(
  configFile: string,
  args: string[],
  credentials: { accessKeyId: string; secretAccessKey: string } = TEST_CREDENTIALS,
): Promise<{ code: number; out: string; err: string }> {
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
    adminClients: (options) => createAdminClients({ ...options, credentials: { ...credentials } }),
  });
  return { code, out, err };
}

async function configFile(t: Hook, config: Record<string, unknown>): Promise<string> {
  const path = join(await tmpDir(t), 'broker.json');
  await writeFile(path, JSON.stringify(config));
  return path;
}

test('role ARNs of S3-compatible stores parse: empty account and tenants', () => {
  assert.deepEqual(parseRoleArn('arn:aws:iam:::role/hoist-upload'), {
    partition: 'aws',
    account: '',
    name: 'hoist-upload',
  });
  assert.deepEqual(parseRoleArn('arn:aws:iam::tenant1:role/hoist-upload'), {
    partition: 'aws',
    account: 'tenant1',
    name: 'hoist-upload',
  });
  assert.equal(parseRoleArn('arn:aws:iam::123456789012:role/path/x')?.name, 'x');
  assert.equal(parseRoleArn('arn:aws:iam::a:b:role/x'), undefined);
  assert.equal(parseRoleArn('arn:aws:iam:::user/x'), undefined);
});

describe('printing commands need no (AWS-shaped) role ARN', () => {
  for (const [name, sts, mode] of [
    ['RGW role ARN', { roleArn: 'arn:aws:iam:::role/hoist-upload' }, 'sts'],
    ['tenant role ARN', { roleArn: 'arn:aws:iam::tenant1:role/hoist-upload' }, 'sts'],
    ['no role ARN', {}, 'presign'],
  ] as const) {
    test(name, async (t) => {
      const file = await configFile(t, {
        mode,
        s3: { endpoint: 'http://127.0.0.1:1', bucket: BUCKET },
        sts,
        cors: { origins: [ORIGIN] },
      });
      for (const args of [['policy'], ['policy', '--broker'], ['cors'], ['lifecycle', '--days', '2']]) {
        const run = await hoistAws(file, args);
        assert.equal(run.code, 0, `${args.join(' ')}: ${run.err}`);
        JSON.parse(run.out);
      }
      const trust = await hoistAws(file, ['trust', '--principal', 'arn:aws:iam:::user/testid', '--compact']);
      assert.equal(trust.code, 0, trust.err);
      assert.match(trust.out, /"AWS":"arn:aws:iam:::user\/testid"/);
      const compact = await hoistAws(file, ['policy', '--compact']);
      assert.equal(compact.code, 0, compact.err);
      assert.equal(compact.out.trim().split('\n').length, 1);
      assert.doesNotMatch(compact.out.trim(), /\s/);
      const broker = JSON.parse((await hoistAws(file, ['policy', '--broker'])).out);
      if ('roleArn' in sts)
        assert.ok(
          JSON.stringify(broker).includes(JSON.stringify(sts.roleArn)),
          'the broker may assume exactly the configured role',
        );
    });
  }
});

test('setup and doctor against a store answering IAM errors in S3 XML format name the code, not UnknownError', async (t) => {
  const server = await startTestServer(t, { accountId: ACCOUNT });
  // As RGW answers a refused IAM call: 403 and S3's <Error><Code>…</Code><Message></Message>
  // (a code the status alone would not give: it must be read from the body).
  const proxy = await startFaultProxy(server.url, {
    rule: (request) =>
      String(request.headers.authorization ?? '').includes('/iam/aws4_request')
        ? { kind: 'status', status: 403, code: 'InvalidClientTokenId', message: '' }
        : undefined,
  });
  t.after(() => proxy.close());
  const file = await configFile(t, {
    mode: 'sts',
    s3: { endpoint: proxy.url, region: server.region, bucket: BUCKET, credentials: { ...TEST_CREDENTIALS } },
    sts: { roleArn: 'arn:aws:iam:::role/hoist-upload' },
    cors: { origins: [ORIGIN] },
  });
  const setup = await hoistAws(file, ['setup', '--principal', 'arn:aws:iam:::user/testid']);
  assert.equal(setup.code, 1, setup.out + setup.err);
  assert.match(setup.err, /^hoist aws setup: the store answered 403 InvalidClientTokenId/);
  assert.doesNotMatch(setup.out + setup.err, /Unknown/);

  const doctor = await hoistAws(file, ['doctor', '--principal', 'arn:aws:iam:::user/testid', '--skip-live']);
  assert.equal(doctor.code, 1, doctor.out);
  assert.match(doctor.out, /ERROR role +cannot read role hoist-upload \(InvalidClientTokenId\)/);
  assert.doesNotMatch(doctor.out, /Unknown/);
  assert.doesNotMatch(doctor.out, /All checks passed/);
});

describe('doctor in presign mode runs the broker’s presigned upload', () => {
  const cleanup = suiteCleanup();
  let server: TestServer;
  let brokerKeys: { accessKeyId: string; secretAccessKey: string };

  before(async () => {
    server = await startTestServer(cleanup, { accountId: ACCOUNT });
    const iam = new IAMClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { ...TEST_CREDENTIALS },
    });
    cleanup.after(() => iam.destroy());
    await iam.send(new CreateUserCommand({ UserName: 'broker' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'broker' }))).AccessKey;
    assert.ok(key?.AccessKeyId && key.SecretAccessKey);
    brokerKeys = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
  });

  const presignConfig = (endpoint: string) => ({
    mode: 'presign',
    keyPrefix: 'uploads',
    s3: { endpoint, region: server.region, bucket: BUCKET, credentials: brokerKeys },
    cors: { origins: [ORIGIN] },
  });

  test('on a store that keeps checksums it passes; setup made the bucket and the broker policy', async (t) => {
    const file = await configFile(t, presignConfig(server.url));
    const setup = await hoistAws(file, ['setup', '--yes']);
    assert.equal(setup.code, 0, setup.out + setup.err);
    const doctor = await hoistAws(file, ['doctor']);
    assert.equal(doctor.code, 0, doctor.out);
    assert.match(doctor.out, /ok +live +a presigned PutObject as the broker signs it uploads/);
    assert.match(doctor.out, /All checks passed/);
  });

  test('on a store that keeps no checksums (as RGW 16.2) the probe finds it and the live check uses Content-MD5', async (t) => {
    const proxy = await startFaultProxy(server.url, {
      rule: (request) =>
        request.method === 'HEAD' ? { kind: 'strip-header', name: 'x-amz-checksum-crc32c' } : undefined,
    });
    t.after(() => proxy.close());
    const file = await configFile(t, presignConfig(proxy.url));
    const doctor = await hoistAws(file, ['doctor']);
    assert.equal(doctor.code, 0, doctor.out);
    assert.match(
      doctor.out,
      /WARN +capability +flexibleChecksums \(probed\): the store keeps no flexible checksums/,
    );
    assert.match(doctor.out, /ok +integrity +uploads are verified by Content-MD5/);
    assert.match(
      doctor.out,
      /ok +live +a presigned PutObject as the broker signs it uploads \(Content-MD5 verified\)/,
    );
  });

  test('a pin that claims checksums the store does not keep fails the live check, saying why', async (t) => {
    const proxy = await startFaultProxy(server.url, {
      rule: (request) =>
        request.method === 'HEAD' ? { kind: 'strip-header', name: 'x-amz-checksum-crc32c' } : undefined,
    });
    t.after(() => proxy.close());
    const file = await configFile(t, { ...presignConfig(proxy.url), store: { flexibleChecksums: true } });
    const doctor = await hoistAws(file, ['doctor']);
    assert.equal(doctor.code, 1, doctor.out);
    assert.match(doctor.out, /ok +capability +flexibleChecksums \(pinned\)/);
    assert.match(doctor.out, /ERROR live +the store kept no CRC32C checksum/);
    assert.match(doctor.out, /store\.flexibleChecksums/);
    assert.doesNotMatch(doctor.out, /All checks passed/);
  });
});

test('setup and doctor against a store that never answers stop promptly, saying so', async (t) => {
  let connections = 0;
  const endpoint = await silentServer(t, () => connections++);
  const file = await configFile(t, {
    mode: 'presign',
    s3: { endpoint, bucket: BUCKET, credentials: { ...TEST_CREDENTIALS } },
    upstream: { connectTimeoutMs: 1000, requestTimeoutMs: 500 },
  });
  const setup = await hoistAws(file, ['setup', '--principal', 'arn:aws:iam:::user/testid']);
  assert.equal(setup.code, 1, setup.out + setup.err);
  assert.match(setup.err, /cannot read bucket kit-stores: the store did not answer in time/);
  const doctor = await hoistAws(file, ['doctor', '--principal', 'arn:aws:iam:::user/testid']);
  assert.equal(doctor.code, 1, doctor.out);
  assert.match(doctor.out, /not reachable with the broker's credentials \(Timeout\)/);
  // One attempt per call, not the SDK's three each.
  assert.equal(connections, 2);
});
