/**
 * Evaluates a statement's Condition block against the request context, with AWS's rules:
 * operators are ANDed, keys within an operator are ANDed, values for one key are ORed (NORed
 * for negated operators); a key absent from the request makes a positive operator false and a
 * negated one true; `...IfExists` makes an absent key true; `ForAllValues` is true for an
 * absent or empty key and needs every request value to pass, `ForAnyValue` is false for an
 * absent or empty key and needs one request value to pass.
 */
import { checkValue, type ParsedOperator, parseBool, parseOperator } from './operators.ts';
import { hasVariables, substitute, type VariableLookup } from './variables.ts';
import type { PatternPiece } from './wildcard.ts';

/** A request-context value: one value, several (for multivalued keys such as `aws:TagKeys`), or absent. */
export type ContextValue = string | number | boolean | readonly string[] | undefined;

/** Request-context keys (case-insensitive, e.g. `aws:SourceIp`, `s3:prefix`) and their values. */
export type PolicyContext = Record<string, ContextValue>;

/** One key tested by one operator, as parsed from `{"StringEquals": {"key": [values]}}`. */
export interface ConditionClause {
  /** The operator as written, e.g. `ForAnyValue:StringLike`. */
  readonly operator: string;
  readonly parsed: ParsedOperator;
  /** The key as written; lookups are case-insensitive. */
  readonly key: string;
  /** Policy values, numbers and booleans already turned into strings. */
  readonly values: readonly string[];
}

/** A case-insensitive view of the request context. */
export class ContextView {
  readonly #values = new Map<string, ContextValue>();

  constructor(context: Readonly<PolicyContext> | undefined) {
    if (context === undefined) return;
    if (typeof context !== 'object' || context === null) throw new TypeError('context must be an object');
    for (const [key, value] of Object.entries(context)) {
      const lower = key.toLowerCase();
      if (this.#values.has(lower))
        throw new TypeError(`context has the key "${key}" twice (keys are case-insensitive)`);
      if (!isContextValue(value))
        throw new TypeError(`context["${key}"] must be a string, number, boolean or string[]`);
      this.#values.set(lower, value);
    }
  }

  get(key: string): ContextValue {
    return this.#values.get(key.toLowerCase());
  }

  /** The value to substitute for `${key}`: single values only; multivalued keys do not resolve. */
  readonly variable: VariableLookup = (name) => {
    const v = this.get(name);
    if (v === undefined || Array.isArray(v)) return undefined;
    return String(v);
  };
}

function isContextValue(v: unknown): boolean {
  const t = typeof v;
  if (v === undefined || t === 'string' || t === 'boolean') return true;
  if (t === 'number') return Number.isFinite(v);
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Whether every clause holds (an empty Condition holds). */
export function conditionsHold(
  clauses: readonly ConditionClause[],
  context: ContextView,
  variables: boolean,
): boolean {
  for (const clause of clauses) if (!clauseHolds(clause, context, variables)) return false;
  return true;
}

/** Evaluates one operator/key pair. `variables` is true for Version 2012-10-17 policies. */
export function clauseHolds(clause: ConditionClause, context: ContextView, variables: boolean): boolean {
  const { base, set, ifExists } = clause.parsed;
  const raw = context.get(clause.key);
  if (base.kind === 'null') {
    const absent = raw === undefined || (Array.isArray(raw) && raw.length === 0);
    // Several values are ORed like any other operator's: {"Null": {"k": ["true", "false"]}} always holds.
    return clause.values.some((v) => parseBool(v) === absent);
  }
  const requestValues: readonly string[] | undefined =
    raw === undefined ? undefined : Array.isArray(raw) ? raw : [String(raw)];
  const missing = requestValues === undefined || requestValues.length === 0;
  if (missing && ifExists) return true;
  // Policy values, resolved once; an unresolvable variable leaves `undefined`, which fails its test.
  const policyValues = clause.values.map((v) => resolve(v, base.variables && variables, context));
  const test = (rv: string): boolean => {
    if (base.negated) {
      return policyValues.every((pv) => pv !== undefined && base.compare(rv, pv) === false);
    }
    return policyValues.some((pv) => pv !== undefined && base.compare(rv, pv) === true);
  };
  if (set === 'ForAllValues') {
    if (missing || isEmptySet(requestValues)) return true;
    return requestValues.every(test);
  }
  if (set === 'ForAnyValue') {
    if (missing || isEmptySet(requestValues)) return false;
    return requestValues.some(test);
  }
  // Without a qualifier: an absent key fails a positive operator and satisfies a negated one.
  if (missing) return base.negated;
  return base.negated ? requestValues.every(test) : requestValues.some(test);
}

/** For set operators AWS treats an empty string as an empty data set. */
function isEmptySet(values: readonly string[]): boolean {
  return values.length === 1 && values[0] === '';
}

function resolve(value: string, substituteVars: boolean, context: ContextView): PatternPiece[] | undefined {
  if (!substituteVars) return [{ text: value, literal: false }];
  return substitute(value, context.variable);
}

const MAX_VALUES = 1_000;
const MAX_VALUE_LENGTH = 4_096;

/**
 * Builds a clause from one `operator: {key: values}` entry, validating the operator, the key and
 * each value (numbers, dates, CIDRs, booleans and base64 are checked here, not at evaluation).
 * `fail` turns a reason into the error to throw.
 */
export function conditionClauseFrom(
  operator: string,
  key: string,
  raw: unknown,
  variables: boolean,
  fail: (message: string) => Error,
): ConditionClause {
  const parsed = parseOperator(operator);
  if (typeof parsed === 'string') throw fail(parsed);
  if (key === '' || key.length > MAX_VALUE_LENGTH) throw fail('has an empty or over-long condition key');
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw fail('must not be an empty array');
  if (list.length > MAX_VALUES) throw fail(`has more than ${MAX_VALUES} values`);
  const values: string[] = [];
  for (const v of list) {
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) {
      throw fail('values must be strings, numbers or booleans');
    }
    const text = String(v);
    if (text.length > MAX_VALUE_LENGTH) throw fail(`has a value longer than ${MAX_VALUE_LENGTH} characters`);
    // Values that will be substituted are only checked once resolved, at evaluation.
    if (!(parsed.base.variables && variables && hasVariables(text))) {
      const problem = checkValue(parsed.base.kind, text);
      if (problem) throw fail(`has an invalid value: ${problem}`);
    }
    values.push(text);
  }
  return Object.freeze({ operator, parsed, key, values: Object.freeze(values) });
}
