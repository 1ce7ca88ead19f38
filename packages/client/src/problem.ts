/**
 * The broker's problem+json answers as UploadErrors: one parser for the engine's broker calls
 * and the Uppy signer, so a code, `retryable: false` and Retry-After mean the same in both.
 */
import { PROBLEM_BASE, type Problem } from '@hoist/protocol';
import { UploadError, type UploadErrorCode } from './errors.ts';

const PROBLEM_TO_CODE: Record<string, UploadErrorCode> = {
  unauthorized: 'unauthorized',
  forbidden: 'access-denied',
  'not-found': 'upload-gone',
  'too-large': 'too-large',
  'unsupported-type': 'unsupported-type',
  'upload-rejected': 'upload-rejected',
  'quota-exceeded': 'quota-exceeded',
  'rate-limited': 'quota-exceeded',
};

/**
 * The error a non-2xx broker answer stands for. `operation` prefixes the message; without it
 * the message is the broker's detail alone (written for people: "This file is larger than …").
 */
export function problemError(
  operation: string | undefined,
  status: number,
  text: string,
  retryAfter: string | null,
): UploadError {
  let problem: Partial<Problem> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') problem = parsed as Partial<Problem>;
  } catch {
    // Not problem+json (a proxy's error page): the status says enough.
  }
  // The code is the type's last segment (not checked against the broker's list, whose titles
  // would only weigh on the browser bundle: an unknown code maps to 'broker-error').
  const type = problem.type;
  const code =
    typeof type === 'string' && type.startsWith(PROBLEM_BASE) ? type.slice(PROBLEM_BASE.length) : undefined;
  const retryAfterSeconds = parseRetryAfter(retryAfter) ?? parseRetryAfter(problem.retryAfter);
  // A 502 whose store refused for good says `retryable: false`: retrying only delays the real cause.
  const retryable =
    problem.retryable !== false &&
    (status >= 500 || code === 'rate-limited' || (status === 429 && code !== 'quota-exceeded'));
  const detail = typeof problem.detail === 'string' ? problem.detail : (problem.title ?? `HTTP ${status}`);
  const fields = Array.isArray(problem.errors)
    ? problem.errors.map((e) => `${e.path}: ${e.message}`).join('; ')
    : '';
  return new UploadError(
    (code && PROBLEM_TO_CODE[code]) || 'broker-error',
    `${operation ? `${operation}: ` : ''}${detail}${fields ? ` (${fields})` : ''}`,
    {
      status,
      retryable,
      ...(code ? { upstreamCode: code } : {}),
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    },
  );
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when neither. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  // An IMF-fixdate names its weekday and month ("Sun, 06 Nov 1994 08:49:37 GMT").
  const date = /^[A-Za-z]{3}, /.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isFinite(date) ? Math.max(0, Math.ceil((date - now) / 1000)) : undefined;
}
