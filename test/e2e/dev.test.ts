/**
 * `hoist dev` (npm start) as a user runs it: real processes on ephemeral ports, temp data
 * dirs. From a clean directory it serves the page, its config and bundles, the broker API
 * (a real upload through it with the CLI), and S3 with the printed credentials; it stops on
 * SIGINT with everything closed, and a restart keeps users, tokens, keys and objects.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { tmpDir } from '../helpers/server.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'src', 'main.ts');

interface DevInfo {
  web: string;
  broker: string;
  mode: string;
  dataDir: string;
  s3: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  users: { id: string; token: string }[];
}

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
}

/** A child environment without the variables that would change what `hoist` does. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('HOIST_')) delete env[name];
  return { ...env, ...extra };
}

/** Starts `hoist dev`; resolves once stdout matches `ready`, rejects if it exits first. */
function startDev(args: string[], options: { cwd?: string; ready?: RegExp } = {}): Promise<Running> {
  const ready = options.ready ?? /\n/;
  const child = spawn(process.execPath, [MAIN, 'dev', ...args], {
    cwd: options.cwd,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready within 90 s; stderr: ${err}`));
    }, 90_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, stdout: () => out, stderr: () => err });
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
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

/** `hoist upload` of one file as `token`; the `completed` event. */
async function uploadWithCli(
  broker: string,
  token: string,
  file: string,
): Promise<{ key: string; id: string }> {
  const child = spawn(process.execPath, [MAIN, 'upload', '--broker', broker, '--no-resume', '--json', file], {
    env: cleanEnv({ HOIST_TOKEN: token }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, `hoist upload failed: ${err}`);
  const events = out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { event: string; key: string; id: string });
  const completed = events.find((event) => event.event === 'completed');
  assert.ok(completed, out);
  return completed;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function s3For(info: DevInfo): S3Client {
  return new S3Client({
    endpoint: info.s3.endpoint,
    region: info.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: info.s3.accessKeyId, secretAccessKey: info.s3.secretAccessKey },
    maxAttempts: 1,
  });
}

/** A GET with a Host header of our choosing (fetch does not allow setting it). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}

async function assertClosed(url: string): Promise<void> {
  await assert.rejects(fetch(url), (error: Error & { cause?: { code?: string } }) => {
    assert.equal(error.cause?.code, 'ECONNREFUSED');
    return true;
  });
}

test('hoist dev starts from a clean directory, serves page, API and bucket, stops on SIGINT, and keeps everything across a restart', async (t) => {
  const dir = await tmpDir(t, 'hoist-dev-');
  // No --data-dir: the default ./.hoist-data, under the directory it runs in.
  const first = await startDev(['--port', '0', '--s3-port', '0', '--json'], { cwd: dir });
  t.after(() => stop(first.child, 'SIGKILL'));
  const lines = first.stdout().trim().split('\n');
  assert.equal(lines.length, 1, 'exactly one line on stdout');
  const info = JSON.parse(lines[0]!) as DevInfo;
  assert.match(info.web, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal(info.broker, `${info.web}api`);
  assert.equal(info.mode, 'sts');
  assert.equal(info.dataDir, join(dir, '.hoist-data'));
  assert.match(info.s3.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(info.s3.region, 'us-east-1');
  assert.equal(info.s3.bucket, 'hoist-dev');
  assert.match(info.s3.accessKeyId, /^AKIA/);
  assert.ok(info.s3.secretAccessKey.length >= 16);
  assert.deepEqual(
    info.users.map((user) => user.id),
    ['alice', 'bob'],
  );
  for (const user of info.users) assert.match(user.token, /^\S{16,}$/);
  const identityFile = join(dir, '.hoist-data', 'dev-identity.json');
  assert.equal(statSync(identityFile).mode & 0o777, 0o600);
  const brokerKeyId = (): string =>
    (JSON.parse(readFileSync(identityFile, 'utf8')) as { brokerKey: { accessKeyId: string } }).brokerKey
      .accessKeyId;
  const firstKeyId = brokerKeyId();
  // The deliberate banner aside, no secret reaches the output.
  assert.doesNotMatch(first.stderr(), new RegExp(`${info.users[0]!.token}|${info.s3.secretAccessKey}`));

  const page = await fetch(info.web);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await page.text(), /<html/i);
  const config = await (await fetch(`${info.web}config.json`)).json();
  assert.equal(config.brokerUrl, info.broker);
  assert.deepEqual(config.users, info.users);
  assert.equal(config.bucket, 'hoist-dev');
  assert.equal(config.region, 'us-east-1');
  assert.equal(config.mode, 'sts');
  const engine = await fetch(`${info.web}assets/hoist.js`);
  assert.equal(engine.status, 200);
  assert.match(engine.headers.get('content-type') ?? '', /^text\/javascript/);
  await engine.arrayBuffer();
  assert.equal((await fetch(`${info.web}assets/..%2Fdev-identity.json`)).status, 404);
  assert.equal((await fetch(`${info.web}nothing-here`)).status, 404);
  // Another site rebinding its name to 127.0.0.1 cannot read the tokens.
  assert.equal(await getWithHost(`${info.web}config.json`, 'evil.example:80'), 421);

  const alice = info.users[0]!;
  assert.equal((await fetch(`${info.broker}/uploads`)).status, 401);
  const empty = await fetch(`${info.broker}/uploads`, { headers: bearer(alice.token) });
  assert.equal(empty.status, 200);
  assert.deepEqual((await empty.json()).uploads, []);
  const origin = info.web.slice(0, -1);
  const preflight = await fetch(`${info.broker}/uploads`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization',
    },
  });
  assert.equal(preflight.headers.get('access-control-allow-origin'), origin);

  // A real upload: two parts through the engine with credentials from AssumeRole on the role.
  const file = join(dir, 'film.bin');
  const data = Buffer.alloc(9_000_000, 7);
  await writeFile(file, data);
  const uploaded = await uploadWithCli(info.broker, alice.token, file);
  assert.match(uploaded.key, /^uploads\/alice\//);

  const s3 = s3For(info);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'hoist-dev' }));
  assert.deepEqual(
    listed.Contents?.map((object) => [object.Key, object.Size]),
    [[uploaded.key, data.length]],
  );
  s3.destroy();
  const s3Preflight = await fetch(`${info.s3.endpoint}/hoist-dev/${uploaded.key}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'PUT' },
  });
  assert.equal(s3Preflight.status, 200);
  // The engine reads the ETag of each part and the Date (clock skew) from S3's answers.
  assert.match(s3Preflight.headers.get('access-control-expose-headers') ?? '', /\bETag\b/i);
  assert.match(s3Preflight.headers.get('access-control-expose-headers') ?? '', /\bDate\b/i);

  assert.equal(await stop(first.child), 0);
  assert.match(first.stderr(), /SIGINT received, stopping/);
  await assertClosed(info.web);
  await assertClosed(info.s3.endpoint);

  const second = await startDev(['--port', '0', '--s3-port', '0', '--json'], { cwd: dir });
  t.after(() => stop(second.child, 'SIGKILL'));
  const again = JSON.parse(second.stdout()) as DevInfo;
  assert.deepEqual(again.users, info.users);
  assert.equal(again.s3.accessKeyId, info.s3.accessKeyId);
  assert.equal(again.s3.secretAccessKey, info.s3.secretAccessKey);
  const mine = await fetch(`${again.broker}/uploads`, { headers: bearer(alice.token) });
  const body = (await mine.json()) as { uploads: { id: string; key: string; status: string }[] };
  assert.deepEqual(
    body.uploads.map((upload) => [upload.id, upload.key, upload.status]),
    [[uploaded.id, uploaded.key, 'completed']],
  );
  const bobs = await fetch(`${again.broker}/uploads`, { headers: bearer(again.users[1]!.token) });
  assert.deepEqual((await bobs.json()).uploads, []);
  const s3b = s3For(again);
  const got = await s3b.send(new GetObjectCommand({ Bucket: 'hoist-dev', Key: uploaded.key }));
  assert.equal((await got.Body!.transformToByteArray()).length, data.length);
  s3b.destroy();
  // The broker's IAM user kept its one key: reused, not replaced or duplicated.
  assert.equal(brokerKeyId(), firstKeyId);
  const iam = new IAMClient({
    endpoint: again.s3.endpoint,
    region: again.s3.region,
    credentials: { accessKeyId: again.s3.accessKeyId, secretAccessKey: again.s3.secretAccessKey },
    maxAttempts: 1,
  });
  const keys = await iam.send(new ListAccessKeysCommand({ UserName: 'hoist-broker' }));
  iam.destroy();
  assert.deepEqual(
    keys.AccessKeyMetadata?.map((key) => key.AccessKeyId),
    [firstKeyId],
  );
  assert.equal(await stop(second.child, 'SIGTERM'), 0);
  assert.ok(existsSync(join(dir, '.hoist-data', 's3')));
});

test('hoist dev prints the page, the dev users and an AWS CLI line; federation and presign modes upload', async (t) => {
  const dir = await tmpDir(t, 'hoist-dev-');
  const data = join(dir, 'data');
  const file = join(dir, 'note.txt');
  await writeFile(file, 'hello from a dev user\n');

  const federation = await startDev(
    ['--port', '0', '--s3-port', '0', '--data-dir', data, '--mode', 'federation'],
    { ready: /Press Ctrl-C to stop\./ },
  );
  t.after(() => stop(federation.child, 'SIGKILL'));
  const text = federation.stdout();
  assert.match(text, /^Hoist dev stack is running \(mode federation/);
  const page = /Upload page: +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(text)?.[1];
  assert.ok(page, text);
  const identity = JSON.parse(readFileSync(join(data, 'dev-identity.json'), 'utf8')) as {
    users: { id: string; token: string }[];
  };
  for (const user of identity.users) assert.match(text, new RegExp(`${user.id} +${user.token}`));
  assert.match(
    text,
    /AWS_ACCESS_KEY_ID=AKIA\w+ AWS_SECRET_ACCESS_KEY=\S+ \\\n +aws --endpoint-url http:\/\/127\.0\.0\.1:\d+ --region us-east-1 s3 ls s3:\/\/hoist-dev\/ --recursive/,
  );
  const viaFederation = await uploadWithCli(`${page}api`, identity.users[1]!.token, file);
  assert.match(viaFederation.key, /^uploads\/bob\/.+\/note\.txt$/);
  assert.equal(await stop(federation.child), 0);

  const presign = await startDev([
    '--port',
    '0',
    '--s3-port',
    '0',
    '--data-dir',
    data,
    '--mode',
    'presign',
    '--json',
  ]);
  t.after(() => stop(presign.child, 'SIGKILL'));
  const info = JSON.parse(presign.stdout()) as DevInfo;
  assert.equal(info.mode, 'presign');
  const viaPresign = await uploadWithCli(info.broker, info.users[0]!.token, file);
  const s3 = s3For(info);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'hoist-dev' }));
  s3.destroy();
  assert.deepEqual(
    listed.Contents?.map((object) => object.Key).sort(),
    [viaFederation.key, viaPresign.key].sort(),
  );
  assert.equal(await stop(presign.child), 0);
});

for (const flag of ['--port', '--s3-port'] as const) {
  test(`a taken ${flag} gives a one-line message naming the flag, exit status 1, nothing left running`, async (t) => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => blocker.close(resolve)));
    const port = (blocker.address() as { port: number }).port;
    const dir = await tmpDir(t, 'hoist-dev-');
    const other = flag === '--port' ? '--s3-port' : '--port';
    await assert.rejects(
      startDev([flag, String(port), other, '0', '--data-dir', dir]),
      (error: Error & { exitCode?: number; stderr?: string }) => {
        assert.equal(error.exitCode, 1);
        assert.equal(
          error.stderr,
          `hoist: port ${port} is already in use: stop what runs there or pass ${flag} <another port>\n`,
        );
        return true;
      },
    );
  });
}

test('hoist dev refuses bad flags before starting anything (exit status 2)', async (t) => {
  const dir = await tmpDir(t, 'hoist-dev-');
  for (const [args, message] of [
    [['--mode', 'nope'], /--mode must be one of sts, federation, presign, got "nope"/],
    [['--s3-port', '70000'], /--s3-port must be a port number 0\.\.65535, got "70000"/],
  ] as const) {
    await assert.rejects(
      startDev([...args, '--data-dir', dir]),
      (error: Error & { exitCode?: number; stderr?: string }) => {
        assert.equal(error.exitCode, 2);
        assert.match(error.stderr ?? '', message);
        return true;
      },
    );
  }
  assert.equal(existsSync(join(dir, 'dev-identity.json')), false);
});
