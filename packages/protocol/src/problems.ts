/**
 * Broker errors as RFC 9457 problem+json: a stable `type` code per kind of failure,
 * with its HTTP status and title. Clients switch on `type`, never on `detail`.
 */
import type { Problem } from './api.ts';

export const PROBLEMS = {
  'invalid-request': { status: 400, title: 'The request is not valid' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'Not allowed' },
  'not-found': { status: 404, title: 'No such upload' },
  conflict: { status: 409, title: 'The upload is not in a state that allows this' },
  'too-large': { status: 413, title: 'The file is larger than allowed' },
  'unsupported-type': { status: 415, title: 'This type of file is not allowed' },
  'upload-rejected': { status: 422, title: 'The uploaded object did not match what was declared' },
  'quota-exceeded': { status: 429, title: 'Upload quota exceeded' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'upstream-error': { status: 502, title: 'The storage service failed' },
  'upstream-timeout': { status: 504, title: 'The storage service did not answer in time' },
  internal: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemType = keyof typeof PROBLEMS;

export const PROBLEM_BASE = 'https://hoist.dev/problems/';

export function problemCode(problem: Pick<Problem, 'type'>): ProblemType | undefined {
  const code = problem.type.startsWith(PROBLEM_BASE) ? problem.type.slice(PROBLEM_BASE.length) : '';
  return Object.hasOwn(PROBLEMS, code) ? (code as ProblemType) : undefined;
}
