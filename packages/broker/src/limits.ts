/**
 * What a user may upload, checked before anything is created: size, content type,
 * concurrent uploads and declared bytes per rolling day (`checkCreateUpload`), and how
 * often credentials may be minted (`createRateLimiter`). Failures throw `BrokerProblem`s:
 * `too-large` (413), `unsupported-type` (415), `quota-exceeded` and `rate-limited` (429, with
 * `retryAfter` seconds).
 * @module
 */
import type { CreateUploadRequest } from '@hoist/protocol';
import { normalizeContentType, S3_LIMITS } from '@hoist/protocol';
import { BrokerProblem } from './errors.ts';
import type { BrokerLimits, BrokerUser, Registry } from './types.ts';

const DAY_MS = 24 * 3600 * 1000;

/** The protocol's media-type rule (the engine, CLI and uploader check the same). */

/**
 * Whether `type` matches one of `allowed`: exact (`video/mp4`), by top-level type
 * (`video/*`) or anything (`*\/*`). Case-insensitive; parameters (`; charset=…`) ignored on
 * both sides. A malformed type (or a wildcard one) is never allowed.
 */
export function contentTypeAllowed(type: string, allowed: readonly string[]): boolean {
  const normalized = normalizeContentType(type);
  if (!normalized) return false;
  const top = normalized.slice(0, normalized.indexOf('/'));
  return allowed.some((entry) => {
    const pattern = entry.split(';', 1)[0]!.trim().toLowerCase();
    return pattern === '*/*' || pattern === normalized || pattern === `${top}/*`;
  });
}

export interface CreateUploadDeps {
  limits: BrokerLimits;
  registry: Pick<Registry, 'countActive' | 'bytesSince'>;
  /** ms since epoch */
  now: number;
  /**
   * Retry-After for the concurrency limit, which frees up only when an upload finishes.
   * @default 30
   */
  concurrencyRetryAfterSeconds?: number;
}

/**
 * Refuses an upload the limits do not allow, cheapest checks first (size, type, then the
 * registry). Resolves when the upload may be created.
 */
export async function checkCreateUpload(
  request: Pick<CreateUploadRequest, 'size' | 'contentType'>,
  user: BrokerUser,
  deps: CreateUploadDeps,
): Promise<void> {
  const { limits, registry, now } = deps;
  const { size } = request;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new BrokerProblem('invalid-request', 'size must be a whole number of bytes', {
      errors: [{ path: 'size', message: 'must be a non-negative integer' }],
    });
  }
  const max = Math.min(limits.maxObjectSize, S3_LIMITS.maxObjectSize);
  if (size > max) {
    throw new BrokerProblem('too-large', `the file is ${size} bytes; the largest allowed is ${max} bytes`);
  }
  if (!contentTypeAllowed(request.contentType, limits.allowedContentTypes)) {
    throw new BrokerProblem(
      'unsupported-type',
      `content type not allowed; allowed: ${limits.allowedContentTypes.join(', ')}`,
    );
  }
  const active = await registry.countActive(user.id);
  if (active >= limits.maxConcurrentUploadsPerUser) {
    throw new BrokerProblem(
      'quota-exceeded',
      `at most ${limits.maxConcurrentUploadsPerUser} uploads may be open at once; finish or abort one`,
      { retryAfter: deps.concurrencyRetryAfterSeconds ?? 30 },
    );
  }
  const quota = limits.maxBytesPerUserPerDay;
  if (!Number.isFinite(quota)) return;
  if (size > quota) {
    // It would never fit: not worth retrying.
    throw new BrokerProblem('too-large', `the file is larger than the daily quota of ${quota} bytes`);
  }
  const used = await registry.bytesSince(user.id, now - DAY_MS);
  if (used + size > quota) {
    throw new BrokerProblem(
      'quota-exceeded',
      `${used} of ${quota} bytes used in the last 24 hours; this file needs ${size}`,
      { retryAfter: await secondsUntilFits(registry, user.id, now, quota - size) },
    );
  }
}

/**
 * When the rolling window will have dropped enough to leave `budget` bytes used: a binary
 * search over `bytesSince` (which only shrinks as the window's start moves on). Only runs on
 * refusals, in at most 12 queries (about 21 s of precision).
 */
async function secondsUntilFits(
  registry: Pick<Registry, 'bytesSince'>,
  userId: string,
  now: number,
  budget: number,
): Promise<number> {
  let lo = 0;
  let hi = DAY_MS;
  for (let i = 0; i < 12; i++) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await registry.bytesSince(userId, now + mid - DAY_MS)) <= budget) hi = mid;
    else lo = mid;
  }
  return Math.max(1, Math.ceil(hi / 1000));
}

export interface RateLimiterOptions {
  /** Allowed calls per user per minute; also the burst size. */
  perMinute: number;
  /** ms since epoch. @default Date.now */
  clock?: () => number;
  /** Users tracked at most; the least recently seen are forgotten first. @default 100_000 */
  maxUsers?: number;
}

export interface RateLimiter {
  /** Spends one call of `userId`'s allowance, or throws `rate-limited` with `retryAfter`. */
  take(userId: string): void;
  /** Users currently tracked (for tests and metrics). */
  readonly size: number;
}

/**
 * A token bucket per user: `perMinute` calls at once, refilled at `perMinute` per minute.
 * Memory is bounded: a user idle long enough to have a full bucket is forgotten (nothing is
 * lost), and beyond `maxUsers` the least recently seen go first. Per process: several
 * brokers each allow `perMinute`.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { perMinute, clock = Date.now, maxUsers = 100_000 } = options;
  if (!Number.isFinite(perMinute) || perMinute <= 0)
    throw new TypeError('perMinute: must be a positive number');
  if (!Number.isSafeInteger(maxUsers) || maxUsers < 1)
    throw new TypeError('maxUsers: must be a positive integer');
  const perMs = perMinute / 60_000;
  const fullAfterMs = 60_000;
  // Map order is recency order: each take moves the user to the end.
  const buckets = new Map<string, { tokens: number; at: number }>();

  function evict(now: number): void {
    for (const [user, bucket] of buckets) {
      if (buckets.size > maxUsers || now - bucket.at >= fullAfterMs) buckets.delete(user);
      else break;
    }
  }

  return {
    take(userId) {
      const now = clock();
      evict(now);
      const bucket = buckets.get(userId);
      // A clock that goes backwards refills nothing.
      const tokens = bucket
        ? Math.min(perMinute, bucket.tokens + Math.max(0, now - bucket.at) * perMs)
        : perMinute;
      buckets.delete(userId);
      if (tokens < 1) {
        buckets.set(userId, { tokens, at: Math.max(now, bucket?.at ?? now) });
        const retryAfter = Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
        throw new BrokerProblem('rate-limited', `at most ${perMinute} requests per minute`, { retryAfter });
      }
      buckets.set(userId, { tokens: tokens - 1, at: Math.max(now, bucket?.at ?? now) });
      if (buckets.size > maxUsers) evict(now);
    },
    get size() {
      return buckets.size;
    },
  };
}
