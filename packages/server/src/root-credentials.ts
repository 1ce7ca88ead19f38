/**
 * Root credentials: from options or HOIST_ROOT_* variables, else generated once and
 * kept (mode 0600) in the data directory so restarts keep working clients working.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RootCredentials } from './options.ts';

const FILE = 'root-credentials.json';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function generateAccessKeyId(prefix: 'AKIA' | 'ASIA'): string {
  const bytes = randomBytes(16);
  let out = prefix;
  for (const byte of bytes) out += BASE32[byte % 32];
  return out;
}

export function generateSecretAccessKey(): string {
  return randomBytes(30)
    .toString('base64')
    .replace(/[+/]/g, (c) => (c === '+' ? 'A' : 'B'));
}

export interface ResolvedRootCredentials extends RootCredentials {
  source: 'options' | 'environment' | 'data-dir' | 'generated';
}

export function resolveRootCredentials(
  dataDir: string,
  explicit: RootCredentials | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedRootCredentials {
  if (explicit) return { ...explicit, source: 'options' };
  const envId = env.HOIST_ROOT_ACCESS_KEY_ID;
  const envSecret = env.HOIST_ROOT_SECRET_ACCESS_KEY;
  if (envId && envSecret) return { accessKeyId: envId, secretAccessKey: envSecret, source: 'environment' };
  if (envId || envSecret) {
    throw new TypeError('Set both HOIST_ROOT_ACCESS_KEY_ID and HOIST_ROOT_SECRET_ACCESS_KEY, or neither.');
  }
  const path = join(dataDir, FILE);
  try {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as RootCredentials;
    if (typeof stored.accessKeyId === 'string' && typeof stored.secretAccessKey === 'string') {
      return { ...stored, source: 'data-dir' };
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const created = { accessKeyId: generateAccessKeyId('AKIA'), secretAccessKey: generateSecretAccessKey() };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
  return { ...created, source: 'generated' };
}
