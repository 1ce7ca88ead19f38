/**
 * The content-type rule shared by the broker, the engine, the CLI and the uploader: a
 * `type/subtype` of RFC 9110 token characters (neither part a lone `*`), optional `;`
 * parameters, printable ASCII (it becomes a header), at most 255 characters. Matching is
 * case-insensitive. One regular expression, so the browser engine carries a few bytes only.
 */

/** Longest content type accepted (the broker stores it; S3 sends it back as a header). */
export const MAX_CONTENT_TYPE_LENGTH = 255;

// \w is A-Z a-z 0-9 _; the rest are RFC 9110's other token characters. [ -~] is printable ASCII.
const CONTENT_TYPE = /^ *(?!\*\/)[\w!#$%&'*+.^`|~-]+\/(?!\* *(?:;|$))[\w!#$%&'*+.^`|~-]+ *(?:;[ -~]*)?$/;

/** Lower-cased `type/subtype` without parameters, or undefined when `value` is not a media type. */
export function normalizeContentType(value: string): string | undefined {
  return CONTENT_TYPE.test(value) ? value.split(';', 1)[0]!.trim().toLowerCase() : undefined;
}

/** Why `value` cannot be an upload's content type, or undefined when it can. */
export function contentTypeProblem(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length <= MAX_CONTENT_TYPE_LENGTH && CONTENT_TYPE.test(value))
    return undefined;
  return 'must be a media type such as video/mp4';
}

/**
 * A pattern of allowed types, lower-cased: `video/mp4`, `video/*` or `*\/*` (parameters
 * dropped); undefined when `value` is none of these.
 */
export function normalizeMediaRange(value: string): string | undefined {
  const bare = value.split(';', 1)[0]!.trim().toLowerCase();
  if (bare === '*/*') return bare;
  if (bare.endsWith('/*')) return normalizeContentType(`${bare.slice(0, -1)}x`) && bare;
  return normalizeContentType(bare);
}
