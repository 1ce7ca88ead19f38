/**
 * Adaptive concurrency: a hill climber on throughput. Each epoch (as many finished parts as
 * requests in flight) measures bytes per second; one more request while that keeps growing,
 * one back when growing made it slower, and halving on SlowDown / 429 / a stalled request.
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
  #lastChange: 'grow' | 'shrink' | 'none' = 'none';
  #coolDown = 0;

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
    if (this.#coolDown > 0) this.#coolDown--;
    else if (this.#lastChange === 'grow' && !improved && this.#lastRate > 0)
      this.#change(this.#current - 1, 'more requests did not help', 'shrink', COOL_DOWN_EPOCHS);
    else if (improved || this.#lastRate === 0)
      this.#change(this.#current + 1, 'throughput is growing', 'grow');
    this.#lastRate = rate;
    this.#startEpoch(now);
  }

  /** SlowDown, 429 or a stall: the service or the path is overloaded. */
  backOff(reason: string): void {
    if (!this.#options.adaptive) return;
    this.#change(Math.floor(this.#current / 2), reason, 'shrink', COOL_DOWN_EPOCHS);
    this.#lastRate = 0;
    this.#startEpoch(this.#options.now());
  }

  #startEpoch(now: number): void {
    this.#epochStart = now;
    this.#epochBytes = 0;
    this.#epochParts = 0;
  }

  #change(value: number, reason: string, kind: 'grow' | 'shrink' | 'none', coolDown = 0): void {
    const next = Math.max(1, Math.min(this.#max, value));
    this.#coolDown = coolDown;
    this.#lastChange = kind;
    if (next === this.#current) return;
    this.#current = next;
    this.#options.onChange?.(next, reason);
  }
}
