/**
 * Honest errors and timeouts between the broker and its store: the store's status, code and
 * message reach the user; a failed create replayed with its Idempotency-Key answers the same
 * failure; a store that does not answer gives a prompt 504, never a hang.
 *
 * Real servers on loopback throughout: Hoist's local S3 + STS server, and tiny node:http / net
 * fault fixtures that answer as Ceph RGW does (STS errors in S3's XML format, 405 for
 * GetFederationToken) or not at all.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { GetFederationTokenCommand } from '@aws-sdk/client-sts';
import { createAwsClients, destroyAwsClients } from '@hoist/broker/internal/aws';
import { FULL_CAPABILITIES } from '@hoist/broker/internal/capabilities';
import type { BrokerConfig } from '@hoist/broker/internal/config';
import { describeStoreError, normaliseQueryErrors } from '@hoist/broker/internal/store-errors';
import { UploadError } from '@hoist/client/internal/errors';
import { uploadFile } from '@hoist/client/node';
import type { UploadMode } from '@hoist/protocol/internal/api';
import {
  BROKER_KEYS,
  BUCKET,
  brokerConfig,
  MiB,
  ROLE_ARN,
  startBrokerBackend,
  startTestBroker,
  TOKENS,
} from '../helpers/broker.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { freePort, silentServer } from '../helpers/net.ts';
import { type Hook, tmpDir } from '../helpers/server.ts';

/**
 * A broker whose store capabilities are given, not probed: these tests are about what the
 * create path answers when the store fails, which a start-up probe would otherwise meet first
 * (the probe's own failures are tested in store-probe.test.ts).
 */
const startPinned = (t: Hook, config: BrokerConfig) =>
  startTestBroker(t, config, { capabilities: { ...FULL_CAPABILITIES } });

const RGW_405 =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>MethodNotAllowed</Code><Message></Message>' +
  '<RequestId>tx000001</RequestId><HostId>rgw-host</HostId></Error>';

/** An HTTP server that answers every request with `status` and `body` (RGW's XML errors). */
async function answering(
  t: Hook,
  status: number,
  body: string,
): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, hits: () => hits };
}

/** An HTTP server that sends 200 headers promising a body, then stalls. */
/** Like silentServer, but each request gets its headers and part of a body, then nothing. */
async function stalling(t: Hook, onRequest?: () => void): Promise<string> {
  const server: Server = createServer((req, res) => {
    onRequest?.();
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': '1000' });
      res.write('<?xml version="1.0" encoding="UTF-8"?>');
      res.on('error', () => {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function createUpload(
  base: string,
  body: Record<string, unknown>,
  idempotencyKey?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/uploads`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKENS.alice}`,
      'content-type': 'application/json',
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
  };
}

const BIG = { filename: 'big.bin', size: 12 * MiB, contentType: 'application/octet-stream' };

test('STS errors in S3 XML format are read for their code, not reported as UnknownError', async (t) => {
  const rgw = await answering(t, 405, RGW_405);
  const aws = createAwsClients({
    s3: { endpoint: rgw.url, region: 'us-east-1', bucket: BUCKET, credentials: { ...BROKER_KEYS } },
    sts: { durationSeconds: 900 },
  });
  t.after(() => destroyAwsClients(aws));
  const error = await aws.sts.send(new GetFederationTokenCommand({ Name: 'x' })).catch((e: unknown) => e);
  assert.equal((error as Error).name, 'MethodNotAllowed');
  assert.deepEqual(describeStoreError(error), {
    code: 'MethodNotAllowed',
    status: 405,
    message: '',
    timeout: false,
  });
  // One attempt: a 405 is not retried.
  assert.equal(rgw.hits(), 1);
});

test('IAM errors in S3 XML format keep their code; without any code, the status names the error', async (t) => {
  const rgw = await answering(
    t,
    403,
    '<Error><Code>AccessDenied</Code><Message>not allowed here</Message><RequestId>r</RequestId></Error>',
  );
  const iam = new IAMClient({
    endpoint: rgw.url,
    region: 'us-east-1',
    credentials: { ...BROKER_KEYS },
    maxAttempts: 1,
  });
  t.after(() => iam.destroy());
  normaliseQueryErrors(iam);
  normaliseQueryErrors(iam); // idempotent
  const error = await iam.send(new GetRoleCommand({ RoleName: 'r' })).catch((e: unknown) => e);
  assert.deepEqual(describeStoreError(error), {
    code: 'AccessDenied',
    status: 403,
    message: 'not allowed here',
    timeout: false,
  });

  const empty = await answering(t, 405, '');
  const bare = new IAMClient({
    endpoint: empty.url,
    region: 'us-east-1',
    credentials: { ...BROKER_KEYS },
    maxAttempts: 1,
  });
  t.after(() => bare.destroy());
  const unparsed = await bare.send(new GetRoleCommand({ RoleName: 'r' })).catch((e: unknown) => e);
  assert.equal(describeStoreError(unparsed).code, 'MethodNotAllowed');
  assert.equal(describeStoreError(unparsed).status, 405);
});

test('federation on a store without GetFederationToken says so, and a replayed create answers the same failure', async (t) => {
  const server = await startBrokerBackend(t);
  const rgw = await answering(t, 405, RGW_405);
  const broker = await startPinned(
    t,
    brokerConfig(server, 'federation', { sts: { endpoint: rgw.url, durationSeconds: 900 } }),
  );
  const first = await createUpload(broker.url, BIG, 'create-1');
  assert.equal(first.status, 502, JSON.stringify(first.body));
  assert.equal(first.body.type, 'https://hoist.dev/problems/upstream-error');
  const detail = String(first.body.detail);
  assert.match(detail, /^GetFederationToken failed: the store answered 405 MethodNotAllowed/);
  assert.match(detail, /no STS GetFederationToken: use mode "sts" \(AssumeRole\) or "presign"/);

  // The engine retries a 502 with the same Idempotency-Key: it must see the same failure, not "aborted".
  const again = await createUpload(broker.url, BIG, 'create-1');
  assert.equal(again.status, 502, JSON.stringify(again.body));
  assert.equal(again.body.type, 'https://hoist.dev/problems/upstream-error');
  assert.equal(again.body.detail, detail);
  assert.equal(rgw.hits(), 1, 'the replay answers from the record, without asking STS again');

  // A different body under the same key is still a conflict.
  const other = await createUpload(broker.url, { ...BIG, size: 13 * MiB }, 'create-1');
  assert.equal(other.status, 409);
});

test('a create whose STS failed for now is tried again by a retry with the same Idempotency-Key, on the same upload', async (t) => {
  const server = await startBrokerBackend(t);
  let failing = true;
  const sts = await startFaultProxy(server.url, {
    rule: () => (failing ? { kind: 'status', status: 503, code: 'ServiceUnavailable' } : undefined),
  });
  t.after(() => sts.close());
  const broker = await startPinned(
    t,
    brokerConfig(server, 'sts', { sts: { endpoint: sts.url, roleArn: ROLE_ARN, durationSeconds: 900 } }),
  );
  const first = await createUpload(broker.url, BIG, 'create-3');
  assert.equal(first.status, 502, JSON.stringify(first.body));
  assert.notEqual(first.body.retryable, false);

  failing = false;
  const again = await createUpload(broker.url, BIG, 'create-3');
  assert.equal(again.status, 201, JSON.stringify(again.body));
  assert.ok((again.body.credentials as { sessionToken?: string } | undefined)?.sessionToken);
  assert.ok(again.body.uploadId, 'a new multipart upload');
  const view = await fetch(`${broker.url}/uploads/${String(again.body.id)}`, {
    headers: { authorization: `Bearer ${TOKENS.alice}` },
  });
  const upload = (await view.json()) as Record<string, unknown>;
  assert.equal(upload.status, 'created');
  assert.equal(upload.reason, undefined, 'the old failure no longer applies');
  // From now on the key answers this upload.
  const third = await createUpload(broker.url, BIG, 'create-3');
  assert.equal(third.status, 201);
  assert.equal(third.body.id, again.body.id);
  assert.equal(third.body.uploadId, again.body.uploadId);

  // Once its owner aborts it, the old failure must not reopen it: a retry is refused.
  const aborted = await fetch(`${broker.url}/uploads/${String(again.body.id)}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${TOKENS.alice}` },
  });
  assert.equal(aborted.status, 200);
  const afterAbort = await createUpload(broker.url, BIG, 'create-3');
  assert.equal(afterAbort.status, 409, JSON.stringify(afterAbort.body));
  const open = await server.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  assert.deepEqual(open.Uploads ?? [], [], 'no multipart upload was started again');
});

test('the engine reports the store answer of a failed create, not "the upload is aborted" from its retry', async (t) => {
  const server = await startBrokerBackend(t);
  const rgw = await answering(t, 405, RGW_405);
  const broker = await startPinned(
    t,
    brokerConfig(server, 'federation', { sts: { endpoint: rgw.url, durationSeconds: 900 } }),
  );
  const file = join(await tmpDir(t), 'big.bin');
  await writeFile(file, Buffer.alloc(6 * MiB, 7));
  const error = await uploadFile(file, {
    brokerUrl: broker.url,
    token: TOKENS.alice,
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
  }).catch((e: unknown) => e);
  assert.ok(error instanceof UploadError, String(error));
  assert.equal(error.status, 502);
  assert.match(error.message, /GetFederationToken failed: the store answered 405 MethodNotAllowed/);
  assert.doesNotMatch(error.message, /aborted/);
  // The engine retried (same Idempotency-Key); STS was asked once.
  assert.equal(rgw.hits(), 1);
});

test('a wrong role ARN in sts mode names the store answer and sts.roleArn', async (t) => {
  const server = await startBrokerBackend(t);
  const wrong = ROLE_ARN.replace('hoist-upload', 'no-such-role');
  const broker = await startPinned(
    t,
    brokerConfig(server, 'sts', { sts: { roleArn: wrong, durationSeconds: 900 } }),
  );
  for (const body of [BIG, { ...BIG, size: 1024 }]) {
    const res = await createUpload(broker.url, body);
    assert.equal(res.status, 502, JSON.stringify(res.body));
    assert.match(String(res.body.detail), /^AssumeRole failed: the store answered 403 AccessDenied: /);
    assert.match(String(res.body.detail), /check sts\.roleArn \(HOIST_STS_ROLE_ARN\)/);
    assert.doesNotMatch(String(res.body.detail), /Signature|secret/i);
  }
});

const TIMEOUTS = { upstream: { connectTimeoutMs: 2000, requestTimeoutMs: 1000 } };

for (const [name, fixture] of [
  ['accepts and never answers', silentServer],
  ['sends headers and stalls', stalling],
] as const) {
  for (const mode of ['presign', 'sts'] as UploadMode[]) {
    test(`a store that ${name} gives a prompt 504 (${mode} mode, ${mode === 'sts' ? 'STS' : 'S3'} stuck)`, async (t) => {
      const server = await startBrokerBackend(t);
      let attempts = 0;
      const stuck = await fixture(t, () => attempts++);
      // presign: S3 itself is stuck (CreateMultipartUpload); sts: S3 works and STS is stuck.
      const config =
        mode === 'presign'
          ? brokerConfig(server, 'presign', {
              ...TIMEOUTS,
              s3: {
                endpoint: stuck,
                region: server.region,
                bucket: BUCKET,
                forcePathStyle: true,
                credentials: { ...BROKER_KEYS },
              },
            })
          : brokerConfig(server, 'sts', {
              ...TIMEOUTS,
              sts: { endpoint: stuck, roleArn: ROLE_ARN, durationSeconds: 900 },
            });
      const broker = await startPinned(t, config);
      const res = await createUpload(broker.url, BIG, `stuck-${mode}`);
      assert.equal(res.status, 504, JSON.stringify(res.body));
      assert.equal(res.body.type, 'https://hoist.dev/problems/upstream-timeout');
      assert.match(String(res.body.detail), /did not answer in time/);
      // One attempt, not the SDK's three: a stuck store is not retried into a longer wait.
      assert.equal(attempts, 1);
    });
  }
}

test('a store that refuses connections is named as unreachable, with the network error', async (t) => {
  const server = await startBrokerBackend(t);
  // A port nothing listens on.
  const port = await freePort();
  const broker = await startPinned(
    t,
    brokerConfig(server, 'presign', {
      s3: {
        endpoint: `http://127.0.0.1:${port}`,
        region: server.region,
        bucket: BUCKET,
        forcePathStyle: true,
        credentials: { ...BROKER_KEYS },
      },
    }),
  );
  const res = await createUpload(broker.url, BIG);
  assert.equal(res.status, 502, JSON.stringify(res.body));
  assert.match(
    String(res.body.detail),
    /^CreateMultipartUpload failed: the store could not be reached \(ECONNREFUSED/,
  );
});
