/**
 * The import arrows between the workspace packages, checked on every source file: the engine
 * never pulls in server code, broker and server share @hoist/aws and never import each other,
 * Node built-ins stay out of the code that must run in browsers, no package reaches into
 * another's files, every package it imports is declared in its package.json, test code
 * stays out of src/ (helpers live in test/, throughput scripts in bench/), and inside the
 * server each layer imports only the layers below it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');
const PACKAGES = join(ROOT, 'packages');

/** The @hoist packages each package's sources may import (itself through relative paths). */
const ALLOWED: Record<string, string[]> = {
  protocol: [],
  aws: ['@hoist/protocol'],
  client: ['@hoist/protocol', '@hoist/aws/sigv4'],
  uploader: ['@hoist/client', '@hoist/protocol'],
  broker: ['@hoist/protocol', '@hoist/aws'],
  server: ['@hoist/protocol', '@hoist/aws'],
  cli: [
    '@hoist/protocol',
    '@hoist/aws',
    '@hoist/client',
    '@hoist/broker',
    '@hoist/server',
    '@hoist/uploader',
  ],
};

/**
 * The server's layers, lowest first; each entry is one unit (a file, or a folder ending in
 * `/`). A unit imports only itself and units of lower layers, never a sibling of its own layer.
 */
const SERVER_LAYERS: string[][] = [
  ['errors.ts'],
  ['safe-equal.ts', 'client-abort.ts', 'addressing.ts', 'session-token.ts', 'checksum/', 'storage/'],
  ['iam/', 'to-s3-error.ts'],
  ['options.ts'],
  ['root-credentials.ts', 'identity.ts'],
  ['authz.ts'],
  ['s3/', 'sts/'],
  ['query-endpoint.ts'],
  ['query-actions.ts'],
  ['request-pipeline.ts'],
  ['http.ts'],
  ['index.ts'],
];

/** Built-ins that only tests use: production code importing them is test code in src/. */
const TEST_ONLY_BUILTINS = ['node:test', 'node:assert', 'node:assert/strict'];

/** Packages whose code must run in a browser: no node: built-ins (client/src/node aside). */
const WEB_SAFE = ['protocol', 'aws', 'client', 'uploader'];
const NODE_ALLOWED_INSIDE_WEB_SAFE = ['client/src/node', 'aws/src/node'];

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** Demo pages (`*-demo.ts`) are bundled into prebuilt files, so they may use devDependencies. */
const isDemo = (file: string): boolean => file.endsWith('-demo.ts');

const manifest = (name: string): Manifest =>
  JSON.parse(readFileSync(join(PACKAGES, name, 'package.json'), 'utf8')) as Manifest;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  const pattern =
    /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const match of text.matchAll(pattern)) specifiers.push((match[1] ?? match[2]) as string);
  return specifiers;
}

/** `@scope/name` or `name` of a bare specifier. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

function allowedTarget(from: string, specifier: string): boolean {
  if (specifier.includes('/internal/')) return false;
  return (ALLOWED[from] ?? []).some((prefix) => specifier === prefix || specifier.startsWith(`${prefix}/`));
}

function violationsOf(name: string): string[] {
  const violations: string[] = [];
  const src = join(PACKAGES, name, 'src');
  const pkg = manifest(name);
  const declared = new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
  ]);
  for (const file of sourceFiles(src)) {
    const where = relative(PACKAGES, file);
    const area = relative(PACKAGES, dirname(file));
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) {
        if (!resolve(dirname(file), specifier).startsWith(`${src}/`))
          violations.push(`${where} imports ${specifier} outside its package's src/`);
      } else if (TEST_ONLY_BUILTINS.includes(specifier)) {
        violations.push(`${where} imports ${specifier}: test code belongs in test/`);
      } else if (specifier.startsWith('node:') || builtinModules.includes(specifier)) {
        const nodeOk = NODE_ALLOWED_INSIDE_WEB_SAFE.some((dir) => area === dir || area.startsWith(`${dir}/`));
        if (WEB_SAFE.includes(name) && !nodeOk)
          violations.push(`${where} imports the Node built-in ${specifier}`);
      } else {
        if (specifier.startsWith('@hoist/') && !allowedTarget(name, specifier))
          violations.push(`${where} (${name}) imports ${specifier}`);
        const devOk = isDemo(file) && Object.hasOwn(pkg.devDependencies ?? {}, packageName(specifier));
        if (!declared.has(packageName(specifier)) && !devOk)
          violations.push(`${where} imports ${specifier}, which ${pkg.name} does not declare`);
      }
    }
  }
  return violations;
}

/** The unit of SERVER_LAYERS a server file (relative to server/src) belongs to, and its layer. */
function serverUnit(path: string): { unit: string; layer: number } | undefined {
  for (const [layer, units] of SERVER_LAYERS.entries())
    for (const unit of units)
      if (unit.endsWith('/') ? path.startsWith(unit) : path === unit) return { unit, layer };
  return undefined;
}

function serverLayerViolations(): string[] {
  const src = join(PACKAGES, 'server', 'src');
  const violations: string[] = [];
  for (const file of sourceFiles(src)) {
    const from = serverUnit(relative(src, file));
    if (!from) {
      violations.push(`server/src/${relative(src, file)} is in no layer of SERVER_LAYERS`);
      continue;
    }
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const to = serverUnit(relative(src, resolve(dirname(file), specifier)));
      if (!to || to.unit === from.unit) continue;
      if (to.layer >= from.layer)
        violations.push(`server/src/${relative(src, file)} (${from.unit}) imports ${specifier} (${to.unit})`);
    }
  }
  return violations;
}

test('every import follows the architecture arrows and is declared', () => {
  assert.deepEqual(readdirSync(PACKAGES).sort(), Object.keys(ALLOWED).sort());
  assert.deepEqual(Object.keys(ALLOWED).flatMap(violationsOf), []);
});

test('inside the server, each layer imports only the layers below it', () => {
  assert.deepEqual(serverLayerViolations(), []);
});

test('the checker sees imports (guards against a vacuous pass)', () => {
  assert.ok(sourceFiles(join(PACKAGES, 'server', 'src')).length > 20);
  const serverPipeline = readFileSync(join(PACKAGES, 'server/src/request-pipeline.ts'), 'utf8');
  assert.ok(importsOf(serverPipeline).includes('@hoist/aws/sigv4'));
  assert.equal(allowedTarget('client', '@hoist/server'), false);
  assert.equal(allowedTarget('server', '@hoist/broker'), false);
  assert.equal(allowedTarget('client', '@hoist/aws/sigv4'), true);
  assert.equal(allowedTarget('client', '@hoist/aws'), false);
  assert.equal(allowedTarget('cli', '@hoist/broker/internal/app'), false);
  assert.equal(packageName('@aws-sdk/client-s3/dist'), '@aws-sdk/client-s3');
  assert.deepEqual(serverUnit('sts/handlers.ts'), { unit: 'sts/', layer: 6 });
  assert.ok((serverUnit('identity.ts')?.layer ?? -1) > (serverUnit('session-token.ts')?.layer ?? 99));
  assert.equal(serverUnit('nowhere.ts'), undefined);
});
