/**
 * The content-type rule shared by the broker, the engine, the CLI and the uploader: a
 * `type/subtype` of RFC 9110 token characters, optional `;` parameters, printable ASCII (it
 * becomes a header), at most 255 characters. Matching is case-insensitive.
 */

const TOKEN = "[a-z0-9!#$%&'*+.^_`|~-]+";
const MEDIA_TYPE = new RegExp(`^(${TOKEN})/(${TOKEN})$`);

/** Longest content type accepted (the broker stores it; S3 sends it back as a header). */
export const MAX_CONTENT_TYPE_LENGTH = 255;

/** Lower-cased `type/subtype` without parameters, or undefined when `value` is not a media type. */
export function normalizeContentType(value: string): string | undefined {
  const bare = value.split(';', 1)[0]!.trim().toLowerCase();
  const match = MEDIA_TYPE.exec(bare);
  if (!match || match[1] === '*' || match[2] === '*') return undefined;
  return bare;
}

/** Why `value` cannot be an upload's content type, or undefined when it can. */
export function contentTypeProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length < 3 || value.length > MAX_CONTENT_TYPE_LENGTH)
    return `must be a string of 3 to ${MAX_CONTENT_TYPE_LENGTH} characters`;
  if (!/^[\x20-\x7e]+$/.test(value)) return 'must be printable ASCII';
  if (normalizeContentType(value) === undefined) return 'must be a media type such as video/mp4';
  return undefined;
}

/**
 * A pattern of allowed types, lower-cased: `video/mp4`, `video/*` or `*\/*` (parameters dropped);
 * undefined when `value` is none of these.
 */
export function normalizeMediaRange(value: string): string | undefined {
  const bare = value.split(';', 1)[0]!.trim().toLowerCase();
  if (bare === '*/*') return bare;
  if (bare.endsWith('/*')) return normalizeContentType(`${bare.slice(0, -1)}x`) && bare;
  return normalizeContentType(bare);
}
