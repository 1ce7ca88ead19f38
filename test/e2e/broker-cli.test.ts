/** `hoist broker` and `hoist sweep` as an operator runs them, against the real local S3 + STS server. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { CreateUploadResponse } from '@hoist/protocol/internal/api';
import {
  BUCKET,
  brokerConfig,
  PREFIX,
  putWithCredentials,
  startBrokerBackend,
  startTestBroker,
  TOKENS,
  writeBrokerConfigFile,
} from '../helpers/broker.ts';
import { objectExists, suiteCleanup } from '../helpers/s3.ts';
import { type TestServer, tmpDir } from '../helpers/server.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'src', 'main.ts');

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, HOIST_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => out, stderr: () => err };
}

async function waitFor<T>(read: () => T | undefined, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('hoist broker / hoist sweep', () => {
  const t = suiteCleanup();
  let server: TestServer;
  let configFile: string;

  before(async () => {
    server = await startBrokerBackend(t);
    const dir = await tmpDir(t);
    configFile = join(dir, 'broker.json');
    await writeBrokerConfigFile(configFile, server, {
      registry: { url: `sqlite:${join(dir, 'registry.sqlite')}` },
      sweepIntervalSeconds: 0,
    });
  });

  test('hoist broker serves the API and stops on SIGINT', async () => {
    const broker = run(['broker', '--config', configFile, '--port', '0']);
    t.after(() => broker.child.kill('SIGKILL'));
    const url = await waitFor(() => {
      for (const line of broker.stdout().split('\n')) {
        if (line.includes('broker listening')) return JSON.parse(line).url as string;
      }
      return undefined;
    }, `the listening line (stderr: ${broker.stderr()})`);
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    const created = await fetch(`${url}/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        filename: 'a.bin',
        size: 20 * 1024 * 1024,
        contentType: 'application/octet-stream',
      }),
    });
    assert.equal(created.status, 201);
    // Log lines are written asynchronously: wait for the audit line rather than racing it.
    await waitFor(
      () => (/"audit":"credential-issued"/.test(broker.stdout()) ? true : undefined),
      'the audit line',
    );
    assert.doesNotMatch(broker.stdout(), /secretAccessKey|sessionToken|alice-token/);
    broker.child.kill('SIGINT');
    assert.equal(await broker.exited, 0);
  });

  test('hoist sweep aborts multipart uploads nobody recorded', async () => {
    const key = `${PREFIX}/mallory/orphan/file.bin`;
    await server.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    await new Promise((r) => setTimeout(r, 20));
    const sweep = run(['sweep', '--config', configFile, '--older-than', '0']);
    assert.equal(await sweep.exited, 0, sweep.stderr());
    const result = JSON.parse(sweep.stdout().trim().split('\n').at(-1)!);
    assert.ok(result.orphans >= 1, sweep.stdout());
    const left = await server.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.equal(
      (left.Uploads ?? []).some((u) => u.Key === key),
      false,
    );
  });

  test('hoist sweep deletes an object written around the broker for an upload that expired', async () => {
    const dir = await tmpDir(t);
    const registry = `sqlite:${join(dir, 'registry.sqlite')}`;
    const broker = await startTestBroker(
      t,
      brokerConfig(server, 'sts', { registry: { url: registry }, uploadTtlSeconds: 1 }),
    );
    const res = await broker.api('alice', 'POST', '/uploads', {
      filename: 'x.txt',
      size: 5,
      contentType: 'text/plain',
    });
    assert.equal(res.status, 201);
    const created = res.body as CreateUploadResponse;
    // Sent with the credentials, never completed through the broker: never verified.
    const put = await putWithCredentials(created, Buffer.from('hello'), created.putHeaders ?? {});
    assert.equal(put.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const sweepConfig = await writeBrokerConfigFile(join(dir, 'sweep.json'), server, {
      registry: { url: registry },
    });
    const sweep = run(['sweep', '--config', sweepConfig, '--older-than', '0']);
    assert.equal(await sweep.exited, 0, sweep.stderr());
    assert.match(
      sweep.stderr(),
      new RegExp(`deleted ${created.key} \\(5 bytes\\): uploaded around the broker, never verified`),
    );
    assert.equal(JSON.parse(sweep.stdout().trim().split('\n').at(-1)!).deleted, 1);
    assert.equal(await objectExists(server.client, BUCKET, created.key), false);
  });

  test('a bad config names the field', async () => {
    const broker = run(['broker', '--port', '0'], { HOIST_CONFIG: configFile, HOIST_MODE: 'carrier-pigeon' });
    assert.equal(await broker.exited, 1);
    assert.match(broker.stderr(), /HOIST_MODE: must be one of sts, federation, presign/);
  });
});
