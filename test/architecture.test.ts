/**
 * The import arrows of ARCHITECTURE.md, checked on every source file: the engine never
 * pulls in server code, broker and server share aws/ and never import each other, and
 * Node built-ins stay out of the code that must run in browsers.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

const ALLOWED: Record<string, string[]> = {
  protocol: ['protocol'],
  aws: ['aws', 'protocol'],
  client: ['client', 'protocol', 'aws/sigv4'],
  broker: ['broker', 'protocol', 'aws'],
  server: ['server', 'protocol', 'aws'],
  web: ['web', 'client', 'protocol'],
  cli: ['cli', 'protocol', 'aws', 'client', 'broker', 'server', 'web'],
};

/** Folders whose code must run in a browser: no node: built-ins. */
const WEB_SAFE = ['protocol', 'aws', 'client', 'web'];
const NODE_ALLOWED_INSIDE_WEB_SAFE = ['client/node'];

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

function componentOf(path: string): string {
  const rel = relative(SRC, path).split('/');
  if (rel[0] === 'aws' && rel[1] === 'sigv4') return 'aws/sigv4';
  if (rel[0] === 'client' && rel[1] === 'node') return 'client/node';
  return rel[0] ?? '';
}

function allowedTarget(from: string, to: string): boolean {
  const top = from.split('/')[0] ?? from;
  const allowed = ALLOWED[top] ?? [];
  return allowed.some(
    (prefix) => to === prefix || to.startsWith(`${prefix}/`) || (prefix === 'aws' && to === 'aws/sigv4'),
  );
}

test('every import follows the architecture arrows', () => {
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = componentOf(file);
    const text = readFileSync(file, 'utf8');
    for (const specifier of importsOf(text)) {
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier);
        if (!target.startsWith(SRC)) {
          violations.push(`${relative(ROOT, file)} imports ${specifier} outside src/`);
          continue;
        }
        const to = componentOf(target);
        if (!allowedTarget(from, to))
          violations.push(`${relative(ROOT, file)} (${from}) imports ${specifier} (${to})`);
      } else if (specifier.startsWith('node:')) {
        const top = from.split('/')[0] ?? from;
        if (WEB_SAFE.includes(top) && !NODE_ALLOWED_INSIDE_WEB_SAFE.includes(from)) {
          violations.push(`${relative(ROOT, file)} (${from}) imports the Node built-in ${specifier}`);
        }
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('the checker sees imports (guards against a vacuous pass)', () => {
  const files = sourceFiles(SRC);
  assert.ok(files.length > 20);
  const serverHttp = readFileSync(join(SRC, 'server/http.ts'), 'utf8');
  assert.ok(importsOf(serverHttp).includes('../aws/sigv4/verify.ts'));
  assert.equal(allowedTarget('client', 'server'), false);
  assert.equal(allowedTarget('server', 'broker'), false);
  assert.equal(allowedTarget('client', 'aws/sigv4'), true);
  assert.equal(allowedTarget('client', 'aws'), false);
});
