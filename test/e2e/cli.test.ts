/** `hoist server` as a user runs it: start, print, stop on Ctrl-C. `hoist dev` has its own file (dev.test.ts). */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { tmpDir } from '../helpers/server.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'src', 'main.ts');

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

interface ServerInfo {
  s3: { endpoint: string; region: string; buckets: string[]; accessKeyId: string; secretAccessKey: string };
}

function clientFor(info: ServerInfo): S3Client {
  return new S3Client({
    endpoint: info.s3.endpoint,
    region: info.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: info.s3.accessKeyId, secretAccessKey: info.s3.secretAccessKey },
    maxAttempts: 1,
  });
}

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
  const info = JSON.parse(started.line) as ServerInfo;
  assert.equal(info.s3.accessKeyId, env.HOIST_ROOT_ACCESS_KEY_ID);
  const s3 = clientFor(info);
  await s3.send(new PutObjectCommand({ Bucket: 'from-cli', Key: 'k', Body: 'v' }));
  s3.destroy();

  await assert.rejects(start(['server', '--port', 'abc', '--data-dir', dir]), /--port must be a number/);
  await assert.rejects(start(['server', '--nope']), /Unknown option '--nope'/);
  await assert.rejects(start(['server', '--port', '0', '--data-dir', dir, '--region', 'mars']), /region/);
});
