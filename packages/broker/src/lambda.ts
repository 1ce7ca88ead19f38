/**
 * The broker on AWS Lambda (API Gateway HTTP/REST APIs, ALB, function URLs), through
 * `hono/aws-lambda`. `handler` builds the broker from `HOIST_*` variables (and the file
 * named by `HOIST_CONFIG`) on its first invocation and keeps it for the container's life.
 *
 * @example Handler setting: `broker/lambda.handler`
 * @module
 */
import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { type BrokerDeps, createBroker } from './app.ts';
import { type BrokerConfig, loadBrokerConfig } from './config.ts';
import { createLogger } from './log.ts';

type Handler = (event: LambdaEvent, context?: LambdaContext) => ReturnType<ReturnType<typeof handle>>;

/** A Lambda handler over a broker built from `config` (for tests and custom entries). */
export function createLambdaHandler(config: BrokerConfig, deps: BrokerDeps = {}): Handler {
  const broker = createBroker(config, deps);
  const handled = handle(broker) as Handler;
  return async (event, context) => {
    const response = await handled(event, context);
    // Lambda freezes the container once the handler returns: deliver the webhooks this request
    // queued (a completion's) first, a few seconds at most; retries past that wait for the next
    // invocation.
    await broker.settle(3000);
    return response;
  };
}

let cached: Handler | undefined;

/** The Lambda entry point: the broker configured from the environment. */
export const handler: Handler = (event, context) => {
  cached ??= createLambdaHandler(loadBrokerConfig(), {
    logger: createLogger({ level: process.env.HOIST_LOG_LEVEL || 'info' }),
  });
  return cached(event, context);
};
