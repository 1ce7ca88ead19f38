/**
 * One SigV4-signed HTTP call to the store, on node:http(s) with keep-alive: what the broker's
 * two per-upload calls (CreateMultipartUpload, AssumeRole/GetFederationToken) need, without
 * the AWS SDK's middleware stack, which cost the broker 0.4–0.5 ms more CPU per call
 * (`bench:broker --upstream sdk` vs `direct`; see docs/benchmarks.md). Same behaviour as the SDK clients it stands in for:
 * up to 3 attempts with full-jitter backoff for transient failures, a timed-out attempt not
 * retried (StoreTimeoutError), the signing clock corrected from the store's Date header when
 * the two are minutes apart (and the refused call asked again), and errors shaped as the SDK's (`name` = the store's code,
 * `$metadata.httpStatusCode`) so describeStoreError reads them alike.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { nodeSigV4Crypto } from '@hoist/aws/node';
import { nodesOf, parseXmlBody, textOf } from '@hoist/aws/s3';
import { signRequest } from '@hoist/aws/sigv4';
import { StoreTimeoutError, type StoreTimeouts } from '../store-timeouts.ts';

export interface Identity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** Resolves the broker's own credentials (static, or the SDK's provider chain, cached there). */
export type IdentityProvider = () => Promise<Identity>;

/** Where a call goes: `path` (with its query) exactly as sent and signed, never normalised. */
export interface Target {
  origin: string;
  path: string;
  /** The origin, read once: what node:http connects to. */
  secure: boolean;
  hostname: string;
  port: number;
}

/** A target at `path` on the origin of `base` (an endpoint URL, parsed once by the caller). */
export function targetAt(base: URL, origin: string, path: string): Target {
  const secure = base.protocol === 'https:';
  return {
    origin,
    path,
    secure,
    hostname: new URL(origin).hostname.replace(/^\[|\]$/g, ''),
    port: Number(base.port) || (secure ? 443 : 80),
  };
}

export interface SignedCall {
  method: 'POST';
  target: Target;
  service: 's3' | 'sts';
  headers: Record<string, string>;
  body?: string | undefined;
}

export interface StoreAnswer {
  status: number;
  text: string;
  /** The store's `Date` header, ms since the epoch (NaN without one). */
  date: number;
}

/** A store's error answer, shaped like the AWS SDK's service exceptions. */
export class StoreCallError extends Error {
  readonly $metadata: { httpStatusCode: number };
  /** The store's `Date` header, ms (NaN without one): what the signing clock is corrected from. */
  readonly serverDate: number;
  constructor(code: string, message: string, status: number, serverDate = Number.NaN) {
    super(message || code);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
    this.serverDate = serverDate;
  }
}

const MAX_ATTEMPTS = 3;
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 20_000;
/** The two answers are small XML documents; anything longer is not a store talking. */
const MAX_ANSWER_BYTES = 1024 * 1024;
const RETRYABLE_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'SlowDown',
  'RequestTimeout',
  'InternalError',
  'ServiceUnavailable',
  'RequestLimitExceeded',
  'IDPCommunicationError',
]);
/** Refusals of a signature made by a clock the store disagrees with (the SDK's list). */
const CLOCK_SKEW_CODES = new Set([
  'AuthFailure',
  'InvalidSignatureException',
  'RequestExpired',
  'RequestInTheFuture',
  'RequestTimeTooSkewed',
  'SignatureDoesNotMatch',
]);
/** SigV4 signatures are good for 15 minutes either way; correct well inside that. */
const SKEW_TOLERANCE_MS = 5 * 60_000;
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN']);

export interface SignedHttpOptions {
  region: string;
  identity: IdentityProvider;
  timeouts: StoreTimeouts;
  /** Backoff randomness, injectable for tests. @default Math.random */
  random?: () => number;
}

export interface SignedHttp {
  send(call: SignedCall): Promise<StoreAnswer>;
  close(): void;
}

export function createSignedHttp(options: SignedHttpOptions): SignedHttp {
  const random = options.random ?? Math.random;
  /** Store time minus local time, once they turned out to be minutes apart. */
  let clockOffsetMs = 0;
  /** True when the store's clock is minutes off ours: the offset is corrected. */
  const corrected = (serverDate: number): boolean => {
    if (Number.isNaN(serverDate)) return false;
    const now = Date.now();
    if (Math.abs(serverDate - (now + clockOffsetMs)) < SKEW_TOLERANCE_MS) return false;
    clockOffsetMs = serverDate - now;
    return true;
  };
  // Keep-alive: a fresh TCP (and TLS) connection per call would cost more than the call.
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, maxSockets: 64 }),
    'https:': new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
  };

  async function attempt(call: SignedCall): Promise<StoreAnswer> {
    const identity = await options.identity();
    const signed = await signRequest({
      method: call.method,
      url: call.target.origin + call.target.path,
      headers: call.headers,
      service: call.service,
      region: options.region,
      credentials: identity,
      datetime: new Date(Date.now() + clockOffsetMs),
      body: call.body ?? '',
      crypto: nodeSigV4Crypto,
    });
    const body = Buffer.from(call.body ?? '', 'utf8');
    const headers = { ...call.headers, ...signed, 'content-length': String(body.length) };
    const answer = await exchange(call.target, call.method, headers, body, options.timeouts, agents);
    corrected(answer.date);
    return answer;
  }

  return {
    async send(call) {
      for (let n = 1; ; n++) {
        try {
          return await attempt(call);
        } catch (error) {
          const skewed =
            error instanceof StoreCallError &&
            CLOCK_SKEW_CODES.has(error.name) &&
            corrected(error.serverDate);
          if (n >= MAX_ATTEMPTS || !(skewed || retryable(error))) throw error;
          if (skewed) continue;
          const delay = random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** n);
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    },
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function retryable(error: unknown): boolean {
  if (error instanceof StoreTimeoutError) return false;
  if (error instanceof StoreCallError) {
    const status = error.$metadata.httpStatusCode;
    return status >= 500 || status === 429 || RETRYABLE_CODES.has(error.name);
  }
  return RETRYABLE_NETWORK.has(String((error as { code?: unknown } | null)?.code));
}

/** One request and its whole answer; a 3xx-5xx answer becomes a StoreCallError. */
function exchange(
  target: Target,
  method: string,
  headers: Record<string, string>,
  body: Buffer,
  timeouts: StoreTimeouts,
  agents: { 'http:': HttpAgent; 'https:': HttpsAgent },
): Promise<StoreAnswer> {
  const { secure } = target;
  return new Promise<StoreAnswer>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const fail = (error: Error): void => {
      clearTimeout(timer);
      req.destroy();
      reject(error);
    };
    const deadline = (ms: number, what: string): void => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(new StoreTimeoutError(`the store did not answer in time (${what})`)), ms);
    };
    const req = (secure ? httpsRequest : httpRequest)({
      protocol: secure ? 'https:' : 'http:',
      hostname: target.hostname,
      port: target.port,
      method,
      path: target.path,
      headers,
      agent: agents[secure ? 'https:' : 'http:'],
    });
    req.on('socket', (socket) => {
      // A reused keep-alive socket is connected already; a new one gets the connect timeout.
      if (socket.connecting) {
        deadline(timeouts.connectTimeoutMs, 'connect');
        socket.once('connect', () => deadline(timeouts.requestTimeoutMs, 'answer'));
      } else deadline(timeouts.requestTimeoutMs, 'answer');
    });
    req.on('error', (error) => fail(error));
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      deadline(timeouts.requestTimeoutMs, 'body');
      res.on('data', (chunk: Buffer) => {
        // Silence is what times out: each chunk restarts the clock.
        deadline(timeouts.requestTimeoutMs, 'body');
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) fail(new Error('the store answered with an oversized body'));
        else chunks.push(chunk);
      });
      res.on('error', (error) => fail(error));
      res.on('end', () => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        const text = Buffer.concat(chunks).toString('utf8');
        const date = Date.parse(String(res.headers.date));
        if (status >= 200 && status < 300) resolve({ status, text, date });
        else reject(errorOf(status, text, date));
      });
    });
    req.end(body);
  });
}

/** S3's `<Error><Code>…` and the Query protocol's `<ErrorResponse><Error><Code>…` alike. */
export function errorOf(status: number, text: string, serverDate = Number.NaN): StoreCallError {
  let code = '';
  let message = '';
  const root = /<(ErrorResponse|Error)[\s>]/.exec(text)?.[1];
  try {
    const doc = root ? parseXmlBody(text, root) : undefined;
    const error = root === 'ErrorResponse' && doc ? nodesOf(doc, 'Error')[0] : doc;
    code = (error && textOf(error, 'Code')?.trim()) || '';
    message = (error && textOf(error, 'Message')?.trim()) || '';
  } catch {
    // Not the XML it claims to be: the status speaks for it.
  }
  // No code: describeStoreError names the error after its status.
  return new StoreCallError(code || 'Unknown', message, status, serverDate);
}
