/** Every workspace package's exports load, by package name, and offer their main entry points. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const EXPECTED: Record<string, string[]> = {
  '@hoist/protocol': ['choosePartSize', 'PROBLEMS', 'S3_LIMITS', 'CHECKSUM_ALGORITHMS'],
  '@hoist/aws': ['evaluate', 'parsePolicy', 'verifyRequest', 'signRequest', 'S3Error'],
  '@hoist/aws/sigv4': ['signRequest', 'verifyRequest', 'webSigV4Crypto'],
  '@hoist/aws/policy': ['evaluate', 'parsePolicy'],
  '@hoist/aws/s3': ['S3Error', 'classifyS3Request', 'renderXml'],
  '@hoist/client': [
    'createUpload',
    'Upload',
    'UploadError',
    'BrokerClient',
    'uploadFile',
    'createFileUpload',
  ],
  '@hoist/client/core': ['createUpload', 'Upload', 'UploadError', 'BrokerClient'],
  '@hoist/client/node': ['createNodeUpload', 'uploadFile', 'createJsonFileStore', 'createNodeTransport'],
  '@hoist/client/browser': [
    'createBrowserUpload',
    'createXhrTransport',
    'createIndexedDbStore',
    'blobSource',
  ],
  '@hoist/broker': ['createBroker', 'startBroker', 'createNodeHandler'],
  '@hoist/broker/lambda': ['handler'],
  '@hoist/server': ['startServer'],
  '@hoist/client/uppy': ['hoistAwsS3Options', 'hoistSignRequest'],
};

/** The names both builds of `@hoist/client` export (the export conditions pick one). */
const PLATFORM_NAMES = [
  'PLATFORM',
  'createTransport',
  'createHasher',
  'createResumeStore',
  'createFileUpload',
  'uploadFile',
];

test('package exports resolve to modules with their documented names', async () => {
  for (const [specifier, names] of Object.entries(EXPECTED)) {
    const module = (await import(specifier)) as Record<string, unknown>;
    for (const name of names) assert.notEqual(module[name], undefined, `${specifier} exports ${name}`);
  }
});

test('the node and browser builds of @hoist/client export the same names', async () => {
  const node = (await import('@hoist/client/internal/node/main')) as Record<string, unknown>;
  const browser = (await import('@hoist/client/internal/browser/main')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(node).sort(), Object.keys(browser).sort());
  for (const name of PLATFORM_NAMES) assert.equal(typeof node[name] === 'undefined', false, name);
  assert.equal(node.PLATFORM, 'node');
  assert.equal(browser.PLATFORM, 'browser');
  // On Node, the bare specifier picks the node build.
  assert.equal(((await import('@hoist/client')) as Record<string, unknown>).PLATFORM, 'node');
});

test('every package is an ESM package for Node 22.13+ with typed exports', () => {
  const root = join(import.meta.dirname, '..', 'packages');
  for (const name of ['protocol', 'aws', 'client', 'uploader', 'broker', 'server', 'cli']) {
    const pkg = JSON.parse(readFileSync(join(root, name, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.name, `@hoist/${name}`);
    assert.equal(pkg.type, 'module');
    assert.deepEqual(pkg.engines, { node: '>=22.13' });
    assert.ok(Array.isArray(pkg.files) && pkg.files.includes('dist'), `${name} publishes dist/`);
  }
});
