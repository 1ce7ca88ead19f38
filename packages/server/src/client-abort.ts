/**
 * A client that hangs up mid-request is not a server fault: such errors are told
 * apart here so they are neither logged as internal errors nor answered.
 */

import { ServerError } from './errors.ts';

/** Thrown by body readers when the client went away before sending the whole body. */
export class ClientAbortError extends ServerError<'ClientAbort'> {
  constructor(options?: { cause?: unknown }) {
    super('ClientAbort', 'The client closed the connection before the request body was complete.', options);
  }
}

const ABORT_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Whether `error` (or its cause) is a client hanging up rather than a fault of ours. */
export function isClientAbort(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    if (current instanceof ClientAbortError) return true;
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && ABORT_CODES.has(code)) return true;
    // node:http's IncomingMessage errors with a bare 'aborted' when the socket closes mid-body.
    if (message === 'aborted') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
