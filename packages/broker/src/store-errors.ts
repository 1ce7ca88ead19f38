/**
 * What the store (S3, STS, IAM) really answered, for people: its error code, HTTP status and
 * message, plus what to do about the failures a misconfigured deployment hits first.
 *
 * The AWS SDK reports an error it cannot parse as "Unknown"/"UnknownError". S3-compatible
 * stores such as Ceph RGW send STS and IAM errors in S3's `<Error><Code>…` XML rather than
 * the Query protocol's `<ErrorResponse><Error>…`, so `normaliseQueryErrors` rewrites them
 * before the SDK parses them, and `describeStoreError` falls back to the HTTP status when
 * there is still no code.
 */

import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { BrokerProblem } from './errors.ts';
import { scrubText } from './log.ts';
import { isSdkTimeout, type StackOwner, StoreTimeoutError } from './store-timeouts.ts';

export interface StoreErrorDescription {
  /** The store's code (`AccessDenied`, `MethodNotAllowed`, …), else one derived from the status or the network error. */
  code: string;
  /** The HTTP status, when the store answered at all. */
  status: number | undefined;
  /** The store's message, scrubbed and shortened; '' when it sent none. */
  message: string;
  /** The store did not answer in time. */
  timeout: boolean;
}

/** Names the SDK gives errors whose code it could not read. */
const UNPARSED = new Set(['Unknown', 'UnknownError', 'Error', '']);

/** Codes for statuses, when the store sent none (named as S3 names them). */
const STATUS_CODE_NAMES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'AccessDenied',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  412: 'PreconditionFailed',
  500: 'InternalError',
  501: 'NotImplemented',
  503: 'ServiceUnavailable',
};

const MAX_MESSAGE = 300;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function describeStoreError(error: unknown): StoreErrorDescription {
  const e = (error ?? {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    Code?: unknown;
    Message?: unknown;
    Error?: { Code?: unknown; Message?: unknown };
    $metadata?: { httpStatusCode?: number };
  };
  const status = e.$metadata?.httpStatusCode;
  const timeout = error instanceof StoreTimeoutError || isSdkTimeout(error);
  const name = text(e.name);
  const code =
    (timeout ? 'Timeout' : undefined) ??
    (name && !UNPARSED.has(name) ? name : undefined) ??
    text(e.Code) ??
    text(e.Error?.Code) ??
    (status !== undefined ? (STATUS_CODE_NAMES[status] ?? `HTTP${status}`) : undefined) ??
    text(e.code) ??
    name ??
    'Error';
  const ownMessage = text(e.message);
  const message =
    (ownMessage && !UNPARSED.has(ownMessage) ? ownMessage : undefined) ??
    text(e.Message) ??
    text(e.Error?.Message) ??
    '';
  const scrubbed = scrubText(message).replace(/[\x00-\x1f\x7f]+/g, ' ');
  return {
    code,
    status,
    message: scrubbed.length > MAX_MESSAGE ? `${scrubbed.slice(0, MAX_MESSAGE - 1)}…` : scrubbed,
    timeout,
  };
}

/** "405 MethodNotAllowed: message" — what the store said, in one phrase. */
export function storeAnswer(description: StoreErrorDescription): string {
  if (description.timeout) return 'the store did not answer in time';
  if (description.status === undefined)
    return `the store could not be reached (${description.code}${description.message && description.message !== description.code ? `: ${description.message}` : ''})`;
  const head = [description.status, description.code].filter((part) => part !== undefined).join(' ');
  // A bare status ("HTTP418") gets its reason phrase; a code says enough.
  const reason =
    description.status !== undefined &&
    description.code.startsWith('HTTP') &&
    STATUS_CODES[description.status]
      ? ` (${STATUS_CODES[description.status]})`
      : '';
  return `the store answered ${head}${reason}${description.message ? `: ${description.message}` : ''}`;
}

/** Statuses and codes of a store that does not implement an operation at all. */
export function isUnsupportedOperation(d: StoreErrorDescription): boolean {
  return (
    d.status === 405 ||
    d.status === 501 ||
    ['MethodNotAllowed', 'NotImplemented', 'InvalidAction', 'UnsupportedOperation'].includes(d.code)
  );
}

/** What to do about it, for the failures a deployment's configuration causes. */
export function remedyFor(operation: string, d: StoreErrorDescription): string | undefined {
  if (d.timeout) return 'check that the store is up, or raise upstream.requestTimeoutMs';
  if (operation === 'GetFederationToken' && isUnsupportedOperation(d))
    return 'this store has no STS GetFederationToken: use mode "sts" (AssumeRole) or "presign"';
  if (operation === 'AssumeRole') {
    if (isUnsupportedOperation(d)) return 'this store has no STS AssumeRole: use mode "presign"';
    if (d.status === 403 || d.status === 404 || ['AccessDenied', 'NoSuchEntity'].includes(d.code))
      return "check sts.roleArn (HOIST_STS_ROLE_ARN): the role must exist and trust the broker's identity";
  }
  if (
    d.code === 'InvalidAccessKeyId' ||
    d.code === 'SignatureDoesNotMatch' ||
    d.code === 'InvalidClientTokenId'
  )
    return "check the broker's own credentials (s3.credentials)";
  return undefined;
}

/**
 * The broker's problem for a failed store call: 504 `upstream-timeout` when the store did
 * not answer in time, else 502 `upstream-error`; the detail names the operation, the store's
 * status, code and message, and a remedy when one is known.
 */
export function storeProblem(operation: string, error: unknown): BrokerProblem {
  const d = describeStoreError(error);
  const remedy = remedyFor(operation, d);
  const detail = `${operation} failed: ${storeAnswer(d)}${remedy ? `; ${remedy}` : ''}`;
  return new BrokerProblem(d.timeout ? 'upstream-timeout' : 'upstream-error', detail, {
    cause: error,
    ...(refusedForGood(d) ? { retryable: false } : {}),
  });
}

/** Store answers that are transient although 4xx: a retry (or the SDK's refresh) can succeed. */
const TRANSIENT_CODES = new Set([
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'ExpiredToken',
  'SlowDown',
  'Throttling',
]);

/**
 * The store answered and refused the call in a way that will not change by asking again (a
 * 4xx such as AccessDenied, MethodNotAllowed, NoSuchBucket): callers should not retry the 502.
 */
export function refusedForGood(d: StoreErrorDescription): boolean {
  if (d.timeout || d.status === undefined) return false;
  if (d.status < 400 || d.status >= 500 || d.status === 408 || d.status === 429) return false;
  return !TRANSIENT_CODES.has(d.code);
}

// ---- S3-format errors from Query-protocol services -------------------------------------------

interface RawResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
}

async function readAll(body: unknown): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** `<Error>…</Error>` (S3's format) as `<ErrorResponse><Error>…</Error></ErrorResponse>`; undefined when not S3's format. */
export function queryErrorXml(xml: string): string | undefined {
  const body = xml.replace(/^\s*<\?xml[^>]*\?>/, '').trim();
  const match = /^<Error(?:\s[^>]*)?>([\s\S]*)<\/Error>$/.exec(body);
  if (!match) return undefined;
  const requestId = /<RequestId>([^<]*)<\/RequestId>/.exec(match[1] as string)?.[1] ?? '';
  return `<ErrorResponse><Error><Type>Sender</Type>${match[1]}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

/**
 * For STS and IAM clients: rewrites an error answer in S3's XML format into the Query
 * protocol's, so the SDK reads its code and message instead of reporting "UnknownError".
 * Idempotent per client.
 */
export function normaliseQueryErrors(client: StackOwner): void {
  const name = 'hoistQueryErrors';
  if (client.middlewareStack.identify().some((entry) => entry.startsWith(name))) return;
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = (await next(args)) as { response?: RawResponse };
      const response = out.response;
      if (!response || response.statusCode < 300 || response.body === undefined) return out;
      const raw = await readAll(response.body);
      const rewritten = queryErrorXml(raw.toString('utf8'));
      const bytes = rewritten === undefined ? raw : Buffer.from(rewritten);
      // The body was read: the SDK's parser gets a fresh stream of the same (or the rewritten) bytes.
      response.body = Readable.from([bytes]);
      if (rewritten !== undefined) response.headers['content-length'] = String(bytes.length);
      return out;
    },
    // Inside the SDK's deserializer (same step, lower priority): sees the raw answer first.
    { step: 'deserialize', priority: 'low', name },
  );
}
