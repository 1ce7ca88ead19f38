/**
 * The dev stack's secrets that must survive restarts: the dev users' bearer tokens and the
 * broker's IAM access key, in `<data-dir>/dev-identity.json` (mode 0600). Tokens are
 * generated once; users may be added by editing the file.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { USER_ID_PATTERN } from '@hoist/broker';

export const IDENTITY_FILE = 'dev-identity.json';
export const DEV_USER_IDS = ['alice', 'bob'] as const;

export interface DevUser {
  id: string;
  token: string;
}

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface DevIdentity {
  users: DevUser[];
  /** The broker IAM user's key, once created through the IAM API. */
  brokerKey?: AccessKey;
}

/** What the broker accepts as a static token: printable ASCII without spaces or commas. */
const TOKEN_PATTERN = /^[\x21-\x2b\x2d-\x7e]{16,4096}$/;

export class DevIdentityError extends Error {
  override readonly name = 'DevIdentityError';
  readonly code = 'invalid-dev-identity';
}

export const newToken = (): string => `dev_${randomBytes(24).toString('base64url')}`;

function invalid(path: string, what: string): DevIdentityError {
  // Never quote the file: it holds secrets.
  return new DevIdentityError(
    `${path} is not valid (${what}): fix it, or delete it to get new tokens and keys`,
  );
}

function parse(path: string, text: string): DevIdentity {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(path, 'not JSON');
  }
  const raw = value as { users?: unknown; brokerKey?: unknown } | null;
  if (typeof raw !== 'object' || raw === null) throw invalid(path, 'not an object');
  if (!Array.isArray(raw.users)) throw invalid(path, '"users" must be a list');
  const users: DevUser[] = raw.users.map((user: { id?: unknown; token?: unknown } | null, i: number) => {
    if (typeof user?.id !== 'string' || !USER_ID_PATTERN.test(user.id))
      throw invalid(path, `users[${i}].id must match ${USER_ID_PATTERN}`);
    if (typeof user.token !== 'string' || !TOKEN_PATTERN.test(user.token))
      throw invalid(path, `users[${i}].token must be 16+ printable characters without spaces or commas`);
    return { id: user.id, token: user.token };
  });
  if (new Set(users.map((u) => u.token)).size !== users.length)
    throw invalid(path, 'two users have the same token');
  const identity: DevIdentity = { users };
  const key = raw.brokerKey as Partial<AccessKey> | undefined;
  if (key !== undefined) {
    if (typeof key?.accessKeyId !== 'string' || typeof key.secretAccessKey !== 'string')
      throw invalid(path, '"brokerKey" must have accessKeyId and secretAccessKey');
    identity.brokerKey = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  }
  return identity;
}

/** The stored identity, with alice and bob added (fresh tokens) when missing. */
export function loadIdentity(dataDir: string): { identity: DevIdentity; changed: boolean } {
  const path = join(dataDir, IDENTITY_FILE);
  let identity: DevIdentity = { users: [] };
  try {
    identity = parse(path, readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  let changed = false;
  for (const id of DEV_USER_IDS) {
    if (identity.users.some((user) => user.id === id)) continue;
    identity.users.push({ id, token: newToken() });
    changed = true;
  }
  return { identity, changed };
}

/** Writes the file atomically, readable by its owner only. */
export function saveIdentity(dataDir: string, identity: DevIdentity): void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, IDENTITY_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}
