/**
 * Rewrites imports written for the old single-package layout (src/<area>/…) to the workspace
 * layout (packages/<package>/src/…), for merging branches that started before the move:
 *
 * ```sh
 * node scripts/migrate-imports.ts $(git diff --name-only --diff-filter=AM HEAD~1)   # or any files
 * ```
 *
 * Only relative specifiers that do not resolve from the file's new place are touched, so it is
 * safe to run on any file, any number of times. A specifier is resolved from the file's old
 * place (src/web → packages/uploader, src/<x> → packages/<x>), then written as
 * - a relative path when the target is in the same package (or outside packages/);
 * - in a package's code: the target package's public entry: `@hoist/protocol`,
 *   `@hoist/aws/{sigv4,policy,s3}`, `@hoist/client/{core,node,browser}`, `@hoist/broker`,
 *   `@hoist/broker/lambda`, `@hoist/server`, `@hoist/uploader` (export any missing name from
 *   that package's index; tsc names them);
 * - in tests, benchmarks and scripts: the entry when the target is one, else
 *   `@hoist/<package>/internal/<path>` (the repository-only `@hoist/source` condition).
 * The CLI's entry spelled as a path (`'src', 'cli', 'main.ts'`, `'src/cli/main.ts'`) becomes
 * packages/cli/src/main.ts.
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const AREAS: Record<string, string> = {
  protocol: 'protocol',
  aws: 'aws',
  client: 'client',
  web: 'uploader',
  broker: 'broker',
  server: 'server',
  cli: 'cli',
};
const MOVED_FILES: Record<string, string> = {
  'bin/hoist.js': 'packages/cli/bin/hoist.js',
  'scripts/build-browser.ts': 'packages/uploader/scripts/build-browser.ts',
  'scripts/build-lambda.ts': 'packages/broker/scripts/build-lambda.ts',
};
const ENTRIES: Record<string, string> = {
  'src/protocol/index.ts': '@hoist/protocol',
  'src/aws/index.ts': '@hoist/aws',
  'src/aws/sigv4/index.ts': '@hoist/aws/sigv4',
  'src/aws/policy/index.ts': '@hoist/aws/policy',
  'src/aws/s3/index.ts': '@hoist/aws/s3',
  'src/client/index.ts': '@hoist/client/core',
  'src/client/node/index.ts': '@hoist/client/node',
  'src/client/browser/index.ts': '@hoist/client/browser',
  'src/broker/index.ts': '@hoist/broker',
  'src/broker/lambda.ts': '@hoist/broker/lambda',
  'src/server/index.ts': '@hoist/server',
  'src/web/index.ts': '@hoist/uploader',
};

/** Old repository path → new one. */
export function forward(old: string): string {
  const parts = old.split('/');
  const area = parts[1] === undefined ? undefined : AREAS[parts[1]];
  if (parts[0] === 'src' && area) return ['packages', area, 'src', ...parts.slice(2)].join('/');
  return MOVED_FILES[old] ?? old;
}

/** New repository path → where the file was before the move. */
export function backward(path: string): string {
  for (const [old, moved] of Object.entries(MOVED_FILES)) if (moved === path) return old;
  const parts = path.split('/');
  if (parts[0] === 'packages' && parts[2] === 'src') {
    const area = Object.entries(AREAS).find(([, name]) => name === parts[1])?.[0];
    if (area) return ['src', area, ...parts.slice(3)].join('/');
  }
  return path;
}

const packageOf = (path: string): string | undefined =>
  path.startsWith('packages/') ? path.split('/')[1] : undefined;

/** The public entry a package's code imports `old` (an old src/ path) through. */
function publicEntry(old: string): string {
  const [, area, sub] = old.split('/');
  if (area === 'aws')
    return sub === 'sigv4' || sub === 'policy' || sub === 's3' ? `@hoist/aws/${sub}` : '@hoist/aws';
  if (area === 'client')
    return sub === 'node' || sub === 'browser' ? `@hoist/client/${sub}` : '@hoist/client/core';
  if (area === 'broker' && old === 'src/broker/lambda.ts') return '@hoist/broker/lambda';
  return `@hoist/${AREAS[area ?? ''] ?? area}`;
}

const isProductionSource = (path: string): boolean =>
  /^packages\/[^/]+\/src\//.test(path) &&
  !/\.(test|suite)\.ts$/.test(path) &&
  !path.endsWith('/test-helpers.ts');

/** The rewritten specifier, or undefined to keep it. */
export function rewriteSpecifier(file: string, specifier: string, exists = existsSync): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  if (exists(join(ROOT, dirname(file), specifier))) return undefined;
  const oldTarget = normalize(join(dirname(backward(file)), specifier));
  const target = forward(oldTarget);
  const targetPackage = packageOf(target);
  const inSource = targetPackage !== undefined && target.startsWith(`packages/${targetPackage}/src/`);
  if (!inSource || targetPackage === packageOf(file)) {
    const path = relative(dirname(file), target);
    return path.startsWith('.') ? path : `./${path}`;
  }
  if (isProductionSource(file)) return publicEntry(oldTarget);
  const entry = ENTRIES[oldTarget];
  if (entry) return entry;
  const inner = target.slice(`packages/${targetPackage}/src/`.length).replace(/\.ts$/, '');
  return `@hoist/${targetPackage}/internal/${inner}`;
}

const IMPORT = /((?:from\s+|import\(\s*)['"])(\.[^'"]+)(['"])/g;
/** The CLI's entry as tests spawn it: `join(…, 'src', 'cli', 'main.ts')`, `'src/cli/main.ts'`, `'../../src/cli/main.ts'`. */
const CLI_MAIN: [RegExp, string][] = [
  [/'src', 'cli', 'main\.ts'/g, "'packages', 'cli', 'src', 'main.ts'"],
  [/(['"`])((?:\.\.\/)*)src\/cli\/main\.ts\1/g, '$1$2packages/cli/src/main.ts$1'],
];

/** Rewrites one file in place; returns how many specifiers changed. */
export function migrateFile(file: string): number {
  const path = join(ROOT, file);
  const text = readFileSync(path, 'utf8');
  let changed = 0;
  const next = text.replace(IMPORT, (whole, head: string, specifier: string, tail: string) => {
    const rewritten = rewriteSpecifier(file, specifier);
    if (rewritten === undefined || rewritten === specifier) return whole;
    changed++;
    return `${head}${rewritten}${tail}`;
  });
  let spawned = next;
  for (const [pattern, replacement] of CLI_MAIN) {
    spawned = spawned.replace(pattern, (...args: string[]) => {
      changed++;
      return args[0]!.replace(pattern, replacement);
    });
  }
  if (changed > 0) writeFileSync(path, spawned);
  return changed;
}

if (import.meta.main) {
  let total = 0;
  for (const arg of process.argv.slice(2)) {
    const file = relative(ROOT, resolve(arg));
    if (!/\.(ts|js|mjs)$/.test(file) || !existsSync(join(ROOT, file))) continue;
    if (file === relative(ROOT, import.meta.filename)) continue; // its own patterns are not imports
    const changed = migrateFile(file);
    if (changed > 0) process.stdout.write(`${file}: ${changed} import(s)\n`);
    total += changed;
  }
  process.stdout.write(
    `${total} import(s) rewritten; next: npx biome check --write . && npm run typecheck\n`,
  );
}
