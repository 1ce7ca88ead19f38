/**
 * Adaptive concurrency: a hill climber on throughput. Each epoch (as many finished parts as
 * requests in flight) measures bytes per second; one more request while that keeps growing,
 * one back when growing made it slower, halving on SlowDown / 429 / a stalled request, and a
 * climb back to the earlier level once the back-off has cooled down and throughput holds.
 */
export interface ConcurrencyOptions {
  initial: number;
  max: number;
  adaptive: boolean;
  now: () => number;
  onChange?: (concurrency: number, reason: string) => void;
}

/** Growth must beat the previous epoch by this much to count as growth. */
const GAIN = 1.08;
/** A rate below this share of the previous epoch's counts as worse. */
const LOSS = 0.92;
/** Epochs without growth after a back-off. */
const COOL_DOWN_EPOCHS = 3;

export class ConcurrencyController {
  #current: number;
  #max: number;
  readonly #options: ConcurrencyOptions;
  #epochStart: number;
  #epochBytes = 0;
  #epochParts = 0;
  #lastRate = 0;
  #lastChange: 'grow' | 'recover' | 'shrink' | 'none' = 'none';
  #coolDown = 0;
  /** The level before the last back-off, climbed back to while throughput holds. */
  #recoverTo = 0;

  constructor(options: ConcurrencyOptions) {
    this.#options = options;
    this.#current = options.initial;
    this.#max = Math.max(options.max, options.initial);
    this.#epochStart = options.now();
  }

  get current(): number {
    return this.#current;
  }

  /** Set by the application; adaptive changes continue from here. */
  set(value: number): void {
    this.#max = Math.max(this.#max, value);
    this.#change(value, 'set by the application', 'none');
  }

  /** A part finished: `bytes` sent in it. */
  partDone(bytes: number): void {
    if (!this.#options.adaptive) return;
    this.#epochBytes += bytes;
    this.#epochParts++;
    if (this.#epochParts < this.#current) return;
    const now = this.#options.now();
    const rate = (this.#epochBytes * 1000) / Math.max(1, now - this.#epochStart);
    const improved = rate > this.#lastRate * GAIN;
    const worse = this.#lastRate > 0 && rate < this.#lastRate * LOSS;
    if (this.#coolDown > 0) this.#coolDown--;
    else if (this.#lastChange === 'grow' && !improved && this.#lastRate > 0)
      // Each request in flight holds a part in memory: keep only those that pay for themselves.
      this.#change(this.#current - 1, 'more requests did not help', 'shrink', COOL_DOWN_EPOCHS);
    else if (this.#lastChange === 'recover' && worse)
      this.#change(this.#current - 1, 'more requests made it slower', 'shrink', COOL_DOWN_EPOCHS);
    else if (improved || this.#lastRate === 0)
      this.#change(this.#current + 1, 'throughput is growing', 'grow');
    else if (this.#current < this.#recoverTo)
      // After a back-off, climb back to the earlier level as long as throughput holds.
      this.#change(this.#current + 1, 'recovering after a back-off', 'recover');
    else this.#lastChange = 'none';
    if (this.#current >= this.#recoverTo) this.#recoverTo = 0;
    this.#lastRate = rate;
    this.#startEpoch(now);
  }

  /** SlowDown, 429 or a stall: the service or the path is overloaded. */
  backOff(reason: string): void {
    if (!this.#options.adaptive) return;
    this.#recoverTo = Math.max(this.#recoverTo, this.#current);
    this.#change(Math.floor(this.#current / 2), reason, 'shrink', COOL_DOWN_EPOCHS);
    this.#lastRate = 0;
    this.#startEpoch(this.#options.now());
  }

  #startEpoch(now: number): void {
    this.#epochStart = now;
    this.#epochBytes = 0;
    this.#epochParts = 0;
  }

  #change(value: number, reason: string, kind: 'grow' | 'recover' | 'shrink' | 'none', coolDown = 0): void {
    const next = Math.max(1, Math.min(this.#max, value));
    this.#coolDown = coolDown;
    this.#lastChange = kind;
    if (next === this.#current) return;
    this.#current = next;
    this.#options.onChange?.(next, reason);
  }
}
