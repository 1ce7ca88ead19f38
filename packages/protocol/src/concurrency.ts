/** The engine's parallelism bound, one rule for its options, the CLI and the uploader. */

/** Most part requests the engine runs at once (its options, `--concurrency`, the uploader's attribute). */
export const MAX_CONCURRENCY = 64;

/** Why `value` cannot be a concurrency (an integer from `min` to 64), or undefined when it can. */
export function concurrencyProblem(value: unknown, min = 1): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= MAX_CONCURRENCY)
    return undefined;
  return `must be an integer from ${min} to ${MAX_CONCURRENCY}`;
}
