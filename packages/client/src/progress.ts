/**
 * Upload progress that never goes backwards: confirmed bytes only grow, the shown fraction is
 * the high-water mark of confirmed + in-flight, and speed is an exponentially smoothed rate of
 * bytes handed to the network (a resent part counts again: it is real work).
 */
import type { UploadProgress } from './types.ts';

const SAMPLE_MS = 250;
/** Weight of the newest sample; about the last 2–3 seconds dominate. */
const SMOOTHING = 0.15;

export class ProgressTracker {
  readonly #total: number;
  readonly #now: () => number;
  #confirmed = 0;
  readonly #inFlight = new Map<number, number>();
  #sent = 0;
  #shown = 0;
  #rate = 0;
  #sampleAt: number;
  #sampleSent = 0;

  constructor(total: number, now: () => number) {
    this.#total = total;
    this.#now = now;
    this.#sampleAt = now();
  }

  /** A request for `part` has now handed `bytes` of its body to the network. */
  inFlight(part: number, bytes: number): void {
    const before = this.#inFlight.get(part) ?? 0;
    if (bytes > before) this.#sent += bytes - before;
    this.#inFlight.set(part, bytes);
    this.#sample();
  }

  /** The request for `part` ended without success; its bytes will be sent again. */
  dropped(part: number): void {
    this.#inFlight.delete(part);
  }

  /** S3 acknowledged `part` (or it was already there when resuming). */
  confirmed(part: number, size: number): void {
    this.#inFlight.delete(part);
    this.#confirmed = Math.min(this.#total, this.#confirmed + size);
    this.#sample();
  }

  /** Restarts the speed measurement (after a pause: idle time is not slowness). */
  restartClock(): void {
    this.#sampleAt = this.#now();
    this.#sampleSent = this.#sent;
  }

  get confirmedBytes(): number {
    return this.#confirmed;
  }

  snapshot(done = false): UploadProgress {
    // A stall sends nothing: sampling here lets the speed fall and the ETA grow meanwhile.
    this.#sample();
    let inFlight = 0;
    for (const bytes of this.#inFlight.values()) inFlight += bytes;
    const fraction = done
      ? 1
      : this.#total === 0
        ? 0
        : Math.min(1, (this.#confirmed + inFlight) / this.#total);
    this.#shown = Math.max(this.#shown, fraction);
    const remaining = Math.max(0, this.#total - this.#confirmed - inFlight);
    return {
      totalBytes: this.#total,
      confirmedBytes: this.#confirmed,
      inFlightBytes: inFlight,
      fraction: this.#shown,
      bytesPerSecond: Math.round(this.#rate),
      etaSeconds: done ? 0 : this.#rate > 0 ? Math.ceil(remaining / this.#rate) : null,
    };
  }

  #sample(): void {
    const now = this.#now();
    const elapsed = now - this.#sampleAt;
    if (elapsed < SAMPLE_MS) return;
    const instant = ((this.#sent - this.#sampleSent) * 1000) / elapsed;
    this.#rate = this.#rate === 0 ? instant : this.#rate + SMOOTHING * (instant - this.#rate);
    this.#sampleAt = now;
    this.#sampleSent = this.#sent;
  }
}
