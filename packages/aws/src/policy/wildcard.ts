/**
 * IAM wildcard matching: `*` matches any run of characters (including none), `?` exactly one.
 *
 * No regular expressions and no backtracking: a pattern is split at its stars into fixed-length
 * segments; the first must match at the start, the last at the end, and each middle one is found
 * at its leftmost position after the previous one (leftmost is always safe because a star can
 * absorb whatever lies between). Segments are found with Knuth–Morris–Pratt, or bit-parallel
 * Shift-And when they contain `?`, so matching takes O(pattern + subject × ⌈segment/32⌉) time:
 * linear for the segments policies contain.
 */

/** A piece of pattern text: `literal` pieces treat `*` and `?` as ordinary characters. */
export interface PatternPiece {
  readonly text: string;
  readonly literal: boolean;
}

interface Segment {
  /** Characters to match; positions flagged in `any` hold a placeholder. */
  readonly text: string;
  /** 1 where the position is a `?`; undefined when the segment has none. */
  readonly any: Uint8Array | undefined;
  /** KMP failure table, for segments without `?`: built on first search (most are only compared). */
  fail: Int32Array | undefined;
  /** Shift-And masks per character (each includes the `?` positions), for segments with `?`. */
  readonly masks: Map<number, Uint32Array> | undefined;
  /** Shift-And mask of the `?` positions: what any other character matches. */
  readonly anyMask: Uint32Array | undefined;
}

/** A compiled pattern; build with {@link compileWildcard} or {@link compilePieces}. */
export interface WildcardPattern {
  /** The pattern split at each `*`; a pattern without stars has exactly one segment. */
  readonly segments: readonly Segment[];
  readonly hasStar: boolean;
  readonly ignoreCase: boolean;
}

/** Compiles a pattern in which every `*` and `?` is a wildcard. */
export function compileWildcard(pattern: string, options?: { ignoreCase?: boolean }): WildcardPattern {
  return compilePieces([{ text: pattern, literal: false }], options);
}

/** Compiles pattern pieces; wildcards only count in non-literal pieces (see policy variables). */
export function compilePieces(
  pieces: readonly PatternPiece[],
  options?: { ignoreCase?: boolean },
): WildcardPattern {
  const ignoreCase = options?.ignoreCase === true;
  const segments: Segment[] = [];
  let chars = '';
  let anyPositions: number[] = [];
  const close = () => {
    segments.push(makeSegment(chars, anyPositions));
    chars = '';
    anyPositions = [];
  };
  for (const piece of pieces) {
    const text = ignoreCase ? piece.text.toLowerCase() : piece.text;
    if (piece.literal) {
      chars += text;
      continue;
    }
    // Runs of ordinary characters are appended whole: most patterns (ARNs, actions) have few wildcards.
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 42 && c !== 63) continue; // '*', '?'
      chars += text.slice(from, i);
      from = i + 1;
      if (c === 42) close();
      else {
        anyPositions.push(chars.length);
        chars += '?';
      }
    }
    chars += text.slice(from);
  }
  close();
  return { segments, hasStar: segments.length > 1, ignoreCase };
}

function makeSegment(text: string, anyPositions: number[]): Segment {
  if (anyPositions.length === 0) {
    return { text, any: undefined, fail: undefined, masks: undefined, anyMask: undefined };
  }
  const any = new Uint8Array(text.length);
  const words = (text.length + 31) >>> 5;
  const anyMask = new Uint32Array(words);
  for (const p of anyPositions) {
    any[p] = 1;
    anyMask[p >>> 5]! |= 1 << (p & 31);
  }
  const masks = new Map<number, Uint32Array>();
  for (let i = 0; i < text.length; i++) {
    if (any[i] === 1) continue;
    const c = text.charCodeAt(i);
    let mask = masks.get(c);
    if (!mask) {
      mask = anyMask.slice();
      masks.set(c, mask);
    }
    mask[i >>> 5]! |= 1 << (i & 31);
  }
  return { text, any, fail: undefined, masks, anyMask };
}

function failureTable(text: string): Int32Array {
  const fail = new Int32Array(text.length);
  let k = 0;
  for (let i = 1; i < text.length; i++) {
    while (k > 0 && text.charCodeAt(i) !== text.charCodeAt(k)) k = fail[k - 1]!;
    if (text.charCodeAt(i) === text.charCodeAt(k)) k++;
    fail[i] = k;
  }
  return fail;
}

/** Whether `subject` matches the compiled pattern in full. */
export function matchCompiled(pattern: WildcardPattern, subject: string): boolean {
  const s = pattern.ignoreCase ? subject.toLowerCase() : subject;
  const segs = pattern.segments;
  const first = segs[0]!;
  if (!pattern.hasStar) return s.length === first.text.length && matchAt(first, s, 0);
  const last = segs[segs.length - 1]!;
  const end = s.length - last.text.length;
  if (first.text.length > end) return false;
  if (!matchAt(first, s, 0) || !matchAt(last, s, end)) return false;
  let pos = first.text.length;
  for (let i = 1; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    const found = find(seg, s, pos, end);
    if (found < 0) return false;
    pos = found + seg.text.length;
  }
  return true;
}

/** Convenience: compile and match in one call. */
export function wildcardMatch(pattern: string, subject: string, options?: { ignoreCase?: boolean }): boolean {
  return matchCompiled(compileWildcard(pattern, options), subject);
}

function matchAt(seg: Segment, s: string, at: number): boolean {
  const t = seg.text;
  const any = seg.any;
  for (let j = 0; j < t.length; j++) {
    if (any !== undefined && any[j] === 1) continue;
    if (s.charCodeAt(at + j) !== t.charCodeAt(j)) return false;
  }
  return true;
}

/** Leftmost index ≥ from where `seg` matches entirely before `end`, or -1. */
function find(seg: Segment, s: string, from: number, end: number): number {
  const t = seg.text;
  const m = t.length;
  if (m === 0) return from;
  if (seg.any !== undefined) return shiftAnd(seg, s, from, end);
  seg.fail ??= failureTable(t);
  const fail = seg.fail;
  let k = 0;
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i);
    while (k > 0 && c !== t.charCodeAt(k)) k = fail[k - 1]!;
    if (c === t.charCodeAt(k)) k++;
    if (k === m) return i - m + 1;
  }
  return -1;
}

/** Shift-And: bit j of the state is set when the segment's first j+1 characters end here. */
function shiftAnd(seg: Segment, s: string, from: number, end: number): number {
  const m = seg.text.length;
  const masks = seg.masks!;
  const anyMask = seg.anyMask!;
  const words = anyMask.length;
  const top = (m - 1) >>> 5;
  const topBit = 1 << ((m - 1) & 31);
  const state = new Uint32Array(words);
  for (let i = from; i < end; i++) {
    const mask = masks.get(s.charCodeAt(i)) ?? anyMask;
    let carry = 1;
    for (let w = 0; w < words; w++) {
      const d = state[w]!;
      state[w] = ((d << 1) | carry) & mask[w]!;
      carry = d >>> 31;
    }
    if ((state[top]! & topBit) !== 0) return i - m + 1;
  }
  return -1;
}
