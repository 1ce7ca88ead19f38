/**
 * The local IAM: the persisted store, its JSON config file, and the IAM Query API handler.
 * @module
 */
export { handleIamAction, IAM_ACTIONS, type IamApiDeps, type IamApiResponse } from './api.ts';
export {
  applyIamConfig,
  type IamConfig,
  IamConfigError,
  type IamConfigInput,
  iamConfigSchema,
  iamSeedFromConfig,
  loadIamConfig,
  parseIamConfig,
} from './config.ts';
export { type IamStoreOptions, openIamStore } from './store.ts';
export * from './types.ts';
