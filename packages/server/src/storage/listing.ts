/**
 * Ordered listing with prefix and delimiter over a sorted key index, as S3's
 * ListObjects and ListMultipartUploads do it.
 *
 * Every bound is a range on the key index (`lower <= key < upper`), never LIKE,
 * so `%` and `_` are ordinary characters. When a key rolls up into a common
 * prefix, the walk emits the prefix once and seeks straight past every key that
 * starts with it: a prefix hiding millions of keys costs one index seek.
 *
 * Entries (keys and common prefixes) are returned strictly after `after`. A
 * common prefix sorts before its keys, so an `after` inside a common prefix
 * (or equal to it, as when continuing from one) skips that whole prefix; this
 * is what makes "continue after the last entry returned" terminate.
 */

/** Rows with `lower <= key < upper` (no upper bound when undefined), ascending, at most `limit`. */
export type FetchRange<Row> = (lower: string, upper: string | undefined, limit: number) => Row[];

export interface WalkOptions<Row> {
  prefix: string;
  delimiter: string;
  /** Exclusive lower bound; '' to start at the beginning. */
  after: string;
  /** Entries to return (keys and common prefixes together). */
  limit: number;
  fetch: FetchRange<Row>;
  keyOf(row: Row): string;
}

export type Entry<Row> = { row: Row; prefix?: undefined } | { prefix: string; row?: undefined };

export interface WalkResult<Row> {
  entries: Entry<Row>[];
  /** Whether at least one more entry exists after the last one returned. */
  truncated: boolean;
}

export function walk<Row>(options: WalkOptions<Row>): WalkResult<Row> {
  const { prefix, delimiter, limit, fetch, keyOf } = options;
  const upper = prefix === '' ? undefined : prefixSuccessor(prefix);
  const entries: Entry<Row>[] = [];
  let lower = startBound(prefix, delimiter, options.after);
  while (lower !== undefined) {
    // One row beyond the limit tells whether the listing is truncated.
    const rows = fetch(lower, upper, limit - entries.length + 1);
    let seekPast: string | undefined;
    for (const row of rows) {
      if (entries.length === limit) return { entries, truncated: true };
      const common = commonPrefix(keyOf(row), prefix, delimiter);
      if (common !== undefined) {
        entries.push({ prefix: common });
        seekPast = common;
        break;
      }
      entries.push({ row });
    }
    if (seekPast === undefined) return { entries, truncated: false };
    lower = prefixSuccessor(seekPast);
  }
  return { entries, truncated: false };
}

/** The inclusive lower bound where entries after `after` begin, or undefined when none can. */
function startBound(prefix: string, delimiter: string, after: string): string | undefined {
  if (compareUtf8(after, prefix) < 0) return prefix;
  if (after.startsWith(prefix)) {
    const common = commonPrefix(after, prefix, delimiter);
    if (common !== undefined) return prefixSuccessor(common);
  }
  // In UTF-8 byte order the next string after `after` is `after` + NUL.
  return `${after}\u0000`;
}

/** The common prefix `key` rolls up into, if any (`key` starts with `prefix`). */
export function commonPrefix(key: string, prefix: string, delimiter: string): string | undefined {
  if (delimiter === '') return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}

/**
 * The smallest string above every string starting with `prefix`, in UTF-8 byte
 * order (undefined when none exists). UTF-8 preserves code point order, so
 * bumping the last code point that can be bumped is enough.
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const codePoints = Array.from(prefix);
  while (codePoints.length > 0) {
    const last = codePoints.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return codePoints.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/** Compares as the UTF-8 bytes would (JS `<` compares UTF-16 code units, which differs above U+D7FF). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (astral code points) must sort above U+E000..U+FFFF.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}
