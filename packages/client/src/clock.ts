/**
 * The engine's time, read and scheduled through one object: the system clock in use, a
 * virtual one in the engine's own tests (retries, persistence and stalls run without waiting).
 */
export interface Clock {
  /** ms since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** Real timers; `now` is the upload's `now` option (Date.now by default). */
export function systemClock(now: () => number = Date.now): Clock {
  return {
    now,
    after(ms, fn) {
      const timer = setTimeout(fn, ms);
      return () => clearTimeout(timer);
    },
  };
}
