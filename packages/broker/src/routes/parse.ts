/**
 * Request validation at the API edge with the contract's own schemas (`@hoist/protocol/schemas`):
 * a bad request is a 400 `invalid-request` whose `errors` name each bad field; nothing reaches
 * S3 before this.
 */
import type { z } from 'zod';
import { BrokerProblem } from '../errors.ts';

/** Parses or throws `invalid-request` with one entry per bad field. */
export function parse<T>(schema: z.ZodType<T>, value: unknown, what = 'body'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.length ? issue.path.join('.') : what,
    message: issue.message,
  }));
  throw new BrokerProblem('invalid-request', `The request ${what} is not valid`, { errors });
}
