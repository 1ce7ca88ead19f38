/** Every subpath the package exports loads and offers its main entry points. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
  exports: Record<string, string>;
};

const EXPECTED: Record<string, string[]> = {
  './server': ['startServer'],
  './broker': ['createBroker', 'startBroker'],
  './broker/lambda': ['handler'],
  './aws': ['evaluate', 'parsePolicy', 'verifyRequest', 'signRequest', 'S3Error'],
  './protocol': ['choosePartSize', 'PROBLEMS', 'S3_LIMITS', 'CHECKSUM_ALGORITHMS'],
  './client': ['createUpload', 'Upload', 'UploadError', 'BrokerClient'],
  './client/node': ['createNodeUpload', 'uploadFile', 'createJsonFileStore', 'createNodeTransport'],
  './client/browser': ['createBrowserUpload', 'createXhrTransport', 'createIndexedDbStore', 'blobSource'],
  './client/uppy': ['hoistAwsS3Options', 'hoistSignRequest'],
};

test('package subpaths resolve to modules with their documented exports', async () => {
  assert.deepEqual(Object.keys(pkg.exports).sort(), Object.keys(EXPECTED).sort());
  for (const [subpath, file] of Object.entries(pkg.exports)) {
    const module = (await import(join(import.meta.dirname, '..', file))) as Record<string, unknown>;
    for (const name of EXPECTED[subpath] ?? [])
      assert.equal(typeof module[name] === 'undefined', false, `${subpath} exports ${name}`);
  }
});
