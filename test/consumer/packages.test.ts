/**
 * The packages as an app installs them: every workspace packed with `npm pack`, the tarballs
 * installed into projects under the OS temp directory (outside the repository), and run on
 * Node 24 and Node 22: `npx hoist --version`, `npx hoist dev --json` and `npx hoist upload`
 * through it, apps mounting @hoist/broker into Express, Fastify and plain node:http and uploading with
 * @hoist/client, strict TypeScript consumers, publint and attw, and a browser-only app that
 * pulls none of the server dependencies.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  consumerEnv,
  installProject,
  node22,
  packedWorkspaces,
  ROOT,
  run,
  runOk,
  start,
  WORKSPACES,
} from './helpers.ts';

const BIN = join(ROOT, 'node_modules', '.bin');
const FILE_BYTES = 3 * 1024 * 1024 + 12_345;

let work: string;
let tarballs: Record<string, string>;
/** One project with every package (and express) installed: the Node apps, the CLI, TypeScript. */
let app: string;
/** A project with only @hoist/uploader (and the @hoist packages it depends on) installed. */
let web: string;
const nodes: { name: string; bin: string }[] = [{ name: 'Node 24', bin: process.execPath }];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hoist-consumer-'));
  tarballs = await packedWorkspaces(join(work, 'tarballs'));
  nodes.push({ name: 'Node 22', bin: await node22() });
  app = join(work, 'app');
  web = join(work, 'web');
  await installProject(app, [
    ...Object.values(tarballs),
    'express@5',
    'fastify@5',
    '@types/node@24',
    '@types/express@5',
  ]);
  await installProject(
    web,
    ['uploader', 'client', 'protocol', 'aws'].map((name) => tarballs[name] as string),
  );
  await writeFile(join(app, 'file.bin'), randomBytes(FILE_BYTES));
  await writeFile(join(app, 'mount.mjs'), MOUNT_APP);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * A Node app mounting the broker (presign mode, on the S3 that `hoist dev` runs) into Express
 * or plain node:http under /api/hoist, then uploading a file through it with @hoist/client.
 */
const MOUNT_APP = `
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createBroker, createNodeHandler, parseBrokerConfig } from '@hoist/broker';
import { PLATFORM, uploadFile } from '@hoist/client';

const [kind, endpoint, accessKeyId, secretAccessKey, bucket, file] = process.argv.slice(2);
const token = 'consumer-token-0123456789';
const broker = createBroker(
  parseBrokerConfig({
    mode: 'presign',
    s3: { endpoint, region: 'us-east-1', bucket, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } },
    keyPrefix: 'consumer',
    auth: { tokens: { carol: token } },
    registry: { url: 'sqlite::memory:' },
  }),
);
await broker.registry.migrate();
let server;
if (kind === 'express') {
  const { default: express } = await import('express');
  const site = express();
  site.get('/', (_request, response) => response.send('the app'));
  site.use('/api/hoist', createNodeHandler(broker));
  server = site.listen(0, '127.0.0.1');
} else if (kind === 'fastify') {
  const { default: Fastify } = await import('fastify');
  const handler = createNodeHandler(broker, { basePath: '/api/hoist' });
  const site = Fastify();
  site.get('/', async () => 'the app');
  await site.register(async (scope) => {
    // The broker reads its request bodies itself: no Fastify body parsing in its scope.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.all('/api/hoist/*', (request, reply) => {
      reply.hijack();
      handler(request.raw, reply.raw);
    });
  });
  await site.listen({ port: 0, host: '127.0.0.1' });
  server = site.server;
} else {
  const handler = createNodeHandler(broker, { basePath: '/api/hoist' });
  server = createServer(handler).listen(0, '127.0.0.1');
}
if (!server.listening) await once(server, 'listening');
const brokerUrl = 'http://127.0.0.1:' + server.address().port + '/api/hoist';
const outside = await fetch('http://127.0.0.1:' + server.address().port + '/elsewhere');
const home = await (await fetch('http://127.0.0.1:' + server.address().port + '/')).text();
const view = await uploadFile(file, { brokerUrl, token });
console.log('RESULT ' + JSON.stringify({ platform: PLATFORM, status: view.status, key: view.key, size: view.size, outside: outside.status, home }));
server.close();
server.closeAllConnections();
await broker.close();
`;

for (const node of [0, 1]) {
  describe(`installed from the tarballs (${node === 0 ? 'Node 24' : 'Node 22'})`, () => {
    const current = () => nodes[node] as { name: string; bin: string };

    test('npx hoist --version', async () => {
      const env = consumerEnv(current().bin);
      const version = await runOk('node', ['--version'], { cwd: app, env });
      assert.match(version.stdout, node === 0 ? /^v24\./ : /^v22\./);
      const result = await runOk('npx', ['hoist', '--version'], { cwd: app, env });
      assert.equal(result.stdout.trim(), '0.1.0');
    });

    test('npx hoist dev --json, npx hoist upload through it, and the broker mounted in Express, Fastify and node:http', async () => {
      const env = consumerEnv(current().bin);
      const dataDir = join(work, `dev-${node}`);
      const dev = start(
        'npx',
        ['hoist', 'dev', '--json', '--port', '0', '--s3-port', '0', '--data-dir', dataDir],
        {
          cwd: app,
          env,
        },
      );
      try {
        const ready = (await dev.ready) as {
          web: string;
          broker: string;
          s3: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string };
          users: { id: string; token: string }[];
        };
        assert.doesNotMatch(dev.stderr(), /ExperimentalWarning/, 'no warning a user cannot act on');
        const page = await fetch(ready.web);
        assert.equal(page.status, 200);
        assert.match(await page.text(), /hoist-uploader/);
        const bundle = await fetch(new URL('assets/hoist-uploader.js', ready.web));
        assert.equal(bundle.status, 200, 'the prebuilt uploader bundle is served');

        const upload = await run(
          'npx',
          ['hoist', 'upload', '--broker', ready.broker, '--json', '--no-resume', 'file.bin'],
          { cwd: app, env: { ...env, HOIST_TOKEN: ready.users[0]!.token } },
        );
        assert.equal(upload.code, 0, upload.stderr);
        const events = upload.stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { event: string; size?: number });
        const completed = events.find((event) => event.event === 'completed');
        assert.equal(completed?.size, FILE_BYTES, upload.stdout);

        for (const kind of ['express', 'fastify', 'http']) {
          const { s3 } = ready;
          const result = await run(
            'node',
            ['mount.mjs', kind, s3.endpoint, s3.accessKeyId, s3.secretAccessKey, s3.bucket, 'file.bin'],
            { cwd: app, env },
          );
          assert.equal(result.code, 0, `${kind}: ${result.stderr}`);
          const line = result.stdout.split('\n').find((candidate) => candidate.startsWith('RESULT '));
          assert.ok(line, `${kind}: no result line in ${result.stdout}`);
          const view = JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
          assert.equal(view.platform, 'node');
          assert.equal(view.status, 'completed');
          assert.equal(view.size, FILE_BYTES);
          assert.match(String(view.key), /^consumer\/carol\//);
          assert.equal(view.outside, 404, `${kind}: paths outside the mount are not the broker's`);
          if (kind !== 'http')
            assert.equal(view.home, 'the app', `${kind}: the app's own routes still answer`);
        }
      } finally {
        await dev.stop();
      }
    });
  });
}

const TS_CONSUMER = `
import { createBroker, createNodeHandler, type NodeHandler, parseBrokerConfig } from '@hoist/broker';
import { handler } from '@hoist/broker/lambda';
import { type FileInput, type FileUploadOptions, PLATFORM, type UploadView, uploadFile } from '@hoist/client';
import { BrokerClient } from '@hoist/client/core';
import type { HoistUploaderElement } from '@hoist/uploader';
import { choosePartSize } from '@hoist/protocol';
import { signRequest } from '@hoist/aws/sigv4';
import { type RunningServer, startServer } from '@hoist/server';

export async function main(config: unknown, input: FileInput): Promise<UploadView> {
  const broker = createBroker(parseBrokerConfig(config));
  const mount: NodeHandler = createNodeHandler(broker, { basePath: '/api' });
  const options: FileUploadOptions = { brokerUrl: 'http://127.0.0.1/api', token: 't' };
  const server: RunningServer = await startServer({ port: 0, dataDir: 'data' });
  void [mount, handler, BrokerClient, choosePartSize, signRequest, PLATFORM, server];
  const element: HoistUploaderElement | null = null;
  void element;
  return uploadFile(input, options);
}
`;

describe('TypeScript consumers', () => {
  for (const moduleResolution of ['nodenext', 'bundler']) {
    test(`a strict consumer typechecks with moduleResolution ${moduleResolution}`, async () => {
      const dir = join(app, `ts-${moduleResolution}`);
      await rm(dir, { recursive: true, force: true });
      await runOk('mkdir', ['-p', dir], { cwd: app });
      await writeFile(join(dir, 'main.ts'), TS_CONSUMER);
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: moduleResolution === 'bundler' ? 'ESNext' : 'NodeNext',
            moduleResolution,
            lib: ['ES2023', 'DOM'],
            types: ['node'],
            strict: true,
            exactOptionalPropertyTypes: true,
            noUncheckedIndexedAccess: true,
            skipLibCheck: true,
            noEmit: true,
          },
          files: ['main.ts'],
        }),
      );
      const result = await run(join(BIN, 'tsc'), ['-p', join(dir, 'tsconfig.json')], { cwd: dir });
      assert.equal(result.code, 0, result.stdout + result.stderr);
    });
  }
});

describe('package checks', () => {
  test('no package ships test code: tests, test helpers, crash children or throughput scripts', async () => {
    for (const name of WORKSPACES) {
      const listing = await runOk('tar', ['-tzf', tarballs[name] as string], { cwd: work });
      const files = listing.stdout.split('\n').filter(Boolean);
      assert.ok(files.length > 2, `@hoist/${name}: ${listing.stdout}`);
      const testCode = files.filter((file) =>
        /(\.test\.|\.suite\.|test-helpers|crash-child|throughput\.)/.test(file),
      );
      assert.deepEqual(testCode, [], `@hoist/${name}`);
    }
  });

  test('publint reports no errors for any package', async () => {
    for (const name of WORKSPACES) {
      const result = await run(join(BIN, 'publint'), ['run', tarballs[name] as string, '--level', 'error'], {
        cwd: work,
      });
      assert.equal(result.code, 0, `@hoist/${name}: ${result.stdout}${result.stderr}`);
    }
  });

  test('attw reports no errors for any package (ESM only)', async () => {
    // Non-code assets: a classic worker script and an HTML page.
    const assets: Record<string, string[]> = {
      client: ['hoist-hash-worker.js'],
      uploader: ['demo.html', 'uppy.html'],
    };
    for (const name of WORKSPACES) {
      const exclude = assets[name] ? ['--exclude-entrypoints', ...(assets[name] ?? [])] : [];
      const result = await run(
        join(BIN, 'attw'),
        [tarballs[name] as string, '--profile', 'esm-only', '--format', 'ascii', ...exclude],
        { cwd: work },
      );
      assert.equal(result.code, 0, `@hoist/${name}: ${result.stdout}${result.stderr}`);
    }
  });

  test('a browser-only app with @hoist/uploader pulls no server dependency', async () => {
    const installed = new Set<string>();
    const modules = join(web, 'node_modules');
    for (const entry of await readdir(modules)) {
      if (entry.startsWith('.')) continue;
      if (entry.startsWith('@'))
        for (const scoped of await readdir(join(modules, entry))) installed.add(`${entry}/${scoped}`);
      else installed.add(entry);
    }
    assert.ok(installed.has('@hoist/uploader') && installed.has('@hoist/client'), [...installed].join(', '));
    const forbidden = [...installed].filter(
      (name) =>
        ['pg', 'hono', 'pino', 'esbuild', 'playwright-core'].includes(name) ||
        name.startsWith('@aws-sdk/') ||
        name.startsWith('@esbuild/'),
    );
    assert.deepEqual(forbidden, []);

    const bundle = await readFile(join(modules, '@hoist/uploader/dist/browser/hoist-uploader.js'));
    const gzip = gzipSync(bundle, { level: 9 }).byteLength;
    console.log(
      `hoist-uploader.js: ${(bundle.byteLength / 1024).toFixed(1)} KiB min, ${(gzip / 1024).toFixed(1)} KiB min+gzip`,
    );
    assert.ok(gzip <= 30 * 1024, `${gzip} B min+gzip is over the 30 KiB budget`);
    assert.doesNotMatch(bundle.toString('utf8'), /["']node:[a-z_/]+["']/, 'no Node built-ins in the bundle');
    assert.ok(existsSync(join(modules, '@hoist/client/dist/browser/hoist-hash-worker.js')));
  });
});
