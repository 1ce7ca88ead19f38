/**
 * The registry the API schemas are documented in: a component `id` for the named shapes, a
 * `description` (and examples, defaults) for fields. The broker's OpenAPI document is generated
 * from it; nothing else reads it.
 */
import { z } from 'zod';

export interface ApiDoc {
  /** Named shapes become `#/components/schemas/<id>`. */
  id?: string;
  description?: string;
  examples?: unknown[];
  /** What the broker assumes when the field is absent (documentation only). */
  default?: unknown;
}

export const API_DOCS = z.registry<ApiDoc>();

/** `schema`, documented (always the outermost wrapper: a schema instance holds one entry). */
export function documented<T extends z.core.$ZodType>(schema: T, doc: ApiDoc | string): T {
  API_DOCS.add(schema, typeof doc === 'string' ? { description: doc } : doc);
  return schema;
}
