/** `HOIST_*` variables onto the config object: each read by its field's kind, set at its path. */
import type { EnvKind } from './field.ts';

type Problems = { path: string; message: string }[];

/** A variable's text as the value its field expects; what cannot be read is left for the schema to refuse. */
export function fromEnv(kind: EnvKind, raw: string, env: string, problems: Problems): unknown {
  const text = raw.trim();
  switch (kind) {
    case 'number':
      return /^[+-]?\d+(?:\.\d+)?$/.test(text) ? Number(text) : text;
    case 'boolean': {
      const lower = text.toLowerCase();
      if (['true', '1', 'yes'].includes(lower)) return true;
      if (['false', '0', 'no'].includes(lower)) return false;
      return text;
    }
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'tokens':
      return tokensFromEnv(text, env, problems);
    default:
      return text;
  }
}

/** `alice:tok1,bob:tok2`; a bad entry is reported by position, never echoed (it holds a token). */
function tokensFromEnv(text: string, env: string, problems: Problems): Record<string, string> {
  const tokens: Record<string, string> = {};
  text.split(',').forEach((entry, i) => {
    const trimmed = entry.trim();
    if (!trimmed) return;
    const colon = trimmed.indexOf(':');
    if (colon <= 0 || colon === trimmed.length - 1) {
      problems.push({
        path: env,
        message: `entry ${i + 1} must be userId:token (e.g. alice:token1,bob:token2)`,
      });
    } else {
      const user = trimmed.slice(0, colon);
      if (Object.hasOwn(tokens, user)) problems.push({ path: env, message: `user "${user}" appears twice` });
      tokens[user] = trimmed.slice(colon + 1);
    }
  });
  return tokens;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sets `value` at `path`, creating objects on the way; false when the file has a non-object there. */
export function setPath(target: Record<string, unknown>, path: string[], value: unknown): boolean {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (node[key] === undefined) node[key] = {};
    const next = node[key];
    if (!isPlainObject(next)) return false; // the file's own error will be reported
    node = next;
  }
  node[path[path.length - 1] as string] = value;
  return true;
}

/**
 * A copy without `undefined` properties: an object built in code with `{ endpoint: undefined }`
 * means the field is unset, as in JSON, where optional fields are simply absent.
 */
export function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, withoutUndefined(v)]),
  );
}
