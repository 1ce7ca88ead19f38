/**
 * Uppy's Companion client shows only a failed response's status line ("Companion request
 * failed: <statusText>"), never its body. So for the Uppy routes the broker sends the
 * problem's detail in `x-hoist-reason`, and its Node servers make that the HTTP/1.1 reason
 * phrase. (HTTP/2 and some proxies have no reason phrase: Uppy then shows the standard one.)
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export const REASON_HEADER = 'x-hoist-reason';

/** A reason phrase from any text: visible ASCII and spaces only, at most 200 characters. */
export function toReasonPhrase(text: string): string {
  return text
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
}

function reasonIn(headers: unknown): string | undefined {
  if (Array.isArray(headers)) {
    const pair = headers.find((h) => Array.isArray(h) && String(h[0]).toLowerCase() === REASON_HEADER);
    return pair ? String(pair[1]) : undefined;
  }
  if (typeof headers === 'object' && headers !== null) {
    const value = (headers as Record<string, unknown>)[REASON_HEADER];
    return value === undefined ? undefined : String(value);
  }
  return undefined;
}

/** Makes `x-hoist-reason`, when a response has it, that response's reason phrase. */
export function useReasonHeader(res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    if (typeof rest[0] !== 'string') {
      const reason = reasonIn(rest[0]) ?? res.getHeader(REASON_HEADER);
      if (typeof reason === 'string' && reason !== '') res.statusMessage = toReasonPhrase(reason);
    }
    return writeHead.apply(this, [statusCode, ...rest] as Parameters<typeof writeHead>);
  } as typeof res.writeHead;
}

/** Applies useReasonHeader to every response of a server (before its own listener runs). */
export function reasonPhrasesFor(server: Pick<Server, 'prependListener'>): void {
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => useReasonHeader(res));
}
