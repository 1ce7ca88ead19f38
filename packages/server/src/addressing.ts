/**
 * Splits a request target into bucket and key, path-style (`/bucket/key`) or
 * virtual-host style (`bucket.localhost/key`). Keys are decoded once and stay data.
 */
import { S3Error } from '@hoist/aws/s3';

export interface Target {
  bucket: string | undefined;
  key: string | undefined;
  rawPath: string;
  rawQuery: string;
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

export function parseTarget(
  url: string,
  host: string | undefined,
  virtualHostDomains: readonly string[],
): Target {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI');
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  const domain = virtualHostDomains.find((d) => hostname.endsWith(`.${d.toLowerCase()}`));
  if (domain) {
    const bucket = hostname.slice(0, hostname.length - domain.length - 1);
    const key = rawPath.length > 1 ? decode(rawPath.slice(1)) : undefined;
    return { bucket, key, rawPath, rawQuery };
  }
  const rest = rawPath.slice(1);
  if (rest === '') return { bucket: undefined, key: undefined, rawPath, rawQuery };
  const slash = rest.indexOf('/');
  if (slash === -1) return { bucket: decode(rest), key: undefined, rawPath, rawQuery };
  const bucket = decode(rest.slice(0, slash));
  const keyPart = rest.slice(slash + 1);
  return { bucket, key: keyPart === '' ? undefined : decode(keyPart), rawPath, rawQuery };
}
