/**
 * A typed wrapper around autocannon's programmatic API (CommonJS, no type declarations) for
 * the broker benchmark: `runLoad` drives `connections` keep-alive connections for `seconds`
 * and returns what the report needs — every response's latency in ms at full precision
 * (from the instance's `response` events: autocannon's own histogram keeps whole ms only),
 * status counts, socket errors and timeouts, and one sample of a failure to show.
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

/** One entry of autocannon's `requests`: each connection loops over the list. */
export interface LoadRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Called before every request is sent (and once per connection at start); returns the request. */
  setupRequest?: (request: LoadRequest, context: Record<string, unknown>) => LoadRequest;
  onResponse?: (
    status: number,
    body: string,
    context: Record<string, unknown>,
    headers: Record<string, string>,
  ) => void;
}

interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  requests: LoadRequest[];
}

interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  resets: number;
  statusCodeStats: Record<string, { count: number }>;
}

interface AutocannonInstance extends EventEmitter {
  stop(): void;
}

type Autocannon = (
  options: AutocannonOptions,
  callback: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadResult {
  /** Responses received (any status). */
  completed: number;
  /** Wall time of the whole run, s (connections opened → last response). */
  seconds: number;
  /** Latency of every response, ms. */
  latencies: number[];
  /** Responses with a status outside 2xx. */
  non2xx: number;
  /** Socket errors and timeouts (no response). */
  errors: number;
  /** Count per status code. */
  statuses: Record<string, number>;
  /** The first failure seen: status and the start of its body, or the socket error. */
  sample?: string;
}

let current: AutocannonInstance | undefined;

/** Stops the run in progress, if any (its promise still resolves with what was measured). */
export function stopLoad(): void {
  current?.stop();
}

/**
 * Runs `requests` (each with its own `setupRequest`/`path`/`headers`) over `connections`
 * connections to `url` for `seconds` (autocannon ends a run on its next 1-second tick, so
 * whole seconds are exact).
 */
export function runLoad(options: {
  url: string;
  connections: number;
  seconds: number;
  requests: LoadRequest[];
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let sample: string | undefined;
  const requests = options.requests.map(
    (request): LoadRequest => ({
      ...request,
      onResponse: (status, body, context, headers) => {
        if ((status < 200 || status > 299) && sample === undefined)
          sample = `${status} ${body.slice(0, 400)}`;
        request.onResponse?.(status, body, context, headers);
      },
    }),
  );
  return new Promise<LoadResult>((resolvePromise, reject) => {
    const started = performance.now();
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        timeout: 30,
        requests,
      },
      (error, result) => {
        current = undefined;
        if (error) return reject(error);
        const statuses: Record<string, number> = {};
        for (const [code, { count }] of Object.entries(result.statusCodeStats)) statuses[code] = count;
        resolvePromise({
          completed: latencies.length,
          seconds: (performance.now() - started) / 1000,
          latencies,
          non2xx: result.non2xx,
          errors: result.errors,
          statuses,
          ...(sample === undefined ? {} : { sample }),
        });
      },
    );
    current = instance;
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      latencies.push(ms);
    });
    instance.on('reqError', (error: Error) => {
      sample ??= `socket error: ${error.message}`;
    });
  });
}
