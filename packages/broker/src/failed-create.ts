/**
 * A create that failed after its upload was recorded (credentials could not be minted) leaves
 * the upload `aborted`, with the failure in its `reason`. A retry of that create with the same
 * Idempotency-Key then depends on the failure:
 *
 * - the store refused for good (AccessDenied, no such operation: the problem's `retryable` is
 *   false): the retry answers the same problem — what the store said — instead of "the upload
 *   is aborted", which hid the real cause behind the engine's own retry;
 * - the store failed for now (a 5xx, a timeout): the retry tries again, on the same upload;
 * - anything else: the same problem again.
 */
import { PROBLEMS, type ProblemType } from '@hoist/protocol';
import { BrokerProblem } from './errors.ts';

/** "create failed (<type>[, final]): <detail>" */
const FAILED_CREATE = /^create failed \(([a-z-]+)(, final)?\): ([\s\S]*)$/;

/** The store failures that asking again may cure, unless the store refused for good. */
const STORE_FAILURES: readonly string[] = ['upstream-error', 'upstream-timeout'];

/** The registry `reason` recording a failed create (within the registry's text limit). */
export function failedCreateReason(error: unknown): string {
  const problem =
    error instanceof BrokerProblem
      ? error
      : new BrokerProblem('internal', 'Something went wrong; quote the request id when reporting it');
  const final = problem.retryable === false ? ', final' : '';
  return `create failed (${problem.type}${final}): ${problem.message}`.slice(0, 1000);
}

export interface FailedCreate {
  /** The problem the create answered (`retryable: false` kept). */
  problem: BrokerProblem;
  /** A retry with the same Idempotency-Key should try again rather than answer `problem`. */
  transient: boolean;
}

/** The failure a failed create recorded in its reason; undefined for any other reason. */
export function failedCreate(reason: string | undefined): FailedCreate | undefined {
  const match = reason === undefined ? null : FAILED_CREATE.exec(reason);
  if (!match) return undefined;
  const type = match[1] as string;
  if (!Object.hasOwn(PROBLEMS, type)) return undefined;
  const final = match[2] !== undefined;
  const problem = new BrokerProblem(
    type as ProblemType,
    match[3] as string,
    final ? { retryable: false } : {},
  );
  return { problem, transient: !final && STORE_FAILURES.includes(type) };
}
