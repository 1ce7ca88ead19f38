/** The value schemas the broker's config fields are made of: bounded numbers, sizes, URLs, names. */
import {
  formatSize,
  normalizeMediaRange,
  parseSize,
  partSizeFromText,
  partSizeProblem,
  SIZE_SYNTAX,
} from '@hoist/protocol';
import { z } from 'zod';

/** Matches user ids: they go into object keys and session policies. */
export const USER_ID_PATTERN = /^[A-Za-z0-9._@+-]{1,128}$/;

export const JWS_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

export const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** A store capability: true/false pins it, `auto` probes it. */
export const capability = () =>
  z.union([z.boolean(), z.literal('auto')], { error: 'must be true, false or "auto"' }).default('auto');

const sizeInput = () => z.union([z.number(), z.string()], { error: `must be ${SIZE_SYNTAX}` });

/** Bytes, as a number or a size in the protocol's grammar (`5GiB`, `500MB`); `unlimited` when allowed. */
export const size = (options: { min: number; max: number; unlimited?: boolean }) =>
  sizeInput().transform((value, ctx) => {
    const fail = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (options.unlimited && typeof value === 'string' && value.trim().toLowerCase() === 'unlimited')
      return Infinity;
    const bytes = typeof value === 'number' ? value : parseSize(value);
    if (bytes === undefined || Number.isNaN(bytes)) return fail(`must be ${SIZE_SYNTAX}`);
    if (bytes === Infinity && options.unlimited) return bytes;
    if (!Number.isSafeInteger(bytes)) return fail('must be a whole number of bytes');
    if (bytes < options.min) return fail(`must be at least ${formatSize(options.min)}`);
    if (bytes > options.max) return fail(`must be at most ${formatSize(options.max)}`);
    return bytes;
  });

/**
 * A part size: text is read like every part size (`8MB` rounds up to 8 MiB, see the protocol's
 * partSizeFromText); a number must already be whole MiB from 5 MiB to 5 GiB.
 */
export const partSize = () =>
  sizeInput().transform((value, ctx) => {
    const bytes = typeof value === 'number' ? value : partSizeFromText(value);
    const problem = bytes === undefined ? `must be ${SIZE_SYNTAX}` : partSizeProblem(bytes);
    if (problem === undefined) return bytes as number;
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  });

export const httpUrl = () =>
  z.string().refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash;
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without query or fragment');

/** An endpoint URL without trailing slashes. */
export const endpoint = () => httpUrl().transform((value) => value.replace(/\/+$/, ''));

export const isLoopback = (host: string) => host === 'localhost' || host === '[::1]' || /^127\./.test(host);

export const userId = z
  .string()
  .regex(USER_ID_PATTERN, 'user ids may contain only A-Z a-z 0-9 . _ @ + - (1..128)');

export const keyPrefix = z
  .string()
  .min(1, 'must not be empty')
  // Keys appear three times in the session policy, which STS caps at 2048 characters.
  .max(128, 'must be at most 128 characters')
  .refine((v) => /^[\x21-\x7e]+$/.test(v), 'must be printable ASCII without spaces')
  .refine((v) => !/[*?$]/.test(v), 'must not contain *, ? or $ (IAM wildcards and variables)')
  // Exactly what the key builder (keys.ts) accepts: a prefix valid here never fails an upload.
  .refine((v) => /^[A-Za-z0-9._@=+/-]*$/.test(v), 'may contain only A-Z a-z 0-9 . _ @ = + - and /')
  .refine((v) => !v.startsWith('/') && !v.endsWith('/'), 'must not start or end with /')
  .refine(
    (v) => v.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    'must not contain //, . or ..',
  );

/** An allowed content type: `video/mp4`, `video/*` or `*\/*`, by the protocol's media-type rule. */
export const mediaRange = z.string().transform((value, ctx) => {
  const range = normalizeMediaRange(value);
  if (range !== undefined) return range;
  ctx.addIssue({ code: 'custom', message: 'must be a media type such as video/mp4, video/* or */*' });
  return z.NEVER;
});

/** A CORS origin (`https://app.example.com`), or `*`. */
export const origin = z
  .string()
  .refine((v) => {
    if (v === '*') return true;
    try {
      return new URL(v).origin === v.toLowerCase();
    } catch {
      return false;
    }
  }, 'must be an origin such as https://app.example.com (scheme, host, optional port; no path)')
  .transform((v) => (v === '*' ? v : new URL(v).origin));

/** A JWS algorithm jose can verify; `none` never. */
export const jwsAlgorithm = z.string().superRefine((value, ctx) => {
  if (value.toLowerCase() === 'none') {
    ctx.addIssue({ code: 'custom', message: '"none" is never allowed (unsigned tokens)' });
  } else if (!(JWS_ALGORITHMS as readonly string[]).includes(value)) {
    ctx.addIssue({ code: 'custom', message: `must be one of ${JWS_ALGORITHMS.join(', ')}` });
  }
});
