/**
 * A small YAML emitter for JSON-shaped values (what CloudFormation templates are): block
 * mappings and sequences, strings always double-quoted with JSON escapes (valid YAML, so no
 * value is ever read back as a number, boolean or null by accident), comments on top.
 * Intrinsic functions stay in their long form (`Fn::Sub:`), which YAML templates accept.
 */

// Letters, digits, `_.-` and inner colons (`Fn::Sub`); never a colon last, which YAML would misread.
const PLAIN_KEY = /^[A-Za-z_](?:[\w.-]|:(?=[\w:]))*$/;

function key(name: string): string {
  return PLAIN_KEY.test(name) ? name : JSON.stringify(name);
}

function scalar(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('YAML: numbers must be finite');
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  throw new TypeError(`YAML: cannot emit ${typeof value}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function emit(value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if ((isObject(item) && Object.keys(item).length > 0) || (Array.isArray(item) && item.length > 0)) {
        // The first line of a nested block goes after the dash; the rest align with it.
        const nested: string[] = [];
        emit(item, `${indent}  `, nested);
        out.push(`${indent}- ${(nested[0] ?? '').trimStart()}`, ...nested.slice(1));
      } else {
        out.push(`${indent}- ${inline(item)}`);
      }
    }
    return;
  }
  if (isObject(value)) {
    for (const [name, child] of Object.entries(value)) {
      if (child === undefined) continue;
      if ((isObject(child) && Object.keys(child).length > 0) || (Array.isArray(child) && child.length > 0)) {
        out.push(`${indent}${key(name)}:`);
        emit(child, Array.isArray(child) ? indent : `${indent}  `, out);
      } else {
        out.push(`${indent}${key(name)}: ${inline(child)}`);
      }
    }
    return;
  }
  out.push(`${indent}${scalar(value)}`);
}

function inline(value: unknown): string {
  if (Array.isArray(value)) return '[]';
  if (isObject(value)) return '{}';
  return scalar(value);
}

/** YAML text for `value` (an object), with `comment` lines as `#` comments on top. */
export function toYaml(value: Record<string, unknown>, comment: readonly string[] = []): string {
  const out = comment.map((line) => (line ? `# ${line}` : '#'));
  emit(value, '', out);
  return `${out.join('\n')}\n`;
}
