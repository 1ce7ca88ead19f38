/**
 * Session tokens: the whole session (its secret, expiry, principal and session
 * policy) sealed with AES-256-GCM under a server key kept in the data directory.
 * Tokens survive a restart and need no table; a flipped bit, a token from another
 * server, or one paired with another access key id is refused.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerError } from './errors.ts';

export type SessionKind = 'AssumeRole' | 'GetFederationToken' | 'GetSessionToken';

/** What a session token carries. */
export interface SessionClaims {
  v: 1;
  kind: SessionKind;
  accessKeyId: string;
  secretAccessKey: string;
  /** ms since epoch */
  issuedAt: number;
  expiresAt: number;
  accountId: string;
  /** The caller who created the session: a user name (federation, session token) or the role chain's first user. */
  userName?: string;
  /** That user's unique id (`AIDA…`) and ARN (with its path), as GetCallerIdentity reports them. */
  userId?: string;
  userArn?: string;
  roleArn?: string;
  roleId?: string;
  roleSessionName?: string;
  /** GetFederationToken's Name. */
  federatedName?: string;
  /** Packed (whitespace-free) session policy JSON. */
  sessionPolicy?: string;
  policyArns?: string[];
  tags?: Record<string, string>;
  transitiveTagKeys?: string[];
  /** Created by a caller that was itself a role session (role chaining). */
  chained?: boolean;
}

const KEY_FILE = 'sts-key';
const VERSION = 1;
const AAD = Buffer.from('hoist-sts-session-v1');
/** Tokens are bounded so a hostile header cannot make the server decrypt megabytes. */
export const MAX_TOKEN_LENGTH = 8192;

/** A session token this server did not seal (or cannot read): S3's InvalidToken. */
export class TokenError extends ServerError<'InvalidToken'> {
  constructor(message: string) {
    super('InvalidToken', message);
  }
}

/**
 * The server key: 32 random bytes in `<dataDir>/sts-key` (mode 0600), created once.
 * Returned as a KeyObject: Node re-inspects a raw Buffer key on every cipher call,
 * which costs more than the decryption itself.
 */
export function loadOrCreateTokenKey(dataDir: string): KeyObject {
  return createSecretKey(readOrCreateKeyBytes(dataDir));
}

function readOrCreateKeyBytes(dataDir: string): Buffer {
  const path = join(dataDir, KEY_FILE);
  try {
    const key = readFileSync(path);
    if (key.length !== 32) throw new Error(`${path} must hold exactly 32 bytes`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, key, { mode: 0o600 });
  const fd = openSync(temp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temp, path);
  return key;
}

export function sealSession(key: KeyObject, claims: SessionClaims): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]).toString('base64');
}

/** Opens a token; throws TokenError for anything not sealed by this key. Expiry is the caller's check. */
export function openSession(key: KeyObject, token: string): SessionClaims {
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) {
    throw new TokenError('The security token is malformed.');
  }
  const raw = Buffer.from(token, 'base64');
  if (raw.length < 1 + 12 + 16 + 2 || raw[0] !== VERSION)
    throw new TokenError('The security token is malformed.');
  const iv = raw.subarray(1, 13);
  const tag = raw.subarray(raw.length - 16);
  const body = raw.subarray(13, raw.length - 16);
  let plain: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(AAD);
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new TokenError('The security token is invalid.');
  }
  const claims = JSON.parse(plain) as SessionClaims;
  if (claims.v !== 1) throw new TokenError('The security token is of an unknown version.');
  return claims;
}
