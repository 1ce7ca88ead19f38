/**
 * A create that failed after its upload was recorded (credentials could not be minted) leaves
 * the upload `aborted`, with the failure in its `reason`. A retry of that create with the same
 * Idempotency-Key then answers the same problem — what the store said — instead of "the upload
 * is aborted", which hid the real cause behind the engine's own retry.
 */
import { PROBLEMS, type ProblemType } from '../protocol/problems.ts';
import { BrokerProblem } from './errors.ts';

/** "create failed (<type>): <detail>" */
const FAILED_CREATE = /^create failed \(([a-z-]+)\): ([\s\S]*)$/;

/** The registry `reason` recording a failed create (within the registry's text limit). */
export function failedCreateReason(error: unknown): string {
  const problem =
    error instanceof BrokerProblem
      ? error
      : new BrokerProblem('internal', 'Something went wrong; quote the request id when reporting it');
  return `create failed (${problem.type}): ${problem.message}`.slice(0, 1000);
}

/** The problem a failed create answered, from its record's reason; undefined for any other reason. */
export function failedCreateProblem(reason: string | undefined): BrokerProblem | undefined {
  const match = reason === undefined ? null : FAILED_CREATE.exec(reason);
  if (!match) return undefined;
  const type = match[1] as string;
  if (!Object.hasOwn(PROBLEMS, type)) return undefined;
  return new BrokerProblem(type as ProblemType, match[2] as string);
}
