/**
 * The broker's configuration: one zod schema (config/schema.ts) whose fields carry their
 * environment variable, meaning and default, fed by an optional JSON file and by `HOIST_*`
 * environment variables (the environment wins), validated once at start. Every error names
 * the field it is about, or the environment variable the bad value came from:
 *
 * ```text
 * Invalid broker configuration:
 *   s3.bucket: Required
 *   HOIST_MODE: must be one of sts, federation, presign
 * ```
 *
 * Secret values (keys, tokens, JWT and webhook secrets, registry URLs with passwords) never
 * appear in error messages. `CONFIG_REFERENCE` lists every field with its variable, default
 * and meaning, for the docs' table.
 *
 * @example
 * ```ts
 * const config = loadBrokerConfig({ file: 'broker.json' }); // also reads process.env
 * ```
 * @module
 */
import { readFileSync } from 'node:fs';
import { fromEnv, isPlainObject, setPath, withoutUndefined } from './config/env.ts';
import { BrokerConfigError, configIssues, errorMessage } from './config/errors.ts';
import { type FieldRow, fieldRows } from './config/field.ts';
import { type BrokerConfig, brokerConfigSchema } from './config/schema.ts';

/** Sizes in the config are read by the protocol's one grammar (kept here for existing imports). */
export { parseSize } from '@hoist/protocol';
export { BrokerConfigError } from './config/errors.ts';
export type { BrokerConfig } from './config/schema.ts';
export { USER_ID_PATTERN } from './config/values.ts';

export type S3Config = BrokerConfig['s3'];
/** Static keys for the broker's own S3/STS calls. */
export type S3Credentials = NonNullable<S3Config['credentials']>;
export type StsConfig = BrokerConfig['sts'];
export type FederationConfig = BrokerConfig['federation'];
/** What the S3 store can do, probed at start unless pinned (see capabilities.ts). */
export type StoreConfig = BrokerConfig['store'];
/** A store capability: `'auto'` probes the store at start; true/false pins it (no probe for it). */
export type CapabilitySetting = StoreConfig['flexibleChecksums'];
export type PresignConfig = BrokerConfig['presign'];
export type AuthConfig = BrokerConfig['auth'];
export type JwtConfig = NonNullable<AuthConfig['jwt']>;
export type CorsConfig = BrokerConfig['cors'];
/** Companion-compatible routes for Uppy's `@uppy/aws-s3` (see docs/uppy.md). */
export type UppyConfig = BrokerConfig['uppy'];
export type RegistryConfig = BrokerConfig['registry'];
export type WebhookConfig = NonNullable<BrokerConfig['webhook']>;

/**
 * Throws `BrokerConfigError` on `auth` when the config has neither static tokens nor JWT:
 * what `createBroker` checks unless the application passes its own authenticator.
 */
export function requireAuthConfig(config: Pick<BrokerConfig, 'auth'>): void {
  const { tokens, jwt } = config.auth;
  if ((tokens && Object.keys(tokens).length > 0) || jwt) return;
  throw new BrokerConfigError([
    {
      path: 'auth',
      message:
        'Required: static tokens or JWT (or an authenticator passed to createBroker). For development set ' +
        'HOIST_TOKENS="alice:token1,bob:token2"; for JWTs set HOIST_JWT_SECRET or HOIST_JWKS_URL ' +
        '(or auth.tokens / auth.jwt in the config file)',
    },
  ]);
}

/** The variable naming the config file when `loadBrokerConfig` gets no `file`. */
export const CONFIG_FILE_ENV = 'HOIST_CONFIG';

const ROWS = fieldRows(brokerConfigSchema);

/** One row per config field: its JSON path, environment variable, default, meaning, and whether it is secret. */
export const CONFIG_REFERENCE: readonly {
  path: string;
  env: string;
  default: string;
  description: string;
  secret: boolean;
}[] = Object.freeze(
  ROWS.map(({ path, env, default: def, description, secret }) =>
    Object.freeze({ path, env, default: def, description, secret }),
  ),
);

function validate(
  value: unknown,
  envPaths: ReadonlyMap<string, string>,
  early: { path: string; message: string }[] = [],
): BrokerConfig {
  const result = brokerConfigSchema.safeParse(withoutUndefined(value), { error: errorMessage });
  if (result.success && early.length === 0) return result.data;
  throw new BrokerConfigError([...early, ...configIssues(result.error?.issues ?? [], envPaths)]);
}

/**
 * Validates a config object (as in the JSON file; sizes may be numbers or strings such as
 * `"5GiB"`) and applies every default. Throws `BrokerConfigError` naming each bad field.
 */
export function parseBrokerConfig(value: unknown): BrokerConfig {
  return validate(value, new Map());
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new BrokerConfigError([{ path: `config file ${file}`, message: `cannot be read (${code})` }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text, which may hold secrets.
    throw new BrokerConfigError([{ path: `config file ${file}`, message: 'is not valid JSON' }]);
  }
  if (!isPlainObject(value))
    throw new BrokerConfigError([{ path: `config file ${file}`, message: 'must hold a JSON object' }]);
  return value;
}

/** A command-line flag that sets one config field (`--port 0` → `port`). */
export interface ConfigFlag {
  /** The field's path, as in CONFIG_REFERENCE (`port`, `limits.maxObjectSize`). */
  path: string;
  /** How the flag is named in errors (`--port`). */
  name: string;
  value: string;
}

/**
 * Reads the JSON file (`file`, else `$HOIST_CONFIG`, else none), overlays the `HOIST_*`
 * variables of `env` (default `process.env`; empty values count as unset), then `flags`, and
 * validates. A flag's text is read like its field's variable. Throws `BrokerConfigError`
 * naming each bad field, variable or flag.
 */
export function loadBrokerConfig(
  options: { file?: string; env?: Record<string, string | undefined>; flags?: readonly ConfigFlag[] } = {},
): BrokerConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? (env[CONFIG_FILE_ENV] || undefined);
  const value = file === undefined ? {} : readConfigFile(file);
  const sourcePaths = new Map<string, string>();
  const early: { path: string; message: string }[] = [];
  const overlay = (row: FieldRow, name: string, raw: string) => {
    if (setPath(value, row.path.split('.'), fromEnv(row.kind, raw, name, early)))
      sourcePaths.set(row.path, name);
  };
  // Empty variables count as unset; an empty flag is a mistake the field's rule reports.
  for (const row of ROWS) {
    const raw = env[row.env];
    if (raw !== undefined && raw.trim() !== '') overlay(row, row.env, raw);
  }
  for (const flag of options.flags ?? []) {
    const row = ROWS.find((r) => r.path === flag.path);
    if (!row) throw new TypeError(`${flag.name} names no config field (${flag.path})`);
    overlay(row, flag.name, flag.value);
  }
  return validate(value, sourcePaths, early);
}
