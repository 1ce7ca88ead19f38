/**
 * Object keys are built here and nowhere else: `{prefix}/{userId}/{uploadId}/{name}`. Every
 * part that reaches a session policy is plain ASCII with no IAM wildcard or variable
 * characters (`*`, `?`, `$`), no control characters and no path separators, so a key can only
 * ever name itself. The original Unicode filename travels in metadata and Content-Disposition.
 */

/** Longest sanitised filename, bytes (ASCII, so also characters). */
export const MAX_SANITISED_NAME = 100;
const MAX_EXTENSION = 10;
// With the longest prefix (128) and name, the key still fits STS's 2048-character session policy three times.
const MAX_USER_SEGMENT = 224;
const SAFE_SEGMENT = /^[A-Za-z0-9._@=+-]+$/;

/**
 * A filename made safe for an object key: NFKD with diacritics stripped, anything but
 * `[A-Za-z0-9._-]` turned into `_`, runs collapsed, no leading or trailing dots, at most
 * {@link MAX_SANITISED_NAME} bytes with its (lowercased, ≤ 10 characters) extension kept,
 * and never empty (`file`).
 */
export function sanitizeFilename(filename: string, maxLength = MAX_SANITISED_NAME): string {
  // A dot at the start is a dotfile, not an extension.
  const dot = filename.lastIndexOf('.');
  const candidate = dot > 0 ? ascii(filename.slice(dot + 1, dot + 64)) : '';
  const hasExtension = /^[A-Za-z0-9]{1,10}$/.test(candidate) && candidate.length <= MAX_EXTENSION;
  const extension = hasExtension ? candidate.toLowerCase() : '';
  // Bound the work: nothing past a few KB can survive the length cap anyway.
  const text = ascii((hasExtension ? filename.slice(0, dot) : filename).slice(0, 4096));
  const room = Math.max(1, maxLength - (extension ? extension.length + 1 : 0));
  const stem = trimEdges(asciiStem(text).slice(0, room)) || 'file';
  return extension ? `${stem}.${extension}` : stem;
}

function ascii(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '');
}

function asciiStem(text: string): string {
  return trimEdges(
    text
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/_+/g, '_')
      .replace(/[._-]*\.[._-]*/g, '.'),
  );
}

function trimEdges(text: string): string {
  return text.replace(/^[._-]+/, '').replace(/[._-]+$/, '');
}

/**
 * A user id as one key segment: kept when it is already safe, otherwise each unsafe byte
 * percent-encoded (so two ids never share a segment). A leading dot is encoded too.
 * @throws {TypeError} for an empty id or one too long to fit a key.
 */
export function userSegment(userId: string): string {
  if (userId === '') throw new TypeError('userId must not be empty');
  let segment: string;
  if (SAFE_SEGMENT.test(userId) && !userId.startsWith('.')) segment = userId;
  else {
    segment = '';
    for (const byte of new TextEncoder().encode(userId)) {
      const char = String.fromCharCode(byte);
      segment +=
        byte < 0x80 && /[A-Za-z0-9_@=+-]/.test(char)
          ? char
          : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  if (segment.length > MAX_USER_SEGMENT) throw new TypeError(`userId is too long for an object key`);
  return segment;
}

/**
 * Normalises a configured key prefix: no leading/trailing slashes, safe characters only.
 * @throws {TypeError} naming `keyPrefix` when it has characters a policy could misread.
 */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  for (const segment of trimmed.split('/')) {
    if (!SAFE_SEGMENT.test(segment) || segment === '.' || segment === '..')
      throw new TypeError(`keyPrefix: segment "${segment}" must match [A-Za-z0-9._@=+-]+ and not be . or ..`);
  }
  return trimmed;
}

/**
 * `{prefix}/{userId}/{uploadId}/{sanitised filename}`.
 * @throws {TypeError} when the prefix, user id or upload id could not be used safely.
 */
export function buildObjectKey(prefix: string, userId: string, uploadId: string, filename: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(uploadId)) throw new TypeError('uploadId must be URL-safe base64 text');
  const head = normalizePrefix(prefix);
  const parts = [userSegment(userId), uploadId, sanitizeFilename(filename)];
  return head ? `${head}/${parts.join('/')}` : parts.join('/');
}

/** RFC 8187 `value-chars`: attr-char stays, everything else is percent-encoded UTF-8. */
function encodeRfc8187(text: string): string {
  return encodeURIComponent(text).replace(
    /['()*!]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * `attachment; filename="ascii"; filename*=UTF-8''…` (RFC 6266): an ASCII fallback for old
 * clients and the exact name for the rest. Control characters are dropped from both.
 */
export function contentDisposition(filename: string, type: 'attachment' | 'inline' = 'attachment'): string {
  const clean = stripControls(filename).slice(0, 1024);
  const fallback =
    clean
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .replace(/[^\x20-\x7e]|["\\%]/g, '_')
      .trim() || 'file';
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encodeRfc8187(clean || 'file')}`;
}

/** Control characters (C0, DEL, C1) and bidi overrides/isolates, which can disguise a name. */
export function stripControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
}
