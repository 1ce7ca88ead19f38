/**
 * The broker API's zod schemas: the one description of the contract. The broker validates
 * requests with them and generates its OpenAPI document from them; `@hoist/protocol`'s types
 * are inferred from them (type-only, so browsers never load zod).
 * @module
 */
export * from './fields.ts';
export * from './issue-path.ts';
export { API_DOCS, type ApiDoc } from './registry.ts';
export * from './requests.ts';
export * from './responses.ts';
