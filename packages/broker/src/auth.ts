/**
 * Who is calling: `Authorization: Bearer <token>` resolved to a `BrokerUser`, from static
 * development tokens (compared in constant time) or JWTs verified with jose (shared HMAC
 * secret or the identity provider's JWKS; issuer, audience, expiry and an algorithm
 * allow-list enforced). An application hook (`custom`) is tried first.
 *
 * Failures throw `BrokerProblem('unauthorized', reason)`; reasons never contain a token,
 * secret or key. No `Authorization` header (and no user from the hook) → undefined.
 *
 * @example
 * ```ts
 * const auth = createAuthenticator(config.auth);
 * const user = await auth.authenticate(request.headers); // { id: 'alice', claims }
 * ```
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  type FetchImplementation,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { AuthConfig } from './config.ts';
import { USER_ID_PATTERN } from './config.ts';
import { BrokerProblem } from './errors.ts';
import type { Authenticator, BrokerUser } from './types.ts';

export interface AuthenticatorOptions {
  /** Tried before bearer tokens; a user it returns is accepted, undefined falls through. */
  custom?: (headers: Headers) => Promise<BrokerUser | undefined>;
  /** fetch used to load the JWKS (tests, proxies). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Clock for JWT `exp`/`nbf` checks, ms since epoch. @default Date.now */
  now?: () => number;
}

/** Bearer tokens longer than this are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;

// Any visible ASCII: static tokens are compared as digests, JWTs are parsed by jose.
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const unauthorized = (reason: string, cause?: unknown) =>
  new BrokerProblem('unauthorized', reason, cause === undefined ? {} : { cause });

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** Static tokens: every entry is compared (no early exit) on SHA-256 digests, so neither content nor length leaks. */
function staticTokens(tokens: Record<string, string>): (token: string) => string | undefined {
  const entries = Object.entries(tokens).map(([user, token]) => [user, sha256(token)] as const);
  return (token) => {
    const digest = sha256(token);
    let found: string | undefined;
    for (const [user, expected] of entries) {
      if (timingSafeEqual(digest, expected) && found === undefined) found = user;
    }
    return found;
  };
}

function joseReason(error: unknown): string | undefined {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'unexpected token issuer';
      case 'aud':
        return 'unexpected token audience';
      case 'nbf':
        return 'token not yet valid';
      case 'exp':
        return 'token has no valid expiry';
      default:
        return `token claim "${error.claim}" is not valid`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token signature is not valid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key matches the token';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'more than one key matches the token';
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWKInvalid
  ) {
    return 'malformed token';
  }
  return undefined;
}

type JwtSettings = NonNullable<AuthConfig['jwt']>;

function jwtVerifier(
  jwt: JwtSettings,
  options: AuthenticatorOptions,
): (token: string) => Promise<BrokerUser> {
  const algorithms = jwt.algorithms.filter((alg) => alg.toLowerCase() !== 'none');
  if (algorithms.length === 0) throw new TypeError('auth.jwt.algorithms: must name at least one algorithm');
  let key: Uint8Array | ReturnType<typeof createRemoteJWKSet>;
  if (jwt.secret !== undefined && jwt.jwksUrl === undefined) {
    key = new TextEncoder().encode(jwt.secret);
  } else if (jwt.jwksUrl !== undefined && jwt.secret === undefined) {
    const fetchImpl = options.fetch;
    key = createRemoteJWKSet(
      new URL(jwt.jwksUrl),
      fetchImpl ? { [customFetch]: ((url, init) => fetchImpl(url, init)) satisfies FetchImplementation } : {},
    );
  } else {
    throw new TypeError('auth.jwt: set exactly one of secret and jwksUrl');
  }
  const now = options.now;
  return async (token) => {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch (error) {
      throw unauthorized('malformed token', error);
    }
    // Checked here too, so `none` and foreign algorithms never reach key selection.
    if (typeof alg !== 'string' || !algorithms.includes(alg))
      throw unauthorized('token algorithm not allowed');
    let payload: JWTPayload;
    try {
      const verifyOptions: JWTVerifyOptions = {
        algorithms,
        clockTolerance: jwt.clockToleranceSeconds,
        requiredClaims: ['exp'],
      };
      if (jwt.issuer !== undefined) verifyOptions.issuer = jwt.issuer;
      if (jwt.audience !== undefined) verifyOptions.audience = jwt.audience;
      if (now) verifyOptions.currentDate = new Date(now());
      ({ payload } =
        key instanceof Uint8Array
          ? await jwtVerify(token, key, verifyOptions)
          : await jwtVerify(token, key, verifyOptions));
    } catch (error) {
      const reason = joseReason(error);
      if (reason) throw unauthorized(reason, error);
      // JWKS unreachable or invalid: not the caller's fault.
      throw new BrokerProblem('upstream-error', 'could not load the identity provider keys', {
        cause: error,
      });
    }
    const id = payload[jwt.userClaim];
    if (id === undefined) throw unauthorized(`token has no "${jwt.userClaim}" claim`);
    if (typeof id !== 'string' || !USER_ID_PATTERN.test(id)) {
      throw unauthorized(`token "${jwt.userClaim}" claim is not a valid user id`);
    }
    return { id, claims: payload };
  };
}

/**
 * Builds the broker's Authenticator from `config.auth` (static tokens and/or JWT) and the
 * optional `custom` hook. Throws `TypeError` when nothing is configured.
 */
export function createAuthenticator(config: AuthConfig, options: AuthenticatorOptions = {}): Authenticator {
  const matchStatic =
    config.tokens && Object.keys(config.tokens).length > 0 ? staticTokens(config.tokens) : undefined;
  const verifyJwt = config.jwt ? jwtVerifier(config.jwt, options) : undefined;
  const { custom } = options;
  if (!matchStatic && !verifyJwt && !custom) {
    throw new TypeError('auth: configure tokens, jwt or a custom authenticator');
  }
  return {
    async authenticate(headers) {
      if (custom) {
        const user = await custom(headers);
        if (user) {
          if (!USER_ID_PATTERN.test(user.id)) {
            throw new TypeError('custom authenticator: user id must match ^[A-Za-z0-9._@+-]{1,128}$');
          }
          return user;
        }
      }
      const header = headers.get('authorization');
      if (header === null) return undefined;
      if (header.length > MAX_TOKEN_LENGTH + 16) throw unauthorized('token too long');
      const token = BEARER.exec(header)?.[1];
      if (!token) throw unauthorized('expected "Authorization: Bearer <token>"');
      const staticUser = matchStatic?.(token);
      if (staticUser !== undefined) return { id: staticUser };
      if (verifyJwt && JWT_SHAPE.test(token)) return verifyJwt(token);
      throw unauthorized(matchStatic ? 'unknown token' : 'malformed token');
    },
  };
}
