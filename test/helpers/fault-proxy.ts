/**
 * A fault-injecting HTTP proxy for upload-engine tests. It sits on a loopback port
 * between a client and a real server, forwards each request as received (method,
 * path, query and headers, Host included: SigV4 signs it), and applies at most one
 * {@link Fault} per request, chosen by a rule. It counts the request-body bytes that
 * reach the server, so tests can bound how much an engine re-sends.
 */
import { randomBytes } from 'node:crypto';
import {
  Agent,
  type ClientRequest,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type Fault =
  /** Destroys the client's connection (TCP reset) after forwarding `afterBytes` of the request body.
   * When the body is no longer than that, the server gets it all and only the response is lost. */
  | { kind: 'reset-request'; afterBytes: number }
  /** Answers with an S3 XML error after reading (and discarding) the request body; nothing is forwarded. */
  | {
      kind: 'status';
      status: 500 | 503 | 429 | 400 | 403;
      code: string;
      message?: string;
      /** Sent as `Retry-After` when set. */
      retryAfterSeconds?: number;
    }
  /** Forwards, then holds the server's response this long before sending it. */
  | { kind: 'delay-response'; ms: number }
  /** Reads the request body and never answers, until the client gives up or the proxy closes. */
  | { kind: 'stall' }
  /** Forwards; sends the response head (with its Content-Length) and only `bytes` of the body,
   * then closes the connection. A body no longer than `bytes` arrives whole before the close. */
  | { kind: 'truncate-response'; bytes: number }
  /** Forwards the request body at this rate. */
  | { kind: 'slow-request'; bytesPerSecond: number }
  /** Forwards and removes this response header (e.g. `etag`, as a bucket whose CORS hides it). */
  | { kind: 'strip-header'; name: string };

export interface ProxiedRequest {
  /** 0-based arrival order. */
  index: number;
  method: string;
  /** Path and query as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export type Rule = (request: ProxiedRequest) => Fault | undefined;
export type Filter = (request: ProxiedRequest) => boolean;

export interface LogEntry {
  request: ProxiedRequest;
  fault?: Fault;
  /** Status sent by the server (or by the proxy for `status` faults and 502s). */
  status?: number;
  /** Request-body bytes forwarded to the server. */
  bodyBytes: number;
  /** Request-body bytes read from the client (more than `bodyBytes` when a fault swallowed them). */
  receivedBytes: number;
}

export interface RouteStats {
  requests: number;
  /** Request-body bytes forwarded to the server. */
  bodyBytes: number;
  /** Request-body bytes the client sent to the proxy. */
  receivedBytes: number;
}

export interface FaultProxyStats {
  requests: number;
  /** Bytes of request bodies forwarded upstream. */
  requestBodyBytes: number;
  /** Bytes of request bodies read from clients, faulted requests included. */
  receivedBodyBytes: number;
  byRoute(predicate: Filter): RouteStats;
  /** Requests a fault was applied to. */
  faults: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT` */
  url: string;
  stats: FaultProxyStats;
  setRule(rule: Rule | undefined): void;
  /** One entry per request, updated in place as it progresses. */
  log: LogEntry[];
  /** Destroys every connection (stalled ones included) and resolves once the port is closed. */
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  rule?: Rule;
}

/** Hop-by-hop response headers: the proxy runs its own connection to the client. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive']);

const DEFAULT_MESSAGES: Record<string, string> = {
  SlowDown: 'Please reduce your request rate.',
  InternalError: 'We encountered an internal error. Please try again.',
  ServiceUnavailable: 'Service is unable to handle request.',
  RequestTimeout:
    'Your socket connection to the server was not read from or written to within the timeout period.',
  ExpiredToken: 'The provided token has expired.',
};

export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstreamUrl = new URL(target);
  if (upstreamUrl.protocol !== 'http:') throw new TypeError(`target: expected an http:// URL, got ${target}`);
  const upstreamHost = upstreamUrl.hostname.replace(/^\[|\]$/g, '');
  const upstreamPort = Number(upstreamUrl.port || 80);
  const pathPrefix = upstreamUrl.pathname.replace(/\/$/, '');
  const agent = new Agent({ keepAlive: true });

  let rule = options.rule;
  const log: LogEntry[] = [];
  let faults = 0;
  const sockets = new Set<Socket>();
  const inFlight = new Set<AbortController>();

  const stats: FaultProxyStats = {
    get requests() {
      return log.length;
    },
    get requestBodyBytes() {
      return log.reduce((sum, e) => sum + e.bodyBytes, 0);
    },
    get receivedBodyBytes() {
      return log.reduce((sum, e) => sum + e.receivedBytes, 0);
    },
    get faults() {
      return faults;
    },
    byRoute(predicate) {
      const route = { requests: 0, bodyBytes: 0, receivedBytes: 0 };
      for (const e of log) {
        if (!predicate(e.request)) continue;
        route.requests++;
        route.bodyBytes += e.bodyBytes;
        route.receivedBytes += e.receivedBytes;
      }
      return route;
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const request: ProxiedRequest = {
      index: log.length,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
    };
    const entry: LogEntry = { request, bodyBytes: 0, receivedBytes: 0 };
    log.push(entry);
    const fault = rule?.(request);
    if (fault) {
      entry.fault = fault;
      faults++;
    }
    if (fault?.kind === 'status') {
      if (await drain(req, entry)) sendS3Error(req, res, entry, fault);
      return;
    }
    if (fault?.kind === 'stall') {
      await drain(req, entry);
      return;
    }
    await forward(req, res, entry, fault, signal);
  }

  async function forward(
    req: IncomingMessage,
    res: ServerResponse,
    entry: LogEntry,
    fault: Fault | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const upstream = httpRequest({
      host: upstreamHost,
      port: upstreamPort,
      method: entry.request.method,
      path: pathPrefix + entry.request.url,
      // Raw pairs: names, case, order and duplicates exactly as the client sent them.
      headers: req.rawHeaders,
      agent,
    });
    // The client going away (or close()) aborts the upstream side too, except after a reset past
    // the body's end, where the server must be left to finish the request it got in full.
    const abortUpstream = () => upstream.destroy();
    signal.addEventListener('abort', abortUpstream, { once: true });
    upstream.once('close', () => signal.removeEventListener('abort', abortUpstream));
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      upstream.once('response', resolve);
      upstream.once('error', reject);
    });
    response.catch(() => {}); // awaited below; a reset makes it reject before then
    upstream.on('error', () => {}); // handled through `response` or by the close of the client side
    const sent = await sendBody(req, upstream, entry, fault, signal);
    if (sent === 'reset-after-body') {
      signal.removeEventListener('abort', abortUpstream);
      resetSocket(req.socket);
    }
    if (sent !== 'sent') return;
    let upstreamRes: IncomingMessage;
    try {
      upstreamRes = await response;
    } catch (error) {
      if (signal.aborted || res.destroyed) return;
      entry.status = 502;
      res
        .writeHead(502, { 'content-type': 'text/plain' })
        .end(`fault proxy: upstream error: ${String(error)}`);
      return;
    }
    entry.status = upstreamRes.statusCode ?? 502;
    if (fault?.kind === 'delay-response') {
      try {
        await sleep(fault.ms, undefined, { signal });
      } catch {
        upstreamRes.destroy();
        return;
      }
    }
    const headers = responseHeaders(upstreamRes.rawHeaders, fault?.kind === 'strip-header' ? fault.name : '');
    res.writeHead(entry.status, upstreamRes.statusMessage, headers);
    if (fault?.kind === 'truncate-response') {
      await sendTruncated(upstreamRes, res, fault.bytes);
      return;
    }
    upstreamRes.pipe(res);
    // An upstream that dies mid-body leaves the client with a short body, as a real proxy would.
    upstreamRes.once('error', () => res.destroy());
  }

  /** Streams the client's body upstream with backpressure, applying request-side faults. */
  async function sendBody(
    req: IncomingMessage,
    upstream: ClientRequest,
    entry: LogEntry,
    fault: Fault | undefined,
    signal: AbortSignal,
  ): Promise<'sent' | 'reset' | 'reset-after-body' | 'failed'> {
    const resetAt = fault?.kind === 'reset-request' ? fault.afterBytes : Number.POSITIVE_INFINITY;
    let forwarding = true;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        entry.receivedBytes += chunk.length;
        if (!forwarding) continue; // keep reading so the client can still be answered
        const piece = chunk.subarray(0, Math.max(0, resetAt - entry.bodyBytes));
        if (piece.length < chunk.length) {
          // Cut mid-body: the server gets exactly `afterBytes`, then an aborted request.
          await writeFlushed(upstream, piece, entry);
          upstream.destroy();
          resetSocket(req.socket);
          return 'reset';
        }
        try {
          if (fault?.kind === 'slow-request') await writeSlowly(upstream, piece, entry, fault, signal);
          else await write(upstream, piece, entry);
        } catch {
          forwarding = false;
        }
      }
    } catch {
      req.destroy();
    }
    if (!req.complete) {
      // The client went away mid-body: the server must see an aborted request, not a short one.
      upstream.destroy();
      return 'failed';
    }
    if (fault?.kind === 'reset-request') {
      // The whole request reaches the server; only its response is lost.
      if (forwarding) upstream.end();
      upstream.once('response', (upstreamRes) => {
        entry.status = upstreamRes.statusCode ?? 502;
        upstreamRes.resume();
      });
      return 'reset-after-body';
    }
    if (forwarding) upstream.end();
    return 'sent';
  }

  async function write(upstream: ClientRequest, piece: Buffer, entry: LogEntry): Promise<void> {
    if (piece.length === 0) return;
    if (upstream.destroyed) throw new Error('upstream closed');
    entry.bodyBytes += piece.length;
    if (!upstream.write(piece)) await drained(upstream);
  }

  /** Writes and waits until the bytes are handed to the socket, so a destroy() after it keeps them. */
  async function writeFlushed(upstream: ClientRequest, piece: Buffer, entry: LogEntry): Promise<void> {
    if (piece.length === 0 || upstream.destroyed) return;
    entry.bodyBytes += piece.length;
    await new Promise<void>((resolve) => {
      upstream.once('close', resolve);
      upstream.write(piece, () => resolve());
    });
  }

  async function writeSlowly(
    upstream: ClientRequest,
    piece: Buffer,
    entry: LogEntry,
    fault: { bytesPerSecond: number },
    signal: AbortSignal,
  ): Promise<void> {
    // Slices of ~50 ms each, so the rate holds at a fine grain.
    const slice = Math.max(1, Math.ceil(fault.bytesPerSecond / 20));
    for (let at = 0; at < piece.length; at += slice) {
      const part = piece.subarray(at, at + slice);
      await write(upstream, part, entry);
      await sleep((part.length / fault.bytesPerSecond) * 1000, undefined, { signal });
    }
  }

  /** Reads and discards the request body; false when the client went away first. */
  async function drain(req: IncomingMessage, entry: LogEntry): Promise<boolean> {
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) entry.receivedBytes += chunk.length;
      return true;
    } catch {
      return false;
    }
  }

  function sendS3Error(
    req: IncomingMessage,
    res: ServerResponse,
    entry: LogEntry,
    fault: Extract<Fault, { kind: 'status' }>,
  ): void {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const message = fault.message ?? DEFAULT_MESSAGES[fault.code] ?? fault.code;
    const resource = (req.url ?? '/').split('?')[0] ?? '/';
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${xmlEscape(fault.code)}</Code><Message>${xmlEscape(message)}</Message>` +
      `<Resource>${xmlEscape(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
    const headers: Record<string, string | number> = {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      'x-amz-request-id': requestId,
      'x-amz-id-2': randomBytes(24).toString('base64'),
      server: 'AmazonS3',
    };
    if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
    entry.status = fault.status;
    res.writeHead(fault.status, headers).end(body);
  }

  const server = createServer((req, res) => {
    const controller = new AbortController();
    inFlight.add(controller);
    // The client went away before its response was done: stop the upstream side too.
    res.once('close', () => {
      inFlight.delete(controller);
      if (!res.writableFinished) controller.abort();
    });
    handle(req, res, controller.signal).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'content-type': 'text/plain' }).end(`fault proxy: ${String(error)}`);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    log,
    setRule(next) {
      rule = next;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const controller of inFlight) controller.abort();
        for (const socket of sockets) socket.destroy();
        agent.destroy();
      });
      return closing;
    },
  };
}

/** A TCP reset (RST), as a dropped connection looks to the client. */
function resetSocket(socket: Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}

/** Upstream's raw header pairs minus hop-by-hop ones and the stripped name. */
function responseHeaders(raw: readonly string[], strip: string): string[] {
  const drop = strip.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === drop) continue;
    out.push(name, raw[i + 1] ?? '');
  }
  return out;
}

async function sendTruncated(
  upstreamRes: IncomingMessage,
  res: ServerResponse,
  bytes: number,
): Promise<void> {
  let sent = 0;
  try {
    for await (const chunk of upstreamRes as AsyncIterable<Buffer>) {
      const piece = chunk.subarray(0, bytes - sent);
      sent += piece.length;
      if (piece.length > 0 && !res.write(piece)) await drained(res);
      if (sent >= bytes) break; // leaving the loop destroys the upstream response
    }
  } catch {
    // upstream died: the client gets what was sent so far either way
  }
  res.flushHeaders();
  const socket = res.socket;
  if (!socket) return;
  // end() sends what is queued (head and partial body) before the FIN; then drop the socket.
  socket.once('finish', () => socket.destroy());
  socket.end();
}

/** Resolves on 'drain'; rejects if the stream closes or fails first. */
function drained(stream: NodeJS.WritableStream & NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: unknown) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      stream.off('error', done);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('stream closed before drain'));
    stream.on('drain', onDrain);
    stream.on('close', onClose);
    stream.on('error', done);
  });
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---- Rules -------------------------------------------------------------------------------

const any: Filter = () => true;

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name}: expected a positive integer`);
}

/** The fault on the nth, 2nth, 3nth… request that passes `filter`. */
export function everyNth(n: number, fault: Fault, filter: Filter = any): Rule {
  positiveInteger('n', n);
  let seen = 0;
  return (request) => {
    if (!filter(request)) return undefined;
    seen++;
    return seen % n === 0 ? fault : undefined;
  };
}

/** The fault on the first `n` requests that pass `filter`. */
export function firstN(n: number, filter: Filter, fault: Fault): Rule {
  positiveInteger('n', n);
  let seen = 0;
  return (request) => {
    if (!filter(request) || seen >= n) return undefined;
    seen++;
    return fault;
  };
}

/** The fault on the first request that passes `filter`, and only that one. */
export function onceFor(filter: Filter, fault: Fault): Rule {
  return firstN(1, filter, fault);
}

/** Asks each rule in turn; the first fault wins (later rules do not see that request). */
export function combine(...rules: Rule[]): Rule {
  return (request) => {
    for (const rule of rules) {
      const fault = rule(request);
      if (fault) return fault;
    }
    return undefined;
  };
}

function splitUrl(request: ProxiedRequest): { path: string; query: URLSearchParams } {
  const q = request.url.indexOf('?');
  return q === -1
    ? { path: request.url, query: new URLSearchParams() }
    : { path: request.url.slice(0, q), query: new URLSearchParams(request.url.slice(q + 1)) };
}

const isCopy = (request: ProxiedRequest) => request.headers['x-amz-copy-source'] !== undefined;

/** UploadPart: PUT with `partNumber` and `uploadId` in the query (not UploadPartCopy). */
export function isUploadPart(request: ProxiedRequest): boolean {
  const { query } = splitUrl(request);
  return request.method === 'PUT' && query.has('partNumber') && query.has('uploadId') && !isCopy(request);
}

/** PutObject, path-style (`/bucket/key`): a PUT on a key with no sub-resource and no copy source. */
export function isPutObject(request: ProxiedRequest): boolean {
  const { path, query } = splitUrl(request);
  const subresources = [...query.keys()].filter((k) => k !== 'x-id');
  return (
    request.method === 'PUT' && /^\/[^/]+\/./.test(path) && subresources.length === 0 && !isCopy(request)
  );
}

/** CreateMultipartUpload: POST with the `uploads` marker. */
export function isCreateMultipartUpload(request: ProxiedRequest): boolean {
  return request.method === 'POST' && splitUrl(request).query.has('uploads');
}

/** CompleteMultipartUpload: POST with an `uploadId`. */
export function isCompleteMultipartUpload(request: ProxiedRequest): boolean {
  return request.method === 'POST' && splitUrl(request).query.has('uploadId');
}
