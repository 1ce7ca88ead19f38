/** The external-tool finder: variable first, then PATH, and a missing tool says how to install it. */
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { tmpDir } from './helpers/server.ts';
import { findTool, missingToolMessage, requireTool, type Tool } from './helpers/tools.ts';

const TOOL: Tool = {
  label: 'Thing',
  env: 'HOIST_THING',
  names: ['thing'],
  install: 'apt-get install -y thing',
};

test('a tool is found from its variable, else PATH, else fails with the install line', async (t) => {
  const dir = await tmpDir(t);
  const bin = join(dir, 'thing');
  await writeFile(bin, '#!/bin/sh\n');
  await chmod(bin, 0o755);
  assert.equal(findTool(TOOL, { PATH: dir }), bin);
  assert.equal(findTool(TOOL, { PATH: '/nonexistent', HOIST_THING: bin }), bin);
  assert.equal(findTool(TOOL, { PATH: dir, HOIST_THING: join(dir, 'missing') }), undefined);
  assert.equal(findTool(TOOL, { PATH: '/nonexistent' }), undefined);
  assert.throws(
    () => requireTool(TOOL, { PATH: '/nonexistent' }),
    /Thing is needed.*apt-get install -y thing/,
  );
  assert.match(
    missingToolMessage(TOOL, { HOIST_THING: 'relative' }),
    /HOIST_THING=relative is not an executable/,
  );
});
