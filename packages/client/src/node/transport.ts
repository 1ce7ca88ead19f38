/**
 * HttpTransport on node:http/node:https: keep-alive agents, the body written straight from
 * the caller's bytes in slices (no copies) or from a file range in reused chunks, with
 * backpressure, progress as the socket takes the bytes, abort through the request's signal.
 */
import http from 'node:http';
import https from 'node:https';
import type { FormBody, HttpRequest, HttpResponse, HttpTransport } from '../types.ts';
import { type FileRange, fileRangeOf, giveBackChunk, readFileRange } from './file-range.ts';
import { type FormEnvelope, formEnvelope } from './multipart.ts';

export interface NodeTransportOptions {
  /** Extra agent options (TLS `ca`, `keepAliveMsecs`, …); applied to both agents. */
  agentOptions?: https.AgentOptions | undefined;
  /** Sockets per origin. @default 64 */
  maxSockets?: number | undefined;
}

export interface NodeTransport extends HttpTransport {
  /** Destroys the pooled sockets; in-flight requests fail. */
  close(): void;
}

/** Big enough that per-write overhead vanishes, small enough for smooth progress. */
const CHUNK = 256 * 1024;
/** S3 error bodies are a few hundred bytes; keep at most this much of any response. */
const MAX_RESPONSE_TEXT = 1024 * 1024;

function abortError(): DOMException {
  return new DOMException('The request was aborted', 'AbortError');
}

export function createNodeTransport(options: NodeTransportOptions = {}): NodeTransport {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createNodeTransport: options must be an object');
  const maxSockets = options.maxSockets ?? 64;
  if (!Number.isInteger(maxSockets) || maxSockets < 1)
    throw new TypeError('createNodeTransport: options.maxSockets must be a positive integer');
  if (
    options.agentOptions !== undefined &&
    (typeof options.agentOptions !== 'object' || !options.agentOptions)
  )
    throw new TypeError('createNodeTransport: options.agentOptions must be an object');
  const agentOptions: https.AgentOptions = {
    keepAlive: true,
    maxSockets,
    // LIFO keeps a few hot sockets busy instead of cycling through idle ones.
    scheduling: 'lifo',
    ...options.agentOptions,
  };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);

  return {
    send: (request) => send(request, httpAgent, httpsAgent),
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

async function send(
  request: HttpRequest,
  httpAgent: http.Agent,
  httpsAgent: https.Agent,
): Promise<HttpResponse> {
  const raw = request.body;
  if (isForm(raw)) return sendForm(request, raw, httpAgent, httpsAgent);
  if (raw instanceof Blob) {
    const range = fileRangeOf(raw);
    if (range !== undefined) return exchange(request, range, httpAgent, httpsAgent);
    // Any other Blob: its bytes, then as bytes.
    return exchange(
      { ...request, body: new Uint8Array(await raw.arrayBuffer()) },
      undefined,
      httpAgent,
      httpsAgent,
    );
  }
  return exchange(request, undefined, httpAgent, httpsAgent);
}

function isForm(body: HttpRequest['body']): body is FormBody {
  return typeof body === 'object' && !(body instanceof Uint8Array) && !(body instanceof Blob);
}

/** A form: its envelope written around the file's bytes, streamed as any other body. */
async function sendForm(
  request: HttpRequest,
  form: FormBody,
  httpAgent: http.Agent,
  httpsAgent: https.Agent,
): Promise<HttpResponse> {
  const envelope = formEnvelope(form.fields);
  const headers = { ...request.headers, 'content-type': envelope.contentType };
  const { file } = form;
  const range = file instanceof Blob ? fileRangeOf(file) : undefined;
  const body = !(file instanceof Blob) ? file : range ? undefined : new Uint8Array(await file.arrayBuffer());
  return exchange({ ...request, headers, body }, range, httpAgent, httpsAgent, envelope);
}

/**
 * One request; the body is `range` when given, else `request.body` (bytes or a string), between
 * the envelope's head and tail for a form (progress counts the body's bytes only).
 */
function exchange(
  request: HttpRequest,
  range: FileRange | undefined,
  httpAgent: http.Agent,
  httpsAgent: https.Agent,
  envelope?: FormEnvelope,
): Promise<HttpResponse> {
  const { signal, onUploadProgress: progress } = request;
  if (signal.aborted) return Promise.reject(abortError());
  let url: URL;
  try {
    url = new URL(request.url);
  } catch (error) {
    return Promise.reject(error);
  }
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:')
    return Promise.reject(new TypeError(`Unsupported URL scheme ${url.protocol}`));

  const raw = range === undefined ? (request.body as Uint8Array | string | Blob | undefined) : undefined;
  // A view, not a copy: Buffer slices skip the Uint8Array -> Buffer wrapping per write.
  const body =
    raw === undefined || raw instanceof Blob
      ? undefined
      : typeof raw === 'string'
        ? Buffer.from(raw, 'utf8')
        : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const total = range === undefined ? (body?.byteLength ?? 0) : range.end - range.start;
  const hasBody = body !== undefined || range !== undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.toLowerCase() !== 'content-length') headers[name] = value;
  }
  // Always a length for PUT/POST, so Node never falls back to chunked encoding (S3 refuses it).
  if (hasBody || request.method === 'PUT' || request.method === 'POST')
    headers['content-length'] = String(
      total + (envelope ? envelope.head.byteLength + envelope.tail.byteLength : 0),
    );

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let requestError: Error | undefined;
    let bodyDone = !hasBody;
    let sentAll = !hasBody;
    let responding = false;

    const req = (secure ? https : http).request({
      method: request.method,
      protocol: url.protocol,
      // URL keeps IPv6 brackets; node:http wants the bare address.
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers,
      agent: secure ? httpsAgent : httpAgent,
    });
    req.setNoDelay(true);

    const finish = (error: unknown, response?: HttpResponse) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (response) resolve(response);
      else reject(error);
    };
    function onAbort() {
      finish(abortError());
      req.destroy();
    }
    signal.addEventListener('abort', onAbort);

    // Kept for the whole life of the request: errors after settling must not go unhandled.
    req.on('error', (error) => {
      requestError ??= error;
      // Once the response is coming, let it decide (S3 may answer early, then reset).
      if (!responding) finish(error);
    });

    req.on('response', (res) => {
      responding = true;
      if (!bodyDone) bodyDone = true; // an early answer: stop sending the rest
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept >= MAX_RESPONSE_TEXT) return;
        const room = MAX_RESPONSE_TEXT - kept;
        const part = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
        chunks.push(part);
        kept += part.byteLength;
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks, kept).toString('utf8');
        const status = res.statusCode ?? 0;
        const resHeaders = res.headers;
        finish(undefined, {
          status,
          text,
          header(name) {
            const value = resHeaders[name.toLowerCase()];
            if (value === undefined) return null;
            return Array.isArray(value) ? value.join(', ') : value;
          },
        });
        // The body was cut short by the early answer: this socket must not be reused.
        if (!sentAll) req.destroy();
      });
      res.on('error', (error) => finish(requestError ?? error));
      res.on('close', () => {
        if (!res.complete)
          finish(requestError ?? Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      });
    });

    if (envelope) req.write(envelope.head);
    if (range !== undefined) {
      streamFileRange(
        req,
        range,
        (sent) => settled || progress?.(sent),
        () => bodyDone || settled,
      ).then(
        (complete) => {
          if (!complete || bodyDone || settled) return;
          bodyDone = true;
          sentAll = true;
          req.end(envelope?.tail);
        },
        (error: unknown) => {
          // The file could not be read: the request cannot be completed, and says why.
          finish(error);
          req.destroy();
        },
      );
      return;
    }
    if (body === undefined) {
      req.end();
      return;
    }
    let offset = 0;
    const pump = () => {
      while (offset < total) {
        if (bodyDone || settled) return;
        const end = Math.min(offset + CHUNK, total);
        const flushed = req.write(body.subarray(offset, end));
        offset = end;
        // Report when the socket took the bytes, not when Node's buffer did.
        if (!flushed) return;
        progress?.(offset);
      }
      bodyDone = true;
      sentAll = true;
      req.end(envelope?.tail);
    };
    req.on('drain', () => {
      if (settled) return;
      progress?.(offset);
      pump();
    });
    pump();
  });
}

/**
 * Writes the file range into `req` chunk by chunk. A chunk goes back to the pool only when its
 * write callback says the socket has taken its bytes, so a reused buffer is never overwritten
 * while Node still refers to it. Resolves false when `stopped()` cut it short.
 */
async function streamFileRange(
  req: http.ClientRequest,
  range: FileRange,
  progress: (sentBytes: number) => void,
  stopped: () => boolean,
): Promise<boolean> {
  let taken = 0;
  try {
    await readFileRange(range, async (bytes, chunk) => {
      if (stopped()) {
        giveBackChunk(chunk);
        throw STOPPED;
      }
      const length = bytes.byteLength;
      const flushed = req.write(bytes, (error) => {
        if (error) return; // the request failed: the chunk may still be referenced, let GC have it
        giveBackChunk(chunk);
        taken += length;
        progress(taken);
      });
      if (!flushed) await drained(req);
    });
  } catch (error) {
    if (error === STOPPED) return false;
    throw error;
  }
  return !stopped();
}

const STOPPED = Symbol('stopped');

/** Resolves on 'drain', or when the request closes (no 'drain' will come). */
function drained(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}
