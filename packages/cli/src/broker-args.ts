/**
 * What the commands that talk to a broker share: `--broker`/`--token` with their
 * environment defaults, and usage errors (exit status 2, reported before anything is sent).
 */
import { parseSize } from '@hoist/broker';
import { normalizeBrokerUrl } from '@hoist/client/core';
import { MiB, S3_LIMITS } from '@hoist/protocol';

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
 * `--part-size`: `16MiB`, `8MB`, `5242880`. The engine wants whole MiB, so decimal sizes are
 * rounded up (`8MB` means 8 MiB, as people usually mean it).
 */
export function parsePartSize(text: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined)
    throw new UsageError(`--part-size must be a size such as 16MiB, 8MB or 8388608, got "${text}"`);
  const rounded = Math.ceil(bytes / MiB) * MiB;
  if (rounded < S3_LIMITS.minPartSize || rounded > S3_LIMITS.maxPartSize)
    throw new UsageError(`--part-size must be from 5MiB to 5GiB (S3's limits), got "${text}"`);
  return rounded;
}

/** MIME type check matching the engine's, so a bad `--content-type` fails before any upload. */
export function checkContentType(value: string | undefined): string | undefined {
  if (value !== undefined && !/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(value))
    throw new UsageError(`--content-type must be a MIME type such as video/mp4, got "${value}"`);
  return value;
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
