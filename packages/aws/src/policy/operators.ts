/**
 * The condition operator table: each base operator's value type, whether it negates, whether
 * policy variables apply, and how one request value compares with one policy value.
 */
import { splitArn } from './arn.ts';
import { cidrContains, parseCidr, parseIp } from './ip.ts';
import { compilePieces, matchCompiled, type PatternPiece } from './wildcard.ts';

/** The value type an operator compares. */
export type ValueKind = 'string' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn' | 'null';

/**
 * Compares one request value with one resolved policy value (pieces keep wildcard/literal
 * information from variable substitution). `undefined` means the two cannot be compared,
 * e.g. a request value that is not a number for a numeric operator: the test then fails
 * whether or not the operator negates.
 */
type Compare = (request: string, policy: readonly PatternPiece[]) => boolean | undefined;

/** A condition operator without its set qualifier or IfExists suffix. */
export interface BaseOperator {
  readonly name: string;
  readonly kind: ValueKind;
  /** Negated operators (StringNotEquals…) are true when no policy value matches. */
  readonly negated: boolean;
  /** Whether `${…}` is substituted in this operator's values (string, ARN and Bool operators). */
  readonly variables: boolean;
  readonly compare: Compare;
}

const joined = (p: readonly PatternPiece[]) => (p.length === 1 ? p[0]!.text : p.map((x) => x.text).join(''));

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A numeric condition value, or `undefined` when it is not a plain decimal number. */
export function parseNumber(text: string): number | undefined {
  return NUMBER.test(text) ? Number(text) : undefined;
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const ISO_MONTH = /^(\d{4})-(\d{2})$/;
const EPOCH = /^-?\d+(?:\.\d+)?$/;

/**
 * Epoch milliseconds of a W3C ISO 8601 date (`YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.s]]`
 * with `Z`, `±hh:mm` or no zone meaning UTC) or of epoch seconds. A bare number is always read as
 * epoch seconds, so the year-only form `YYYY` is not supported.
 */
export function parseDate(text: string): number | undefined {
  if (EPOCH.test(text)) {
    const ms = Number(text) * 1000;
    return Number.isFinite(ms) ? ms : undefined;
  }
  const month = ISO_MONTH.exec(text);
  if (month) return utc(+month[1]!, +month[2]!, 1, 0, 0, 0, 0);
  const m = ISO_DATE.exec(text);
  if (!m) return undefined;
  const ms = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  const base = utc(+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), ms);
  if (base === undefined) return undefined;
  const zone = m[8];
  if (zone === undefined || zone === 'Z') return base;
  const sign = zone[0] === '-' ? -1 : 1;
  const zh = +zone.slice(1, 3);
  const zm = +zone.slice(4, 6);
  if (zh > 23 || zm > 59) return undefined;
  return base - sign * (zh * 60 + zm) * 60_000;
}

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number) {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  // Date.UTC rolls 31 February over into March; a real date survives the round trip.
  return new Date(t).getUTCDate() === d ? t : undefined;
}

/** `true`/`false` (any case) for Bool and Null values; anything else is not a boolean. */
export function parseBool(text: string): boolean | undefined {
  const t = text.toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/** Decoded bytes of a base64 value as a binary string, or `undefined` if not base64. */
export function decodeBase64(text: string): string | undefined {
  if (!BASE64.test(text)) return undefined;
  try {
    return atob(text);
  } catch {
    return undefined;
  }
}

function numeric(test: (a: number, b: number) => boolean): Compare {
  return (req, pol) => {
    const a = parseNumber(req.trim());
    const b = parseNumber(joined(pol));
    return a === undefined || b === undefined ? undefined : test(a, b);
  };
}

function date(test: (a: number, b: number) => boolean): Compare {
  return (req, pol) => {
    const a = parseDate(req.trim());
    const b = parseDate(joined(pol));
    return a === undefined || b === undefined ? undefined : test(a, b);
  };
}

const stringEquals: Compare = (req, pol) => req === joined(pol);
const stringEqualsIgnoreCase: Compare = (req, pol) => req.toLowerCase() === joined(pol).toLowerCase();
const stringLike: Compare = (req, pol) => matchCompiled(compilePieces(pol), req);

/** ArnEquals/ArnLike: each of the six components matched separately, wildcards allowed in each. */
const arnLike: Compare = (req, pol) => {
  const r = splitArn(req);
  if (!r) return false;
  // Split the policy pieces at their first five colons, keeping literal/wildcard flags.
  const parts: PatternPiece[][] = [[]];
  for (const piece of pol) {
    let rest = piece.text;
    while (parts.length < 6) {
      const colon = rest.indexOf(':');
      if (colon < 0) break;
      parts[parts.length - 1]!.push({ text: rest.slice(0, colon), literal: piece.literal });
      parts.push([]);
      rest = rest.slice(colon + 1);
    }
    parts[parts.length - 1]!.push({ text: rest, literal: piece.literal });
  }
  if (parts.length < 6) return false;
  return parts.every((p, i) => matchCompiled(compilePieces(p), r[i]!));
};

const bool: Compare = (req, pol) => {
  const a = parseBool(req);
  const b = parseBool(joined(pol));
  return a === undefined || b === undefined ? undefined : a === b;
};

const binary: Compare = (req, pol) => {
  const a = decodeBase64(req);
  const b = decodeBase64(joined(pol));
  return a === undefined || b === undefined ? undefined : a === b;
};

const ipAddress: Compare = (req, pol) => {
  const addr = parseIp(req.trim());
  const block = parseCidr(joined(pol));
  return addr === undefined || block === undefined ? undefined : cidrContains(block, addr);
};

const OPERATORS: readonly BaseOperator[] = [
  op('StringEquals', 'string', false, true, stringEquals),
  op('StringNotEquals', 'string', true, true, stringEquals),
  op('StringEqualsIgnoreCase', 'string', false, true, stringEqualsIgnoreCase),
  op('StringNotEqualsIgnoreCase', 'string', true, true, stringEqualsIgnoreCase),
  op('StringLike', 'string', false, true, stringLike),
  op('StringNotLike', 'string', true, true, stringLike),
  op(
    'NumericEquals',
    'numeric',
    false,
    false,
    numeric((a, b) => a === b),
  ),
  op(
    'NumericNotEquals',
    'numeric',
    true,
    false,
    numeric((a, b) => a === b),
  ),
  op(
    'NumericLessThan',
    'numeric',
    false,
    false,
    numeric((a, b) => a < b),
  ),
  op(
    'NumericLessThanEquals',
    'numeric',
    false,
    false,
    numeric((a, b) => a <= b),
  ),
  op(
    'NumericGreaterThan',
    'numeric',
    false,
    false,
    numeric((a, b) => a > b),
  ),
  op(
    'NumericGreaterThanEquals',
    'numeric',
    false,
    false,
    numeric((a, b) => a >= b),
  ),
  op(
    'DateEquals',
    'date',
    false,
    false,
    date((a, b) => a === b),
  ),
  op(
    'DateNotEquals',
    'date',
    true,
    false,
    date((a, b) => a === b),
  ),
  op(
    'DateLessThan',
    'date',
    false,
    false,
    date((a, b) => a < b),
  ),
  op(
    'DateLessThanEquals',
    'date',
    false,
    false,
    date((a, b) => a <= b),
  ),
  op(
    'DateGreaterThan',
    'date',
    false,
    false,
    date((a, b) => a > b),
  ),
  op(
    'DateGreaterThanEquals',
    'date',
    false,
    false,
    date((a, b) => a >= b),
  ),
  op('Bool', 'bool', false, true, bool),
  op('BinaryEquals', 'binary', false, false, binary),
  op('IpAddress', 'ip', false, false, ipAddress),
  op('NotIpAddress', 'ip', true, false, ipAddress),
  op('ArnEquals', 'arn', false, true, arnLike),
  op('ArnLike', 'arn', false, true, arnLike),
  op('ArnNotEquals', 'arn', true, true, arnLike),
  op('ArnNotLike', 'arn', true, true, arnLike),
  op('Null', 'null', false, false, () => undefined),
];

function op(name: string, kind: ValueKind, negated: boolean, variables: boolean, compare: Compare) {
  return { name, kind, negated, variables, compare };
}

const BY_NAME = new Map(OPERATORS.map((o) => [o.name, o]));

/** A full operator name taken apart: `ForAnyValue:StringLikeIfExists`. */
export interface ParsedOperator {
  readonly base: BaseOperator;
  readonly set: 'ForAllValues' | 'ForAnyValue' | undefined;
  readonly ifExists: boolean;
}

/**
 * Parses an operator name, or returns a reason it is invalid. Names are case-sensitive, as AWS
 * writes them; `Null` takes neither `IfExists` (AWS forbids it) nor a set qualifier.
 */
export function parseOperator(name: string): ParsedOperator | string {
  let rest = name;
  let set: ParsedOperator['set'];
  if (rest.startsWith('ForAllValues:')) set = 'ForAllValues';
  else if (rest.startsWith('ForAnyValue:')) set = 'ForAnyValue';
  if (set) rest = rest.slice(set.length + 1);
  let base = BY_NAME.get(rest);
  let ifExists = false;
  if (!base && rest.endsWith('IfExists')) {
    base = BY_NAME.get(rest.slice(0, -'IfExists'.length));
    ifExists = base !== undefined;
  }
  if (!base) return `unknown condition operator "${name}"`;
  if (base.kind === 'null' && (ifExists || set)) {
    return `condition operator "${name}" is not allowed: Null takes no IfExists suffix or set qualifier`;
  }
  return { base, set, ifExists };
}

/** Checks a policy value for an operator without variables; returns a reason when invalid. */
export function checkValue(kind: ValueKind, value: string): string | undefined {
  switch (kind) {
    case 'numeric':
      return parseNumber(value) === undefined ? `"${value}" is not a number` : undefined;
    case 'date':
      return parseDate(value) === undefined
        ? `"${value}" is not an ISO 8601 date-time or epoch seconds`
        : undefined;
    case 'bool':
    case 'null':
      return parseBool(value) === undefined ? `"${value}" is not true or false` : undefined;
    case 'binary':
      return decodeBase64(value) === undefined ? `"${value}" is not base64` : undefined;
    case 'ip':
      return parseCidr(value) === undefined
        ? `"${value}" is not an IPv4 or IPv6 address or CIDR block`
        : undefined;
    default:
      return undefined;
  }
}
