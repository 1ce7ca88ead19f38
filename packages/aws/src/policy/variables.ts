/**
 * Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, `${*}`…), as IAM
 * substitutes them in policies whose Version is 2012-10-17.
 *
 * Substituted values and defaults are literal text: a `*` inside a user name or tag never acts
 * as a wildcard. `${*}`, `${?}` and `${$}` stand for a literal `*`, `?` and `$`. A variable
 * whose key is absent from the request (and that has no default) makes the whole value
 * unresolvable: callers treat such a value as one that cannot match.
 */
import type { PatternPiece } from './wildcard.ts';

/** Value of a request-context key for substitution, or `undefined` when absent. Names are case-insensitive. */
export type VariableLookup = (name: string) => string | undefined;

const SPECIAL: Record<string, string> = { '*': '*', '?': '?', $: '$' };

/** Whether `text` contains something that looks like a policy variable. */
export function hasVariables(text: string): boolean {
  return text.includes('${');
}

interface VariableRef {
  /** Index just past the closing brace. */
  end: number;
  name: string;
  fallback: string | undefined;
  malformed: boolean;
}

/** Reads `${name}` or `${name, 'default'}` starting at `start` (which points at `$`); `undefined` if unclosed. */
function readVariable(text: string, start: number): VariableRef | undefined {
  let k = start + 2;
  while (k < text.length && text[k] !== '}' && text[k] !== ',') k++;
  if (k >= text.length) return undefined;
  const name = text.slice(start + 2, k).trim();
  if (text[k] === '}') return { end: k + 1, name, fallback: undefined, malformed: name === '' };
  // A default: `, 'value'` then the closing brace (AWS documents ", " then a single-quoted value).
  let m = k + 1;
  while (text[m] === ' ') m++;
  const close = text[m] === "'" ? text.indexOf("'", m + 1) : -1;
  if (close >= 0) {
    let r = close + 1;
    while (text[r] === ' ') r++;
    if (text[r] === '}') {
      return { end: r + 1, name, fallback: text.slice(m + 1, close), malformed: name === '' };
    }
  }
  const brace = text.indexOf('}', k);
  if (brace < 0) return undefined;
  return { end: brace + 1, name, fallback: undefined, malformed: true };
}

/**
 * Splits `text` into pattern pieces with every variable substituted, or `undefined` when a
 * variable cannot be resolved. Text outside variables keeps its wildcards.
 */
export function substitute(text: string, lookup: VariableLookup): PatternPiece[] | undefined {
  const pieces: PatternPiece[] = [];
  let i = 0;
  let plainStart = 0;
  while (i < text.length) {
    const dollar = text.indexOf('${', i);
    if (dollar < 0) break;
    const ref = readVariable(text, dollar);
    if (!ref) break; // unclosed: the rest is plain text
    if (dollar > plainStart) pieces.push({ text: text.slice(plainStart, dollar), literal: false });
    if (ref.malformed) return undefined;
    const special = SPECIAL[ref.name];
    const value = special ?? lookup(ref.name) ?? ref.fallback;
    if (value === undefined) return undefined;
    pieces.push({ text: value, literal: true });
    i = ref.end;
    plainStart = ref.end;
  }
  if (plainStart < text.length) pieces.push({ text: text.slice(plainStart), literal: false });
  return pieces;
}

/** {@link substitute} joined into one string, for operators without wildcards. */
export function substituteString(text: string, lookup: VariableLookup): string | undefined {
  const pieces = substitute(text, lookup);
  return pieces?.map((p) => p.text).join('');
}

/**
 * Splits an ARN pattern at its first five colons into six components, skipping colons inside
 * `${…}` (a default such as `${aws:username, 'x'}` contains one); `undefined` with fewer colons.
 * IAM substitutes variables in the last component only.
 */
export function splitArnPattern(text: string, variables: boolean): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length && parts.length < 5; i++) {
    const c = text[i];
    if (variables && c === '$' && text[i + 1] === '{') {
      const ref = readVariable(text, i);
      if (ref) {
        i = ref.end - 1;
        continue;
      }
    }
    if (c === ':') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (parts.length < 5) return undefined;
  parts.push(text.slice(start));
  return parts;
}
