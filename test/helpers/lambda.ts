/** Lambda events for tests of the broker's Lambda entry and bundle. */
import type { LambdaEvent } from 'hono/aws-lambda';

/**
 * A function URL invocation event (payload format version 2.0) as AWS sends it: no `body`
 * without one and no `authorizer` with auth type NONE (hono's type insists on both).
 */
export function functionUrlEvent(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; query?: string } = {},
): LambdaEvent {
  const domain = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws';
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: {
      host: domain,
      'user-agent': 'hoist-test',
      'x-amzn-trace-id': 'Root=1-5f84c7a9-0e5b1e0f3d1c2b3a4f5e6d7c',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...options.headers,
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz012345',
      domainName: domain,
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz012345',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'hoist-test' },
      requestId: 'c3d5e4f0-7b8a-4c1d-9e2f-0a1b2c3d4e5f',
      routeKey: '$default',
      stage: '$default',
      time: '22/Nov/2026:18:00:00 +0000',
      timeEpoch: 1_795_284_000_000,
    },
    ...(options.body === undefined ? {} : { body: options.body }),
    isBase64Encoded: false,
  };
  return event as unknown as LambdaEvent;
}
