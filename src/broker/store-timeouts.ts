/**
 * Timeouts on every call to the store (S3, STS, IAM): without them a store that accepts a
 * connection and never answers, or sends headers and then stalls, holds the broker's
 * request (and the user) for minutes.
 *
 * Each attempt gets a connect timeout, a deadline for the answer's headers and a limit on
 * silence while its body streams (AWS keeps slow CompleteMultipartUploads alive with
 * whitespace, so an idle limit never cuts a healthy one). A timed-out attempt is not
 * retried: the call fails at once as `StoreTimeoutError`, which the broker answers with a
 * 504 `upstream-timeout` problem, so the worst case is one timeout, not three.
 */

export interface StoreTimeouts {
  /** TCP (and TLS) connection set-up, ms. */
  connectTimeoutMs: number;
  /** Until the answer's headers, and the longest silence while its body streams, ms. */
  requestTimeoutMs: number;
}

export const DEFAULT_STORE_TIMEOUTS: Readonly<StoreTimeouts> = {
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 15_000,
};

/** The store did not answer in time. */
export class StoreTimeoutError extends Error {
  readonly code = 'store-timeout';
  /** The SDK's error. Not `cause`: the SDK retries an error whose cause is a timeout. */
  readonly sdkError: unknown;
  constructor(message: string, sdkError?: unknown) {
    super(message);
    // Not "TimeoutError": the SDK retries that name, and a stuck store should fail once, promptly.
    this.name = 'StoreTimeoutError';
    this.sdkError = sdkError;
  }
}

/** The `requestHandler` options of an AWS SDK v3 client (Node's NodeHttpHandler). */
export function storeRequestHandler(timeouts: StoreTimeouts = DEFAULT_STORE_TIMEOUTS): {
  connectionTimeout: number;
  requestTimeout: number;
  socketTimeout: number;
  throwOnRequestTimeout: true;
} {
  return {
    connectionTimeout: timeouts.connectTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    socketTimeout: timeouts.requestTimeoutMs,
    // Without it the SDK only logs a warning when requestTimeout passes.
    throwOnRequestTimeout: true,
  };
}

/** True for the SDK's per-attempt timeout errors (connect, headers, idle socket). */
export function isSdkTimeout(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown } | null;
  return e?.name === 'TimeoutError' || e?.code === 'ETIMEDOUT';
}

type Handler = (args: never) => Promise<unknown>;

/** What the middleware helpers need of an AWS SDK v3 client (each has its own stack types). */
export interface StackOwner {
  middlewareStack: {
    add(
      middleware: (next: Handler) => Handler,
      options: { step: 'deserialize'; priority: 'high' | 'low'; name: string },
    ): void;
    identify(): string[];
  };
}

/**
 * Turns the SDK's timeout of an attempt into a `StoreTimeoutError` below its retry loop,
 * so it is not retried. Idempotent per client.
 */
export function failFastOnTimeout(client: StackOwner): void {
  const name = 'hoistStoreTimeout';
  if (client.middlewareStack.identify().some((entry) => entry.startsWith(name))) return;
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (isSdkTimeout(error)) throw new StoreTimeoutError('the store did not answer in time', error);
        throw error;
      }
    },
    // The deserialize step runs inside the retry middleware (finalizeRequest), once per attempt.
    { step: 'deserialize', priority: 'high', name },
  );
}
