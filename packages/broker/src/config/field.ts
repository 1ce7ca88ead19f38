/**
 * Field metadata of the broker's config schema: each leaf field carries its environment
 * variable, its meaning, how the variable's text is read, a default as the docs show it (when
 * the schema's own default does not say it), and whether its value is a secret. The reference
 * table (docs/broker.md), the variable map and the interface all come from the one schema.
 */
import { formatSize } from '@hoist/protocol';
import { z } from 'zod';

/** How a variable's text becomes a value: `size` and `string` stay text (the schema reads them). */
export type EnvKind = 'string' | 'number' | 'boolean' | 'size' | 'list' | 'tokens';

export interface FieldMeta {
  env: string;
  doc: string;
  /** @default 'string' */
  kind?: EnvKind;
  /** The default as the docs show it, when the schema has none or it depends on other fields. */
  default?: string;
  /** Never echoed, logged or shown (keys, tokens, secrets, URLs with passwords). */
  secret?: boolean;
}

const FIELDS = z.registry<FieldMeta>();

/** `schema` as a config field (register the outermost wrapper: one entry per instance). */
export function field<T extends z.core.$ZodType>(schema: T, meta: FieldMeta): T {
  FIELDS.add(schema, meta);
  return schema;
}

/** One row per field: its JSON path, variable, default, meaning, and how it is read. */
export interface FieldRow {
  path: string;
  env: string;
  default: string;
  description: string;
  kind: EnvKind;
  secret: boolean;
}

type Def = { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType; out?: z.core.$ZodType };
const defOf = (schema: z.core.$ZodType) => schema._zod.def as unknown as Def;

/** The schema under optional/default/prefault wrappers, preprocessing and transforms. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  for (let s = schema; ; ) {
    const def = defOf(s);
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in && def.out)
      s = defOf(def.in).type === 'transform' ? def.out : def.in;
    else return s;
  }
}

/** The value `.default(…)` gives a field, if it has one. */
function defaultValue(schema: z.core.$ZodType): unknown {
  for (let s: z.core.$ZodType | undefined = schema; s; s = defOf(s).innerType) {
    const def = s._zod.def as unknown as { type: string; defaultValue?: unknown };
    if (def.type === 'default') return def.defaultValue;
  }
  return undefined;
}

function defaultText(value: unknown, kind: EnvKind): string {
  if (value === undefined) return '';
  if (kind === 'size')
    return value === Infinity
      ? 'unlimited'
      : formatSize(value as number)
          .replace(' bytes', '')
          .replace(' ', '');
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** Every field of `schema`, depth first in the order the schema declares them. */
export function fieldRows(schema: z.core.$ZodType, prefix = ''): FieldRow[] {
  const object = unwrap(schema);
  if (!(object instanceof z.ZodObject)) return [];
  return Object.entries(object.shape).flatMap(([key, child]) => {
    const path = `${prefix}${key}`;
    const meta = FIELDS.get(child);
    if (!meta) return fieldRows(child, `${path}.`);
    const kind = meta.kind ?? 'string';
    return [
      {
        path,
        env: meta.env,
        default: meta.default ?? defaultText(defaultValue(child), kind),
        description: meta.doc,
        kind,
        secret: meta.secret === true,
      },
    ];
  });
}
