/**
 * The local server's one options object, validated at the edge: a bad option is
 * a TypeError that names it.
 */
import type { IamConfigInput } from './iam/config.ts';

export interface RootCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ServerOptions {
  /** Folder for metadata and object bytes; created when missing. */
  dataDir: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /** Region the server answers for. @default 'us-east-1' */
  region?: string;
  /** Root credentials with full access; generated (and kept in dataDir) when absent. */
  rootCredentials?: RootCredentials;
  /**
   * Host names under which `bucket.<domain>` addresses a bucket (virtual-host style).
   * @default ['localhost']
   */
  virtualHostDomains?: string[];
  /** Injected clock (ms since epoch), so expiry and skew are tested without sleeping. */
  clock?: () => number;
  /** Seconds a connection may sit idle mid-request before it is dropped. @default 120 */
  idleTimeoutSeconds?: number;
  /** Buckets to create at start (idempotent). */
  buckets?: string[];
  /**
   * IAM: the account, users, roles and policies (a path to a JSON file, or the object).
   * Declared entities are (re)applied at every start; ones created through the IAM API persist.
   */
  iam?: string | IamConfigInput;
  /** Account id when no IAM config names one. @default '000000000000' */
  accountId?: string;
}

// Hand-written checks rather than a schema library: the server stays small to load (it starts in every test).
const CHECKS: Record<string, (value: unknown) => string | undefined> = {
  dataDir: (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty path'),
  port: (v) =>
    Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535
      ? undefined
      : 'must be an integer 0..65535',
  host: (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string'),
  region: (v) =>
    typeof v === 'string' && /^[a-z]{2}(-[a-z]+)+-\d+$/.test(v) ? undefined : 'must look like us-east-1',
  rootCredentials: (v) => {
    const c = v as Partial<RootCredentials> | null;
    if (typeof c !== 'object' || c === null) return 'must be an object';
    const extra = Object.keys(c).filter((k) => k !== 'accessKeyId' && k !== 'secretAccessKey');
    if (extra.length > 0) return `has unknown keys: ${extra.join(', ')}`;
    if (typeof c.accessKeyId !== 'string' || !/^[A-Z0-9]{16,128}$/.test(c.accessKeyId)) {
      return 'accessKeyId must be 16–128 uppercase letters or digits';
    }
    if (
      typeof c.secretAccessKey !== 'string' ||
      c.secretAccessKey.length < 16 ||
      c.secretAccessKey.length > 128
    ) {
      return 'secretAccessKey must be 16–128 characters';
    }
    return undefined;
  },
  virtualHostDomains: (v) =>
    Array.isArray(v) && v.every((d) => typeof d === 'string' && d.length > 0)
      ? undefined
      : 'must be an array of host names',
  clock: (v) => (typeof v === 'function' ? undefined : 'must be a function returning ms since the epoch'),
  idleTimeoutSeconds: (v) =>
    typeof v === 'number' && v > 0 && v <= 3600 ? undefined : 'must be a number of seconds, at most 3600',
  buckets: (v) =>
    Array.isArray(v) && v.every((b) => typeof b === 'string')
      ? undefined
      : 'must be an array of bucket names',
  // Its contents are validated (with field paths) by the IAM config parser.
  iam: (v) =>
    typeof v === 'string' || (typeof v === 'object' && v !== null)
      ? undefined
      : 'must be a file path or a config object',
  accountId: (v) => (typeof v === 'string' && /^\d{12}$/.test(v) ? undefined : 'must be 12 digits'),
};

function validate(options: ServerOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('Server options must be an object.');
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const check = CHECKS[name];
    if (!check) throw new TypeError(`Unknown server option "${name}".`);
    const problem = check(value);
    if (problem) throw new TypeError(`Invalid server option "${name}": ${problem}`);
  }
  if (options.dataDir === undefined)
    throw new TypeError('Invalid server option "dataDir": must be a non-empty path');
}

export interface ResolvedServerOptions {
  dataDir: string;
  port: number;
  host: string;
  region: string;
  rootCredentials: RootCredentials | undefined;
  virtualHostDomains: string[];
  clock: () => number;
  idleTimeoutMs: number;
  buckets: string[];
  iam: string | IamConfigInput | undefined;
  accountId: string | undefined;
}

export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  validate(options);
  return {
    dataDir: options.dataDir,
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    region: options.region ?? 'us-east-1',
    rootCredentials: options.rootCredentials,
    virtualHostDomains: options.virtualHostDomains ?? ['localhost'],
    clock: options.clock ?? Date.now,
    idleTimeoutMs: (options.idleTimeoutSeconds ?? 120) * 1000,
    buckets: options.buckets ?? [],
    iam: options.iam,
    accountId: options.accountId,
  };
}
