/** What every route sees: the request id, the authenticated user, the lifecycle service. */
import { UPLOAD_ID } from '@hoist/protocol/schemas';
import type { Context } from 'hono';
import { BrokerProblem } from '../errors.ts';
import type { BrokerUser } from '../types.ts';

export interface BrokerEnv {
  Variables: {
    requestId: string;
    user: BrokerUser;
  };
}

/** Largest JSON body: a complete of 10,000 parts fits. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The JSON body, or `invalid-request` (an empty body reads as `{}`). */
export async function jsonBody(c: Context<BrokerEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BrokerProblem('invalid-request', 'The body is not JSON', {
      errors: [{ path: 'body', message: 'must be a JSON object' }],
    });
  }
}

/** The `:id` path parameter; anything that cannot be an upload id is simply not found. */
export function uploadIdParam(c: Context<BrokerEnv>): string {
  const id = c.req.param('id') ?? '';
  if (!UPLOAD_ID.test(id)) throw new BrokerProblem('not-found', 'No such upload');
  return id;
}
