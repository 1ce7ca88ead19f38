/** The old-layout import rewriter used to merge branches that predate the workspaces. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward, forward, rewriteSpecifier } from '../scripts/migrate-imports.ts';

test('paths map between the old and the workspace layout both ways', () => {
  assert.equal(forward('src/web/element.ts'), 'packages/uploader/src/element.ts');
  assert.equal(forward('src/broker/registry/index.ts'), 'packages/broker/src/registry/index.ts');
  assert.equal(forward('test/helpers/server.ts'), 'test/helpers/server.ts');
  assert.equal(backward('packages/uploader/src/element.ts'), 'src/web/element.ts');
  assert.equal(backward('packages/uploader/scripts/build-browser.ts'), 'scripts/build-browser.ts');
});

test('old relative imports become package imports; ones that resolve stay', () => {
  const cases: [string, string, string | undefined][] = [
    ['packages/broker/src/new-module.ts', '../protocol/api.ts', '@hoist/protocol'],
    ['packages/broker/src/new-module.ts', './config.ts', undefined],
    ['packages/client/src/new-module.ts', '../aws/sigv4/crypto.ts', '@hoist/aws/sigv4'],
    ['packages/cli/src/commands/new.ts', '../../client/node/index.ts', '@hoist/client/node'],
    ['packages/cli/src/commands/new.ts', '../../client/errors.ts', '@hoist/client/core'],
    ['packages/uploader/src/new.ts', '../client/browser/index.ts', '@hoist/client/browser'],
    [
      'packages/client/src/new.test.ts',
      '../server/checksum/crc32c.ts',
      '@hoist/server/internal/checksum/crc32c',
    ],
    ['packages/broker/src/new.test.ts', '../../test/helpers/server.ts', '../../../test/helpers/server.ts'],
    ['test/e2e/new.test.ts', '../../src/broker/config.ts', '@hoist/broker/internal/config'],
    ['test/e2e/new.test.ts', '../../src/server/index.ts', '@hoist/server'],
    ['test/e2e/new.test.ts', '../helpers/server.ts', undefined],
  ];
  for (const [file, specifier, expected] of cases)
    assert.equal(rewriteSpecifier(file, specifier), expected, `${file}: ${specifier}`);
});
