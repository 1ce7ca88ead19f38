/**
 * The documentation cannot drift from the code: the broker reference (docs/broker.md) has the
 * configuration table `scripts/config-table.ts` generates from CONFIG_REFERENCE and names every
 * problem code and route that exists; the README and every page under docs/ name only
 * environment variables that exist; the README stays a landing page whose links resolve.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { CONFIG_FILE_ENV, CONFIG_REFERENCE } from '@hoist/broker/internal/config';
import { openApiDocument } from '@hoist/broker/internal/openapi';
import { EXTERNAL_STORE_VARIABLES } from '@hoist/cli/internal/dev/external-store';
import { PROBLEMS } from '@hoist/protocol/internal/problems';
import { configTable } from '../scripts/config-table.ts';

const ROOT = join(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => ({ path: join(ROOT, 'docs', name), text: readFileSync(join(ROOT, 'docs', name), 'utf8') }));
const BROKER = readFileSync(join(ROOT, 'docs', 'broker.md'), 'utf8');
const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

test("the broker reference's configuration table is the generated one", () => {
  const match = /<!-- config-table\b[^>]*-->\n([\s\S]*?)\n<!-- \/config-table -->/.exec(BROKER);
  assert.ok(match, 'docs/broker.md has <!-- config-table … --> and <!-- /config-table --> markers');
  assert.equal(
    match[1],
    configTable(),
    'the table is stale: run `node scripts/config-table.ts` and paste its output between the markers',
  );
});

test('the README and docs/ name only environment variables that exist', () => {
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
    // The tests' external tools (test/helpers/tools.ts).
    'HOIST_CHROMIUM',
    'HOIST_AWS_CLI',
    // The test suite's shared Ceph RGW and packed workspaces (test/global-setup.ts).
    'HOIST_RGW',
    'HOIST_CONSUMER_PACKS',
    // hoist dev against an external store.
    ...EXTERNAL_STORE_VARIABLES,
  ]);
  for (const { path, text } of [{ path: 'README.md', text: README }, ...DOCS])
    for (const [name] of text.matchAll(/\bHOIST_[A-Z0-9_]+/g))
      assert.ok(known.has(name), `${name} (${path}) exists`);
});

test('the broker section documents every problem code and route', () => {
  assert.ok(BROKER.length > 1000, 'docs/broker.md is the broker reference');
  for (const code of Object.keys(PROBLEMS)) assert.ok(BROKER.includes(`| \`${code}\` |`), `problem ${code}`);
  for (const [path, item] of Object.entries(openApiDocument().paths as Record<string, object>)) {
    for (const method of Object.keys(item).filter((key) => HTTP_METHODS.has(key))) {
      const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
      assert.ok(BROKER.includes(route), `route ${route}`);
    }
  }
});

test('the README is a landing page whose local links resolve, and so are the docs', () => {
  assert.ok(README.split('\n').length <= 150, 'README.md stays within ~150 lines: reference goes to docs/');
  for (const { path, text } of [{ path: join(ROOT, 'README.md'), text: README }, ...DOCS])
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (!target || /^[a-z]+:/.test(target)) continue;
      assert.ok(existsSync(join(dirname(path), target)), `${path} links to ${target}, which exists`);
    }
});
