/**
 * Reading IAM Query API parameters: presence, integers, `Tags.member.N.*` lists and
 * `Marker`/`MaxItems` paging. Constraint failures collect into one ValidationError, worded
 * as IAM words them (fields in lowerCamelCase: `roleName`, `maxSessionDuration`, …).
 */
import { IamError } from './types.ts';
import { constraintMessage, validationError } from './validate.ts';

const lowerCamel = (name: string): string => name[0]!.toLowerCase() + name.slice(1);
const TAG_PARAM = /^Tags\.member\.(\d+)\.(Key|Value)$/;
const MAX_TAG_INDEX = 1000;

export class QueryParams {
  readonly #params: URLSearchParams;
  readonly #failures: string[] = [];

  constructor(params: URLSearchParams) {
    this.#params = params;
  }

  /** A parameter that names the target; it is needed before anything else, so absence throws at once. */
  target(name: string): string {
    const value = this.#params.get(name);
    if (value === null)
      throw validationError([constraintMessage(lowerCamel(name), null, 'Member must not be null')]);
    return value;
  }

  required(name: string): string {
    const value = this.#params.get(name);
    if (value === null)
      this.#failures.push(constraintMessage(lowerCamel(name), null, 'Member must not be null'));
    return value ?? '';
  }

  optional(name: string): string | undefined {
    return this.#params.get(name) ?? undefined;
  }

  /** An integer parameter within [min, max], or undefined when absent. */
  integer(name: string, min: number, max: number): number | undefined {
    const raw = this.#params.get(name);
    if (raw === null) return undefined;
    const field = lowerCamel(name);
    if (!/^-?\d{1,10}$/.test(raw)) {
      this.#failures.push(constraintMessage(field, raw, 'Member must be an integer'));
      return undefined;
    }
    const value = Number(raw);
    if (value < min)
      this.#failures.push(
        constraintMessage(field, raw, `Member must have value greater than or equal to ${min}`),
      );
    else if (value > max)
      this.#failures.push(
        constraintMessage(field, raw, `Member must have value less than or equal to ${max}`),
      );
    return value;
  }

  /** Adds a constraint failure found elsewhere (validate.ts checks). */
  check(...failures: (string | undefined)[]): void {
    for (const failure of failures) if (failure !== undefined) this.#failures.push(failure);
  }

  /** `Tags.member.N.Key` / `.Value`, in N order. */
  tags(): { key: string; value: string }[] {
    const byIndex = new Map<number, { key?: string; value?: string }>();
    for (const [name, value] of this.#params) {
      const match = TAG_PARAM.exec(name);
      if (!match) continue;
      const index = Number(match[1]);
      if (index < 1 || index > MAX_TAG_INDEX) {
        throw new IamError('InvalidInput', `Invalid tag index ${match[1]} in parameter ${name}.`);
      }
      const entry = byIndex.get(index) ?? {};
      if (match[2] === 'Key') entry.key = value;
      else entry.value = value;
      byIndex.set(index, entry);
    }
    const out: { key: string; value: string }[] = [];
    for (const index of [...byIndex.keys()].sort((a, b) => a - b)) {
      const entry = byIndex.get(index)!;
      if (entry.key === undefined) {
        this.#failures.push(constraintMessage(`tags.${index}.member.key`, null, 'Member must not be null'));
      }
      if (entry.value === undefined) {
        this.#failures.push(constraintMessage(`tags.${index}.member.value`, null, 'Member must not be null'));
      }
      out.push({ key: entry.key ?? '', value: entry.value ?? '' });
    }
    return out;
  }

  /** Features of the real API this local IAM does not have are refused, never ignored. */
  unsupported(...names: string[]): void {
    for (const name of names) {
      if (this.#params.has(name))
        throw new IamError('InvalidInput', `${name} is not supported by the local IAM.`);
    }
  }

  /** Throws the collected ValidationError, if any. */
  done(): void {
    if (this.#failures.length > 0) throw validationError(this.#failures);
  }
}

export interface Page<T> {
  items: T[];
  /** Present when truncated: pass back as Marker. */
  marker?: string;
}

/**
 * One page of `items` (sorted by `keyOf`), IAM style: MaxItems 1..1000 (default 100), and an
 * opaque Marker naming the first item of the next page.
 */
export function paginate<T>(params: QueryParams, items: readonly T[], keyOf: (item: T) => string): Page<T> {
  const maxItems = params.integer('MaxItems', 1, 1000) ?? 100;
  const marker = params.optional('Marker');
  params.done();
  let start = 0;
  if (marker !== undefined) {
    const key = Buffer.from(marker, 'base64url').toString('utf8');
    if (marker === '' || Buffer.from(key, 'utf8').toString('base64url') !== marker) {
      throw new IamError('ValidationError', 'Invalid Marker.');
    }
    // The marked item may have been deleted since: resume at the first item not before it.
    start = items.findIndex((item) => keyOf(item) >= key);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + maxItems);
  const next = items[start + maxItems];
  return next === undefined
    ? { items: page }
    : { items: page, marker: Buffer.from(keyOf(next), 'utf8').toString('base64url') };
}
