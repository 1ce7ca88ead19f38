/**
 * The completion webhook: events POSTed as JSON to the app's URL, signed, retried,
 * and never in the API's way (`send()` only enqueues).
 *
 * Every attempt carries
 * - `x-hoist-event-id`: the same across retries, for the receiver's idempotency;
 * - `x-hoist-timestamp`: unix seconds of this attempt;
 * - `x-hoist-signature`: `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
 *
 * Receivers check it with {@link verifyWebhookSignature}.
 *
 * @example
 * const webhook = createWebhookSender({ url: 'https://app.example/hooks/hoist', secret });
 * webhook.send({ type: 'upload.completed', data: { id, key, size } });
 * // at shutdown
 * await webhook.close();
 *
 * @module
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export interface WebhookEvent {
  /** What happened, e.g. `upload.completed`. */
  type: string;
  data: Record<string, unknown>;
}

/** The JSON body of every delivery. */
export interface WebhookPayload extends WebhookEvent {
  /** Unique per event, the same on every retry (also the `x-hoist-event-id` header). */
  id: string;
  /** ISO 8601, when send() was called. */
  createdAt: string;
}

export interface WebhookSenderOptions {
  /** http(s) URL the events are POSTed to. */
  url: string;
  /** HMAC key, at least 16 characters, shared with the receiver. */
  secret: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** ms since epoch, for the timestamp header and createdAt. @default Date.now */
  clock?: () => number;
  /** Attempts per event, the first included. @default 5 */
  maxAttempts?: number;
  /** Backoff before retry n is baseDelayMs·2^(n-1), capped by maxDelayMs, with jitter. @default 1000 */
  baseDelayMs?: number;
  /** @default 60000 */
  maxDelayMs?: number;
  /** Events waiting for delivery; past it the oldest is dropped with a warning. @default 1000 */
  maxQueue?: number;
  /** Deliveries in flight at once. @default 4 */
  concurrency?: number;
  /** Time limit of one attempt. @default 10000 */
  timeoutMs?: number;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
  /** Dropped and undeliverable events (never with the secret or signature). @default process.emitWarning */
  onWarning?: (message: string) => void;
}

export interface WebhookStats {
  queued: number;
  inFlight: number;
  delivered: number;
  /** Gave up after maxAttempts. */
  failed: number;
  /** Dropped from a full queue, or sent after close(). */
  dropped: number;
}

export interface WebhookSender {
  /** Enqueues the event and returns its id at once; delivery happens in the background. */
  send(event: WebhookEvent): string;
  /**
   * Stops accepting events and waits for the queue and in-flight deliveries, at most
   * `timeoutMs` (then aborts them). Resolves with the number of events left undelivered.
   */
  close(options?: { timeoutMs?: number }): Promise<{ undelivered: number }>;
  /**
   * Waits, at most `timeoutMs`, until nothing is queued or being delivered, and keeps
   * accepting events. For runtimes that freeze between requests (Lambda), where background
   * deliveries would otherwise stall until the next invocation or be lost.
   */
  settle(options?: { timeoutMs?: number }): Promise<{ pending: number }>;
  stats(): WebhookStats;
}

const MAX_BODY = 256 * 1024;

interface Delivery {
  id: string;
  type: string;
  body: string;
}

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const o = checkSenderOptions(options);
  const queue: Delivery[] = [];
  const stats = { delivered: 0, failed: 0, dropped: 0 };
  const shutdown = new AbortController();
  let active = 0;
  let closing: Promise<{ undelivered: number }> | undefined;
  let idle: (() => void) | undefined;
  const settled = new Set<() => void>();

  const warn = (message: string) => {
    try {
      o.onWarning(message);
    } catch {
      // A broken logger must not break delivery.
    }
  };

  const pump = () => {
    while (active < o.concurrency && queue.length > 0 && !shutdown.signal.aborted) {
      const delivery = queue.shift()!;
      active++;
      deliver(delivery)
        .then((ok) => {
          if (ok) stats.delivered++;
          else stats.failed++;
        })
        .finally(() => {
          active--;
          pump();
          if (active === 0 && queue.length === 0) {
            idle?.();
            for (const resolve of settled) resolve();
          }
        });
    }
  };

  const deliver = async (delivery: Delivery): Promise<boolean> => {
    let outcome = '';
    for (let attempt = 1; attempt <= o.maxAttempts; attempt++) {
      if (attempt > 1) {
        const exp = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 2));
        if (!(await sleep(exp / 2 + (o.random() * exp) / 2, shutdown.signal))) break;
      }
      const timestamp = String(Math.floor(o.clock() / 1000));
      try {
        const response = await o.fetch(o.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'hoist-webhook/1',
            'x-hoist-event-id': delivery.id,
            'x-hoist-timestamp': timestamp,
            'x-hoist-signature': signWebhook(o.secret, timestamp, delivery.body),
          },
          body: delivery.body,
          redirect: 'manual',
          signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(o.timeoutMs)]),
        });
        await response.body?.cancel().catch(() => {});
        if (response.status >= 200 && response.status < 300) return true;
        outcome = `HTTP ${response.status}`;
      } catch (error) {
        if (shutdown.signal.aborted) break;
        outcome = (error as Error).name === 'TimeoutError' ? 'timed out' : 'network error';
      }
    }
    if (shutdown.signal.aborted) outcome = 'sender closed';
    warn(`webhook event ${delivery.id} (${delivery.type}) not delivered: ${outcome}`);
    return false;
  };

  return {
    send(event) {
      const payload = checkEvent(event, randomUUID(), new Date(o.clock()).toISOString());
      if (closing) {
        stats.dropped++;
        warn(`webhook event ${payload.id} (${payload.type}) dropped: the sender is closed`);
        return payload.id;
      }
      queue.push({ id: payload.id, type: payload.type, body: JSON.stringify(payload) });
      if (queue.length > o.maxQueue) {
        const oldest = queue.shift()!;
        stats.dropped++;
        warn(`webhook queue full (${o.maxQueue}): dropped event ${oldest.id} (${oldest.type})`);
      }
      pump();
      return payload.id;
    },

    close({ timeoutMs = 10_000 } = {}) {
      if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new TypeError('timeoutMs must be >= 0');
      closing ??= (async () => {
        if (active > 0 || queue.length > 0) {
          const drained = new Promise<void>((resolve) => {
            idle = resolve;
          });
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          });
          await Promise.race([drained, timedOut]);
          clearTimeout(timer);
        }
        const undelivered = queue.length + active;
        shutdown.abort();
        if (queue.length > 0) {
          warn(`webhook sender closed with ${queue.length} event(s) never attempted`);
          queue.length = 0;
        }
        // Let aborted deliveries settle so nothing runs after close() resolves.
        while (active > 0) await new Promise<void>((resolve) => (idle = resolve));
        return { undelivered };
      })();
      return closing;
    },

    async settle({ timeoutMs = 3000 } = {}) {
      if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new TypeError('timeoutMs must be >= 0');
      if (active > 0 || queue.length > 0) {
        let done: (() => void) | undefined;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => {
            done = resolve;
            settled.add(resolve);
          }),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (done) settled.delete(done);
      }
      return { pending: queue.length + active };
    },

    stats: () => ({ queued: queue.length, inFlight: active, ...stats }),
  };
}

/** The `x-hoist-signature` value for a body sent at `timestamp` (unix seconds, as sent). */
export function signWebhook(secret: string, timestamp: string, body: string | Uint8Array): string {
  return `v1=${hmac(secret, timestamp, body).toString('hex')}`;
}

export interface VerifyWebhookOptions {
  /** Largest accepted difference between the timestamp and now, seconds. @default 300 */
  toleranceSeconds?: number;
  /** ms since epoch. @default Date.now() */
  now?: number;
}

/**
 * Checks a delivery as a receiver: `timestamp` and `header` are the raw
 * `x-hoist-timestamp` and `x-hoist-signature` values, `body` the raw request body
 * (before JSON parsing). True only when a `v1=` signature matches (compared in
 * constant time) and the timestamp is within the tolerance, which refuses replays.
 * Several comma-separated `v1=` entries are allowed (secret rotation).
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | null | undefined,
  body: string | Uint8Array,
  header: string | null | undefined,
  options: VerifyWebhookOptions = {},
): boolean {
  if (typeof secret !== 'string' || secret.length === 0)
    throw new TypeError('secret must be a non-empty string');
  const { toleranceSeconds = 300, now = Date.now() } = options;
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
    throw new TypeError('options.toleranceSeconds must be a non-negative number');
  }
  if (!Number.isFinite(now)) throw new TypeError('options.now must be ms since the epoch');
  if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp)) return false;
  if (typeof header !== 'string' || header.length > 1024) return false;
  if (Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = hmac(secret, timestamp, body);
  let match = false;
  for (const entry of header.split(',')) {
    const [version, hex] = entry.trim().split('=', 2);
    if (version !== 'v1' || hex === undefined || !/^[0-9a-f]{64}$/i.test(hex)) continue;
    // Both 32 bytes: timingSafeEqual's length requirement always holds.
    if (timingSafeEqual(Buffer.from(hex, 'hex'), expected)) match = true;
  }
  return match;
}

function hmac(secret: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

/** Resolves true after `ms`, or false at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function checkEvent(event: WebhookEvent, id: string, createdAt: string): WebhookPayload {
  if (typeof event !== 'object' || event === null) throw new TypeError('event must be an object');
  if (typeof event.type !== 'string' || !/^[a-z0-9_.-]{1,100}$/i.test(event.type)) {
    throw new TypeError('event.type must be 1–100 letters, digits, dots, dashes or underscores');
  }
  if (typeof event.data !== 'object' || event.data === null || Array.isArray(event.data)) {
    throw new TypeError('event.data must be an object');
  }
  const payload: WebhookPayload = { id, type: event.type, createdAt, data: event.data };
  if (JSON.stringify(payload).length > MAX_BODY)
    throw new TypeError(`event.data must be under ${MAX_BODY} characters as JSON`);
  return payload;
}

type ResolvedOptions = Required<WebhookSenderOptions>;

function checkSenderOptions(options: WebhookSenderOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const {
    url,
    secret,
    fetch: fetchImpl = globalThis.fetch,
    clock = Date.now,
    maxAttempts = 5,
    baseDelayMs = 1000,
    maxDelayMs = 60_000,
    maxQueue = 1000,
    concurrency = 4,
    timeoutMs = 10_000,
    random = Math.random,
    onWarning = (message: string) => process.emitWarning(message, 'HoistWebhookWarning'),
  } = options;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw new TypeError('url must be an http(s) URL');
  }
  if (typeof secret !== 'string' || secret.length < 16)
    throw new TypeError('secret must be at least 16 characters');
  for (const [name, value] of Object.entries({ fetch: fetchImpl, clock, random, onWarning })) {
    if (typeof value !== 'function') throw new TypeError(`${name} must be a function`);
  }
  const integers = { maxAttempts, maxQueue, concurrency, timeoutMs, baseDelayMs, maxDelayMs };
  for (const [name, value] of Object.entries(integers)) {
    const min = name === 'baseDelayMs' || name === 'maxDelayMs' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min)
      throw new TypeError(`${name} must be an integer >= ${min}`);
  }
  return {
    url,
    secret,
    fetch: fetchImpl,
    clock,
    maxAttempts,
    baseDelayMs,
    maxDelayMs,
    maxQueue,
    concurrency,
    timeoutMs,
    random,
    onWarning,
  };
}
