/**
 * The broker's one error type: a problem with a stable `type` code (see
 * protocol/problems.ts), rendered once as application/problem+json.
 */
import { PROBLEM_BASE, PROBLEMS, type Problem, type ProblemType } from '../protocol/problems.ts';

export interface BrokerProblemOptions {
  errors?: { path: string; message: string }[];
  /** Seconds; also sent as the Retry-After header. */
  retryAfter?: number;
  /** false: the same request will fail the same way (sent as the problem's `retryable`). */
  retryable?: boolean;
  cause?: unknown;
}

export class BrokerProblem extends Error {
  readonly type: ProblemType;
  readonly status: number;
  readonly errors: { path: string; message: string }[] | undefined;
  readonly retryAfter: number | undefined;
  readonly retryable: boolean | undefined;

  constructor(type: ProblemType, detail: string, options: BrokerProblemOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BrokerProblem';
    this.type = type;
    this.status = PROBLEMS[type].status;
    this.errors = options.errors;
    this.retryAfter = options.retryAfter;
    this.retryable = options.retryable;
  }

  toProblem(instance?: string): Problem {
    const problem: Problem = {
      type: `${PROBLEM_BASE}${this.type}`,
      title: PROBLEMS[this.type].title,
      status: this.status,
      detail: this.message,
    };
    if (instance) problem.instance = instance;
    if (this.errors) problem.errors = this.errors;
    if (this.retryAfter !== undefined) problem.retryAfter = this.retryAfter;
    if (this.retryable !== undefined) problem.retryable = this.retryable;
    return problem;
  }
}
