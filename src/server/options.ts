/**
 * The local server's one options object, validated at the edge: a bad option is
 * a TypeError that names it.
 */
import { z } from 'zod';

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
}

const accessKeyId = z.string().regex(/^[A-Z0-9]{16,128}$/, 'must be 16–128 uppercase letters or digits');
const secret = z.string().min(16).max(128);

const schema = z.object({
  dataDir: z.string().min(1),
  port: z.number().int().min(0).max(65535).optional(),
  host: z.string().min(1).optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must look like us-east-1')
    .optional(),
  rootCredentials: z.object({ accessKeyId, secretAccessKey: secret }).strict().optional(),
  virtualHostDomains: z.array(z.string().min(1)).optional(),
  clock: z.function().optional(),
  idleTimeoutSeconds: z.number().positive().max(3600).optional(),
  buckets: z.array(z.string()).optional(),
});

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
}

export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || 'options';
    throw new TypeError(`Invalid server option "${path}": ${issue?.message ?? 'invalid'}`);
  }
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
  };
}
