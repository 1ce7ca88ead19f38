/** What every benchmark script shares: option parsing, the Node version check, medians and percentiles. */

/** A comma list of names from `allowed`, in `allowed`'s order; `fallback` when the option is absent. */
export function parseList<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  what: string,
  fallback: readonly T[] = allowed,
): T[] {
  if (value === undefined) return [...fallback];
  const items = value.split(',').map((item) => item.trim());
  for (const item of items) {
    if (!allowed.includes(item as T))
      throw new Error(`unknown ${what} ${JSON.stringify(item)} (expected ${allowed.join(', ')})`);
  }
  return allowed.filter((item) => items.includes(item));
}

export function positiveNumber(
  value: string | undefined,
  fallback: number,
  what: string,
  integer = false,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    throw new Error(`${what} must be a positive ${integer ? 'integer' : 'number'}`);
  }
  return n;
}

export const positiveInt = (value: string | undefined, fallback: number, what: string): number =>
  positiveNumber(value, fallback, what, true);

/** The benchmarks rely on Node 24 APIs and on its type stripping. */
export function requireNode24(script: string): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) {
    throw new Error(
      `Node ${process.versions.node}: run with Node 24 (node_modules/.bin/node, or npm run ${script})`,
    );
  }
}

export function median(values: readonly number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile, p in 0..1 (NaN for no values). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
