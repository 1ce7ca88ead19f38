/**
 * The README's broker documentation cannot drift from the code: its configuration table is
 * the one `scripts/config-table.ts` generates from CONFIG_REFERENCE, and it names every
 * environment variable, problem code and route that exists (and no variable that does not).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { configTable } from '../scripts/config-table.ts';
import { CONFIG_FILE_ENV, CONFIG_REFERENCE } from '../src/broker/config.ts';
import { openApiDocument } from '../src/broker/openapi.ts';
import { EXTERNAL_STORE_VARIABLES } from '../src/cli/dev/external-store.ts';
import { PROBLEMS } from '../src/protocol/problems.ts';

const README = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
const BROKER = README.slice(README.indexOf('\n## The broker\n'));
const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

test("the README's configuration table is the generated one", () => {
  const match = /<!-- config-table\b[^>]*-->\n([\s\S]*?)\n<!-- \/config-table -->/.exec(README);
  assert.ok(match, 'README.md has <!-- config-table … --> and <!-- /config-table --> markers');
  assert.equal(
    match[1],
    configTable(),
    'the table is stale: run `node scripts/config-table.ts` and paste its output between the markers',
  );
});

test('the README names only environment variables that exist', () => {
  const known = new Set([
    ...CONFIG_REFERENCE.map((row) => row.env),
    CONFIG_FILE_ENV,
    'HOIST_LOG_LEVEL',
    // The local server's.
    'HOIST_ROOT_ACCESS_KEY_ID',
    'HOIST_ROOT_SECRET_ACCESS_KEY',
    // The upload and credentials commands' defaults for --broker and --token.
    'HOIST_BROKER_URL',
    'HOIST_TOKEN',
    // The test suite's shared Ceph RGW (test/global-setup.ts).
    'HOIST_RGW',
    // hoist dev against an external store.
    ...EXTERNAL_STORE_VARIABLES,
  ]);
  for (const [name] of README.matchAll(/\bHOIST_[A-Z0-9_]+/g)) assert.ok(known.has(name), `${name} exists`);
});

test('the broker section documents every problem code and route', () => {
  assert.ok(BROKER.length > 1000, 'README.md has a "## The broker" section');
  for (const code of Object.keys(PROBLEMS)) assert.ok(BROKER.includes(`| \`${code}\` |`), `problem ${code}`);
  for (const [path, item] of Object.entries(openApiDocument().paths as Record<string, object>)) {
    for (const method of Object.keys(item).filter((key) => HTTP_METHODS.has(key))) {
      const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
      assert.ok(BROKER.includes(route), `route ${route}`);
    }
  }
});
