/**
 * The credential broker: `createBroker(config)` (a Hono app), `startBroker(config)` on Node,
 * `handler` for Lambda (`hoist/broker/lambda`), and the parts apps may reuse or replace.
 *
 * @example
 * ```ts
 * import { loadBrokerConfig, startBroker } from 'hoist/broker';
 * const broker = await startBroker(loadBrokerConfig({ file: 'broker.json' }));
 * ```
 * @module
 */
export { type BrokerApp, type BrokerDeps, createBroker } from './app.ts';
export { type AuthenticatorOptions, createAuthenticator } from './auth.ts';
export {
  type AwsClients,
  createAwsClients,
  deleteObject,
  destroyAwsClients,
  headObject,
  mintCredentials,
  publicEndpoint,
  sessionS3Client,
} from './aws.ts';
export {
  CAPABILITY_NAMES,
  type CapabilityName,
  capabilityPlan,
  checkModeSupported,
  FULL_CAPABILITIES,
  integrityFor,
  type ResolvedCapabilities,
  resolveCapabilities,
  type StoreCapabilities,
  StoreCapabilityError,
} from './capabilities.ts';
export {
  type BrokerConfig,
  BrokerConfigError,
  type ConfigFlag,
  loadBrokerConfig,
  parseBrokerConfig,
  parseSize,
  USER_ID_PATTERN,
} from './config.ts';
export { BrokerProblem } from './errors.ts';
export { etagIsMd5, md5Hex } from './etag-chain.ts';
export { buildObjectKey, contentDisposition, sanitizeFilename } from './keys.ts';
export { type CreateLoggerOptions, createLogger, type Logger } from './log.ts';
export {
  type OpenBroker,
  openBroker,
  type RunningBroker,
  type StartBrokerOptions,
  startBroker,
} from './node.ts';
export { createNodeHandler, type NodeHandler, type NodeHandlerOptions } from './node-handler.ts';
export { openApiDocument } from './openapi.ts';
export { presignPutObject } from './presign.ts';
export { useReasonHeader } from './reason-phrase.ts';
export { reconcileForms, settleExpiredForms } from './reconcile.ts';
export { openRegistry } from './registry/index.ts';
export { buildSessionPolicy, UPLOAD_ACTIONS, uploadStatements } from './session-policy.ts';
export {
  describeStoreError,
  isUnsupportedOperation,
  normaliseQueryErrors,
  remedyFor,
  type StoreErrorDescription,
  storeAnswer,
} from './store-errors.ts';
export { type ProbeOptions, probeStore, StoreProbeError, storeProbe } from './store-probe.ts';
export {
  DEFAULT_STORE_TIMEOUTS,
  failFastOnTimeout,
  StoreTimeoutError,
  type StoreTimeouts,
  storeRequestHandler,
} from './store-timeouts.ts';
export { type Sweeper, startSweeper, sweep } from './sweeper.ts';
export type { Authenticator, BrokerLimits, BrokerUser, Registry, UploadRecord } from './types.ts';
export { verifyWebhookSignature } from './webhook.ts';
