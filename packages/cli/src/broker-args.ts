/**
 * What the commands that talk to a broker share: `--broker`/`--token` with their
 * environment defaults, and usage errors (exit status 2, reported before anything is sent).
 */
import type { ConfigFlag } from '@hoist/broker';
import { normalizeBrokerUrl } from '@hoist/client/core';
import {
  concurrencyProblem,
  contentTypeProblem,
  parseSize,
  partSizeFromText,
  partSizeProblem,
  SIZE_SYNTAX,
} from '@hoist/protocol';

/** A mistake on the command line: reported as one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const BROKER_ARG_OPTIONS = {
  broker: { type: 'string' },
  token: { type: 'string' },
} as const;

export interface BrokerTarget {
  /** Without trailing slashes, so the same broker always gives the same resume key. */
  brokerUrl: string;
  token: string | undefined;
}

export function brokerTarget(
  values: { broker?: string | undefined; token?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): BrokerTarget {
  const raw = values.broker ?? env.HOIST_BROKER_URL;
  if (!raw) throw new UsageError('--broker URL is required (or set HOIST_BROKER_URL)');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--broker must be an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--broker must be an http(s) URL, got "${url.protocol}"`);
  // Never echo the URL here: it carries a secret.
  if (url.username || url.password) throw new UsageError('--broker must not contain a user or password');
  const token = values.token ?? env.HOIST_TOKEN;
  return { brokerUrl: normalizeBrokerUrl(url), token: token === '' ? undefined : token };
}

/**
 * `--part-size`: `16MiB`, `8MB`, `5242880`, read by the protocol's one rule: rounded up to whole
 * MiB (`8MB` means 8 MiB, as people usually mean it), then within S3's 5 MiB..5 GiB.
 */
export function parsePartSize(text: string): number {
  const bytes = partSizeFromText(text);
  if (bytes === undefined)
    throw new UsageError(`--part-size must be a size such as 16MiB, 8MB or 8388608, got "${text}"`);
  const problem = partSizeProblem(bytes);
  if (problem) throw new UsageError(`--part-size ${problem} (S3's limits are 5MiB to 5GiB), got "${text}"`);
  return bytes;
}

/** A size flag (`--max-size 20MiB`, `1GB`, bytes), by the protocol's size grammar. */
export function parseSizeFlag(flag: string, text: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined) throw new UsageError(`${flag} must be ${SIZE_SYNTAX}, got "${text}"`);
  return bytes;
}

/** `--concurrency N`: the engine's bound (1..64), checked before anything is sent. */
export function parseConcurrency(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  const problem = concurrencyProblem(n);
  if (problem) throw new UsageError(`--concurrency ${problem}, got "${text}"`);
  return n;
}

/** The engine's and the broker's content-type rule, so a bad `--content-type` fails before any upload. */
export function checkContentType(value: string | undefined): string | undefined {
  const problem = value === undefined ? undefined : contentTypeProblem(value);
  if (problem) throw new UsageError(`--content-type ${problem}, got "${value}"`);
  return value;
}

/**
 * Flags that set broker config fields (`--port` → `port`): handed to loadBrokerConfig, which
 * reads each like the field's variable, checks it by the field's rule and names the flag when
 * it is bad. `fields` maps flag names to config paths.
 */
export function configFlags(
  values: Readonly<Record<string, unknown>>,
  fields: Readonly<Record<string, string>>,
): ConfigFlag[] {
  return Object.entries(fields).flatMap(([flag, path]) => {
    const value = values[flag];
    return typeof value === 'string' ? [{ path, name: `--${flag}`, value }] : [];
  });
}

function isParseArgsError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** Runs a command; usage errors (ours and node:util parseArgs's) become one line and exit status 2. */
export async function withUsageErrors(command: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof UsageError) && !isParseArgsError(error)) throw error;
    process.stderr.write(`hoist: ${error.message} (see "hoist ${command} --help")\n`);
    process.exitCode = 2;
  }
}
