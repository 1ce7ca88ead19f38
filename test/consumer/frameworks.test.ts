/**
 * `<hoist-uploader>` in framework apps, installed from the packed tarballs outside the
 * repository: a Vite + React 19 app and a Vite + Vue 3 app, each built with `vite build`,
 * served by a small server that also forwards /api to `hoist dev` (from the installed
 * @hoist/cli), and uploading a file in headless Chromium through it — once as built on Node 24
 * and once as built on Node 22. Prints each bundle's size.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { GetBucketCorsCommand, PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';
import { launchBrowser } from '../helpers/browser.ts';
import {
  consumerEnv,
  installProject,
  type LongRunning,
  node22,
  packedWorkspaces,
  runOk,
  start,
} from './helpers.ts';

const BROWSER_PACKAGES = ['uploader', 'client', 'protocol', 'aws'];

interface DevReady {
  web: string;
  broker: string;
  s3: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  users: { id: string; token: string }[];
}

const INDEX_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>app</title></head>
<body><div id="root"></div><script type="module" src="/main.js"></script></body></html>
`;

/** The React app: the element rendered by React 19 with its attributes from the query string. */
const REACT_MAIN = `
import '@hoist/uploader';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';

const params = new URLSearchParams(location.search);
function App() {
  return createElement('hoist-uploader', { 'broker-url': '/api', token: params.get('token'), 'no-list': '' });
}
createRoot(document.getElementById('root')).render(createElement(App));
`;

/** The Vue app: the element rendered by Vue 3 (render function, so no template compiler). */
const VUE_MAIN = `
import '@hoist/uploader';
import { createApp, h } from 'vue';

const params = new URLSearchParams(location.search);
createApp({
  render: () => h('hoist-uploader', { 'broker-url': '/api', token: params.get('token'), 'no-list': '' }),
}).mount('#root');
`;

const APPS = [
  { name: 'React 19', dir: 'react', deps: ['react@19', 'react-dom@19'], main: REACT_MAIN },
  { name: 'Vue 3', dir: 'vue', deps: ['vue@3'], main: VUE_MAIN },
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
};

let work: string;
let dev: LongRunning | undefined;
let ready: DevReady;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hoist-frameworks-'));
  const tarballs = await packedWorkspaces(join(work, 'tarballs'));
  const browserTarballs = BROWSER_PACKAGES.map((name) => tarballs[name] as string);
  await Promise.all([
    installProject(join(work, 'cli'), Object.values(tarballs)),
    ...APPS.map((app) => installProject(join(work, app.dir), [...browserTarballs, 'vite@7', ...app.deps])),
  ]);
  dev = start(
    'npx',
    ['hoist', 'dev', '--json', '--port', '0', '--s3-port', '0', '--data-dir', join(work, 'dev')],
    {
      cwd: join(work, 'cli'),
    },
  );
  ready = (await dev.ready) as unknown as DevReady;
});

after(async () => {
  await dev?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Serves `dir` and forwards /api/* to the dev stack's broker (same origin for the page). */
async function serveApp(dir: string, brokerUrl: string): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/api' || path.startsWith('/api/')) {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers))
          if (typeof value === 'string' && !['host', 'connection', 'origin'].includes(name))
            headers.set(name, value);
        const upstream = await fetch(`${brokerUrl}${(req.url ?? '').slice('/api'.length)}`, {
          method: req.method ?? 'GET',
          headers,
          ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
        });
        const out: Record<string, string> = {};
        upstream.headers.forEach((value, name) => {
          if (!['content-encoding', 'content-length', 'transfer-encoding'].includes(name)) out[name] = value;
        });
        res.writeHead(upstream.status, out).end(Buffer.from(await upstream.arrayBuffer()));
        return;
      }
      const file = normalize(join(dir, path === '/' ? 'index.html' : path));
      if (!file.startsWith(dir + sep)) return void res.writeHead(403).end();
      const body = await readFile(file).catch(() => undefined);
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch (error) {
      res.writeHead(502).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Lets the app's origin send parts to the dev stack's S3, as an app's own bucket CORS would. */
async function allowOrigin(origin: string): Promise<void> {
  const { s3 } = ready;
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  try {
    const current = await client.send(new GetBucketCorsCommand({ Bucket: s3.bucket }));
    const rules = current.CORSRules ?? [];
    const template = rules[0];
    assert.ok(template, 'hoist dev configures the bucket CORS for its page');
    await client.send(
      new PutBucketCorsCommand({
        Bucket: s3.bucket,
        CORSConfiguration: {
          CORSRules: [...rules, { ...template, ID: undefined, AllowedOrigins: [origin] }],
        },
      }),
    );
  } finally {
    client.destroy();
  }
}

const BUILDERS = [
  { name: 'Node 24', outDir: 'dist', node: async () => process.execPath },
  { name: 'Node 22', outDir: 'dist-node22', node: node22 },
];

for (const app of APPS)
  for (const builder of BUILDERS) {
    test(`a Vite + ${app.name} app built with vite build on ${builder.name} uploads through <hoist-uploader>`, async (t) => {
      const dir = join(work, app.dir);
      await writeFile(join(dir, 'index.html'), INDEX_HTML);
      await writeFile(join(dir, 'main.js'), app.main);
      const vite = join(dir, 'node_modules', '.bin', 'vite');
      await runOk(vite, ['build', '--logLevel', 'warn', '--outDir', builder.outDir], {
        cwd: dir,
        env: consumerEnv(await builder.node()),
      });

      const assets = join(dir, builder.outDir, 'assets');
      let bytes = 0;
      let gzip = 0;
      for (const name of await readdir(assets)) {
        if (!name.endsWith('.js')) continue;
        const code = await readFile(join(assets, name));
        bytes += code.byteLength;
        gzip += gzipSync(code, { level: 9 }).byteLength;
      }
      console.log(
        `${app.name} bundle (${builder.name}): ${(bytes / 1024).toFixed(1)} KiB min, ${(gzip / 1024).toFixed(1)} KiB min+gzip`,
      );

      const served = await serveApp(join(dir, builder.outDir), ready.broker);
      t.after(
        () =>
          new Promise<void>((resolve) => {
            served.server.close(() => resolve());
            served.server.closeAllConnections();
          }),
      );
      await allowOrigin(served.url);

      const context = await launchBrowser(t);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      const token = ready.users[0]!.token;
      await page.goto(`${served.url}/?token=${encodeURIComponent(token)}`);
      await page.waitForFunction(() => customElements.get('hoist-uploader') !== undefined);
      const completed = page.evaluate(
        () =>
          new Promise<Record<string, unknown>>((resolve, reject) => {
            document.addEventListener('hoist-upload-complete', (e) => resolve((e as CustomEvent).detail));
            document.addEventListener('hoist-upload-error', (e) =>
              reject(new Error(JSON.stringify((e as CustomEvent).detail))),
            );
          }),
      );
      const size = 1024 * 1024 + 321;
      await page.locator('hoist-uploader input[type=file]').setInputFiles({
        name: `${app.dir}-${builder.outDir}.bin`,
        mimeType: 'application/octet-stream',
        buffer: randomBytes(size),
      });
      const detail = await completed;
      assert.equal(detail.size, size);
      assert.equal(detail.status, 'completed');
      assert.match(String(detail.key), new RegExp(`/${app.dir}-${builder.outDir}\\.bin$`));
      assert.deepEqual(errors, []);
    });
  }
