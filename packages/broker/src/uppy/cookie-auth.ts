/**
 * Authentication of the Uppy routes. Uppy's Companion client sends plain `fetch` requests:
 * no custom header, only the browser's cookies. So these routes also accept the broker's
 * token (static or JWT) from a cookie — and because a browser attaches cookies to requests
 * other sites make too, a cookie counts only on a request a page of an allowed origin made:
 * its `Origin` must be one of `cors.origins`, or, when a same-origin GET carries none,
 * `Sec-Fetch-Site` must say `same-origin`. `Authorization: Bearer` (which no browser adds by
 * itself) needs neither check.
 */
import { BrokerProblem } from '../errors.ts';
import type { Authenticator, BrokerUser } from '../types.ts';

export interface CookieAuthOptions {
  cookieName: string;
  /** Origins whose pages may use the cookie (the broker's `cors.origins`). */
  allowedOrigins: readonly string[];
}

/** The named cookie's value from a Cookie header, or undefined. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at < 0 || pair.slice(0, at).trim() !== name) continue;
    const value = pair
      .slice(at + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    // Written percent-encoded (sessionCookie), as tokens may hold `;` or `,`.
    try {
      return value === '' ? undefined : decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Why a cookie-carrying request is refused, or undefined when its page is allowed. */
export function crossSiteReason(headers: Headers, allowedOrigins: ReadonlySet<string>): string | undefined {
  const origin = headers.get('origin');
  if (origin !== null) return allowedOrigins.has(origin) ? undefined : `the origin ${origin} is not allowed`;
  // Browsers omit Origin on same-origin GETs, and send Sec-Fetch-Site on every fetch.
  if (headers.get('sec-fetch-site') === 'same-origin') return undefined;
  return 'a cookie is accepted only from a page of an allowed origin';
}

export function createCookieAuthenticator(inner: Authenticator, options: CookieAuthOptions) {
  const allowed = new Set(options.allowedOrigins.filter((origin) => origin !== '*'));
  return async function authenticate(headers: Headers): Promise<BrokerUser | undefined> {
    if (headers.has('authorization')) return inner.authenticate(headers);
    const token = readCookie(headers.get('cookie'), options.cookieName);
    if (token === undefined) return undefined;
    const reason = crossSiteReason(headers, allowed);
    if (reason) throw new BrokerProblem('forbidden', `Cross-site request refused: ${reason}`);
    return inner.authenticate(new Headers({ authorization: `Bearer ${token}` }));
  };
}

/**
 * The Set-Cookie value that signs a browser in: HttpOnly (page scripts never read the token),
 * SameSite=Strict (other sites' requests do not carry it at all), Secure over HTTPS.
 */
export function sessionCookie(name: string, token: string | undefined, secure: boolean): string {
  const value = token === undefined ? '' : encodeURIComponent(token);
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (secure) attributes.push('Secure');
  if (token === undefined) attributes.push('Max-Age=0');
  return [`${name}=${value}`, ...attributes].join('; ');
}
