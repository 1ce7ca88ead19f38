/**
 * Integrity on stores without flexible checksums: S3's ETags are MD5s (a part's, a single
 * PUT's), and a multipart object's is md5(concat(binary part MD5s))-N. When every part's ETag
 * is the MD5 the client computed and the object's ETag is the chain of them, the bytes the
 * store holds are the client's bytes.
 */
import { multipartEtag, normalizeEtag as unquoteEtag } from './views.ts';

/** Base64 MD5 of nothing: the declared digest of an empty single-request file. */
export const EMPTY_MD5 = '1B2M2Y8AsgTpgAmY7PhCfg==';

/** An ETag without quotes or weak marker, lower-cased: comparable with a hex MD5. */
export function normalizeEtag(etag: string): string {
  return unquoteEtag(etag).toLowerCase();
}

/** The hex form an ETag has of a base64 MD5. */
export function md5Hex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}

/** Whether an ETag is exactly this MD5 (a part's, or a single PUT's). */
export function etagIsMd5(etag: string | undefined, md5Base64: string): boolean {
  return etag !== undefined && normalizeEtag(etag) === md5Hex(md5Base64);
}

/** The multipart ETag a store gives the object made of parts with these MD5s (base64), in order. */
export function multipartEtagOf(partMd5s: readonly string[]): string {
  return multipartEtag(partMd5s.map((md5) => ({ etag: md5Hex(md5) })));
}

/**
 * A part's MD5 (base64) from its ETag, when the ETag is a plain MD5: what `GET /uploads/:id`
 * lists as the part's checksum on stores without checksums, so a resuming client compares it
 * with the MD5 of its own bytes exactly as it compares checksums elsewhere.
 */
export function etagToMd5(etag: string): string | undefined {
  const hex = normalizeEtag(etag);
  return /^[0-9a-f]{32}$/.test(hex) ? Buffer.from(hex, 'hex').toString('base64') : undefined;
}
