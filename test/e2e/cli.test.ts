/** `hoist dev` (npm start) and `hoist server` as a user runs them: start, print, keep data, stop on Ctrl-C. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { tmpDir } from '../helpers/server.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

interface Started {
  child: ChildProcess;
  line: string;
  stderr: () => string;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const clean = { ...process.env, ...env };
  delete clean.HOIST_ROOT_ACCESS_KEY_ID;
  delete clean.HOIST_ROOT_SECRET_ACCESS_KEY;
  Object.assign(clean, env);
  const child = spawn(process.execPath, [MAIN, ...args], { env: clean, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output within 20 s; stderr: ${err}`)), 20_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const newline = out.indexOf('\n');
      if (newline !== -1) {
        clearTimeout(timer);
        resolve({ child, line: out.slice(0, newline), stderr: () => err });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`exited with ${code}: ${err}`), { exitCode: code, stderr: err }));
    });
  });
}

function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

interface DevInfo {
  s3: { endpoint: string; region: string; buckets: string[]; accessKeyId: string; secretAccessKey: string };
}

function clientFor(info: DevInfo): S3Client {
  return new S3Client({
    endpoint: info.s3.endpoint,
    region: info.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: info.s3.accessKeyId, secretAccessKey: info.s3.secretAccessKey },
    maxAttempts: 1,
  });
}

test('hoist dev starts from a clean directory, keeps data and credentials across a restart, stops on SIGINT', async (t) => {
  const dir = await tmpDir(t);
  const first = await start(['dev', '--s3-port', '0', '--data-dir', dir, '--json']);
  const info = JSON.parse(first.line) as DevInfo;
  assert.match(info.s3.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(info.s3.buckets, ['hoist-dev']);
  const s3 = clientFor(info);
  await s3.send(new PutObjectCommand({ Bucket: 'hoist-dev', Key: 'kept.txt', Body: 'still here' }));
  s3.destroy();
  assert.equal(await stop(first.child), 0);
  assert.match(first.stderr(), /SIGINT received, stopping/);

  const second = await start(['dev', '--s3-port', '0', '--data-dir', dir, '--json']);
  t.after(() => stop(second.child));
  const again = JSON.parse(second.line) as DevInfo;
  assert.equal(again.s3.accessKeyId, info.s3.accessKeyId);
  const s3b = clientFor(again);
  const got = await s3b.send(new GetObjectCommand({ Bucket: 'hoist-dev', Key: 'kept.txt' }));
  assert.equal(await got.Body!.transformToString(), 'still here');
  s3b.destroy();
});

test('hoist dev prints a readable banner with endpoint and credentials', async (t) => {
  const dir = await tmpDir(t);
  const started = await start(['dev', '--s3-port', '0', '--data-dir', dir]);
  t.after(() => stop(started.child));
  assert.match(started.line, /Hoist local S3 server listening on http:\/\/127\.0\.0\.1:\d+/);
});

test('a taken port gives a clear message and a non-zero exit', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => blocker.close(resolve)));
  const port = (blocker.address() as { port: number }).port;
  const dir = await tmpDir(t);
  await assert.rejects(
    start(['dev', '--s3-port', String(port), '--data-dir', dir]),
    (error: Error & { exitCode?: number; stderr?: string }) => {
      assert.equal(error.exitCode, 1);
      assert.match(error.stderr ?? '', new RegExp(`port ${port} is already in use`));
      return true;
    },
  );
});

test('hoist server takes root credentials from the environment and refuses bad options', async (t) => {
  const dir = await tmpDir(t);
  const env = {
    HOIST_ROOT_ACCESS_KEY_ID: 'AKIAENVIRONMENT00001',
    HOIST_ROOT_SECRET_ACCESS_KEY: 'environment-secret-0123456789',
  };
  const started = await start(
    ['server', '--port', '0', '--data-dir', dir, '--bucket', 'from-cli', '--json'],
    env,
  );
  t.after(() => stop(started.child));
  const info = JSON.parse(started.line) as DevInfo;
  assert.equal(info.s3.accessKeyId, env.HOIST_ROOT_ACCESS_KEY_ID);
  const s3 = clientFor(info);
  await s3.send(new PutObjectCommand({ Bucket: 'from-cli', Key: 'k', Body: 'v' }));
  s3.destroy();

  await assert.rejects(start(['server', '--port', 'abc', '--data-dir', dir]), /--port must be a number/);
  await assert.rejects(start(['server', '--nope']), /Unknown option '--nope'/);
  await assert.rejects(start(['server', '--port', '0', '--data-dir', dir, '--region', 'mars']), /region/);
});
