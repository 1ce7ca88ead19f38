/**
 * The broker's logger: pino, JSON lines, with secrets scrubbed from every line before it is
 * written: values under secret-looking keys (`authorization`, `x-amz-security-token`,
 * `secretAccessKey`, `sessionToken`, `token`, `secret`, `password`, `cookie`, …) at any
 * depth, and secrets inside strings (`X-Amz-Signature`/`X-Amz-Security-Token` query
 * parameters, `Bearer …`, SigV4 `Signature=…`, anything shaped like a JWT), in messages,
 * bindings and errors too. `auditCredentialIssued` writes the one audit line per credential.
 *
 * @example
 * ```ts
 * const logger = createLogger({ level: 'info' });
 * logger.info({ url: presigned.url, headers }, 'part url issued'); // signature and token redacted
 * ```
 * @module
 */
import { createHash } from 'node:crypto';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/** What replaces a secret. */
export const REDACTED = '[Redacted]';

export interface CreateLoggerOptions {
  /** @default 'info' */
  level?: LoggerOptions['level'];
  /** Where lines go (tests pass a stream). @default stdout */
  destination?: DestinationStream;
  /** Fields on every line. @default { name: 'hoist-broker' } */
  base?: Record<string, unknown>;
}

// Keys compared lower-cased with `-` and `_` removed.
const SECRET_KEYS = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'xamzsecuritytoken',
  'xamzsignature',
  'secretaccesskey',
  'sessiontoken',
  'securitytoken',
  'privatekey',
  'apikey',
  'xapikey',
]);
const SECRET_KEY_SUFFIX = /(?:secret|token|tokens|password|passwd|signature)$/;

// Secrets inside strings: presigned URL parameters, headers quoted in text, JWTs.
const TEXT_RULES: [RegExp, string][] = [
  [/([?&](?:X-Amz-Signature|X-Amz-Security-Token|Signature)=)[^&#\s"'<>]*/gi, `$1${REDACTED}`],
  [/(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi, `$1${REDACTED}`],
  [/(Signature=)[0-9a-f]{16,}/gi, `$1${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // postgres://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^/\s@]+@/gi, `$1${REDACTED}@`],
];

/** `text` with signatures, security tokens, bearer tokens, JWTs and URL passwords replaced. */
export function scrubText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TEXT_RULES) out = out.replace(pattern, replacement);
  return out;
}

const isSecretKey = (key: string) => {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEYS.has(k) || SECRET_KEY_SUFFIX.test(k);
};

const MAX_DEPTH = 8;
const MAX_KEYS = 200;

/**
 * A copy of `value` safe to log: secret-keyed values replaced, strings scrubbed, errors
 * serialized (type, message, stack, own fields), depth and width bounded.
 */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '[Too deep]';
  if (value instanceof URL) return scrubText(value.href);
  if (value instanceof Date) return value.toISOString();
  if (typeof Headers !== 'undefined' && value instanceof Headers) {
    const headers: Record<string, string> = {};
    value.forEach((item, key) => {
      headers[key] = item;
    });
    return redactValue(headers, depth);
  }
  if (Array.isArray(value)) return value.slice(0, MAX_KEYS).map((item) => redactValue(item, depth + 1));
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  const out: Record<string, unknown> = {};
  if (value instanceof Error) {
    const serialized = pino.stdSerializers.err(value) as unknown as Record<string, unknown>;
    out.type = serialized.type;
    out.message = scrubText(String(serialized.message));
    out.stack = scrubText(String(serialized.stack));
  }
  let count = 0;
  for (const [key, item] of Object.entries(value)) {
    if (++count > MAX_KEYS) break;
    if (key in out) continue;
    out[key] =
      isSecretKey(key) && item !== undefined && item !== null ? REDACTED : redactValue(item, depth + 1);
  }
  return out;
}

/** A pino logger whose every line passes through `redactValue`/`scrubText`. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.base ?? { name: 'hoist-broker' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      bindings: (bindings) => redactValue(bindings) as Record<string, unknown>,
      log: (object) => redactValue(object) as Record<string, unknown>,
    },
    serializers: {
      // Already serialized and scrubbed by formatters.log; pino's default would re-wrap it.
      err: (err: unknown) => err,
      // The final message, after printf-style interpolation.
      msg: (msg: unknown) => (typeof msg === 'string' ? scrubText(msg) : msg),
    },
  };
  const logger = options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
  // pino applies formatters.bindings to the root's bindings only; children inherit this own
  // property through their prototype, so bindings at every level are scrubbed.
  const { child, setBindings } = logger;
  logger.child = function (this: Logger, bindings: Record<string, unknown>, childOptions?: unknown) {
    return child.call(this, redactValue(bindings) as Record<string, unknown>, childOptions as never);
  } as Logger['child'];
  logger.setBindings = function (this: Logger, bindings: Record<string, unknown>) {
    setBindings.call(this, redactValue(bindings) as Record<string, unknown>);
  };
  return logger;
}

export interface CredentialIssuedAudit {
  userId: string;
  /** The broker's upload id. */
  uploadId: string;
  key: string;
  expiration: Date | string;
  /** The session policy sent to STS (the exact JSON string, or the object). */
  policy: string | object;
  mode?: string;
  /** Access key id of the issued credentials (not secret; links the line to CloudTrail/S3 logs). */
  accessKeyId?: string;
}

/** SHA-256 (hex) of the policy text as sent to STS. */
export function policyDigest(policy: string | object): string {
  const text = typeof policy === 'string' ? policy : JSON.stringify(policy);
  return createHash('sha256').update(text).digest('hex');
}

/** One audit line per credential issued: who, what key, until when, and the policy's digest. Never the credentials. */
export function auditCredentialIssued(logger: Logger, audit: CredentialIssuedAudit): void {
  const expiration = audit.expiration instanceof Date ? audit.expiration.toISOString() : audit.expiration;
  logger.info(
    {
      audit: 'credential-issued',
      userId: audit.userId,
      uploadId: audit.uploadId,
      key: audit.key,
      expiration,
      policySha256: policyDigest(audit.policy),
      ...(audit.mode !== undefined && { mode: audit.mode }),
      ...(audit.accessKeyId !== undefined && { accessKeyId: audit.accessKeyId }),
    },
    'credential issued',
  );
}
