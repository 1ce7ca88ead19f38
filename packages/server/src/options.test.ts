import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveServerOptions } from './options.ts';

test('defaults are applied', () => {
  const resolved = resolveServerOptions({ dataDir: '/tmp/x' });
  assert.equal(resolved.host, '127.0.0.1');
  assert.equal(resolved.port, 0);
  assert.equal(resolved.region, 'us-east-1');
  assert.deepEqual(resolved.virtualHostDomains, ['localhost']);
});

test('a bad option is a TypeError that names it', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /"dataDir"/],
    [{ dataDir: '' }, /"dataDir"/],
    [{ dataDir: 'd', port: 70000 }, /"port"/],
    [{ dataDir: 'd', region: 'mars' }, /"region": must look like us-east-1/],
    [
      { dataDir: 'd', rootCredentials: { accessKeyId: 'short', secretAccessKey: 'x'.repeat(20) } },
      /"rootCredentials": accessKeyId/,
    ],
    [
      {
        dataDir: 'd',
        rootCredentials: { accessKeyId: 'A'.repeat(20), secretAccessKey: 'x'.repeat(20), extra: 1 },
      },
      /unknown keys: extra/,
    ],
    [{ dataDir: 'd', clock: 5 }, /"clock"/],
    [{ dataDir: 'd', colour: 'blue' }, /Unknown server option "colour"/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => resolveServerOptions(options as never),
      (error: Error) => error instanceof TypeError && message.test(error.message),
    );
  }
});
