/**
 * Broker errors as RFC 9457 problem+json: a stable `type` code per kind of failure,
 * with its HTTP status and title. Clients switch on `type`, never on `detail`.
 */
import type { Problem } from './api.ts';

/** Each stable code and its HTTP status: all an engine needs to read a problem. */
export const PROBLEM_STATUS = {
  'invalid-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  'unsupported-type': 415,
  'upload-rejected': 422,
  'quota-exceeded': 429,
  'rate-limited': 429,
  'upstream-error': 502,
  'upstream-timeout': 504,
  internal: 500,
} as const satisfies Record<string, number>;

export type ProblemType = keyof typeof PROBLEM_STATUS;

// The titles only the broker sends: a separate table, so browser bundles leave it out.
const PROBLEM_TITLES: { readonly [K in ProblemType]: string } = {
  'invalid-request': 'The request is not valid',
  unauthorized: 'Authentication is required',
  forbidden: 'Not allowed',
  'not-found': 'No such upload',
  conflict: 'The upload is not in a state that allows this',
  'too-large': 'The file is larger than allowed',
  'unsupported-type': 'This type of file is not allowed',
  'upload-rejected': 'The uploaded object did not match what was declared',
  'quota-exceeded': 'Upload quota exceeded',
  'rate-limited': 'Too many requests',
  'upstream-error': 'The storage service failed',
  'upstream-timeout': 'The storage service did not answer in time',
  internal: 'Internal error',
};

function problemTable() {
  const table = {} as { [K in ProblemType]: { status: (typeof PROBLEM_STATUS)[K]; title: string } };
  for (const code of Object.keys(PROBLEM_STATUS) as ProblemType[])
    (table as Record<ProblemType, { status: number; title: string }>)[code] = {
      status: PROBLEM_STATUS[code],
      title: PROBLEM_TITLES[code],
    };
  return Object.freeze(table);
}

/** Every problem code with its HTTP status and title. */
export const PROBLEMS = /* @__PURE__ */ problemTable();

export const PROBLEM_BASE = 'https://hoist.dev/problems/';

export function problemCode(problem: Pick<Problem, 'type'>): ProblemType | undefined {
  const code = problem.type.startsWith(PROBLEM_BASE) ? problem.type.slice(PROBLEM_BASE.length) : '';
  return Object.hasOwn(PROBLEM_STATUS, code) ? (code as ProblemType) : undefined;
}
