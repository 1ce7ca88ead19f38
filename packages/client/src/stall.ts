/**
 * The stall watchdog: a request that hands no bytes to the network for `timeoutMs` is
 * cancelled (checked every quarter of that, at least every 50 ms), so a dead connection is
 * retried instead of waited on.
 */
import type { Clock } from './clock.ts';

export interface Watchdog {
  /** Aborts when the request stalls. */
  readonly signal: AbortSignal;
  /** Bytes moved: the request is alive. */
  progressed(): void;
  stop(): void;
}

export function watchStall(clock: Clock, timeoutMs: number): Watchdog {
  const stall = new AbortController();
  const tick = Math.max(50, Math.floor(timeoutMs / 4));
  let last = clock.now();
  const check = (): void => {
    if (clock.now() - last > timeoutMs) stall.abort();
    else cancel = clock.after(tick, check);
  };
  let cancel = clock.after(tick, check);
  return {
    signal: stall.signal,
    progressed: () => {
      last = clock.now();
    },
    stop: () => cancel(),
  };
}
